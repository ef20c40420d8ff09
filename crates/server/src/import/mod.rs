//! `limen user import`: users with their existing password hashes, read from
//! CSV, JSON Lines, a Keycloak realm export or an Authelia users file, checked
//! one by one, and loaded into Limen's own table in one transaction.

mod authelia;
mod csv;
mod keycloak;

use std::collections::HashSet;

use limen_domain::error::HashError;
use limen_domain::model::{
    NewDirectoryEntry, normalize_identifier, parse_personal_number, validate_email, validate_name,
    validate_username,
};
use limen_domain::ports::PasswordHasher;
use limen_store_sql::ImportedUser;
use serde::Deserialize;

/// A file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A header line, then one user per record.
    Csv,
    /// One JSON object per line.
    JsonLines,
    /// A Keycloak realm export (`users[]` with `credentials[]`).
    Keycloak,
    /// Authelia's `users_database.yml`.
    Authelia,
}

impl Format {
    /// `--format`, or the file's extension.
    pub fn choose(named: Option<&str>, file: &std::path::Path) -> Result<Self, String> {
        let name = match named {
            Some(name) => name.to_owned(),
            None => match file
                .extension()
                .and_then(|ext| ext.to_str())
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("csv") => "csv".into(),
                Some("jsonl" | "ndjson") => "jsonl".into(),
                Some("json") => "keycloak".into(),
                Some("yml" | "yaml") => "authelia".into(),
                _ => {
                    return Err(format!(
                        "cannot tell the format of {} from its name: give --format csv, jsonl, keycloak or authelia",
                        file.display()
                    ));
                }
            },
        };
        match name.as_str() {
            "csv" => Ok(Self::Csv),
            "jsonl" => Ok(Self::JsonLines),
            "keycloak" => Ok(Self::Keycloak),
            "authelia" => Ok(Self::Authelia),
            other => Err(format!(
                "{other:?} is not a format: use csv, jsonl, keycloak or authelia"
            )),
        }
    }
}

/// One user as a file gives it, before any check.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RawUser {
    /// Login name.
    pub username: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Swedish personal number.
    pub personal_number: Option<String>,
    /// The hash, in a format Limen verifies.
    pub password_hash: Option<String>,
    /// Active (default true).
    pub enabled: Option<bool>,
    /// The address is known to be verified (default false).
    #[serde(default)]
    pub email_verified: Option<bool>,
}

/// A user of the file, where it was found, and what reading it gave.
#[derive(Debug, Clone)]
pub struct Record {
    /// `line 3`, `user 2 (ann)`: where an operator finds it.
    pub place: String,
    /// The user, or why it could not be read.
    pub user: Result<RawUser, String>,
}

/// Reads every user of `text`; an error for a file that cannot be read at all.
pub fn read(format: Format, text: &str) -> Result<Vec<Record>, String> {
    match format {
        Format::Csv => csv::read(text),
        Format::JsonLines => Ok(text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(index, line)| Record {
                place: format!("line {}", index + 1),
                user: serde_json::from_str::<RawUser>(line)
                    .map_err(|err| format!("not a user object: {err}")),
            })
            .collect()),
        Format::Keycloak => keycloak::read(text),
        Format::Authelia => authelia::read(text),
    }
}

/// Checks one user: the fields Limen requires, their rules, a hash Limen can
/// verify, and no username or address twice in the file.
pub fn check(
    raw: RawUser,
    seen: &mut HashSet<String>,
    now: chrono::DateTime<chrono::Utc>,
    hasher: &dyn PasswordHasher,
) -> Result<ImportedUser, String> {
    let username =
        validate_username(raw.username.as_deref().unwrap_or_default()).map_err(|err| err.to_string())?;
    let email = validate_email(raw.email.as_deref().unwrap_or_default()).map_err(|err| err.to_string())?;
    let password_hash = raw
        .password_hash
        .filter(|hash| !hash.trim().is_empty())
        .ok_or("password_hash is required")?;
    // The check every login makes before it verifies: a hash that fails it
    // could never log in (and one that asked for gigabytes would have taken
    // the server down at its first login).
    hasher.inspect(&password_hash).map_err(|err| match err {
        HashError::Unusable(reason) => format!("password_hash is unusable: {reason}"),
        other => format!("password_hash could not be checked: {other}"),
    })?;
    let personal_number = match raw.personal_number.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(number) => Some(
            parse_personal_number(number, now.date_naive())
                .ok_or_else(|| format!("{number:?} is not a valid Swedish personal number"))?,
        ),
    };
    let first_name = validate_name("first_name", raw.first_name.as_deref()).map_err(|err| err.to_string())?;
    let last_name = validate_name("last_name", raw.last_name.as_deref()).map_err(|err| err.to_string())?;
    let (name_key, address_key) = (normalize_identifier(&username), normalize_identifier(&email));
    if seen.contains(&format!("username:{name_key}")) {
        return Err(format!("username {username} appears twice in the file"));
    }
    if seen.contains(&format!("email:{address_key}")) {
        return Err(format!("e-mail address {email} appears twice in the file"));
    }
    // A name that is one user's username and another's address would name
    // both at login.
    if seen.contains(&format!("email:{name_key}")) {
        return Err(format!(
            "username {username} is another user's e-mail address in the file"
        ));
    }
    if seen.contains(&format!("username:{address_key}")) {
        return Err(format!(
            "e-mail address {email} is another user's username in the file"
        ));
    }
    seen.insert(format!("username:{name_key}"));
    seen.insert(format!("email:{address_key}"));
    Ok(ImportedUser {
        entry: NewDirectoryEntry {
            username,
            email,
            first_name,
            last_name,
            personal_number,
            password_hash: Some(password_hash),
            created_at: now,
        },
        enabled: raw.enabled.unwrap_or(true),
        email_verified: raw.email_verified.unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BCRYPT: &str = "$2b$04$abcdefghijklmnopqrstuughE8Ev8uGFaUgY2cNEySvxngrb/Jzdm";

    fn raw(username: &str, email: &str) -> RawUser {
        RawUser {
            username: Some(username.into()),
            email: Some(email.into()),
            password_hash: Some(BCRYPT.into()),
            ..RawUser::default()
        }
    }

    fn hasher() -> limen_crypto::Argon2Hasher {
        limen_crypto::Argon2Hasher::new(limen_crypto::Argon2Config {
            memory_kib: 64,
            iterations: 1,
            max_concurrent: 1,
            ..limen_crypto::Argon2Config::default()
        })
        .unwrap()
    }

    #[test]
    fn a_complete_user_passes_and_each_missing_piece_is_named() {
        let mut seen = HashSet::new();
        let now = chrono::Utc::now();
        let hasher = hasher();
        let user = check(raw("Ann", "Ann@Example.com"), &mut seen, now, &hasher).unwrap();
        assert_eq!(
            (user.entry.username.as_str(), user.entry.email.as_str()),
            ("ann", "ann@example.com")
        );
        assert!(user.enabled && !user.email_verified);
        // A username that is an address is fine, while no one else has it.
        check(
            raw("fia@example.com", "fia.other@example.com"),
            &mut seen,
            now,
            &hasher,
        )
        .unwrap();
        let cases = [
            (
                RawUser {
                    username: None,
                    ..raw("x", "x@example.com")
                },
                "username",
            ),
            (raw("bo", "not an address"), "mail"),
            (
                RawUser {
                    password_hash: None,
                    ..raw("bo", "bo@example.com")
                },
                "password_hash is required",
            ),
            (
                RawUser {
                    password_hash: Some("$1$md5$x".into()),
                    ..raw("bo", "bo@example.com")
                },
                "password_hash is unusable: no format",
            ),
            (
                RawUser {
                    password_hash: Some(
                        "$2b$31$abcdefghijklmnopqrstuughE8Ev8uGFaUgY2cNEySvxngrb/Jzdm".into(),
                    ),
                    ..raw("bo", "bo@example.com")
                },
                "the bcrypt cost 31 is outside 4 to 14",
            ),
            (
                RawUser {
                    personal_number: Some("19990807-2390".into()),
                    ..raw("bo", "bo@example.com")
                },
                "personal number",
            ),
            (raw("ANN", "other@example.com"), "twice"),
            (raw("carl", "ann@example.COM"), "twice"),
            (
                raw("ann@example.com", "dora@example.com"),
                "another user's e-mail address",
            ),
            (raw("erik", "fia@example.com"), "another user's username"),
        ];
        for (user, reason) in cases {
            let err = check(user, &mut seen, now, &hasher).unwrap_err();
            assert!(err.contains(reason), "{reason}: {err}");
        }
    }

    #[test]
    fn formats_follow_the_extension_unless_named() {
        let path = std::path::Path::new;
        assert_eq!(Format::choose(None, path("users.CSV")).unwrap(), Format::Csv);
        assert_eq!(
            Format::choose(None, path("realm-export.json")).unwrap(),
            Format::Keycloak
        );
        assert_eq!(
            Format::choose(None, path("users_database.yml")).unwrap(),
            Format::Authelia
        );
        assert_eq!(
            Format::choose(Some("jsonl"), path("users.txt")).unwrap(),
            Format::JsonLines
        );
        assert!(Format::choose(None, path("users.txt")).is_err());
        assert!(Format::choose(Some("xml"), path("users.csv")).is_err());
    }

    #[test]
    fn json_lines_report_each_bad_line_with_its_number() {
        let text = format!(
            "{{\"username\":\"ann\",\"email\":\"ann@example.com\",\"password_hash\":\"{BCRYPT}\"}}\n\n{{not json\n{{\"username\":\"bo\",\"shoe_size\":44}}\n"
        );
        let records = read(Format::JsonLines, &text).unwrap();
        let places: Vec<&str> = records.iter().map(|record| record.place.as_str()).collect();
        assert_eq!(places, ["line 1", "line 3", "line 4"]);
        assert!(records[0].user.is_ok());
        assert!(records[1].user.is_err());
        assert!(records[2].user.as_ref().unwrap_err().contains("shoe_size"));
    }
}
