//! `limen oidc-provider …`.

use limen_domain::ports::SystemClock;
use serde_json::json;

use crate::cli::OidcProviderCommand;
use crate::commands::administer::administer;
use crate::config::Config;
use crate::error::CliError;
use crate::output::say;
use crate::wiring::Core;
use crate::wiring::provider::rotate;

/// Runs one provider command.
pub async fn run(config: &Config, command: OidcProviderCommand) -> Result<(), CliError> {
    let section = &config.oidc_provider;
    match command {
        OidcProviderCommand::Clients { json } => {
            let lines: Vec<_> = section
                .clients
                .iter()
                .map(|client| {
                    let kind = if client.client_secret.is_some() {
                        "confidential"
                    } else {
                        "public"
                    };
                    let alg = client
                        .id_token_signed_response_alg
                        .clone()
                        .unwrap_or_else(|| section.signing_alg.clone());
                    (client, kind, alg)
                })
                .collect();
            if json {
                let clients: Vec<_> = lines
                    .iter()
                    .map(|(client, kind, alg)| {
                        json!({
                            "client_id": client.client_id,
                            "type": kind,
                            "id_token_signed_response_alg": alg,
                            "redirect_uris": client.redirect_uris,
                            "post_logout_redirect_uris": client.post_logout_redirect_uris,
                            "scopes": client.scopes,
                            "require_pkce": client.require_pkce,
                        })
                    })
                    .collect();
                say!("{}", serde_json::Value::Array(clients));
            } else {
                for (client, kind, alg) in lines {
                    say!(
                        "{}\t{kind}\t{alg}\t{}\t{}",
                        client.client_id,
                        client.redirect_uris.join(","),
                        client.scopes.join(" ")
                    );
                }
            }
            Ok(())
        }
        OidcProviderCommand::RotateKeys => {
            if !section.enabled {
                return Err(CliError::Usage(
                    "oidc_provider.enabled is false: there are no signing keys to rotate".into(),
                ));
            }
            administer(config, None, async |core: &Core| {
                for (alg, old, new) in
                    rotate(config, &core.database, core.cipher.as_ref(), &SystemClock).await?
                {
                    let old = if old.is_empty() {
                        "-".to_owned()
                    } else {
                        old.join(",")
                    };
                    say!("{alg}\tretired {old}\tsigning with {new}");
                }
                Ok(())
            })
            .await
        }
    }
}
