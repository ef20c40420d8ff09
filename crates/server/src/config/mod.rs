//! Configuration: defaults, then the TOML file, then `LIMEN_*` environment
//! variables (`__` separates sections: `LIMEN_LOCKOUT__MAX_FAILURES`), then
//! command-line flags. Every key is documented in `docs/configuration.md`.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub use bankid::{BankIdMode, BankIdSection};
pub use branding::BrandingSection;
pub use dialects::DialectsSection;
pub use http::{HttpSection, TlsSection};
pub use mail::{MailSection, MailTransport, RegistrationSection, SmtpSecurityName};
pub use management::ManagementSection;
pub use masked::masked;
pub use nodes::{CacheSection, ClusterSection, RedisSection, TokenStoreSection, TokensBackend};
pub use oidc::{MatchField, OidcSection, PayloadSigning};
pub use oidc_provider::{AccessTokenFormatName, OidcProviderSection};
pub use passkeys::PasskeysSection;
pub use password::{LockoutSection, PasswordSection, TwoFactorSection};
pub use secret::{ExposeSecret, SecretString, exposed};
pub use storage::{AuditSection, DatabaseSection, RateLimitBackend, RateLimitSection};
pub use users::{UsersBackend, UsersSection};

mod bankid;
mod branding;
mod dialects;
mod http;
mod mail;
mod management;
mod masked;
mod nodes;
mod oidc;
mod oidc_provider;
mod passkeys;
mod password;
mod secret;

use secret::read_secret;
mod storage;
mod users;

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
    /// The base URL clients reach Limen at, for links in e-mails; `http://<listen>`
    /// when unset.
    pub public_url: Option<String>,
    /// Database URL: `sqlite://FILE?mode=rwc`, `postgres://…` or `mysql://…`.
    #[serde(skip_serializing, default = "default_database_url")]
    pub database_url: SecretString,
    /// A file whose content replaces `database_url`, so that a password in
    /// the URL can come from a secret mount instead of the environment.
    pub database_url_file: Option<PathBuf>,
    /// Base64 of 32 random bytes: seals TOTP secrets at rest (XChaCha20-Poly1305).
    /// Without it they are stored unencrypted and a warning is logged.
    #[serde(skip_serializing, default)]
    pub secrets_key: Option<SecretString>,
    /// A file holding `secrets_key`.
    pub secrets_key_file: Option<PathBuf>,
    /// Earlier keys, still used to open what they sealed (key rotation).
    #[serde(skip_serializing, default)]
    pub previous_secrets_keys: Vec<SecretString>,
    /// Lets `serve` run on PostgreSQL or MySQL without `secrets_key`, storing
    /// TOTP secrets and private keys unencrypted. On SQLite a key is generated
    /// beside the database file instead.
    pub allow_unsealed_secrets: bool,
    /// `text` or `json`.
    pub log_format: LogFormat,
    /// Log filter (`info`, `limen=debug,warn`, …); `RUST_LOG` overrides it.
    pub log_level: String,
    /// Connection pool settings.
    pub database: DatabaseSection,
    /// Where users live.
    pub users: UsersSection,
    /// Per-address throttles.
    pub rate_limit: RateLimitSection,
    /// HTTP server settings.
    pub http: HttpSection,
    /// The operators' listener.
    pub management: ManagementSection,
    /// argon2id parameters and hashing pool.
    pub password: PasswordSection,
    /// Brute-force lockout.
    pub lockout: LockoutSection,
    /// TOTP two-factor authentication.
    pub two_factor: TwoFactorSection,
    /// Outgoing e-mail.
    pub mail: MailSection,
    /// Self-registration.
    pub registration: RegistrationSection,
    /// Settings of each dialect.
    pub dialects: DialectsSection,
    /// Swedish BankID.
    pub bankid: BankIdSection,
    /// OpenID Connect login.
    pub oidc: OidcSection,
    /// Limen as an OpenID Provider.
    pub oidc_provider: OidcProviderSection,
    /// The hosted pages' logo and accent colour.
    pub branding: BrandingSection,
    /// Users' passkeys (WebAuthn).
    pub passkeys: PasskeysSection,
    /// `redis://…` for the Redis backends of tokens and counted attempts.
    #[serde(skip_serializing, default)]
    pub redis_url: Option<SecretString>,
    /// A file whose content replaces `redis_url`.
    pub redis_url_file: Option<PathBuf>,
    /// Redis settings.
    pub redis: RedisSection,
    /// Where tokens live.
    pub tokens: TokenStoreSection,
    /// Validated tokens kept in each node's memory.
    pub cache: CacheSection,
    /// One node or several.
    pub cluster: ClusterSection,
    /// The audit trail.
    pub audit: AuditSection,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            database_url: default_database_url(),
            database_url_file: None,
            secrets_key: None,
            secrets_key_file: None,
            previous_secrets_keys: Vec::new(),
            allow_unsealed_secrets: false,
            log_format: LogFormat::Text,
            log_level: "info".into(),
            database: DatabaseSection::default(),
            users: UsersSection::default(),
            rate_limit: RateLimitSection::default(),
            http: HttpSection::default(),
            management: ManagementSection::default(),
            password: PasswordSection::default(),
            lockout: LockoutSection::default(),
            two_factor: TwoFactorSection::default(),
            mail: MailSection::default(),
            registration: RegistrationSection::default(),
            dialects: DialectsSection::default(),
            bankid: BankIdSection::default(),
            oidc: OidcSection::default(),
            oidc_provider: OidcProviderSection::default(),
            branding: BrandingSection::default(),
            passkeys: PasskeysSection::default(),
            redis_url: None,
            redis_url_file: None,
            redis: RedisSection::default(),
            tokens: TokenStoreSection::default(),
            cache: CacheSection::default(),
            cluster: ClusterSection::default(),
            audit: AuditSection::default(),
        }
    }
}

/// The embedded default: a SQLite file in the working directory.
fn default_database_url() -> SecretString {
    SecretString::from("sqlite://limen.db?mode=rwc")
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file is missing, unreadable, not TOML, or has an unknown or mistyped key.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Variables with the `LIMEN_` prefix that are not configuration keys:
/// `LIMEN_CONFIG` (the file, read by the command line) and the tests'
/// `LIMEN_TEST_*`. Keys arrive as written in the environment (upper case).
fn is_configuration_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key != "config" && !key.starts_with("test_")
}

/// Levels a log filter may name.
const LOG_LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// `log_level` is a level or comma-separated `target=level` directives. A
/// bare word that is not a level would be taken by the filter as a target
/// ("infoo": log everything from a module of that name, nothing else), so it
/// is refused rather than silently logging nothing.
fn check_log_level(filter: &str) -> Result<(), String> {
    let wrong = |why: String| Err(format!("log_level {filter:?}: {why}"));
    if filter.trim().is_empty() {
        return wrong(format!("empty; use one of {}", LOG_LEVELS.join(", ")));
    }
    for directive in filter.split(',').map(str::trim) {
        let level = directive.rsplit_once('=').map_or(directive, |(_, level)| level);
        if !LOG_LEVELS.contains(&level.to_ascii_lowercase().as_str()) {
            return wrong(format!(
                "{directive:?} names no level; use one of {} or target=level",
                LOG_LEVELS.join(", ")
            ));
        }
    }
    tracing_subscriber::EnvFilter::try_new(filter).map_err(|err| format!("log_level {filter:?}: {err}"))?;
    Ok(())
}

impl Config {
    /// Loads defaults, then `file` (if given), then the environment, then
    /// `database_url` (the command line's `--database-url`), and validates the result.
    pub fn load(file: Option<&Path>, database_url: Option<&str>) -> Result<Self, ConfigError> {
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
        Self::from_figment(&figment, database_url)
    }

    /// The configuration `figment` holds, with the secrets its `*_file` keys
    /// name read, and `database_url` (when given) in place; validated.
    fn from_figment(figment: &Figment, database_url: Option<&str>) -> Result<Self, ConfigError> {
        let mut config: Config = figment
            .extract()
            .map_err(|err| ConfigError::Invalid(err.to_string()))?;
        config.read_secret_files()?;
        // The command line's --database-url wins, and is validated like the rest.
        if let Some(url) = database_url {
            config.database_url = SecretString::from(url);
        }
        config.validate()?;
        Ok(config)
    }

    /// Replaces each secret that has a `*_file` key with the file's content.
    fn read_secret_files(&mut self) -> Result<(), ConfigError> {
        if let Some(path) = &self.database_url_file {
            self.database_url = read_secret("database_url_file", path)?;
        }
        if let Some(path) = &self.redis_url_file {
            self.redis_url = Some(read_secret("redis_url_file", path)?);
        }
        if let Some(path) = &self.secrets_key_file {
            self.secrets_key = Some(read_secret("secrets_key_file", path)?);
        }
        if let Some(path) = &self.mail.smtp.password_file {
            self.mail.smtp.password = Some(read_secret("mail.smtp.password_file", path)?);
        }
        if let Some(path) = &self.bankid.certificate_password_file {
            self.bankid.certificate_password = Some(read_secret("bankid.certificate_password_file", path)?);
        }
        if let Some(path) = &self.dialects.lime.api_keys_file {
            // One key a line.
            let keys = read_secret("dialects.lime.api_keys_file", path)?;
            self.dialects.lime.api_keys.extend(
                keys.expose_secret()
                    .lines()
                    .map(str::trim)
                    .filter(|key| !key.is_empty())
                    .map(SecretString::from),
            );
        }
        self.oidc.read_secret_files()?;
        self.oidc_provider.read_secret_files()?;
        self.users.read_secret_files()
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |message: &str| Err(ConfigError::Invalid(message.to_owned()));
        check_log_level(&self.log_level).map_err(ConfigError::Invalid)?;
        if self.http.max_body_bytes == 0 {
            return invalid("http.max_body_bytes must be positive");
        }
        if self.password.thread_niceness > 19 {
            return invalid("password.thread_niceness must be 0 to 19");
        }
        let limits = &self.password.foreign_hash_limits;
        if limits.bcrypt_min_cost < 4
            || limits.bcrypt_min_cost > limits.bcrypt_max_cost
            || limits.bcrypt_max_cost > 31
        {
            return invalid(
                "password.foreign_hash_limits: bcrypt_min_cost must be at least 4 and at most bcrypt_max_cost, which is at most 31",
            );
        }
        if self.password.refusal_floor_ms > 60_000 {
            return invalid("password.refusal_floor_ms must be at most 60000 (a minute)");
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
            limen_crypto::parse_key(key.expose_secret())
                .map_err(|err| ConfigError::Invalid(format!("secrets key: {err}")))?;
        }
        if self.rate_limit.login_window_secs <= 0 {
            return invalid("rate_limit.login_window_secs must be positive");
        }
        if self.database.max_connections == 0 {
            return invalid("database.max_connections must be positive");
        }
        self.trusted_proxies()?;
        let positive = [
            (
                "registration.verification_ttl_secs",
                self.registration.verification_ttl_secs,
            ),
            (
                "dialects.tokens.token_ttl_secs",
                self.dialects.tokens.token_ttl_secs,
            ),
            (
                "dialects.tokens.max_token_ttl_secs",
                self.dialects.tokens.max_token_ttl_secs,
            ),
            (
                "dialects.bimplus.access_ttl_secs",
                self.dialects.bimplus.access_ttl_secs,
            ),
            (
                "dialects.bimplus.remember_me_ttl_secs",
                self.dialects.bimplus.remember_me_ttl_secs,
            ),
            (
                "dialects.gradido.session_ttl_secs",
                self.dialects.gradido.session_ttl_secs,
            ),
            (
                "dialects.gradido.wrong_session_window_secs",
                self.dialects.gradido.wrong_session_window_secs,
            ),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, value)| *value <= 0) {
            return Err(ConfigError::Invalid(format!("{key} must be positive")));
        }
        self.dialects.lime.validate()?;
        self.bankid.validate()?;
        self.oidc
            .validate(self.public_url.as_deref(), self.oidc_provider.enabled)?;
        self.oidc_provider.validate(self.public_url.as_deref())?;
        self.branding.validate()?;
        self.passkeys
            .relying_party(self.public_url.as_deref(), &self.registration.site_name)?;
        self.users.validate()?;
        self.validate_nodes()?;
        if self.dialects.tokens.token_ttl_secs > self.dialects.tokens.max_token_ttl_secs {
            return invalid("dialects.tokens.token_ttl_secs must not exceed max_token_ttl_secs");
        }
        if limen_domain::services::EmailLanguage::parse(&self.registration.language).is_none() {
            return invalid("registration.language must be en or de");
        }
        if let Some(url) = &self.registration.verification_url
            && !url.contains("{token}")
        {
            return invalid("registration.verification_url must contain {token}");
        }
        let base = self.public_base_url();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return invalid("public_url must start with http:// or https://");
        }
        if self.mail.smtp.username.is_some() != self.mail.smtp.password.is_some() {
            return invalid("mail.smtp.username and mail.smtp.password (or password_file) go together");
        }
        Ok(())
    }

    /// The configured trusted proxies, parsed.
    pub fn trusted_proxies(&self) -> Result<Vec<ipnet::IpNet>, ConfigError> {
        self.http
            .trusted_proxies
            .iter()
            .map(|text| {
                let text = text.trim();
                text.parse::<ipnet::IpNet>()
                    .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        ConfigError::Invalid(format!(
                            "http.trusted_proxies: {text:?} is not an address or a CIDR range"
                        ))
                    })
            })
            .collect()
    }

    /// The base URL of links to Limen, without a trailing slash.
    pub fn public_base_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    /// The verification link template.
    pub fn verification_url(&self) -> String {
        self.registration
            .verification_url
            .clone()
            .unwrap_or_else(|| format!("{}/account/checkEmail/{{token}}", self.public_base_url()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_and_path_variables_are_not_keys() {
        assert!(!is_configuration_key("test_postgres_url"));
        assert!(!is_configuration_key("config"));
        assert!(!is_configuration_key("CONFIG"), "as the environment spells it");
        assert!(!is_configuration_key("TEST_POSTGRES_URL"));
        assert!(is_configuration_key("database_url"));
    }

    #[test]
    fn a_log_level_must_name_levels() {
        for good in [
            "info",
            "WARN",
            "limen=debug,warn",
            "limen_http=trace,sqlx=warn",
            "off",
        ] {
            assert!(check_log_level(good).is_ok(), "{good}");
        }
        for bad in ["", "infoo", "verbose", "limen=loud", "info,limen"] {
            let err = check_log_level(bad).unwrap_err();
            assert!(err.starts_with("log_level"), "{err}");
        }
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let config = Config::default();
        assert_eq!(config.listen, "127.0.0.1:8080");
        assert_eq!(config.database_url.expose_secret(), "sqlite://limen.db?mode=rwc");
        assert_eq!(config.password.memory_kib, 19_456);
        assert_eq!(config.lockout.max_failures, 5);
        assert_eq!(config.http.max_body_bytes, 65_536);
        assert_eq!(config.dialects.bimplus.access_ttl_secs, 28_799);
        assert!(!config.dialects.gradido.allow_password_via_json_request);
        assert_eq!(
            config.verification_url(),
            "http://127.0.0.1:8080/account/checkEmail/{token}"
        );
        assert!(config.validate().is_ok());
    }

    #[test]
    fn trusted_proxies_take_addresses_and_ranges() {
        let mut config = Config::default();
        config.http.trusted_proxies = vec!["10.0.0.0/8".into(), "192.0.2.1".into(), "::1".into()];
        let proxies = config.trusted_proxies().unwrap();
        assert_eq!(proxies.len(), 3);
        assert!(proxies[1].contains(&"192.0.2.1".parse::<std::net::IpAddr>().unwrap()));
        config.http.trusted_proxies = vec!["proxy.example".into()];
        assert!(config.validate().is_err());
    }

    #[test]
    fn the_public_url_names_the_verification_link() {
        let mut config = Config {
            public_url: Some("https://login.example.com/".into()),
            ..Config::default()
        };
        assert_eq!(
            config.verification_url(),
            "https://login.example.com/account/checkEmail/{token}"
        );
        config.registration.verification_url = Some("https://app.example.com/verify".into());
        assert!(
            config.validate().is_err(),
            "a template without {{token}} is refused"
        );
    }

    #[test]
    fn foreign_hash_limits_are_read_key_for_key_and_checked() {
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(
                "[password.foreign_hash_limits]\nbcrypt_max_cost = 12\nargon2_memory_kib = 65536\n",
            ))
            .extract()
            .unwrap();
        let limits = config.password.foreign_hash_limits;
        assert_eq!((limits.bcrypt_max_cost, limits.argon2_memory_kib), (12, 65_536));
        assert_eq!(
            limits.pbkdf2_iterations, 5_000_000,
            "the others keep their defaults"
        );
        assert!(config.validate().is_ok());
        let mut below_bcrypt = config;
        below_bcrypt.password.foreign_hash_limits.bcrypt_min_cost = 3;
        assert!(below_bcrypt.validate().is_err());
        let typo = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string("[password.foreign_hash_limits]\nbcrypt_max = 12\n"))
            .extract::<Config>();
        assert!(typo.is_err(), "an unknown key is refused");
    }

    #[test]
    fn no_secret_is_in_the_configuration_s_debug_text() {
        let dir = std::env::temp_dir().join(format!("limen-config-secrets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path.display().to_string()
        };
        // 32 bytes that spell a marker, so that the key's own text can be looked for.
        let sealing_key = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            b"sealing-key-s3cret-0123456789abc",
        );
        let toml = format!(
            r#"
database_url_file = "{database}"
secrets_key_file = "{sealing}"
previous_secrets_keys = ["{sealing_key}"]
redis_url = "redis://:redis-s3cret@cache:6379"
public_url = "https://login.example"

[mail.smtp]
username = "limen"
password_file = "{smtp}"

[dialects.lime]
api_keys = ["lime-api-s3cret"]
api_keys_file = "{lime_keys}"

[bankid]
certificate_password = "bankid-s3cret"

[oidc]
consumer_urls = ["https://portal.example/back"]
payload_key = "payload-s3cret-payload-s3cret-0123"

[[oidc.consumers]]
url = "https://other.example/back"
payload_key_file = "{consumer_key}"

[[oidc.providers]]
id = "idp"
issuer = "https://idp.example"
client_id = "limen"
client_secret_file = "{client_secret}"

[users.limecrm]
url = "https://crm.example/app/api/v1/"
api_key = "crm-api-s3cret"

[users.mapped_sql]
url = "postgres://customer:mapped-s3cret@db/customer"

[users.ldap]
bind_password_file = "{ldap}"

[[oidc_provider.clients]]
client_id = "wiki"
client_secret = "op-client-s3cret"
"#,
            database = file("database", "postgres://limen:database-s3cret@db/limen\n"),
            sealing = file("sealing", &format!("{sealing_key}\n")),
            smtp = file("smtp", "smtp-s3cret\n"),
            lime_keys = file("lime", "lime-file-s3cret\nlime-file2-s3cret\n"),
            consumer_key = file("consumer", "consumer-s3cret-consumer-s3cret-0123\n"),
            client_secret = file("client", "client-s3cret\n"),
            ldap = file("ldap", "ldap-bind-s3cret\n"),
        );
        // Not `load`: the environment of a test run holds other `LIMEN_` variables.
        let figment = Figment::from(Serialized::defaults(Config::default())).merge(Toml::string(&toml));
        let config = Config::from_figment(&figment, None).unwrap();
        assert_eq!(
            config.database_url.expose_secret(),
            "postgres://limen:database-s3cret@db/limen",
            "the files were read"
        );
        assert_eq!(config.dialects.lime.api_keys.len(), 3);
        let shown = format!("{config:?} {config:#?}");
        let secrets = [
            "database-s3cret",
            "sealing-key",
            sealing_key.as_str(),
            "redis-s3cret",
            "smtp-s3cret",
            "lime-api-s3cret",
            "lime-file-s3cret",
            "bankid-s3cret",
            "payload-s3cret",
            "consumer-s3cret",
            "client-s3cret",
            "crm-api-s3cret",
            "mapped-s3cret",
            "ldap-bind-s3cret",
            "op-client-s3cret",
        ];
        for secret in secrets {
            assert!(!shown.contains(secret), "{secret} is in the Debug text");
        }
        assert!(shown.contains("REDACTED"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
