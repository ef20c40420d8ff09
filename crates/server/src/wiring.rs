//! Builds the adapters the configuration names and hands them to the services.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use limen_crypto::{
    Argon2Config, Argon2Hasher, Ed25519Keys, RandomTokenMint, RfcTotp, SecretKeyring, parse_key,
};
use limen_domain::model::{TotpAlgorithm, TotpParams};
use limen_domain::ports::{Mailer, SystemClock};
use limen_domain::services::{
    ApiTokenSettings, EmailLanguage, LockoutPolicy, LoginPolicy, NumericSessionSettings, Ports,
    RegistrationSettings, Services, Settings, TwoFactorSettings,
};
use limen_http::{AppState, BimplusSettings, FlowSettings, GradidoSettings, HttpSettings, ReadinessCheck};
use limen_mail::{FileOutbox, SmtpConfig, SmtpMailer, SmtpSecurity};
use limen_store_sql::{Database, DatabaseConfig};

use crate::config::{Config, MailTransport, SmtpSecurityName};
use crate::error::CliError;

/// The services over the configured backends.
pub struct Core {
    /// The database pool.
    pub database: Database,
    /// Every domain service.
    pub services: Services,
}

/// The keyring the configuration describes.
fn keyring(config: &Config) -> Result<SecretKeyring, CliError> {
    let parse = |key: &String| parse_key(key).map_err(|err| CliError::Usage(format!("secrets key: {err}")));
    let current = config.secrets_key.as_ref().map(parse).transpose()?;
    let previous = config
        .previous_secrets_keys
        .iter()
        .map(parse)
        .collect::<Result<Vec<_>, _>>()?;
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
    Settings {
        login: LoginPolicy {
            lockout: LockoutPolicy {
                max_failures: config.lockout.max_failures,
                window: Duration::seconds(config.lockout.window_secs),
                lock_for: Duration::seconds(config.lockout.lock_secs),
            },
            pending_second_factor_ttl: Duration::seconds(two_factor.pending_ttl_secs),
        },
        two_factor: TwoFactorSettings {
            params: TotpParams {
                algorithm: TotpAlgorithm::parse(&two_factor.algorithm).unwrap_or(TotpAlgorithm::Sha1),
                digits: two_factor.digits,
                period: two_factor.period_secs,
            },
            issuer: two_factor.issuer.clone(),
            pending_ttl: Duration::seconds(two_factor.pending_ttl_secs),
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
        remember_me_ttl: Duration::seconds(config.dialects.bimplus.remember_me_ttl_secs),
        numeric_sessions: NumericSessionSettings {
            ttl: Duration::seconds(gradido.session_ttl_secs),
            max_wrong_numbers: gradido.max_wrong_session_ids,
            throttle_window: Duration::seconds(gradido.wrong_session_window_secs),
        },
    }
}

impl Core {
    /// Connects to the database, migrates it, and wires every service.
    pub async fn start(config: &Config) -> Result<Self, CliError> {
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
        let cipher = keyring(config)?;
        if !cipher.seals() {
            tracing::warn!("secrets_key is not set: TOTP secrets and private keys are stored unencrypted");
        }
        let ports = Ports {
            users: Arc::new(database.users()),
            tokens: Arc::new(database.tokens()),
            factors: Arc::new(database.second_factors()),
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
                    access_ttl: Duration::seconds(config.dialects.bimplus.access_ttl_secs),
                },
                gradido: GradidoSettings {
                    allow_password_via_json_request: gradido.allow_password_via_json_request,
                    allow_cors_all: gradido.allow_cors_all,
                    group_alias: gradido.group_alias.clone(),
                },
            },
        })
    }
}
