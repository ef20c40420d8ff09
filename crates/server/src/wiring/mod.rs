//! Builds the adapters the configuration names and hands them to the services.
//! The only place that knows every adapter.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use limen_bankid::simulator::{Outcome, RunningSimulator, SimulatorCertificates, SimulatorScript};
use limen_bankid::{BankIdClient, BankIdClientConfig, ClientIdentity, PRODUCTION_ENDPOINT, TEST_ENDPOINT};
use limen_crypto::{
    Argon2Config, Argon2Hasher, Ed25519Keys, RandomTokenMint, RfcTotp, SecretKeyring, parse_key,
};
use limen_domain::model::{RateRule, TotpAlgorithm, TotpParams, UserField, UserFields};
use limen_domain::ports::{
    BankIdProvider, Mailer, PasskeyCeremonies, PasswordHasher, RateLimiter, SessionTokens, SystemClock,
};
use limen_domain::services::{
    ApiTokenSettings, AttemptRules, CompletionPolicy, EmailLanguage, HashAdmission, PasskeySettings,
    PasswordResetSettings, Ports, RegistrationSettings, Services, Settings, TwoFactorSettings,
};
use limen_http::{
    AppState, Background, BimplusSettings, Branding, Dependency, FlowSettings, GradidoSettings, HttpSettings,
    LimeSettings, Metrics, ReadinessCheck,
};
use limen_mail::{FileOutbox, SmtpConfig, SmtpMailer, SmtpSecurity};
use limen_store_sql::{Database, DatabaseConfig};

use crate::config::{BankIdMode, Config, ExposeSecret, MailTransport, SmtpSecurityName, exposed};
use crate::error::CliError;
use crate::keyfile;

mod nodes;
mod openid;
pub mod provider;
mod users;

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
    /// Redis, when the configuration uses it.
    pub redis: Option<limen_store_redis::RedisStore>,
    /// Counted attempts in the database (lockouts), for purging.
    pub lockouts: Arc<dyn RateLimiter>,
    /// Per-address throttles (the configured backend), for purging.
    pub throttles: Arc<dyn RateLimiter>,
    /// The token store, for purging expired tokens.
    pub tokens: Arc<dyn SessionTokens>,
    /// The BankID simulator this process runs, in simulator mode.
    pub simulator: Option<RunningSimulator>,
    /// Whether secrets are sealed with a key.
    pub seals_secrets: bool,
    /// What seals secrets at rest (the provider's signing keys among them).
    pub cipher: Arc<dyn limen_domain::ports::SecretCipher>,
    /// Every domain service.
    pub services: Services,
    /// The password hasher the services use, whose bounds on stored hashes
    /// imports are held to.
    pub hasher: Arc<dyn PasswordHasher>,
    /// This process's metrics, which the adapters report their calls to.
    pub metrics: Arc<Metrics>,
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
        .map(|key| parse(key.expose_secret()))
        .collect::<Result<Vec<_>, _>>()?;
    let generated = sqlite_key_file(config.database_url.expose_secret());
    if config.secrets_key.is_some()
        && let Some(path) = generated.as_ref().filter(|path| path.exists())
    {
        // A key configured later than the generated one: what the generated
        // key sealed still opens (and is re-sealed at the next start).
        previous.push(parse(&keyfile::read_or_create(path)?)?);
    }
    let current = match (&config.secrets_key, generated) {
        (Some(key), _) => Some(parse(key.expose_secret())?),
        (None, Some(path)) => Some(parse(&keyfile::read_or_create(&path)?)?),
        (None, None) if config.database_url.expose_secret().starts_with("sqlite:") => {
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
                    credentials: smtp.username.clone().zip(
                        smtp.password
                            .as_ref()
                            .map(|password| password.expose_secret().to_owned()),
                    ),
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
fn settings(config: &Config) -> Result<Settings, CliError> {
    let two_factor = &config.two_factor;
    let gradido = &config.dialects.gradido;
    let lockout = &config.lockout;
    let rate_limit = &config.rate_limit;
    let pending_ttl = Duration::seconds(two_factor.pending_ttl_secs);
    Ok(Settings {
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
            bankid_starts: RateRule {
                limit: rate_limit.bankid_starts_per_address,
                window: Duration::seconds(rate_limit.login_window_secs),
                block_for: Duration::seconds(rate_limit.login_window_secs),
            },
            openid_starts: RateRule {
                limit: rate_limit.openid_starts_per_address,
                window: Duration::seconds(rate_limit.login_window_secs),
                block_for: Duration::seconds(rate_limit.login_window_secs),
            },
            session_numbers: RateRule {
                limit: gradido.max_wrong_session_ids,
                window: Duration::seconds(gradido.wrong_session_window_secs),
                block_for: Duration::seconds(gradido.wrong_session_window_secs),
            },
        },
        hash_queue_per_address: config.password.max_queue_per_address,
        refusal_floor: std::time::Duration::from_millis(config.password.refusal_floor_ms),
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
        password_reset: {
            let lime = &config.dialects.lime;
            let hour = Duration::hours(1);
            PasswordResetSettings {
                ttl: Duration::seconds(lime.reset_token_ttl_secs),
                reset_url: lime.reset_url.clone(),
                site_name: config.registration.site_name.clone(),
                language: EmailLanguage::parse(&config.registration.language).unwrap_or_default(),
                per_username: RateRule {
                    limit: lime.reset_requests_per_username,
                    window: hour,
                    block_for: hour,
                },
                per_address: RateRule {
                    limit: lime.reset_requests_per_address,
                    window: hour,
                    block_for: hour,
                },
            }
        },
        openid: openid::settings(config, lime_user_fields(config)?),
        provider: provider::settings(config),
        passkeys: PasskeySettings {
            ceremony_ttl: Duration::seconds(i64::try_from(config.passkeys.ceremony_ttl_secs).unwrap_or(300)),
        },
        // Chosen with the invalidation channel (`nodes::shared`).
        validation_cache: None,
    })
}

/// The file's bytes, or an error naming the configuration key.
fn read_file(key: &str, path: &std::path::Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|source| CliError::Io {
        context: format!("cannot read {key} {}", path.display()),
        source,
    })
}

/// The simulator's script from `[bankid.simulator]` (validated with the configuration).
pub fn simulator_script(config: &Config) -> Result<SimulatorScript, CliError> {
    let section = &config.bankid.simulator;
    let parse = |text: &str| {
        Outcome::parse(text, section.pending_collects)
            .map_err(|err| CliError::Usage(format!("bankid.simulator: {err}")))
    };
    let today = chrono::Utc::now().date_naive();
    let mut by_personal_number = std::collections::HashMap::new();
    for (number, outcome) in &section.outcomes {
        let number = limen_domain::model::parse_personal_number(number, today).ok_or_else(|| {
            CliError::Usage(format!(
                "bankid.simulator.outcomes: {number:?} is no personal number"
            ))
        })?;
        by_personal_number.insert(number, parse(outcome)?);
    }
    Ok(SimulatorScript {
        default: parse(&section.default_outcome)?,
        by_personal_number,
        given_name: section.given_name.clone(),
        surname: section.surname.clone(),
        maintenance_answers: 0,
    })
}

/// BankID as `[bankid]` describes it: nothing, the simulator started here and
/// reached over mutual TLS like the real service, or BankID's test or
/// production service.
async fn bankid(
    config: &Config,
    purpose: Purpose,
) -> Result<(Option<Arc<dyn BankIdProvider>>, Option<RunningSimulator>), CliError> {
    let section = &config.bankid;
    let invalid = |err: limen_bankid::BankIdConfigError| CliError::Usage(format!("bankid: {err}"));
    let timeout = StdDuration::from_secs(section.timeout_secs);
    match section.mode {
        BankIdMode::Off => Ok((None, None)),
        // Administration never talks to BankID: no simulator to start for it.
        BankIdMode::Simulator if purpose == Purpose::Administer => Ok((None, None)),
        BankIdMode::Simulator => {
            let certificates = SimulatorCertificates::generate().map_err(invalid)?;
            let running =
                limen_bankid::simulator::start("127.0.0.1:0", simulator_script(config)?, certificates)
                    .map_err(invalid)?;
            let client = BankIdClient::new(&BankIdClientConfig {
                endpoint: running.endpoint(),
                identity: ClientIdentity::Pem(running.certificates.client_identity_pem()),
                ca_pem: running.certificates.ca_pem.clone().into_bytes(),
                timeout,
                retries: section.retries,
            })
            .map_err(invalid)?;
            tracing::warn!(
                endpoint = %running.endpoint(),
                "BankID is the simulator: anyone can identify as any personal number; never use this in production"
            );
            Ok((Some(Arc::new(client)), Some(running)))
        }
        BankIdMode::Test | BankIdMode::Production => {
            let certificate_path = section
                .certificate_file
                .as_deref()
                .ok_or_else(|| CliError::Usage("bankid.certificate_file is required".into()))?;
            let certificate = read_file("bankid.certificate_file", certificate_path)?;
            let identity = if certificate.starts_with(b"-----")
                || String::from_utf8_lossy(&certificate).contains("-----BEGIN")
            {
                ClientIdentity::Pem(certificate)
            } else {
                ClientIdentity::Pkcs12 {
                    der: certificate,
                    password: section
                        .certificate_password
                        .as_ref()
                        .map(|password| password.expose_secret().to_owned())
                        .unwrap_or_default(),
                }
            };
            let ca_path = section
                .ca_file
                .as_deref()
                .ok_or_else(|| CliError::Usage("bankid.ca_file is required".into()))?;
            let endpoint = section.endpoint.clone().unwrap_or_else(|| {
                if section.mode == BankIdMode::Test {
                    TEST_ENDPOINT
                } else {
                    PRODUCTION_ENDPOINT
                }
                .to_owned()
            });
            let client = BankIdClient::new(&BankIdClientConfig {
                endpoint,
                identity,
                ca_pem: read_file("bankid.ca_file", ca_path)?,
                timeout,
                retries: section.retries,
            })
            .map_err(invalid)?;
            Ok((Some(Arc::new(client)), None))
        }
    }
}

/// The `user` object of `lime` answers, as configured.
fn lime_user_fields(config: &Config) -> Result<UserFields, CliError> {
    let fields = &config.dialects.lime.user_fields;
    if fields.is_empty() {
        return Ok(UserFields::default());
    }
    fields
        .iter()
        .map(|(key, name)| {
            UserField::parse(name)
                .map(|field| (key.clone(), field))
                .ok_or_else(|| {
                    CliError::Usage(format!(
                        "dialects.lime.user_fields.{key}: {name:?} is no user field"
                    ))
                })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(UserFields)
}

/// An error naming what is pending when the schema is behind this binary.
async fn refuse_pending_migrations(database: &Database) -> Result<(), CliError> {
    let pending = database.pending_migrations().await?;
    let Some(first) = pending.first() else {
        return Ok(());
    };
    let more = match pending.len() {
        1 => String::new(),
        n => format!(" and {} more", n - 1),
    };
    Err(CliError::Usage(format!(
        "the database schema is behind this limen ({first}{more} pending): run `limen migrate` first \
         (`limen serve` also migrates at start)"
    )))
}

impl Core {
    /// Connects to the database, migrates it (`serve`) or refuses a schema
    /// that is behind (administration commands), and wires every service
    /// over the backends the configuration chooses.
    pub async fn start(config: &Config, purpose: Purpose) -> Result<Self, CliError> {
        let metrics = Arc::new(Metrics::new());
        let mut database = Database::connect(&DatabaseConfig {
            url: config.database_url.expose_secret().to_owned(),
            max_connections: config.database.max_connections,
            acquire_timeout: StdDuration::from_secs(config.database.acquire_timeout_secs),
        })
        .await?;
        database.observe(metrics.store_observer("sql"));
        match purpose {
            Purpose::Serve => database.migrate().await?,
            // An administration command never changes the schema behind the
            // back of the nodes serving it: that is `migrate`'s (or `serve`'s) job.
            Purpose::Administer => refuse_pending_migrations(&database).await?,
        }
        let password = &config.password;
        let hasher = Argon2Hasher::new(Argon2Config {
            memory_kib: password.memory_kib,
            iterations: password.iterations,
            parallelism: password.parallelism,
            max_concurrent: hash_workers(password),
            max_queue: password.max_queue,
            niceness: password.thread_niceness,
            limits: password.foreign_hash_limits,
            workspace_idle: std::time::Duration::from_secs(password.workspace_idle_secs.max(1)),
        })?;
        let cipher = keyring(config, purpose)?;
        let seals_secrets = cipher.seals();
        if !seals_secrets {
            tracing::warn!("secrets_key is not set: TOTP secrets and private keys are stored unencrypted");
        }
        let directory = users::directory(config, &database, &metrics).await?;
        let lockouts: Arc<dyn RateLimiter> = Arc::new(database.rate_limiter());
        let shared = nodes::shared(config, &database, lockouts.clone(), &metrics).await?;
        let throttles = shared.throttles.clone();
        let (bankid, simulator) = bankid(config, purpose).await?;
        let tokens = shared.tokens.clone();
        let hasher: Arc<dyn PasswordHasher> = Arc::new(hasher);
        let provider_keys = provider::keys(config, &database, &cipher, &SystemClock).await?;
        let cipher: Arc<dyn limen_domain::ports::SecretCipher> = Arc::new(cipher);
        let ports = Ports {
            directory,
            accounts: Arc::new(database.accounts()),
            tokens: shared.tokens,
            catalog: shared.catalog,
            factors: Arc::new(database.second_factors()),
            lockouts: lockouts.clone(),
            throttles: throttles.clone(),
            hasher: hasher.clone(),
            mint: Arc::new(RandomTokenMint),
            clock: Arc::new(SystemClock),
            totp: Arc::new(RfcTotp),
            cipher: cipher.clone(),
            keys: Arc::new(Ed25519Keys),
            mailer: mailer(config)?,
            bankid,
            passkeys: Arc::new(database.passkeys()),
            passkey_ceremonies: passkey_ceremonies(config)?,
            openid: openid::providers(config)?,
            payload_signers: openid::payload_signers(config)?,
            provider_signers: provider_keys.signers,
            provider_retired_keys: provider_keys.retired,
            invalidations: shared.invalidations,
            audit: Arc::new(database.audit_log()),
            admin_tokens: Arc::new(database.admin_tokens()),
        };
        let mut settings = settings(config)?;
        settings.validation_cache = shared.cache;
        Ok(Self {
            database,
            redis: shared.redis,
            lockouts,
            throttles,
            tokens,
            simulator,
            seals_secrets,
            cipher,
            services: Services::new(ports, settings),
            hasher,
            metrics,
        })
    }

    /// The state the HTTP layer shares between workers.
    pub fn http_state(&self, config: &Config, background: Background) -> Result<AppState, CliError> {
        let database = self.database.clone();
        let users = self.services.users.clone();
        let redis = self.redis.clone();
        let readiness: ReadinessCheck = Arc::new(move || {
            let (database, users, redis) = (database.clone(), users.clone(), redis.clone());
            Box::pin(async move {
                let mut dependencies = vec![Dependency::checked("database", database.ping().await)];
                if let Some(redis) = &redis {
                    dependencies.push(Dependency::checked("redis", redis.ping().await));
                }
                dependencies.push(Dependency::checked("directory", users.directory().ping().await));
                dependencies
            })
        });
        let gradido = &config.dialects.gradido;
        let bimplus = &config.dialects.bimplus;
        Ok(AppState {
            services: self.services.clone(),
            readiness,
            configuration: Arc::new(crate::config::masked(config)),
            settings: HttpSettings {
                max_body_bytes: config.http.max_body_bytes,
                metrics_on_main_listener: config.management.metrics_on_main_listener,
                admin_api: config.management.admin_api,
                scim: config.management.scim,
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
                lime: LimeSettings {
                    api_keys: exposed(&config.dialects.lime.api_keys),
                    api_key_header: config.dialects.lime.api_key_header.clone(),
                    token_ttl: Duration::seconds(config.dialects.lime.token_ttl_secs),
                    user_fields: lime_user_fields(config)?,
                    bankid_demo: config.bankid.mode == BankIdMode::Simulator,
                },
                branding: Branding {
                    logo: config
                        .branding
                        .logo()?
                        .map(|logo| (logo.content_type, logo.bytes.into())),
                    accent: config.branding.accent(),
                },
            },
            background,
            login_gate: Arc::new(
                HashAdmission::new(config.password.max_queue_per_address)
                    .with_total(hash_workers(&config.password) + config.password.max_queue),
            ),
            metrics: self.metrics.clone(),
        })
    }
}

/// The WebAuthn ceremonies of `[passkeys]`; `None` while they are off.
fn passkey_ceremonies(config: &Config) -> Result<Option<Arc<dyn PasskeyCeremonies>>, CliError> {
    let Some(party) = config
        .passkeys
        .relying_party(config.public_url.as_deref(), &config.registration.site_name)?
    else {
        return Ok(None);
    };
    let ceremonies = limen_passkeys::WebauthnCeremonies::new(&party)
        .map_err(|err| CliError::Usage(format!("passkeys: {err}")))?;
    tracing::info!(rp_id = %party.id, origins = party.origins.len(), "passkeys on");
    Ok(Some(Arc::new(ceremonies)))
}

/// Hashes computed at once: `max_concurrent`, or one per core when it is 0.
fn hash_workers(password: &crate::config::PasswordSection) -> usize {
    match password.max_concurrent {
        0 => Argon2Config::default().max_concurrent,
        n => n,
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
