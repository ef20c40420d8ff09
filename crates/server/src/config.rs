//! Configuration: defaults, then the TOML file, then `LIMEN_*` environment
//! variables (`__` separates sections: `LIMEN_LOCKOUT__MAX_FAILURES`), then
//! command-line flags. Every key is documented in `docs/configuration.md`.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: String,
    /// Database URL: `sqlite://FILE?mode=rwc`, `postgres://…` or `mysql://…`.
    pub database_url: String,
    /// A file whose content (trimmed) replaces `database_url`, so that a password
    /// in the URL can come from a secret mount instead of the environment.
    pub database_url_file: Option<PathBuf>,
    /// Base64 of 32 random bytes: seals TOTP secrets at rest (XChaCha20-Poly1305).
    /// Without it they are stored unencrypted and a warning is logged.
    pub secrets_key: Option<String>,
    /// A file holding `secrets_key`.
    pub secrets_key_file: Option<PathBuf>,
    /// Earlier keys, still used to open what they sealed (key rotation).
    pub previous_secrets_keys: Vec<String>,
    /// `text` or `json`.
    pub log_format: LogFormat,
    /// Log filter (`info`, `limen=debug,warn`, …); `RUST_LOG` overrides it.
    pub log_level: String,
    /// Connection pool settings.
    pub database: DatabaseSection,
    /// HTTP server settings.
    pub http: HttpSection,
    /// argon2id parameters and hashing pool.
    pub password: PasswordSection,
    /// Brute-force lockout.
    pub lockout: LockoutSection,
    /// TOTP two-factor authentication.
    pub two_factor: TwoFactorSection,
    /// Settings of each dialect.
    pub dialects: DialectsSection,
}

/// `[database]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSection {
    /// Largest number of pooled connections.
    pub max_connections: u32,
    /// Seconds to wait for a pooled connection.
    pub acquire_timeout_secs: u64,
}

/// `[http]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSection {
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// Seconds in-flight requests get to finish on shutdown.
    pub shutdown_timeout_secs: u64,
}

/// `[password]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordSection {
    /// argon2id memory cost in KiB.
    pub memory_kib: u32,
    /// argon2id passes.
    pub iterations: u32,
    /// argon2id lanes.
    pub parallelism: u32,
    /// Hashes computed at once; 0 means one per core.
    pub max_concurrent: usize,
    /// Hashes allowed to wait; more are refused with 503.
    pub max_queue: usize,
}

/// `[lockout]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LockoutSection {
    /// Failed attempts within the window that lock an account; 0 disables locking.
    pub max_failures: u32,
    /// Seconds over which failures are counted.
    pub window_secs: i64,
    /// Seconds a lock lasts.
    pub lock_secs: i64,
}

/// `[two_factor]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TwoFactorSection {
    /// `SHA1`, `SHA256` or `SHA512` for new enrolments.
    pub algorithm: String,
    /// Code length of new enrolments, 6 to 8.
    pub digits: u32,
    /// Seconds per code of new enrolments.
    pub period_secs: u64,
    /// The issuer name authenticator apps show.
    pub issuer: String,
    /// Seconds the temporary token of a login's password step lives.
    pub pending_ttl_secs: i64,
}

impl Default for TwoFactorSection {
    fn default() -> Self {
        Self {
            algorithm: "SHA1".into(),
            digits: 6,
            period_secs: 30,
            issuer: "Limen".into(),
            pending_ttl_secs: 300,
        }
    }
}

/// `[dialects]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DialectsSection {
    /// `[dialects.flow]`.
    pub flow: FlowSection,
}

/// `[dialects.flow]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FlowSection {
    /// Seconds a token from a plain login lives.
    pub token_ttl_secs: i64,
    /// Seconds a token from a `rememberMe` login lives.
    pub remember_me_ttl_secs: i64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            database_url: "sqlite://limen.db?mode=rwc".into(),
            database_url_file: None,
            secrets_key: None,
            secrets_key_file: None,
            previous_secrets_keys: Vec::new(),
            log_format: LogFormat::Text,
            log_level: "info".into(),
            database: DatabaseSection::default(),
            http: HttpSection::default(),
            password: PasswordSection::default(),
            lockout: LockoutSection::default(),
            two_factor: TwoFactorSection::default(),
            dialects: DialectsSection::default(),
        }
    }
}

impl Default for DatabaseSection {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout_secs: 5,
        }
    }
}

impl Default for HttpSection {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            workers: 0,
            shutdown_timeout_secs: 30,
        }
    }
}

impl Default for PasswordSection {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            max_concurrent: 0,
            max_queue: 64,
        }
    }
}

impl Default for LockoutSection {
    fn default() -> Self {
        Self {
            max_failures: 5,
            window_secs: 15 * 60,
            lock_secs: 15 * 60,
        }
    }
}

impl Default for FlowSection {
    fn default() -> Self {
        Self {
            token_ttl_secs: 3600,
            remember_me_ttl_secs: 7 * 24 * 3600,
        }
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file is missing, unreadable, not TOML, or has an unknown or mistyped key.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Variables with the `LIMEN_` prefix that are not configuration keys.
fn is_configuration_key(key: &str) -> bool {
    key != "config" && !key.starts_with("test_")
}

impl Config {
    /// Loads defaults, then `file` (if given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::Invalid(format!(
                    "{} is not a readable file",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(
            Env::prefixed("LIMEN_")
                .filter(|key| is_configuration_key(key.as_str()))
                .split("__"),
        );
        let mut config: Config = figment
            .extract()
            .map_err(|err| ConfigError::Invalid(err.to_string()))?;
        if let Some(path) = &config.database_url_file {
            let url = std::fs::read_to_string(path).map_err(|err| {
                ConfigError::Invalid(format!("cannot read database_url_file {}: {err}", path.display()))
            })?;
            config.database_url = url.trim().to_owned();
        }
        if let Some(path) = &config.secrets_key_file {
            let key = std::fs::read_to_string(path).map_err(|err| {
                ConfigError::Invalid(format!("cannot read secrets_key_file {}: {err}", path.display()))
            })?;
            config.secrets_key = Some(key.trim().to_owned());
        }
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |message: &str| Err(ConfigError::Invalid(message.to_owned()));
        if self.http.max_body_bytes == 0 {
            return invalid("http.max_body_bytes must be positive");
        }
        if self.lockout.window_secs <= 0 || self.lockout.lock_secs <= 0 {
            return invalid("lockout.window_secs and lockout.lock_secs must be positive");
        }
        if self.dialects.flow.token_ttl_secs <= 0 || self.dialects.flow.remember_me_ttl_secs <= 0 {
            return invalid("dialects.flow token lifetimes must be positive");
        }
        if limen_domain::model::TotpAlgorithm::parse(&self.two_factor.algorithm).is_none() {
            return invalid("two_factor.algorithm must be SHA1, SHA256 or SHA512");
        }
        if !(6..=8).contains(&self.two_factor.digits) || self.two_factor.period_secs == 0 {
            return invalid("two_factor.digits must be 6 to 8 and two_factor.period_secs positive");
        }
        if self.two_factor.pending_ttl_secs <= 0 {
            return invalid("two_factor.pending_ttl_secs must be positive");
        }
        for key in self.secrets_key.iter().chain(&self.previous_secrets_keys) {
            limen_crypto::parse_key(key)
                .map_err(|err| ConfigError::Invalid(format!("secrets key: {err}")))?;
        }
        if self.database.max_connections == 0 {
            return invalid("database.max_connections must be positive");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_and_path_variables_are_not_keys() {
        assert!(!is_configuration_key("test_postgres_url"));
        assert!(!is_configuration_key("config"));
        assert!(is_configuration_key("database_url"));
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let config = Config::default();
        assert_eq!(config.listen, "127.0.0.1:8080");
        assert_eq!(config.database_url, "sqlite://limen.db?mode=rwc");
        assert_eq!(config.password.memory_kib, 19_456);
        assert_eq!(config.lockout.max_failures, 5);
        assert_eq!(config.http.max_body_bytes, 65_536);
        assert!(config.validate().is_ok());
    }
}
