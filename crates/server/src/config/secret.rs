//! Secrets in the configuration. They are `SecretString`s, which `{:?}`
//! prints as `[REDACTED]` and serde never writes out, and every `*_file` key
//! is read by `read_secret`, one rule for all of them.

use std::path::Path;

pub use secrecy::{ExposeSecret, SecretString};

use super::ConfigError;

/// The secret in the file `key` names: its text without the line ending(s)
/// at its end (what an editor or `echo` adds). Nothing else is trimmed, so a
/// password may begin or end with a space. An empty file is refused: it is a
/// deployment that forgot to fill it, not a secret.
pub(super) fn read_secret(key: &str, path: &Path) -> Result<SecretString, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| ConfigError::Invalid(format!("cannot read {key} {}: {err}", path.display())))?;
    let secret = text.trim_end_matches(['\r', '\n']);
    if secret.is_empty() {
        return Err(ConfigError::Invalid(format!("{key} {} is empty", path.display())));
    }
    Ok(SecretString::from(secret))
}

/// `secrets` as the `&str`s adapters take.
pub fn exposed(secrets: &[SecretString]) -> Vec<String> {
    secrets
        .iter()
        .map(|secret| secret.expose_secret().to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_final_line_endings_are_taken_off() {
        let dir = std::env::temp_dir().join(format!("limen-read-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cases = [
            ("plain", "s3cret", "s3cret"),
            ("newline", "s3cret\n", "s3cret"),
            ("crlf", "s3cret\r\n\r\n", "s3cret"),
            ("spaces", " s3 cret ", " s3 cret "),
        ];
        for (name, text, secret) in cases {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            assert_eq!(
                read_secret(name, &path).unwrap().expose_secret(),
                secret,
                "{name}"
            );
        }
        let empty = dir.join("empty");
        std::fs::write(&empty, "\n").unwrap();
        let err = read_secret("mail.smtp.password_file", &empty)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("mail.smtp.password_file") && err.contains("empty"),
            "{err}"
        );
        let err = read_secret("x_file", &dir.join("missing"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot read x_file"), "{err}");
    }
}
