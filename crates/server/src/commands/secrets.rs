//! `limen secrets …`.

use crate::cli::SecretsCommand;
use crate::commands::administer::administer;
use crate::config::Config;
use crate::error::CliError;
use crate::output::say;
use crate::wiring::Core;

/// Runs one secrets command.
pub async fn run(config: &Config, command: SecretsCommand) -> Result<(), CliError> {
    match command {
        SecretsCommand::Rotate => {
            if config.secrets_key.is_none() {
                return Err(CliError::Usage(
                    "set secrets_key (the new key) before rotating; keep the old one in previous_secrets_keys".into(),
                ));
            }
            administer(config, None, async |core: &Core| {
                let count = core.services.two_factor.reseal(false).await?;
                say!("re-sealed {count} secrets with the current key");
                Ok(())
            })
            .await?;
        }
    }
    Ok(())
}
