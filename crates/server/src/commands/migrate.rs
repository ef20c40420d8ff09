//! `limen migrate`.

use std::sync::Arc;

use limen_domain::ports::SystemClock;
use limen_domain::services::{Audit, AuditPorts};
use limen_store_sql::{Database, DatabaseConfig};

use crate::commands::administer::record_command;
use crate::output::say;

use crate::config::{Config, ExposeSecret};
use crate::error::CliError;

/// Applies pending migrations and says which ones ran.
pub async fn run(config: &Config) -> Result<(), CliError> {
    let database = Database::connect(&DatabaseConfig::new(
        config.database_url.expose_secret().to_owned(),
    ))
    .await?;
    let result = migrate(&database).await;
    // The trail's table exists once the migrations have run.
    if result.is_ok() {
        let audit = Audit::new(AuditPorts {
            log: Arc::new(database.audit_log()),
            clock: Arc::new(SystemClock),
        });
        record_command(&audit, None, &result).await;
    }
    database.close().await?;
    result
}

async fn migrate(database: &Database) -> Result<(), CliError> {
    let pending = database.pending_migrations().await?;
    database.migrate().await?;
    if pending.is_empty() {
        say!("database is up to date");
    } else {
        for name in pending {
            say!("applied {name}");
        }
    }
    Ok(())
}
