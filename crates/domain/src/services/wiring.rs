//! The service graph, built once from the ports, so that the server and every test
//! that drives the HTTP API wire the services the same way.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::model::Invalidation;
use crate::ports::{
    AccountStates, AdminTokenStore, AuditLog, BankIdProvider, Clock, Invalidations, KeyPairGenerator, Mailer,
    OpenIdProvider, PasskeyCeremonies, PasskeyStore, PasswordHasher, PayloadSigner, RateLimiter,
    SecondFactorStore, SecretCipher, SessionTokens, TokenCatalog, TokenMint, TotpGenerator, UserDirectory,
};
use crate::services::{
    AccountPorts, AccountService, AdminAccess, AdminAccessPorts, ApiTokenPorts, ApiTokenService,
    ApiTokenSettings, AttemptPorts, AttemptRules, Attempts, Audit, AuditPorts, BankIdLogin, BankIdPorts,
    CacheSettings, CompletionPolicy, CompletionPorts, HashAdmission, LoginCompletion, NumericSessionPorts,
    NumericSessionService, OidcProvider, OidcProviderPorts, OpenIdLogin, OpenIdPorts, OpenIdSettings,
    PasskeyPorts, PasskeyService, PasskeySettings, PasswordLogin, PasswordLoginPorts, PasswordResetPorts,
    PasswordResetService, PasswordResetSettings, ProviderSettings, RefusalFloor, RegistrationPorts,
    RegistrationService, RegistrationSettings, RememberMePorts, RememberMeService, SessionPorts,
    SessionService, TwoFactorPorts, TwoFactorService, TwoFactorSettings, UserPorts, Users, ValidationCache,
};

/// Every adapter the services talk to.
#[derive(Clone)]
pub struct Ports {
    /// The customer's users.
    pub directory: Arc<dyn UserDirectory>,
    /// What Limen keeps about each user.
    pub accounts: Arc<dyn AccountStates>,
    /// Tokens on the hot path.
    pub tokens: Arc<dyn SessionTokens>,
    /// Operators' view of tokens.
    pub catalog: Arc<dyn TokenCatalog>,
    /// Second factors.
    pub factors: Arc<dyn SecondFactorStore>,
    /// Account lockouts: always Limen's database, shared by every node.
    pub lockouts: Arc<dyn RateLimiter>,
    /// Per-address throttles: the configured backend.
    pub throttles: Arc<dyn RateLimiter>,
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
    /// Swedish BankID, or its simulator; `None` when BankID is off.
    pub bankid: Option<Arc<dyn BankIdProvider>>,
    /// Users' passkeys, in Limen's own database.
    pub passkeys: Arc<dyn PasskeyStore>,
    /// The WebAuthn ceremonies; `None` when passkeys are off.
    pub passkey_ceremonies: Option<Arc<dyn PasskeyCeremonies>>,
    /// OpenID Connect providers by id (none when OpenID login is off).
    pub openid: BTreeMap<String, Arc<dyn OpenIdProvider>>,
    /// The signer of each OpenID consumer's payloads, by consumer URL.
    pub payload_signers: BTreeMap<String, Arc<dyn PayloadSigner>>,
    /// The OpenID Provider's ID token signers, by JWS algorithm (none when it is off).
    pub provider_signers: BTreeMap<String, Arc<dyn PayloadSigner>>,
    /// Its keys retired by a rotation, still published while tokens they signed live.
    pub provider_retired_keys: Vec<Arc<dyn PayloadSigner>>,
    /// Tells every node what its cache of validated tokens must forget.
    pub invalidations: Arc<dyn Invalidations>,
    /// The trail of security events: always Limen's database.
    pub audit: Arc<dyn AuditLog>,
    /// The administration API's tokens: always Limen's database.
    pub admin_tokens: Arc<dyn AdminTokenStore>,
}

/// The numbers and texts of every rule. Lifetimes that a dialect documents (an
/// hour for `flow`, 28799 seconds for `bimplus`) are the dialects' settings and
/// are passed in with each request; these are Limen's own.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Lockouts and throttles.
    pub attempts: AttemptRules,
    /// Password hashes one client address may have in flight on a node (0: no bound).
    pub hash_queue_per_address: usize,
    /// The least time a refused password login takes, whatever the hashes
    /// in use take (which are learned on top).
    pub refusal_floor: std::time::Duration,
    /// What a login needs besides an identity.
    pub completion: CompletionPolicy,
    /// TOTP enrolment and the second step.
    pub two_factor: TwoFactorSettings,
    /// Self-registration and its e-mail.
    pub registration: RegistrationSettings,
    /// Named user tokens.
    pub api_tokens: ApiTokenSettings,
    /// Password reset by e-mail.
    pub password_reset: PasswordResetSettings,
    /// OpenID login: providers' policies and the allowed consumers.
    pub openid: OpenIdSettings,
    /// The cache of validated tokens; `None` keeps none.
    pub validation_cache: Option<CacheSettings>,
    /// Limen as an OpenID Provider; `None` when it is off.
    pub provider: Option<ProviderSettings>,
    /// Passkey ceremonies.
    pub passkeys: PasskeySettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            attempts: AttemptRules::default(),
            hash_queue_per_address: 8,
            refusal_floor: std::time::Duration::ZERO,
            completion: CompletionPolicy::default(),
            two_factor: TwoFactorSettings::default(),
            registration: RegistrationSettings::default(),
            api_tokens: ApiTokenSettings::default(),
            password_reset: PasswordResetSettings::default(),
            openid: OpenIdSettings::default(),
            validation_cache: None,
            provider: None,
            passkeys: PasskeySettings::default(),
        }
    }
}

/// Every service, wired to the same ports.
#[derive(Clone)]
pub struct Services {
    /// The trail of security events.
    pub audit: Arc<Audit>,
    /// Directory users joined with Limen's account state.
    pub users: Arc<Users>,
    /// Counted attempts.
    pub attempts: Arc<Attempts>,
    /// The rules every login passes.
    pub completion: Arc<LoginCompletion>,
    /// The password identity provider.
    pub password_login: Arc<PasswordLogin>,
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
    /// Password reset by e-mail.
    pub password_reset: Arc<PasswordResetService>,
    /// The BankID identity provider.
    pub bankid: Arc<BankIdLogin>,
    /// Passkey registration, login and management.
    pub passkeys: Arc<PasskeyService>,
    /// The OpenID Connect identity provider.
    pub openid: Arc<OpenIdLogin>,
    /// Limen as an OpenID Provider, when on.
    pub oidc_provider: Option<Arc<OidcProvider>>,
    /// The node's cache of validated tokens, when on.
    pub cache: Option<Arc<ValidationCache>>,
    /// The administration API's tokens.
    pub admin: Arc<AdminAccess>,
}

impl Services {
    /// Builds every service over `ports`.
    pub fn new(ports: Ports, settings: Settings) -> Self {
        let audit = Arc::new(Audit::new(AuditPorts {
            log: ports.audit.clone(),
            clock: ports.clock.clone(),
        }));
        let admin = Arc::new(AdminAccess::new(AdminAccessPorts {
            store: ports.admin_tokens.clone(),
            mint: ports.mint.clone(),
            clock: ports.clock.clone(),
            audit: audit.clone(),
        }));
        let users = Arc::new(Users::new(UserPorts {
            directory: ports.directory.clone(),
            accounts: ports.accounts.clone(),
            clock: ports.clock.clone(),
        }));
        let attempts = Arc::new(Attempts::new(
            AttemptPorts {
                lockouts: ports.lockouts.clone(),
                throttles: ports.throttles.clone(),
                mint: ports.mint.clone(),
                clock: ports.clock.clone(),
            },
            settings.attempts,
        ));
        let admission = Arc::new(HashAdmission::new(settings.hash_queue_per_address));
        let cache = settings.validation_cache.map(|bounds| {
            let cache = Arc::new(ValidationCache::new(bounds));
            let listener = cache.clone();
            ports
                .invalidations
                .subscribe(Arc::new(move |change: &Invalidation| listener.evict(change)));
            cache
        });
        let sessions = Arc::new(SessionService::new(SessionPorts {
            users: users.clone(),
            tokens: ports.tokens.clone(),
            mint: ports.mint.clone(),
            clock: ports.clock.clone(),
            cache: cache.clone(),
            invalidations: ports.invalidations.clone(),
            audit: audit.clone(),
        }));
        let completion = Arc::new(LoginCompletion::new(
            CompletionPorts {
                accounts: ports.accounts.clone(),
                factors: ports.factors.clone(),
                attempts: attempts.clone(),
                sessions: sessions.clone(),
                clock: ports.clock.clone(),
                audit: audit.clone(),
            },
            settings.completion,
        ));
        let password_login = Arc::new(PasswordLogin::new(PasswordLoginPorts {
            users: users.clone(),
            hasher: ports.hasher.clone(),
            attempts: attempts.clone(),
            admission: admission.clone(),
            completion: completion.clone(),
            audit: audit.clone(),
            floor: Arc::new(RefusalFloor::new(settings.refusal_floor)),
        }));
        let two_factor = Arc::new(TwoFactorService::new(
            TwoFactorPorts {
                users: users.clone(),
                accounts: ports.accounts.clone(),
                factors: ports.factors.clone(),
                totp: ports.totp.clone(),
                cipher: ports.cipher.clone(),
                mint: ports.mint.clone(),
                clock: ports.clock.clone(),
                attempts: attempts.clone(),
                passwords: password_login.clone(),
                sessions: sessions.clone(),
                completion: completion.clone(),
                audit: audit.clone(),
            },
            settings.two_factor,
        ));
        let accounts = Arc::new(AccountService::new(AccountPorts {
            users: users.clone(),
            sessions: sessions.clone(),
            factors: ports.factors.clone(),
            passkeys: ports.passkeys.clone(),
            attempts: attempts.clone(),
            hasher: ports.hasher.clone(),
            clock: ports.clock.clone(),
            audit: audit.clone(),
        }));
        let api_tokens = Arc::new(ApiTokenService::new(
            ApiTokenPorts {
                users: users.clone(),
                accounts: ports.accounts.clone(),
                catalog: ports.catalog.clone(),
                sessions: sessions.clone(),
                passwords: password_login.clone(),
                clock: ports.clock.clone(),
                audit: audit.clone(),
            },
            settings.api_tokens,
        ));
        let remember_me = Arc::new(RememberMeService::new(RememberMePorts {
            users: users.clone(),
            passwords: password_login.clone(),
            sessions: sessions.clone(),
            completion: completion.clone(),
            audit: audit.clone(),
        }));
        let numeric_sessions = Arc::new(NumericSessionService::new(NumericSessionPorts {
            passwords: password_login.clone(),
            sessions: sessions.clone(),
            attempts: attempts.clone(),
            audit: audit.clone(),
        }));
        let password_reset = Arc::new(PasswordResetService::new(
            PasswordResetPorts {
                users: users.clone(),
                sessions: sessions.clone(),
                attempts: attempts.clone(),
                hasher: ports.hasher.clone(),
                admission: admission.clone(),
                mailer: ports.mailer.clone(),
                clock: ports.clock.clone(),
                audit: audit.clone(),
            },
            settings.password_reset,
        ));
        let bankid = Arc::new(BankIdLogin::new(BankIdPorts {
            provider: ports.bankid,
            users: users.clone(),
            sessions: sessions.clone(),
            completion: completion.clone(),
            attempts: attempts.clone(),
            cipher: ports.cipher.clone(),
            mint: ports.mint.clone(),
            clock: ports.clock.clone(),
            audit: audit.clone(),
        }));
        let passkeys = Arc::new(PasskeyService::new(
            PasskeyPorts {
                ceremonies: ports.passkey_ceremonies,
                store: ports.passkeys,
                users: users.clone(),
                sessions: sessions.clone(),
                completion: completion.clone(),
                attempts: attempts.clone(),
                mint: ports.mint.clone(),
                clock: ports.clock.clone(),
                audit: audit.clone(),
            },
            settings.passkeys,
        ));
        let openid = Arc::new(OpenIdLogin::new(
            OpenIdPorts {
                providers: ports.openid,
                signers: ports.payload_signers,
                attempts: attempts.clone(),
                users: users.clone(),
                accounts: accounts.clone(),
                sessions: sessions.clone(),
                completion: completion.clone(),
                cipher: ports.cipher.clone(),
                mint: ports.mint.clone(),
                clock: ports.clock.clone(),
                audit: audit.clone(),
            },
            settings.openid,
        ));
        let oidc_provider = settings.provider.map(|provider| {
            Arc::new(OidcProvider::new(
                OidcProviderPorts {
                    sessions: sessions.clone(),
                    users: users.clone(),
                    mint: ports.mint.clone(),
                    clock: ports.clock.clone(),
                    signers: ports.provider_signers,
                    retired: ports.provider_retired_keys,
                    catalog: ports.catalog.clone(),
                },
                provider,
            ))
        });
        let registration = Arc::new(RegistrationService::new(
            RegistrationPorts {
                users: users.clone(),
                accounts: accounts.clone(),
                hasher: ports.hasher,
                admission,
                keys: ports.keys,
                cipher: ports.cipher,
                mailer: ports.mailer,
                clock: ports.clock,
                sessions: sessions.clone(),
            },
            settings.registration,
        ));
        Self {
            admin,
            audit,
            users,
            attempts,
            completion,
            password_login,
            sessions,
            two_factor,
            accounts,
            api_tokens,
            remember_me,
            numeric_sessions,
            registration,
            password_reset,
            bankid,
            passkeys,
            openid,
            oidc_provider,
            cache,
        }
    }
}
