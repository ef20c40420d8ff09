//! `limen user import FILE`: every user checked and reported, then all of
//! them loaded in one transaction, or none.

use std::collections::HashSet;

use limen_domain::ports::UserDirectory;
use limen_store_sql::ImportedUser;

use crate::cli::ImportArgs;
use crate::config::{Config, UsersBackend};
use crate::error::CliError;
use crate::import::{self, Format};
use crate::output::say;
use crate::wiring::Core;

/// Imports the users of `args.file` into Limen's own table.
pub async fn run(config: &Config, core: &Core, args: ImportArgs) -> Result<(), CliError> {
    if config.users.backend != UsersBackend::Limen {
        return Err(CliError::Usage(format!(
            "user import loads users into Limen's own table, but users.backend is \"{}\": \
             their users stay where they are",
            config.users.backend.name()
        )));
    }
    let format = Format::choose(args.format.as_deref(), &args.file).map_err(CliError::Usage)?;
    let text = std::fs::read_to_string(&args.file).map_err(|source| CliError::Io {
        context: format!("cannot read {}", args.file.display()),
        source,
    })?;
    let records = import::read(format, &text)
        .map_err(|err| CliError::Usage(format!("{}: {err}", args.file.display())))?;
    let directory = core.database.directory();
    let now = chrono::Utc::now();
    let mut seen = HashSet::new();
    let mut accepted: Vec<(String, ImportedUser)> = Vec::new();
    let mut rejected = 0;
    for record in records {
        let checked = match record.user {
            Ok(raw) => import::check(raw, &mut seen, now, core.hasher.as_ref()),
            Err(reason) => Err(reason),
        };
        let checked = match checked {
            Ok(user) => already_there(&directory, &user).await?.map_or(Ok(user), Err),
            Err(reason) => Err(reason),
        };
        match checked {
            Ok(user) => {
                say!("{}: accepted {}", record.place, user.entry.username);
                accepted.push((record.place, user));
            }
            Err(reason) => {
                rejected += 1;
                say!("{}: rejected: {reason}", record.place);
            }
        }
    }
    let total = accepted.len() + rejected;
    if rejected > 0 {
        return Err(CliError::Usage(format!(
            "{rejected} of {total} users rejected; nothing was imported"
        )));
    }
    if args.dry_run {
        say!("dry run: all {total} users would be imported; nothing was written");
        return Ok(());
    }
    let places: Vec<String> = accepted.iter().map(|(place, _)| place.clone()).collect();
    match core
        .database
        .import_users(accepted.into_iter().map(|(_, user)| user).collect())
        .await
    {
        Ok(count) => {
            say!("imported {count} users");
            Ok(())
        }
        Err(err) => {
            let place = places.get(err.index).cloned().unwrap_or_default();
            Err(CliError::Usage(format!(
                "{place}: rejected: {}; nothing was imported",
                err.error
            )))
        }
    }
}

/// Why a user cannot be added to the table as it is now, if it cannot.
async fn already_there(
    directory: &limen_store_sql::SqlUserDirectory,
    user: &ImportedUser,
) -> Result<Option<String>, CliError> {
    let entry = &user.entry;
    if directory.find_by_username(&entry.username).await?.is_some() {
        return Ok(Some(format!("username {} already exists", entry.username)));
    }
    if directory.find_by_email(&entry.email).await?.is_some() {
        return Ok(Some(format!("e-mail address {} already exists", entry.email)));
    }
    if directory.find_by_email(&entry.username).await?.is_some() {
        return Ok(Some(format!(
            "username {} is another user's e-mail address",
            entry.username
        )));
    }
    if entry.email != entry.username && directory.find_by_username(&entry.email).await?.is_some() {
        return Ok(Some(format!(
            "e-mail address {} is another user's username",
            entry.email
        )));
    }
    if let Some(number) = &entry.personal_number
        && directory.find_by_personal_number(number).await?.is_some()
    {
        return Ok(Some("personal number already belongs to another user".into()));
    }
    Ok(None)
}
