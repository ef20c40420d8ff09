//! Builds the adapters the configuration names and hands them to the services.
//! The only place that knows every adapter.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use limen_crypto::{
    Argon2Config, Argon2Hasher, Ed25519Keys, RandomTokenMint, RfcTotp, SecretKeyring, parse_key,
};
use limen_domain::model::{RateRule, TotpAlgorithm, TotpParams};
use limen_domain::ports::{Mailer, RateLimiter, SystemClock, UserDirectory};
use limen_domain::services::{
    ApiTokenSettings, AttemptRules, CompletionPolicy, EmailLanguage, Ports, RegistrationSettings, Services,
    Settings, TwoFactorSettings,
};
use limen_http::{AppState, BimplusSettings, FlowSettings, GradidoSettings, HttpSettings, ReadinessCheck};
use limen_mail::{FileOutbox, SmtpConfig, SmtpMailer, SmtpSecurity};
use limen_store_memory::MemoryRateLimiter;
use limen_store_sql::{Database, DatabaseConfig};

use crate::config::{Config, MailTransport, RateLimitBackend, SmtpSecurityName, UsersBackend};
use crate::error::CliError;
use crate::keyfile;

/// What a command needs the services for: serving refuses what administration
/// tolerates (unsealed secrets on a shared database).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `limen serve`.
    Serve,
    /// An administration command.
    Administer,
}

/// The services over the configured backends.
pub struct Core {
    /// The database pool.
    pub database: Database,
    /// Counted attempts in the database (lockouts), for purging.
    pub lockouts: Arc<dyn RateLimiter>,
    /// Per-address throttles (the configured backend), for purging.
    pub throttles: Arc<dyn RateLimiter>,
    /// Whether secrets are sealed with a key.
    pub seals_secrets: bool,
    /// Every domain service.
    pub services: Services,
}

/// The key file generated beside an SQLite database, or `None` for a server
/// database or an in-memory one.
fn sqlite_key_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    Some(PathBuf::from(format!("{path}.secrets-key")))
}

/// The keyring the configuration describes. Without `secrets_key`, an SQLite
/// database gets a key generated into a file beside it (mode 0600) on first
/// start; a server database refuses to serve unless `allow_unsealed_secrets`.
fn keyring(config: &Config, purpose: Purpose) -> Result<SecretKeyring, CliError> {
    let parse = |key: &str| parse_key(key).map_err(|err| CliError::Usage(format!("secrets key: {err}")));
    let mut previous = config
        .previous_secrets_keys
        .iter()
        .map(|key| parse(key))
        .collect::<Result<Vec<_>, _>>()?;
    let generated = sqlite_key_file(&config.database_url);
    if config.secrets_key.is_some()
        && let Some(path) = generated.as_ref().filter(|path| path.exists())
    {
        // A key configured later than the generated one: what the generated
        // key sealed still opens (and is re-sealed at the next start).
        previous.push(parse(&keyfile::read_or_create(path)?)?);
    }
    let current = match (&config.secrets_key, generated) {
        (Some(key), _) => Some(parse(key)?),
        (None, Some(path)) => Some(parse(&keyfile::read_or_create(&path)?)?),
        (None, None) if config.database_url.starts_with("sqlite:") => {
            // An in-memory database lives as long as the process: so may its key.
            Some(parse(&keyfile::generate()?)?)
        }
        (None, None) if purpose == Purpose::Serve && !config.allow_unsealed_secrets => {
            return Err(CliError::Usage(
                "secrets_key is not set: on PostgreSQL or MySQL Limen will not store TOTP secrets and private \
                 keys unencrypted. Set secrets_key (or secrets_key_file) to base64 of 32 random bytes, e.g. \
                 `openssl rand -base64 32`, or set allow_unsealed_secrets = true to accept unencrypted secrets"
                    .into(),
            ));
        }
        (None, None) => None,
    };
    Ok(SecretKeyring::new(current, &previous))
}

/// The mailer `[mail]` names.
fn mailer(config: &Config) -> Result<Arc<dyn Mailer>, CliError> {
    let mail = &config.mail;
    let invalid = |err: String| CliError::Usage(format!("mail: {err}"));
    Ok(match mail.transport {
        MailTransport::Outbox => Arc::new(FileOutbox::new(&mail.outbox_dir, &mail.from).map_err(invalid)?),
        MailTransport::Smtp => {
            let smtp = &mail.smtp;
            let extra_root_pem = smtp
                .ca_file
                .as_ref()
                .map(|path| {
                    std::fs::read(path).map_err(|source| CliError::Io {
                        context: format!("cannot read mail.smtp.ca_file {}", path.display()),
                        source,
                    })
                })
                .transpose()?;
            Arc::new(
                SmtpMailer::new(&SmtpConfig {
                    host: smtp.host.clone(),
                    port: smtp.port,
                    security: match smtp.security {
                        SmtpSecurityName::Starttls => SmtpSecurity::StartTls,
                        SmtpSecurityName::Tls => SmtpSecurity::Tls,
                        SmtpSecurityName::None => SmtpSecurity::None,
                    },
                    credentials: smtp.username.clone().zip(smtp.password.clone()),
                    from: mail.from.clone(),
                    timeout: StdDuration::from_secs(smtp.timeout_secs),
                    extra_root_pem,
                })
                .map_err(invalid)?,
            )
        }
    })
}

/// The domain's settings from the configuration.
fn settings(config: &Config) -> Settings {
    let two_factor = &config.two_factor;
    let gradido = &config.dialects.gradido;
    let lockout = &config.lockout;
    let rate_limit = &config.rate_limit;
    let pending_ttl = Duration::seconds(two_factor.pending_ttl_secs);
    Settings {
        attempts: AttemptRules {
            account_lockout: RateRule {
                limit: lockout.max_failures,
                window: Duration::seconds(lockout.window_secs),
                block_for: Duration::seconds(lockout.lock_secs),
            },
            login_address: RateRule {
                limit: rate_limit.login_failures_per_address,
                window: Duration::seconds(rate_limit.login_window_secs),
                block_for: Duration::seconds(rate_limit.login_window_secs),
            },
            second_factor_token: RateRule {
                window: pending_ttl,
                block_for: pending_ttl,
                ..AttemptRules::default().second_factor_token
            },
            session_numbers: RateRule {
                limit: gradido.max_wrong_session_ids,
                window: Duration::seconds(gradido.wrong_session_window_secs),
                block_for: Duration::seconds(gradido.wrong_session_window_secs),
            },
        },
        hash_queue_per_address: config.password.max_queue_per_address,
        completion: CompletionPolicy {
            require_verified_email: config.registration.require_verified_email,
        },
        two_factor: TwoFactorSettings {
            params: TotpParams {
                algorithm: TotpAlgorithm::parse(&two_factor.algorithm).unwrap_or(TotpAlgorithm::Sha1),
                digits: two_factor.digits,
                period: two_factor.period_secs,
            },
            issuer: two_factor.issuer.clone(),
            pending_ttl,
        },
        registration: RegistrationSettings {
            verification_url: config.verification_url(),
            verification_ttl: Duration::seconds(config.registration.verification_ttl_secs),
            site_name: config.registration.site_name.clone(),
            language: EmailLanguage::parse(&config.registration.language).unwrap_or_default(),
        },
        api_tokens: ApiTokenSettings {
            default_ttl: Duration::seconds(config.dialects.tokens.token_ttl_secs),
            max_ttl: Duration::seconds(config.dialects.tokens.max_token_ttl_secs),
        },
    }
}

impl Core {
    /// Connects to the database, migrates it, and wires every service over the
    /// backends the configuration chooses.
    pub async fn start(config: &Config, purpose: Purpose) -> Result<Self, CliError> {
        let database = Database::connect(&DatabaseConfig {
            url: config.database_url.clone(),
            max_connections: config.database.max_connections,
            acquire_timeout: StdDuration::from_secs(config.database.acquire_timeout_secs),
        })
        .await?;
        database.migrate().await?;
        let password = &config.password;
        let hasher = Argon2Hasher::new(Argon2Config {
            memory_kib: password.memory_kib,
            iterations: password.iterations,
            parallelism: password.parallelism,
            max_concurrent: match password.max_concurrent {
                0 => Argon2Config::default().max_concurrent,
                n => n,
            },
            max_queue: password.max_queue,
            niceness: password.thread_niceness,
        })?;
        let cipher = keyring(config, purpose)?;
        let seals_secrets = cipher.seals();
        if !seals_secrets {
            tracing::warn!("secrets_key is not set: TOTP secrets and private keys are stored unencrypted");
        }
        let directory: Arc<dyn UserDirectory> = match config.users.backend {
            UsersBackend::Limen => Arc::new(database.directory()),
        };
        let lockouts: Arc<dyn RateLimiter> = Arc::new(database.rate_limiter());
        let throttles: Arc<dyn RateLimiter> = match config.rate_limit.backend {
            RateLimitBackend::Memory => Arc::new(MemoryRateLimiter::new(config.rate_limit.memory_max_keys)),
            RateLimitBackend::Sql => lockouts.clone(),
        };
        let tokens = Arc::new(database.tokens());
        let ports = Ports {
            directory,
            accounts: Arc::new(database.accounts()),
            tokens: tokens.clone(),
            catalog: tokens,
            factors: Arc::new(database.second_factors()),
            lockouts: lockouts.clone(),
            throttles: throttles.clone(),
            hasher: Arc::new(hasher),
            mint: Arc::new(RandomTokenMint),
            clock: Arc::new(SystemClock),
            totp: Arc::new(RfcTotp),
            cipher: Arc::new(cipher),
            keys: Arc::new(Ed25519Keys),
            mailer: mailer(config)?,
        };
        Ok(Self {
            database,
            lockouts,
            throttles,
            seals_secrets,
            services: Services::new(ports, settings(config)),
        })
    }

    /// The state the HTTP layer shares between workers.
    pub fn http_state(&self, config: &Config) -> Result<AppState, CliError> {
        let database = self.database.clone();
        let readiness: ReadinessCheck = Arc::new(move || {
            let database = database.clone();
            Box::pin(async move { database.ping().await.map_err(|err| err.to_string()) })
        });
        let gradido = &config.dialects.gradido;
        let bimplus = &config.dialects.bimplus;
        Ok(AppState {
            services: self.services.clone(),
            readiness,
            settings: HttpSettings {
                max_body_bytes: config.http.max_body_bytes,
                trusted_proxies: config.trusted_proxies()?,
                flow: FlowSettings {
                    token_ttl: Duration::seconds(config.dialects.flow.token_ttl_secs),
                    remember_me_ttl: Duration::seconds(config.dialects.flow.remember_me_ttl_secs),
                },
                bimplus: BimplusSettings {
                    access_ttl: Duration::seconds(bimplus.access_ttl_secs),
                    remember_me_ttl: Duration::seconds(bimplus.remember_me_ttl_secs),
                },
                gradido: GradidoSettings {
                    allow_password_via_json_request: gradido.allow_password_via_json_request,
                    allow_cors_all: gradido.allow_cors_all,
                    group_alias: gradido.group_alias.clone(),
                    session_ttl: Duration::seconds(gradido.session_ttl_secs),
                },
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_sits_beside_a_sqlite_file_and_nowhere_else() {
        assert_eq!(
            sqlite_key_file("sqlite://data/limen.db?mode=rwc"),
            Some(PathBuf::from("data/limen.db.secrets-key"))
        );
        assert_eq!(
            sqlite_key_file("sqlite:///var/lib/limen/limen.db"),
            Some(PathBuf::from("/var/lib/limen/limen.db.secrets-key"))
        );
        assert_eq!(sqlite_key_file("sqlite::memory:"), None);
        assert_eq!(sqlite_key_file("postgres://u@h/db"), None);
    }
}
