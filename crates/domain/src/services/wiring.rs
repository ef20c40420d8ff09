//! The service graph, built once from the ports, so that the server and every test
//! that drives the HTTP API wire the services the same way.

use std::sync::Arc;

use chrono::Duration;

use crate::ports::{
    Clock, KeyPairGenerator, Mailer, PasswordHasher, SecondFactorStore, SecretCipher, TokenMint, TokenStore,
    TotpGenerator, UserStore,
};
use crate::services::{
    AccountService, ApiTokenService, ApiTokenSettings, LoginPolicy, NumericSessionService,
    NumericSessionSettings, PasswordLogin, RegistrationPorts, RegistrationService, RegistrationSettings,
    RememberMeService, SessionService, TwoFactorPorts, TwoFactorService, TwoFactorSettings,
};

/// Every adapter the services talk to.
#[derive(Clone)]
pub struct Ports {
    /// Where users live.
    pub users: Arc<dyn UserStore>,
    /// Where tokens live.
    pub tokens: Arc<dyn TokenStore>,
    /// Where second factors live.
    pub factors: Arc<dyn SecondFactorStore>,
    /// argon2id.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Random tokens and their digests.
    pub mint: Arc<dyn TokenMint>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// RFC 6238 arithmetic.
    pub totp: Arc<dyn TotpGenerator>,
    /// Sealing of secrets at rest.
    pub cipher: Arc<dyn SecretCipher>,
    /// Key pairs for registered users.
    pub keys: Arc<dyn KeyPairGenerator>,
    /// Outgoing e-mail.
    pub mailer: Arc<dyn Mailer>,
}

/// The numbers and texts of every rule.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Password login and lockout.
    pub login: LoginPolicy,
    /// TOTP enrolment and the second step.
    pub two_factor: TwoFactorSettings,
    /// Self-registration and its e-mail.
    pub registration: RegistrationSettings,
    /// Named user tokens.
    pub api_tokens: ApiTokenSettings,
    /// How long a remember-me token lives.
    pub remember_me_ttl: Duration,
    /// Numbered sessions.
    pub numeric_sessions: NumericSessionSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            login: LoginPolicy::default(),
            two_factor: TwoFactorSettings::default(),
            registration: RegistrationSettings::default(),
            api_tokens: ApiTokenSettings::default(),
            // 30 days less a second: what the `bimplus` document reports.
            remember_me_ttl: Duration::seconds(2_591_999),
            numeric_sessions: NumericSessionSettings::default(),
        }
    }
}

/// Every service, wired to the same ports.
#[derive(Clone)]
pub struct Services {
    /// Password login.
    pub login: Arc<PasswordLogin>,
    /// Token issue, validation and logout.
    pub sessions: Arc<SessionService>,
    /// TOTP enrolment and the second login step.
    pub two_factor: Arc<TwoFactorService>,
    /// Account administration.
    pub accounts: Arc<AccountService>,
    /// Named user tokens.
    pub api_tokens: Arc<ApiTokenService>,
    /// Remember-me tokens.
    pub remember_me: Arc<RememberMeService>,
    /// Sessions named by a number.
    pub numeric_sessions: Arc<NumericSessionService>,
    /// Registration with e-mail verification.
    pub registration: Arc<RegistrationService>,
}

impl Services {
    /// Builds every service over `ports`.
    pub fn new(ports: Ports, settings: Settings) -> Self {
        let sessions = Arc::new(SessionService::new(
            ports.users.clone(),
            ports.tokens.clone(),
            ports.mint.clone(),
            ports.clock.clone(),
        ));
        let login = Arc::new(PasswordLogin::new(
            ports.users.clone(),
            ports.hasher.clone(),
            ports.clock.clone(),
            sessions.clone(),
            ports.factors.clone(),
            settings.login,
        ));
        let two_factor = Arc::new(TwoFactorService::new(
            TwoFactorPorts {
                users: ports.users.clone(),
                factors: ports.factors.clone(),
                tokens: ports.tokens.clone(),
                totp: ports.totp.clone(),
                cipher: ports.cipher.clone(),
                mint: ports.mint.clone(),
                clock: ports.clock.clone(),
                passwords: login.clone(),
                sessions: sessions.clone(),
            },
            settings.two_factor,
        ));
        let accounts = Arc::new(AccountService::new(
            ports.users.clone(),
            ports.tokens.clone(),
            ports.hasher.clone(),
            ports.clock.clone(),
        ));
        let api_tokens = Arc::new(ApiTokenService::new(
            ports.users.clone(),
            ports.tokens.clone(),
            sessions.clone(),
            login.clone(),
            ports.clock.clone(),
            settings.api_tokens,
        ));
        let remember_me = Arc::new(RememberMeService::new(
            ports.users.clone(),
            ports.tokens.clone(),
            ports.mint.clone(),
            ports.clock.clone(),
            login.clone(),
            sessions.clone(),
            settings.remember_me_ttl,
        ));
        let numeric_sessions = Arc::new(NumericSessionService::new(
            ports.tokens.clone(),
            ports.mint.clone(),
            ports.clock.clone(),
            login.clone(),
            settings.numeric_sessions,
        ));
        let registration = Arc::new(RegistrationService::new(
            RegistrationPorts {
                users: ports.users,
                tokens: ports.tokens,
                hasher: ports.hasher,
                keys: ports.keys,
                cipher: ports.cipher,
                mailer: ports.mailer,
                mint: ports.mint,
                clock: ports.clock,
                sessions: sessions.clone(),
            },
            settings.registration,
        ));
        Self {
            login,
            sessions,
            two_factor,
            accounts,
            api_tokens,
            remember_me,
            numeric_sessions,
            registration,
        }
    }
}
