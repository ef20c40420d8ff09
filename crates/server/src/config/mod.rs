//! Configuration: defaults, then the TOML file, then `LIMEN_*` environment
//! variables (`__` separates sections: `LIMEN_LOCKOUT__MAX_FAILURES`), then
//! command-line flags. Every key is documented in `docs/configuration.md`.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub use management::ManagementSection;
pub use nodes::{CacheSection, ClusterSection, RedisSection, TokenStoreSection, TokensBackend};
pub use oidc::{MatchField, OidcSection, PayloadSigning};
pub use users::{UsersBackend, UsersSection};

mod management;
mod nodes;
mod oidc;
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
    /// `redis://…` for the Redis backends of tokens and counted attempts.
    pub redis_url: Option<String>,
    /// A file whose content (trimmed) replaces `redis_url`.
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

/// `[audit]`: the trail of security events in the `audit_events` table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditSection {
    /// Days an event is kept; older ones are deleted by `serve` every hour.
    /// 0 keeps every event.
    pub retention_days: u32,
}

impl Default for AuditSection {
    fn default() -> Self {
        Self { retention_days: 365 }
    }
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

/// Where per-address throttles count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RateLimitBackend {
    /// This process's memory: one node only.
    Memory,
    /// Limen's database, shared by every node.
    Sql,
    /// Redis (`redis_url`), shared by every node.
    Redis,
}

/// `[rate_limit]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitSection {
    /// `memory` or `sql`. Account lockouts are always in the database.
    pub backend: RateLimitBackend,
    /// Failed logins one client address (IPv6: one /64) may make per window
    /// before it is refused for a window; 0 disables the throttle.
    pub login_failures_per_address: u32,
    /// BankID identifications one client address may start per window and
    /// not complete; 0 disables the throttle.
    pub bankid_starts_per_address: u32,
    /// OpenID logins one client address may start per window and not
    /// complete (each stores a record for ten minutes); 0 disables the throttle.
    pub openid_starts_per_address: u32,
    /// The window of all three, in seconds.
    pub login_window_secs: i64,
    /// Most addresses the memory backend keeps before dropping the oldest.
    pub memory_max_keys: usize,
}

impl Default for RateLimitSection {
    fn default() -> Self {
        Self {
            backend: RateLimitBackend::Memory,
            login_failures_per_address: 100,
            bankid_starts_per_address: 50,
            openid_starts_per_address: 50,
            login_window_secs: 15 * 60,
            memory_max_keys: 100_000,
        }
    }
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
    /// Proxies (addresses or CIDR ranges) whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<String>,
    /// Serve HTTPS with this certificate; plain HTTP without it.
    pub tls: Option<TlsSection>,
}

/// `[http.tls]`: the certificate `serve` presents, read again on SIGHUP.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// PEM: the server's certificate first, then the intermediates.
    pub cert_file: PathBuf,
    /// PEM: its private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
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
    /// Hashes one client address may have queued or running at once; more
    /// are refused with 503. 0 means no bound.
    pub max_queue_per_address: usize,
    /// Nice value of the hashing threads (0 to 19); request handling runs first.
    pub thread_niceness: u8,
    /// The least time, in milliseconds, that a refused password login takes;
    /// the slowest hash format seen in use raises it. 0: learned only.
    pub refusal_floor_ms: u64,
    /// Bounds on stored hashes made elsewhere (imports, customers' tables,
    /// CRMs): a hash beyond them is refused at import and is an unusable
    /// password at login.
    pub foreign_hash_limits: limen_crypto::HashLimits,
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

/// How e-mail leaves Limen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    /// Each message becomes an `.eml` file in `outbox_dir` (development).
    Outbox,
    /// Messages go to the SMTP server of `[mail.smtp]`.
    Smtp,
}

/// `[mail]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailSection {
    /// `outbox` or `smtp`.
    pub transport: MailTransport,
    /// The sender, `Name <address>` or a bare address.
    pub from: String,
    /// Where the outbox transport writes messages.
    pub outbox_dir: PathBuf,
    /// `[mail.smtp]`.
    pub smtp: SmtpSection,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurityName {
    /// STARTTLS on a plain connection (port 587); required, not opportunistic.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS: only for a relay on the same host.
    None,
}

/// `[mail.smtp]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSection {
    /// Server host name.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// `starttls`, `tls` or `none`.
    pub security: SmtpSecurityName,
    /// User name, when the server wants authentication.
    pub username: Option<String>,
    /// Password for `username`.
    pub password: Option<String>,
    /// A file holding the password.
    pub password_file: Option<PathBuf>,
    /// Seconds to wait for the server.
    pub timeout_secs: u64,
    /// A PEM file with a CA certificate to trust besides the public roots.
    pub ca_file: Option<PathBuf>,
}

/// `[registration]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistrationSection {
    /// The link of the verification e-mail, `{token}` standing for the token;
    /// `<public_url>/account/checkEmail/{token}` when unset.
    pub verification_url: Option<String>,
    /// Seconds the verification link works.
    pub verification_ttl_secs: i64,
    /// The service's name in e-mails.
    pub site_name: String,
    /// `en` or `de`.
    pub language: String,
    /// Refuse logins until the e-mail address is verified (the original
    /// `gradido` server lets unverified users log in).
    pub require_verified_email: bool,
}

impl Default for RegistrationSection {
    fn default() -> Self {
        Self {
            verification_url: None,
            verification_ttl_secs: 24 * 3600,
            site_name: "Limen".into(),
            language: "en".into(),
            require_verified_email: false,
        }
    }
}

impl Default for MailSection {
    fn default() -> Self {
        Self {
            transport: MailTransport::Outbox,
            from: "Limen <noreply@localhost>".into(),
            outbox_dir: PathBuf::from("outbox"),
            smtp: SmtpSection::default(),
        }
    }
}

impl Default for SmtpSection {
    fn default() -> Self {
        Self {
            host: "localhost".into(),
            port: 587,
            security: SmtpSecurityName::Starttls,
            username: None,
            password: None,
            password_file: None,
            timeout_secs: 10,
            ca_file: None,
        }
    }
}

/// `[dialects]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DialectsSection {
    /// `[dialects.flow]`.
    pub flow: FlowSection,
    /// `[dialects.tokens]`.
    pub tokens: TokensSection,
    /// `[dialects.bimplus]`.
    pub bimplus: BimplusSection,
    /// `[dialects.gradido]`.
    pub gradido: GradidoSection,
    /// `[dialects.lime]`.
    pub lime: LimeSection,
}

/// `[dialects.lime]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimeSection {
    /// When not empty, every `lime` endpoint requires one of these keys (secrets).
    pub api_keys: Vec<String>,
    /// A file with more keys, one per line.
    pub api_keys_file: Option<PathBuf>,
    /// The header that carries the key.
    pub api_key_header: String,
    /// Seconds the access token of a `lime` login lives.
    pub token_ttl_secs: i64,
    /// Seconds a password reset token works.
    pub reset_token_ttl_secs: i64,
    /// The link in the reset e-mail, `{token}` standing for the token; without
    /// it the e-mail carries the token.
    pub reset_url: Option<String>,
    /// Reset requests one username may make per hour.
    pub reset_requests_per_username: u32,
    /// Reset requests one client address may make per hour.
    pub reset_requests_per_address: u32,
    /// Which user field fills each key of the answers' `user` object; empty
    /// means the document's `_id`, `firstname`, `lastname`, `email`.
    pub user_fields: std::collections::BTreeMap<String, String>,
}

impl Default for LimeSection {
    fn default() -> Self {
        Self {
            api_keys: Vec::new(),
            api_keys_file: None,
            api_key_header: "X-API-Key".into(),
            token_ttl_secs: 3600,
            reset_token_ttl_secs: 3600,
            reset_url: None,
            reset_requests_per_username: 3,
            reset_requests_per_address: 20,
            user_fields: std::collections::BTreeMap::new(),
        }
    }
}

/// Where BankID is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BankIdMode {
    /// No BankID login.
    Off,
    /// Limen's simulator, started inside the server: anyone may "identify" as
    /// any personal number. For development only.
    Simulator,
    /// BankID's test service.
    Test,
    /// BankID.
    Production,
}

/// `[bankid]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BankIdSection {
    /// `off`, `simulator`, `test` or `production`.
    pub mode: BankIdMode,
    /// The API's base URL; the mode's BankID service by default.
    pub endpoint: Option<String>,
    /// The relying party's certificate: PEM (certificate and unencrypted key)
    /// or PKCS#12.
    pub certificate_file: Option<PathBuf>,
    /// The PKCS#12 file's password.
    pub certificate_password: Option<String>,
    /// A file holding that password.
    pub certificate_password_file: Option<PathBuf>,
    /// PEM of the CA BankID's server certificate chains to (pinned).
    pub ca_file: Option<PathBuf>,
    /// Seconds one call to BankID may take.
    pub timeout_secs: u64,
    /// How often a call failing for a passing reason is tried again.
    pub retries: u32,
    /// `[bankid.simulator]`.
    pub simulator: BankIdSimulatorSection,
}

impl Default for BankIdSection {
    fn default() -> Self {
        Self {
            mode: BankIdMode::Off,
            endpoint: None,
            certificate_file: None,
            certificate_password: None,
            certificate_password_file: None,
            ca_file: None,
            timeout_secs: 10,
            retries: 2,
            simulator: BankIdSimulatorSection::default(),
        }
    }
}

/// `[bankid.simulator]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BankIdSimulatorSection {
    /// The outcome of orders for personal numbers without one of their own:
    /// `complete`, `user_cancel`, `expired`, `start_failed`,
    /// `certificate_error`, `already_in_progress`, optionally `:N` pending collects.
    pub default_outcome: String,
    /// Pending collects before the outcome, unless an outcome says `:N`.
    pub pending_collects: u32,
    /// Outcomes per personal number.
    pub outcomes: std::collections::BTreeMap<String, String>,
    /// The given name completed orders report.
    pub given_name: String,
    /// The surname completed orders report.
    pub surname: String,
    /// Serve the simulator on a listener other machines can reach. Anyone
    /// who reaches it logs in as anyone with a personal number, so `serve`
    /// refuses that unless this is set (a shared test system).
    pub allow_non_loopback: bool,
}

impl Default for BankIdSimulatorSection {
    fn default() -> Self {
        Self {
            default_outcome: "complete".into(),
            pending_collects: 3,
            outcomes: std::collections::BTreeMap::new(),
            given_name: "Test".into(),
            surname: "Testsson".into(),
            allow_non_loopback: false,
        }
    }
}

/// `[dialects.tokens]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokensSection {
    /// Seconds a token from `/auth/login` lives when the client names no expiry.
    pub token_ttl_secs: i64,
    /// The longest lifetime a client or `limen token create` may ask for.
    pub max_token_ttl_secs: i64,
}

impl Default for TokensSection {
    fn default() -> Self {
        Self {
            token_ttl_secs: 24 * 3600,
            max_token_ttl_secs: 365 * 24 * 3600,
        }
    }
}

/// `[dialects.bimplus]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BimplusSection {
    /// Seconds an access token lives (`expires_in`).
    pub access_ttl_secs: i64,
    /// Seconds a remember-me token lives (`remember_me_expires_in`).
    pub remember_me_ttl_secs: i64,
}

impl Default for BimplusSection {
    fn default() -> Self {
        Self {
            access_ttl_secs: 28_799,
            remember_me_ttl_secs: 2_591_999,
        }
    }
}

/// `[dialects.gradido]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GradidoSection {
    /// The original's `unsecure.allow_passwort_via_json_request`: without it,
    /// `unsecureLogin` and `createUser` answer 403.
    pub allow_password_via_json_request: bool,
    /// The original's `unsecure.allow_cors_all`.
    pub allow_cors_all: bool,
    /// The `group_alias` reported for every user.
    pub group_alias: String,
    /// Seconds a session lives.
    pub session_ttl_secs: i64,
    /// Unknown session ids an address may present per window before it is refused.
    pub max_wrong_session_ids: u32,
    /// The window, in seconds.
    pub wrong_session_window_secs: i64,
}

impl Default for GradidoSection {
    fn default() -> Self {
        Self {
            allow_password_via_json_request: false,
            allow_cors_all: false,
            group_alias: String::new(),
            session_ttl_secs: 15 * 60,
            max_wrong_session_ids: 10,
            wrong_session_window_secs: 15 * 60,
        }
    }
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
            public_url: None,
            database_url: "sqlite://limen.db?mode=rwc".into(),
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
            trusted_proxies: Vec::new(),
            tls: None,
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
            max_queue_per_address: 8,
            thread_niceness: 10,
            refusal_floor_ms: 0,
            foreign_hash_limits: limen_crypto::HashLimits::default(),
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
        let mut config: Config = figment
            .extract()
            .map_err(|err| ConfigError::Invalid(err.to_string()))?;
        if let Some(path) = &config.database_url_file {
            let url = std::fs::read_to_string(path).map_err(|err| {
                ConfigError::Invalid(format!("cannot read database_url_file {}: {err}", path.display()))
            })?;
            config.database_url = url.trim().to_owned();
        }
        if let Some(path) = &config.mail.smtp.password_file {
            let password = std::fs::read_to_string(path).map_err(|err| {
                ConfigError::Invalid(format!(
                    "cannot read mail.smtp.password_file {}: {err}",
                    path.display()
                ))
            })?;
            config.mail.smtp.password = Some(password.trim_end_matches(['\r', '\n']).to_owned());
        }
        if let Some(path) = &config.dialects.lime.api_keys_file {
            let keys = std::fs::read_to_string(path).map_err(|err| {
                ConfigError::Invalid(format!(
                    "cannot read dialects.lime.api_keys_file {}: {err}",
                    path.display()
                ))
            })?;
            config.dialects.lime.api_keys.extend(
                keys.lines()
                    .map(str::trim)
                    .filter(|key| !key.is_empty())
                    .map(str::to_owned),
            );
        }
        if let Some(path) = &config.bankid.certificate_password_file {
            let password = std::fs::read_to_string(path).map_err(|err| {
                ConfigError::Invalid(format!(
                    "cannot read bankid.certificate_password_file {}: {err}",
                    path.display()
                ))
            })?;
            config.bankid.certificate_password = Some(password.trim_end_matches(['\r', '\n']).to_owned());
        }
        config.oidc.read_secret_files()?;
        if let Some(path) = &config.redis_url_file {
            let url = std::fs::read_to_string(path).map_err(|err| {
                ConfigError::Invalid(format!("cannot read redis_url_file {}: {err}", path.display()))
            })?;
            config.redis_url = Some(url.trim().to_owned());
        }
        config.users.read_secret_files()?;
        if let Some(path) = &config.secrets_key_file {
            let key = std::fs::read_to_string(path).map_err(|err| {
                ConfigError::Invalid(format!("cannot read secrets_key_file {}: {err}", path.display()))
            })?;
            config.secrets_key = Some(key.trim().to_owned());
        }
        // The command line's --database-url wins, and is validated like the rest.
        if let Some(url) = database_url {
            url.clone_into(&mut config.database_url);
        }
        config.validate()?;
        Ok(config)
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
            limen_crypto::parse_key(key)
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
        self.validate_lime()?;
        self.validate_bankid()?;
        self.oidc.validate(self.public_url.as_deref())?;
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

    fn validate_lime(&self) -> Result<(), ConfigError> {
        let lime = &self.dialects.lime;
        let invalid = |message: String| Err(ConfigError::Invalid(message));
        if lime.token_ttl_secs <= 0 || lime.reset_token_ttl_secs <= 0 {
            return invalid("dialects.lime.token_ttl_secs and reset_token_ttl_secs must be positive".into());
        }
        if actix_web::http::header::HeaderName::from_bytes(lime.api_key_header.as_bytes()).is_err() {
            return invalid(format!(
                "dialects.lime.api_key_header {:?} is not a header name",
                lime.api_key_header
            ));
        }
        if let Some(url) = &lime.reset_url
            && !url.contains("{token}")
        {
            return invalid("dialects.lime.reset_url must contain {token}".into());
        }
        for (key, field) in &lime.user_fields {
            if key.is_empty() {
                return invalid("dialects.lime.user_fields: a key must not be empty".into());
            }
            if limen_domain::model::UserField::parse(field).is_none() {
                return invalid(format!(
                    "dialects.lime.user_fields.{key}: {field:?} is not a user field; use one of {}",
                    limen_domain::model::UserField::NAMES.join(", ")
                ));
            }
        }
        Ok(())
    }

    fn validate_bankid(&self) -> Result<(), ConfigError> {
        let bankid = &self.bankid;
        let invalid = |message: String| Err(ConfigError::Invalid(message));
        let simulator = &bankid.simulator;
        limen_bankid::simulator::Outcome::parse(&simulator.default_outcome, simulator.pending_collects)
            .map_err(|err| ConfigError::Invalid(format!("bankid.simulator.default_outcome: {err}")))?;
        let today = chrono::Utc::now().date_naive();
        for (number, outcome) in &simulator.outcomes {
            if limen_domain::model::parse_personal_number(number, today).is_none() {
                return invalid(format!(
                    "bankid.simulator.outcomes: {number:?} is not a valid personal number"
                ));
            }
            limen_bankid::simulator::Outcome::parse(outcome, simulator.pending_collects)
                .map_err(|err| ConfigError::Invalid(format!("bankid.simulator.outcomes.{number}: {err}")))?;
        }
        if matches!(bankid.mode, BankIdMode::Test | BankIdMode::Production) {
            if bankid.certificate_file.is_none() {
                return invalid("bankid.certificate_file is required in test and production mode".into());
            }
            if bankid.ca_file.is_none() {
                return invalid(
                    "bankid.ca_file is required in test and production mode: the CA BankID's server \
                     certificate chains to (see docs/bankid.md)"
                        .into(),
                );
            }
        }
        if bankid.timeout_secs == 0 {
            return invalid("bankid.timeout_secs must be positive".into());
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
        assert_eq!(config.database_url, "sqlite://limen.db?mode=rwc");
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
}
