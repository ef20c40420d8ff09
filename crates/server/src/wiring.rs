//! Builds the adapters the configuration names and hands them to the services.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use limen_crypto::{Argon2Config, Argon2Hasher, RandomTokenMint, RfcTotp, SecretKeyring, parse_key};
use limen_domain::model::{TotpAlgorithm, TotpParams};
use limen_domain::ports::{
    Clock, PasswordHasher, SecondFactorStore, SystemClock, TokenMint, TokenStore, UserStore,
};
use limen_domain::services::{
    AccountService, LockoutPolicy, LoginPolicy, PasswordLogin, SessionService, TwoFactorPorts,
    TwoFactorService, TwoFactorSettings,
};
use limen_http::{AppState, FlowSettings, HttpSettings, ReadinessCheck};
use limen_store_sql::{Database, DatabaseConfig};

use crate::config::Config;
use crate::error::CliError;

/// The services over the configured backends.
pub struct Core {
    /// The database pool.
    pub database: Database,
    /// Account administration.
    pub accounts: AccountService,
    /// Token validation and logout.
    pub sessions: Arc<SessionService>,
    /// Password login.
    pub login: Arc<PasswordLogin>,
    /// TOTP two-factor authentication.
    pub two_factor: Arc<TwoFactorService>,
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
        let hasher: Arc<dyn PasswordHasher> = Arc::new(Argon2Hasher::new(Argon2Config {
            memory_kib: password.memory_kib,
            iterations: password.iterations,
            parallelism: password.parallelism,
            max_concurrent: match password.max_concurrent {
                0 => Argon2Config::default().max_concurrent,
                n => n,
            },
            max_queue: password.max_queue,
        })?);
        let users: Arc<dyn UserStore> = Arc::new(database.users());
        let tokens: Arc<dyn TokenStore> = Arc::new(database.tokens());
        let factors: Arc<dyn SecondFactorStore> = Arc::new(database.second_factors());
        let mint: Arc<dyn TokenMint> = Arc::new(RandomTokenMint);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let sessions = Arc::new(SessionService::new(
            users.clone(),
            tokens.clone(),
            mint.clone(),
            clock.clone(),
        ));
        let two_factor_config = &config.two_factor;
        let policy = LoginPolicy {
            lockout: LockoutPolicy {
                max_failures: config.lockout.max_failures,
                window: Duration::seconds(config.lockout.window_secs),
                lock_for: Duration::seconds(config.lockout.lock_secs),
            },
            pending_second_factor_ttl: Duration::seconds(two_factor_config.pending_ttl_secs),
        };
        let login = Arc::new(PasswordLogin::new(
            users.clone(),
            hasher.clone(),
            clock.clone(),
            sessions.clone(),
            factors.clone(),
            policy,
        ));
        let cipher = keyring(config)?;
        if !cipher.seals() {
            tracing::warn!("secrets_key is not set: TOTP secrets are stored unencrypted");
        }
        let two_factor = Arc::new(TwoFactorService::new(
            TwoFactorPorts {
                users: users.clone(),
                factors,
                tokens: tokens.clone(),
                totp: Arc::new(RfcTotp),
                cipher: Arc::new(cipher),
                mint,
                clock: clock.clone(),
                passwords: login.clone(),
                sessions: sessions.clone(),
            },
            TwoFactorSettings {
                params: TotpParams {
                    algorithm: TotpAlgorithm::parse(&two_factor_config.algorithm)
                        .unwrap_or(TotpAlgorithm::Sha1),
                    digits: two_factor_config.digits,
                    period: two_factor_config.period_secs,
                },
                issuer: two_factor_config.issuer.clone(),
                pending_ttl: Duration::seconds(two_factor_config.pending_ttl_secs),
            },
        ));
        let accounts = AccountService::new(users, tokens, hasher, clock);
        Ok(Self {
            database,
            accounts,
            sessions,
            login,
            two_factor,
        })
    }

    /// The state the HTTP layer shares between workers.
    pub fn http_state(&self, config: &Config) -> AppState {
        let database = self.database.clone();
        let readiness: ReadinessCheck = Arc::new(move || {
            let database = database.clone();
            Box::pin(async move { database.ping().await.map_err(|err| err.to_string()) })
        });
        AppState {
            login: self.login.clone(),
            sessions: self.sessions.clone(),
            two_factor: self.two_factor.clone(),
            readiness,
            settings: HttpSettings {
                max_body_bytes: config.http.max_body_bytes,
                flow: FlowSettings {
                    token_ttl: Duration::seconds(config.dialects.flow.token_ttl_secs),
                    remember_me_ttl: Duration::seconds(config.dialects.flow.remember_me_ttl_secs),
                },
            },
        }
    }
}
