//! `limen token …`.

use chrono::{DateTime, SecondsFormat, Utc};
use limen_domain::model::{TokenId, TokenRecord};
use limen_domain::services::TokenRequest;

use crate::cli::TokenCommand;
use crate::config::Config;
use crate::error::CliError;
use crate::wiring::{Core, Purpose};

/// Runs one token command.
pub async fn run(config: &Config, command: TokenCommand) -> Result<(), CliError> {
    let core = Core::start(config, Purpose::Administer).await?;
    let tokens = &core.services.api_tokens;
    match command {
        TokenCommand::Create { user, note, expires } => {
            let request = TokenRequest {
                note,
                expires_at: expires.map(|ttl| Utc::now() + ttl),
            };
            let issued = tokens.create(&user, request).await?;
            // The token alone on stdout, so that scripts can capture it.
            println!("{}", issued.plaintext);
            eprintln!(
                "created token {} for {user}, expiring {}; it is not shown again",
                issued.record.id.0,
                time(issued.record.expires_at)
            );
        }
        TokenCommand::List { user } => {
            let now = Utc::now();
            for token in tokens.list(&user).await? {
                println!("{}", list_line(&token, now));
            }
        }
        TokenCommand::Disable { id } => {
            tokens.set_enabled(TokenId(id), false).await?;
            println!("disabled token {id}");
        }
        TokenCommand::Enable { id } => {
            tokens.set_enabled(TokenId(id), true).await?;
            println!("enabled token {id}");
        }
        TokenCommand::Revoke { id } => {
            tokens.revoke(TokenId(id)).await?;
            println!("revoked token {id}");
        }
    }
    core.database.close().await?;
    Ok(())
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `id state created expires last-used note`, tab-separated; state is `active`,
/// `disabled`, `revoked` or `expired`, and a missing last use or note is `-`.
fn list_line(token: &TokenRecord, now: DateTime<Utc>) -> String {
    let state = if token.revoked_at.is_some() {
        "revoked"
    } else if token.expires_at <= now {
        "expired"
    } else if !token.enabled {
        "disabled"
    } else {
        "active"
    };
    format!(
        "{}\t{state}\t{}\t{}\t{}\t{}",
        token.id.0,
        time(token.created_at),
        time(token.expires_at),
        token.last_used_at.map_or_else(|| "-".to_owned(), time),
        token.attributes.note.as_deref().unwrap_or("-"),
    )
}
