//! `limen token …`.

use chrono::{DateTime, SecondsFormat, Utc};
use limen_domain::model::{AdminScope, AdminToken, TokenId, TokenRecord};
use limen_domain::services::TokenRequest;

use crate::cli::TokenCommand;
use crate::commands::administer::administer;
use crate::config::Config;
use crate::error::CliError;
use crate::output::{say, say_err};
use crate::wiring::Core;

/// Runs one token command.
pub async fn run(config: &Config, command: TokenCommand) -> Result<(), CliError> {
    let subject = match &command {
        TokenCommand::Create { user, .. } | TokenCommand::List { user, .. } => user.clone(),
        _ => None,
    };
    administer(config, subject.as_deref(), async |core| {
        execute(core, command).await
    })
    .await
}

async fn execute(core: &Core, command: TokenCommand) -> Result<(), CliError> {
    let tokens = &core.services.api_tokens;
    match command {
        TokenCommand::Create {
            admin: true,
            name,
            scopes,
            expires,
            ..
        } => {
            let scopes =
                AdminScope::parse_list(scopes.as_deref().unwrap_or_default()).map_err(|unknown| {
                    CliError::Usage(format!(
                        "no scope is named {unknown:?}; the scopes are {}",
                        AdminScope::join(&AdminScope::ALL)
                    ))
                })?;
            let name = name.unwrap_or_default();
            let issued = core
                .services
                .admin
                .create(&name, scopes, expires.map(|ttl| Utc::now() + ttl))
                .await?;
            // The token alone on stdout, so that scripts can capture it.
            say!("{}", issued.plaintext);
            say_err!(
                "created admin token {name} with {}, {}; it is not shown again",
                AdminScope::join(&issued.token.scopes),
                issued.token.expires_at.map_or_else(
                    || "never expiring".to_owned(),
                    |at| format!("expiring {}", time(at))
                )
            );
        }
        TokenCommand::Create {
            user, note, expires, ..
        } => {
            let user = user.unwrap_or_default();
            let request = TokenRequest {
                note,
                expires_at: expires.map(|ttl| Utc::now() + ttl),
            };
            let issued = tokens.create(&user, request).await?;
            // The token alone on stdout, so that scripts can capture it.
            say!("{}", issued.plaintext);
            say_err!(
                "created token {} for {user}, expiring {}; it is not shown again",
                issued.record.id.0,
                time(issued.record.expires_at)
            );
        }
        TokenCommand::List {
            admin: true, json, ..
        } => {
            let now = Utc::now();
            let listed = core.services.admin.list().await?;
            if json {
                let entries: Vec<_> = listed.iter().map(|token| admin_token_json(token, now)).collect();
                say!("{}", serde_json::Value::Array(entries));
            } else {
                for token in &listed {
                    say!("{}", admin_list_line(token, now));
                }
            }
        }
        TokenCommand::List { user, json, .. } => {
            let user = user.unwrap_or_default();
            let now = Utc::now();
            let listed = tokens.list(&user).await?;
            if json {
                let entries: Vec<_> = listed.iter().map(|token| token_json(token, now)).collect();
                say!("{}", serde_json::Value::Array(entries));
            } else {
                for token in &listed {
                    say!("{}", list_line(token, now));
                }
            }
        }
        TokenCommand::Disable { id } => {
            tokens.set_enabled(TokenId(id), false).await?;
            say!("disabled token {id}");
        }
        TokenCommand::Enable { id } => {
            tokens.set_enabled(TokenId(id), true).await?;
            say!("enabled token {id}");
        }
        TokenCommand::Revoke { target, admin: true } => {
            core.services.admin.revoke(&target).await?;
            say!("revoked admin token {target}");
        }
        TokenCommand::Revoke { target, admin: false } => {
            let id: i64 = target.parse().map_err(|_| {
                CliError::Usage(format!(
                    "{target:?} is not a token id (give --admin for an admin token's name)"
                ))
            })?;
            tokens.revoke(TokenId(id)).await?;
            say!("revoked token {id}");
        }
    }
    Ok(())
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `active`, `disabled`, `revoked` or `expired`.
fn state(token: &TokenRecord, now: DateTime<Utc>) -> &'static str {
    if token.revoked_at.is_some() {
        "revoked"
    } else if token.expires_at <= now {
        "expired"
    } else if !token.enabled {
        "disabled"
    } else {
        "active"
    }
}

/// `active`, `revoked` or `expired`.
fn admin_state(token: &AdminToken, now: DateTime<Utc>) -> &'static str {
    if token.revoked_at.is_some() {
        "revoked"
    } else if token.is_live(now) {
        "active"
    } else {
        "expired"
    }
}

/// An admin token as `token list --admin --json` prints it (never its secret).
fn admin_token_json(token: &AdminToken, now: DateTime<Utc>) -> serde_json::Value {
    serde_json::json!({
        "name": token.name,
        "state": admin_state(token, now),
        "scopes": token.scopes.iter().map(|scope| scope.as_str()).collect::<Vec<_>>(),
        "created_at": time(token.created_at),
        "expires_at": token.expires_at.map(time),
        "last_used_at": token.last_used_at.map(time),
    })
}

/// `name state scopes created expires last-used`, tab-separated; scopes
/// separated by commas; a missing expiry or last use is `-`.
fn admin_list_line(token: &AdminToken, now: DateTime<Utc>) -> String {
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}",
        token.name,
        admin_state(token, now),
        token
            .scopes
            .iter()
            .map(|scope| scope.as_str())
            .collect::<Vec<_>>()
            .join(","),
        time(token.created_at),
        token.expires_at.map_or_else(|| "-".to_owned(), time),
        token.last_used_at.map_or_else(|| "-".to_owned(), time),
    )
}

/// A token as `token list --json` prints it (never its secret).
fn token_json(token: &TokenRecord, now: DateTime<Utc>) -> serde_json::Value {
    serde_json::json!({
        "id": token.id.0,
        "state": state(token, now),
        "created_at": time(token.created_at),
        "expires_at": time(token.expires_at),
        "last_used_at": token.last_used_at.map(time),
        "note": token.attributes.note,
    })
}

/// `id state created expires last-used note`, tab-separated; a missing last
/// use or note is `-`.
fn list_line(token: &TokenRecord, now: DateTime<Utc>) -> String {
    let state = state(token, now);
    format!(
        "{}\t{state}\t{}\t{}\t{}\t{}",
        token.id.0,
        time(token.created_at),
        time(token.expires_at),
        token.last_used_at.map_or_else(|| "-".to_owned(), time),
        token.attributes.note.as_deref().unwrap_or("-"),
    )
}
