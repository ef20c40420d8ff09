//! `limen user …`.

use std::io::{BufRead, IsTerminal};

use chrono::{DateTime, SecondsFormat, Utc};

use limen_domain::DomainError;
use limen_domain::model::{Password, ProfileChange, Role};
use limen_domain::services::{AccountSummary, NewAccount};

use crate::cli::{PasskeysCommand, UserCommand};
use crate::commands::administer::administer;
use crate::config::Config;
use crate::error::CliError;
use crate::output::say;
use crate::wiring::Core;

/// Runs one user command.
pub async fn run(config: &Config, command: UserCommand) -> Result<(), CliError> {
    let subject = subject(&command).map(str::to_owned);
    administer(config, subject.as_deref(), async |core| {
        execute(config, core, command).await
    })
    .await
}

/// The user a command is about.
fn subject(command: &UserCommand) -> Option<&str> {
    match command {
        UserCommand::Add(args) => Some(&args.username),
        UserCommand::Show { username, .. }
        | UserCommand::Edit { username, .. }
        | UserCommand::Delete { username, .. }
        | UserCommand::Passwd { username, .. }
        | UserCommand::Disable { username }
        | UserCommand::Enable { username }
        | UserCommand::Unlock { username }
        | UserCommand::Unlink { username, .. }
        | UserCommand::Passkeys {
            command: PasskeysCommand::Remove { username, .. },
        }
        | UserCommand::ResetTwoFactor { username }
        | UserCommand::SetRole { username, .. } => Some(username),
        UserCommand::List { .. } | UserCommand::Import(_) => None,
    }
}

async fn execute(config: &Config, core: &Core, command: UserCommand) -> Result<(), CliError> {
    let accounts = &core.services.accounts;
    match command {
        UserCommand::Add(args) => {
            if !args.password_stdin {
                return Err(CliError::Usage(
                    "give the password with --password-stdin (it is never accepted as an argument)".into(),
                ));
            }
            let user = accounts
                .create(NewAccount {
                    username: args.username,
                    email: args.email,
                    first_name: args.first_name,
                    last_name: args.last_name,
                    personal_number: args.personal_number,
                    password: Some(read_password()?),
                })
                .await
                .map_err(|err| read_only(config, err, "new users"))?;
            say!("created user {} with id {}", user.username, user.id);
        }
        UserCommand::List { json } => {
            let now = chrono::Utc::now();
            let summaries = accounts.list().await?;
            if json {
                let entries: Vec<_> = summaries.iter().map(|summary| user_json(summary, now)).collect();
                say!("{}", serde_json::Value::Array(entries));
            } else {
                for summary in &summaries {
                    say!("{}", list_line(summary, now));
                }
            }
        }
        UserCommand::Show { username, json } => {
            let now = chrono::Utc::now();
            let summary = accounts.summary(&username).await?;
            let mut shown = user_json(&summary, now);
            shown["two_factor"] = core.services.two_factor.is_enabled(summary.user.id).await?.into();
            let tokens = core.services.api_tokens.list(&username).await?;
            shown["active_access_tokens"] =
                tokens.iter().filter(|token| token.is_live_at(now)).count().into();
            let identities = accounts.identities(&summary.user).await?;
            shown["linked_identities"] = identities
                .iter()
                .map(|link| {
                    serde_json::json!({
                        "issuer": link.issuer,
                        "subject": link.subject,
                        "linked_at": link.linked_at.to_rfc3339_opts(SecondsFormat::Secs, true),
                    })
                })
                .collect::<Vec<_>>()
                .into();
            let passkeys = core.services.passkeys.list(summary.user.id).await?;
            shown["passkeys"] = passkeys
                .iter()
                .map(|passkey| {
                    serde_json::json!({
                        "name": passkey.name,
                        "created_at": passkey.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
                        "last_used_at": passkey.last_used_at.map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true)),
                        "aaguid": passkey.aaguid,
                    })
                })
                .collect::<Vec<_>>()
                .into();
            if json {
                say!("{shown}");
            } else if let Some(fields) = shown.as_object() {
                for (key, value) in fields {
                    let value = match value {
                        serde_json::Value::String(text) => text.clone(),
                        serde_json::Value::Null => "-".into(),
                        // Each linked identity on a line of its own.
                        serde_json::Value::Array(items) if items.is_empty() => "-".into(),
                        serde_json::Value::Array(items) => items
                            .iter()
                            .map(item_line)
                            .collect::<Vec<_>>()
                            .join(&format!("\n{:<22}", "")),
                        other => other.to_string(),
                    };
                    say!("{key:<22}{value}");
                }
            }
        }
        UserCommand::Edit {
            username,
            rename,
            email,
            first_name,
            last_name,
            personal_number,
        } => {
            let change = ProfileChange {
                username: rename,
                email,
                first_name: first_name.map(Some),
                last_name: last_name.map(Some),
                personal_number: personal_number.map(Some),
            };
            if change.is_empty() {
                return Err(CliError::Usage(
                    "nothing to change: give --rename, --email, --first-name, --last-name or --personal-number".into(),
                ));
            }
            accounts
                .edit(&accounts.find(&username).await?, change)
                .await
                .map_err(|err| read_only(config, err, "profile changes"))?;
            say!("changed the profile of {username}");
        }
        UserCommand::Delete { username, yes } => {
            let user = accounts.find(&username).await?;
            if !yes {
                confirm_deletion(&user.username)?;
            }
            accounts
                .delete(&user)
                .await
                .map_err(|err| read_only(config, err, "deletions"))?;
            say!("deleted {username} with their tokens, second factor, locks and account");
        }
        UserCommand::Passwd { username, .. } => {
            accounts
                .set_password(&username, &read_password()?)
                .await
                .map_err(|err| read_only(config, err, "password changes"))?;
            say!("password of {username} changed; their sessions were ended");
        }
        UserCommand::Disable { username } => {
            accounts
                .set_enabled(&accounts.find(&username).await?, false)
                .await?;
            say!("disabled {username}");
        }
        UserCommand::Enable { username } => {
            accounts
                .set_enabled(&accounts.find(&username).await?, true)
                .await?;
            say!("enabled {username}");
        }
        UserCommand::Unlock { username } => {
            accounts.unlock(&accounts.find(&username).await?).await?;
            say!("unlocked {username}");
        }
        UserCommand::Unlink { username, issuer } => {
            accounts.unlink(&username, &issuer).await?;
            say!("unlinked the identity of {username} at {issuer}");
        }
        UserCommand::Passkeys {
            command:
                PasskeysCommand::Remove {
                    username,
                    name,
                    force,
                },
        } => {
            let user = accounts.find(&username).await?;
            core.services.passkeys.remove(&user, &name, force).await?;
            say!("removed the passkey {name:?} of {username}");
        }
        UserCommand::ResetTwoFactor { username } => {
            let user = accounts.find(&username).await?;
            core.services.two_factor.reset(user.id).await?;
            say!("removed the second factor of {username}");
        }
        UserCommand::SetRole { username, role } => {
            let role = Role::parse(&role)
                .ok_or_else(|| CliError::Usage(format!("{role:?} is not a role; use user or support")))?;
            accounts.set_role(&accounts.find(&username).await?, role).await?;
            say!("{username} now has the role {}", role.as_str());
        }
        UserCommand::Import(args) => super::import::run(config, core, args).await?,
    }
    Ok(())
}

/// A refusal of a read-only directory, saying where the users live.
fn read_only(config: &Config, err: DomainError, what: &str) -> CliError {
    match err {
        DomainError::ReadOnlyDirectory => CliError::Usage(format!(
            "the user directory (users.backend = \"{}\") does not take {what} from Limen: \
             manage the users where they live; Limen's own state (locks, second factors, roles, \
             Limen's disabled flag) is still managed here",
            config.users.backend.name()
        )),
        other => other.into(),
    }
}

/// `enabled`, `disabled` or `locked`.
fn state(summary: &AccountSummary, now: DateTime<Utc>) -> &'static str {
    if !summary.user.enabled {
        "disabled"
    } else if summary.locked_until.is_some_and(|until| until > now) {
        "locked"
    } else {
        "enabled"
    }
}

/// `id username email state`, tab-separated.
fn list_line(summary: &AccountSummary, now: DateTime<Utc>) -> String {
    let user = &summary.user;
    format!(
        "{}\t{}\t{}\t{}",
        user.id,
        user.username,
        user.email,
        state(summary, now)
    )
}

/// A user as `--json` prints it: never a password hash or key.
fn user_json(summary: &AccountSummary, now: DateTime<Utc>) -> serde_json::Value {
    let user = &summary.user;
    let time = |at: DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Secs, true);
    serde_json::json!({
        "id": user.id.0,
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "personal_number": user.personal_number,
        "state": state(summary, now),
        "locked_until": summary.locked_until.filter(|until| *until > now).map(time),
        "role": user.role.as_str(),
        "email_verified_at": user.email_verified_at.map(time),
        "created_at": time(user.created_at),
        "last_login_at": user.last_login_at.map(time),
    })
}

/// Asks on the terminal for the username again; refuses without a terminal.
fn confirm_deletion(username: &str) -> Result<(), CliError> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(format!(
            "deleting {username} cannot be undone: add --yes to confirm (standard input is not a terminal to ask on)"
        )));
    }
    crate::output::prompt(format_args!(
        "Delete {username} and their tokens, second factor, locks and account? Type the username to confirm: "
    ));
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|source| CliError::Io {
            context: "cannot read the confirmation".into(),
            source,
        })?;
    if line.trim() != username {
        return Err(CliError::Usage(format!(
            "not confirmed; {username} was not deleted"
        )));
    }
    Ok(())
}

/// The first line of standard input, without its line ending.
fn read_password() -> Result<Password, CliError> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|source| CliError::Io {
            context: "cannot read the password from standard input".into(),
            source,
        })?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        return Err(CliError::Usage("no password on standard input".into()));
    }
    Ok(Password::new(password))
}

/// One linked identity or passkey of `user show`, on a line of its own.
fn item_line(item: &serde_json::Value) -> String {
    use serde_json::Value::String as Text;
    match (
        &item["issuer"],
        &item["subject"],
        &item["linked_at"],
        &item["name"],
        &item["created_at"],
    ) {
        (Text(issuer), Text(subject), Text(at), _, _) => format!("{issuer} {subject} (since {at})"),
        (_, _, _, Text(name), Text(created)) => {
            let used = item["last_used_at"].as_str().unwrap_or("never");
            format!("{name} (added {created}, last used {used})")
        }
        _ => item.to_string(),
    }
}
