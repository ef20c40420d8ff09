//! `limen secrets …`.

use crate::cli::SecretsCommand;
use crate::config::Config;
use crate::error::CliError;
use crate::wiring::{Core, Purpose};

/// Runs one secrets command.
pub async fn run(config: &Config, command: SecretsCommand) -> Result<(), CliError> {
    match command {
        SecretsCommand::Rotate => {
            if config.secrets_key.is_none() {
                return Err(CliError::Usage(
                    "set secrets_key (the new key) before rotating; keep the old one in previous_secrets_keys".into(),
                ));
            }
            let core = Core::start(config, Purpose::Administer).await?;
            let count = core.services.two_factor.reseal(false).await?;
            println!("re-sealed {count} secrets with the current key");
            core.database.close().await?;
        }
    }
    Ok(())
}
