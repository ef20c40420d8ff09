//! `limen migrate`.

use limen_store_sql::{Database, DatabaseConfig};

use crate::config::Config;
use crate::error::CliError;

/// Applies pending migrations and says which ones ran.
pub async fn run(config: &Config) -> Result<(), CliError> {
    let database = Database::connect(&DatabaseConfig::new(config.database_url.clone())).await?;
    let pending = database.pending_migrations().await?;
    database.migrate().await?;
    if pending.is_empty() {
        println!("database is up to date");
    } else {
        for name in pending {
            println!("applied {name}");
        }
    }
    database.close().await?;
    Ok(())
}
