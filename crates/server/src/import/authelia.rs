//! Authelia's file backend (`users_database.yml`): `users:` maps each
//! username to its `password` hash (argon2, SHA-crypt, PBKDF2, bcrypt or
//! scrypt, all formats Limen verifies as they are), `displayname`, `email`,
//! `disabled` and, since Authelia 4.39, `given_name` and `family_name`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{RawUser, Record};

#[derive(Deserialize)]
struct Database {
    #[serde(default)]
    users: BTreeMap<String, User>,
}

#[derive(Deserialize)]
struct User {
    password: Option<String>,
    displayname: Option<String>,
    email: Option<String>,
    #[serde(default)]
    disabled: bool,
    given_name: Option<String>,
    family_name: Option<String>,
}

/// The users of an Authelia users file, in username order.
pub fn read(text: &str) -> Result<Vec<Record>, String> {
    let database: Database =
        serde_yaml::from_str(text).map_err(|err| format!("not an Authelia users file: {err}"))?;
    Ok(database
        .users
        .into_iter()
        .enumerate()
        .map(|(index, (username, user))| {
            // Without the newer name fields, the display name is the given name.
            let first_name = user.given_name.or(user.displayname);
            Record {
                place: format!("user {} ({username})", index + 1),
                user: Ok(RawUser {
                    username: Some(username),
                    email: user.email,
                    first_name,
                    last_name: user.family_name,
                    personal_number: None,
                    password_hash: user.password,
                    enabled: Some(!user.disabled),
                    email_verified: None,
                }),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_reads() {
        let text = r#"
users:
  john:
    disabled: false
    displayname: 'John Doe'
    password: '$argon2id$v=19$m=65536,t=3,p=2$BpLnfgDsc2WD8F2q$o/vzA4myCqZZ36bUGsDY//8mKUYNZZaR0t4MFFSs+iM'
    email: 'john.doe@authelia.com'
    groups: ['admins', 'dev']
  harry:
    disabled: true
    displayname: 'Harry Potter'
    given_name: Harry
    family_name: Potter
    password: '$6$rounds=50000$BpLnfgDsc2WD8F2q$PumMwig8O0uIe9SgneL8Cm1FvUniOzpqBrH.HQE4Bv9m.Snxb4QgrrbVcBxn.iZpcSiyhtTW3SUTRKuCUd3wk1'
    email: harry.potter@authelia.com
"#;
        let records = read(text).unwrap();
        assert_eq!(records[0].place, "user 1 (harry)");
        let harry = records[0].user.clone().unwrap();
        assert_eq!(
            (harry.first_name.as_deref(), harry.last_name.as_deref()),
            (Some("Harry"), Some("Potter"))
        );
        assert_eq!(harry.enabled, Some(false));
        let john = records[1].user.clone().unwrap();
        assert_eq!(john.first_name.as_deref(), Some("John Doe"));
        assert!(john.password_hash.unwrap().starts_with("$argon2id$"));
        assert!(read("users: [1, 2]").unwrap_err().contains("Authelia"));
    }
}
