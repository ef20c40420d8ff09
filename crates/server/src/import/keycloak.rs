//! A Keycloak realm export (`<realm>-realm.json`, or a `<realm>-users-N.json`
//! of a directory export): `users[]`, each password credential rewritten in a
//! format Limen verifies. Keycloak keeps PBKDF2 and argon2 hashes as raw bytes
//! with their parameters beside them; Limen keeps them as one string:
//! passlib's `$pbkdf2-sha256$<rounds>$<salt>$<hash>` and argon2's PHC form.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use serde::Deserialize;

use super::{RawUser, Record};

#[derive(Deserialize)]
struct Export {
    #[serde(default)]
    users: Vec<User>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct User {
    username: Option<String>,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    enabled: Option<bool>,
    email_verified: Option<bool>,
    #[serde(default)]
    credentials: Vec<Credential>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Credential {
    #[serde(rename = "type")]
    kind: Option<String>,
    secret_data: Option<String>,
    credential_data: Option<String>,
}

/// `secretData`, itself JSON in a string.
#[derive(Deserialize)]
struct SecretData {
    value: String,
    salt: Option<String>,
}

/// `credentialData`, itself JSON in a string.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CredentialData {
    hash_iterations: u32,
    algorithm: String,
    #[serde(default)]
    additional_parameters: std::collections::BTreeMap<String, Vec<String>>,
}

/// The users of a realm export.
pub fn read(text: &str) -> Result<Vec<Record>, String> {
    let export: Export =
        serde_json::from_str(text).map_err(|err| format!("not a Keycloak realm export: {err}"))?;
    Ok(export
        .users
        .into_iter()
        .enumerate()
        .map(|(index, user)| Record {
            place: format!(
                "user {} ({})",
                index + 1,
                user.username.as_deref().unwrap_or("no username")
            ),
            user: convert(user),
        })
        .collect())
}

fn convert(user: User) -> Result<RawUser, String> {
    let password = user
        .credentials
        .iter()
        .find(|credential| credential.kind.as_deref() == Some("password"))
        .ok_or("no password credential (a user of a federated or social login cannot be imported with a password)")?;
    Ok(RawUser {
        username: user.username,
        email: user.email,
        first_name: user.first_name,
        last_name: user.last_name,
        personal_number: None,
        password_hash: Some(hash_of(password)?),
        enabled: user.enabled,
        email_verified: user.email_verified,
    })
}

/// The credential as one hash string.
fn hash_of(credential: &Credential) -> Result<String, String> {
    let secret: SecretData = serde_json::from_str(credential.secret_data.as_deref().unwrap_or_default())
        .map_err(|err| format!("the password's secretData is not readable: {err}"))?;
    let data: CredentialData =
        serde_json::from_str(credential.credential_data.as_deref().unwrap_or_default())
            .map_err(|err| format!("the password's credentialData is not readable: {err}"))?;
    let value = STANDARD
        .decode(secret.value.trim())
        .map_err(|_| "the password's value is not base64".to_owned())?;
    let salt = match secret.salt.as_deref().filter(|salt| *salt != "__SALT__") {
        Some(salt) => STANDARD
            .decode(salt.trim())
            .map_err(|_| "the password's salt is not base64".to_owned())?,
        None => Vec::new(),
    };
    let rounds = data.hash_iterations;
    // passlib's adapted base64: `.` for `+`, no padding.
    let ab64 = |bytes: &[u8]| STANDARD_NO_PAD.encode(bytes).replace('+', ".");
    match data.algorithm.as_str() {
        "pbkdf2-sha256" | "pbkdf2-sha512" | "pbkdf2" => {
            let name = if data.algorithm == "pbkdf2" {
                "pbkdf2"
            } else {
                data.algorithm.as_str()
            };
            Ok(format!("${name}${rounds}${}${}", ab64(&salt), ab64(&value)))
        }
        "argon2" => {
            let parameter = |name: &str, default: &str| {
                data.additional_parameters
                    .get(name)
                    .and_then(|values| values.first())
                    .cloned()
                    .unwrap_or_else(|| default.to_owned())
            };
            let variant = match parameter("type", "id").as_str() {
                "id" => "argon2id",
                "i" => "argon2i",
                "d" => "argon2d",
                other => return Err(format!("argon2 type {other:?} is not known")),
            };
            let version = match parameter("version", "1.3").as_str() {
                "1.3" => 19,
                "1.0" => 16,
                other => return Err(format!("argon2 version {other:?} is not known")),
            };
            let memory = parameter("memory", "7168");
            let parallelism = parameter("parallelism", "1");
            if memory.parse::<u32>().is_err() || parallelism.parse::<u32>().is_err() {
                return Err("argon2 memory and parallelism must be numbers".into());
            }
            Ok(format!(
                "${variant}$v={version}$m={memory},t={rounds},p={parallelism}${}${}",
                STANDARD_NO_PAD.encode(&salt),
                STANDARD_NO_PAD.encode(&value)
            ))
        }
        other => Err(format!("Keycloak's {other:?} hashes are not supported")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn export(algorithm: &str, iterations: u32, value: &str, parameters: &str) -> String {
        let secret = serde_json::json!({"value": value, "salt": "MDEyMzQ1Njc4OWFiY2RlZg==", "additionalParameters": {}})
            .to_string();
        let data = format!(
            r#"{{"hashIterations":{iterations},"algorithm":"{algorithm}","additionalParameters":{parameters}}}"#
        );
        serde_json::json!({"realm": "r", "users": [{
            "username": "peter", "email": "peter@example.com", "firstName": "Peter", "lastName": "Cold",
            "enabled": true, "emailVerified": true,
            "credentials": [{"type": "otp"}, {"type": "password", "secretData": secret, "credentialData": data}]
        }]})
        .to_string()
    }

    #[test]
    fn pbkdf2_credentials_become_passlib_strings() {
        let text = export(
            "pbkdf2-sha256",
            27500,
            "bP7yRaz676fnrY7M9kJfThEsvOHfNzBziLG1IkHSb5F37+hhEu9IAufWbZ2Nftd8kPbTw3U4zlNj4XGSM6MJkg==",
            "{}",
        );
        let records = read(&text).unwrap();
        assert_eq!(records[0].place, "user 1 (peter)");
        let user = records[0].user.clone().unwrap();
        assert_eq!(user.first_name.as_deref(), Some("Peter"));
        assert_eq!(user.email_verified, Some(true));
        let hash = user.password_hash.unwrap();
        assert!(
            hash.starts_with(
                "$pbkdf2-sha256$27500$MDEyMzQ1Njc4OWFiY2RlZg$bP7yRaz676fnrY7M9kJfThEsvOHfNzBziLG1IkHSb5F37.hh"
            ),
            "{hash}"
        );
    }

    #[test]
    fn argon2_credentials_become_phc_strings() {
        let text = export(
            "argon2",
            5,
            "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=",
            r#"{"hashLength":["32"],"memory":["7168"],"type":["id"],"version":["1.3"],"parallelism":["1"]}"#,
        );
        let user = read(&text).unwrap()[0].user.clone().unwrap();
        assert_eq!(
            user.password_hash.unwrap(),
            "$argon2id$v=19$m=7168,t=5,p=1$MDEyMzQ1Njc4OWFiY2RlZg$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
        );
    }

    #[test]
    fn users_without_a_password_or_with_an_unknown_algorithm_are_refused() {
        let text = r#"{"users":[{"username":"fed","credentials":[]}]}"#;
        assert!(
            read(text).unwrap()[0]
                .user
                .as_ref()
                .unwrap_err()
                .contains("no password")
        );
        let text = export("sha1-legacy", 1, "aGFzaA==", "{}");
        assert!(
            read(&text).unwrap()[0]
                .user
                .as_ref()
                .unwrap_err()
                .contains("sha1-legacy")
        );
        assert!(read("[1,2]").unwrap_err().contains("Keycloak"));
    }
}
