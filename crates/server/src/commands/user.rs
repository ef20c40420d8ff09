//! `limen user …`.

use std::io::BufRead;

use limen_domain::DomainError;
use limen_domain::model::{Password, Role};
use limen_domain::services::{AccountSummary, NewAccount};

use crate::cli::UserCommand;
use crate::config::Config;
use crate::error::CliError;
use crate::wiring::{Core, Purpose};

/// Runs one user command.
pub async fn run(config: &Config, command: UserCommand) -> Result<(), CliError> {
    let core = Core::start(config, Purpose::Administer).await?;
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
            println!("created user {} with id {}", user.username, user.id);
        }
        UserCommand::List => {
            let now = chrono::Utc::now();
            for summary in accounts.list().await? {
                println!("{}", list_line(&summary, now));
            }
        }
        UserCommand::Passwd { username, .. } => {
            accounts
                .set_password(&username, &read_password()?)
                .await
                .map_err(|err| read_only(config, err, "password changes"))?;
            println!("password of {username} changed; their sessions were ended");
        }
        UserCommand::Disable { username } => {
            accounts.set_enabled(&username, false).await?;
            println!("disabled {username}");
        }
        UserCommand::Enable { username } => {
            accounts.set_enabled(&username, true).await?;
            println!("enabled {username}");
        }
        UserCommand::Unlock { username } => {
            accounts.unlock(&username).await?;
            println!("unlocked {username}");
        }
        UserCommand::ResetTwoFactor { username } => {
            let user = accounts.find(&username).await?;
            core.services.two_factor.reset(user.id).await?;
            println!("removed the second factor of {username}");
        }
        UserCommand::SetRole { username, role } => {
            let role = Role::parse(&role)
                .ok_or_else(|| CliError::Usage(format!("{role:?} is not a role; use user or support")))?;
            accounts.set_role(&username, role).await?;
            println!("{username} now has the role {}", role.as_str());
        }
        UserCommand::Import(args) => {
            let outcome = super::import::run(config, &core, args).await;
            core.database.close().await?;
            return outcome;
        }
    }
    core.database.close().await?;
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

/// `id username email state`, where state is `enabled`, `disabled` or `locked`.
fn list_line(summary: &AccountSummary, now: chrono::DateTime<chrono::Utc>) -> String {
    let user = &summary.user;
    let state = if !user.enabled {
        "disabled"
    } else if summary.locked_until.is_some_and(|until| until > now) {
        "locked"
    } else {
        "enabled"
    };
    format!("{}\t{}\t{}\t{state}", user.id, user.username, user.email)
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
