//! The use cases. Each service holds its rules and talks to the world only through ports.
//!
//! Every login runs the same pipeline: an identity provider (`PasswordLogin`,
//! `RememberMeService::exchange`, the second step of `TwoFactorService`) proves
//! who someone is and yields an `Authenticated`; `LoginCompletion` then applies
//! every rule once and issues the dialect's token.

mod accounts;
mod admin_access;
mod api_tokens;
mod attempts;
mod audit;
mod bankid_login;
mod hash_admission;
mod login_completion;
mod numeric_sessions;
mod oidc_provider;
mod openid_login;
mod passkeys;
mod password_login;
mod password_reset;
mod refusal_floor;
mod registration;
mod remember_me;
mod sessions;
mod two_factor;
mod users;
mod validation_cache;
mod wiring;

pub use accounts::{
    AccountPorts, AccountService, AccountSummary, MAX_PAGE, NewAccount, UserFilter, UserPage, UserUpdate,
};
pub use admin_access::{AdminAccess, AdminAccessPorts, IssuedAdminToken, MAX_ADMIN_TOKEN_NAME_CHARS};
pub use api_tokens::{ApiTokenPorts, ApiTokenService, ApiTokenSettings, TokenRequest};
pub use attempts::{Attempt, AttemptPorts, AttemptRules, Attempts, Blocked, Counted, Counter};
pub use audit::{AUDIT_TARGET, Audit, AuditEntry, AuditPorts, AuditStats, LoginTally};
pub use bankid_login::{BankIdLogin, BankIdPorts, BankIdProgress, BankIdStarted, ORDER_TTL};
pub use hash_admission::{HashAdmission, HashTicket};
pub use login_completion::{
    AccessGrant, AuthMethod, Authenticated, CompletionPolicy, CompletionPorts, Grant, LoggedIn,
    LoginCompletion, LoginOnly, LoginOutcome, MAX_CLIENT_ID_CHARS, NumberedSessionGrant, RememberMeGrant,
    Remembered, validate_client_id,
};
pub use numeric_sessions::{NumericSession, NumericSessionPorts, NumericSessionService};
pub use oidc_provider::{
    ACCOUNT_CLIENT, AccessTokenFormat, AuthorizationCodeGrant, BrowserSession, ClientCredentials,
    CodeExchange, OidcProvider, OidcProviderPorts, ProviderLogin, ProviderSettings,
};
pub use openid_login::{
    CallbackOutcome, Identified, IdentityMatch, MAX_CONSUMER_STATE_CHARS, OpenIdCallback, OpenIdConsumer,
    OpenIdFailed, OpenIdLoggedIn, OpenIdLogin, OpenIdPorts, OpenIdProviderPolicy, OpenIdSettings,
    PayloadSettings, STATE_TTL,
};
pub use passkeys::{MAX_PASSKEY_NAME_CHARS, PasskeyCeremony, PasskeyPorts, PasskeyService, PasskeySettings};
pub use password_login::{PasswordLogin, PasswordLoginPorts};
pub use password_reset::{PasswordResetPorts, PasswordResetService, PasswordResetSettings};
pub use refusal_floor::RefusalFloor;
pub use registration::{
    EmailLanguage, Registration, RegistrationKind, RegistrationPorts, RegistrationService,
    RegistrationSettings,
};
pub use remember_me::{Authorized, RememberMeLifetimes, RememberMePorts, RememberMeService};
pub use sessions::{Session, SessionPorts, SessionService};
pub use two_factor::{RECOVERY_CODES, TwoFactorPorts, TwoFactorService, TwoFactorSettings};
pub use users::{UserPorts, Users};
pub use validation_cache::{CacheSettings, CacheStats, ValidationCache};
pub use wiring::{Ports, Services, Settings};

#[cfg(test)]
pub(crate) mod fixtures;
