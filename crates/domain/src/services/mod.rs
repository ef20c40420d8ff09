//! The use cases. Each service holds its rules and talks to the world only through ports.

mod accounts;
mod api_tokens;
mod lockout;
mod login;
mod numeric_sessions;
mod registration;
mod remember_me;
mod sessions;
mod throttle;
mod two_factor;
mod wiring;

pub use accounts::{AccountService, NewAccount};
pub use api_tokens::{ApiTokenService, ApiTokenSettings, TokenRequest};
pub use lockout::LockoutPolicy;
pub use login::{LoginOutcome, LoginPolicy, PasswordLogin};
pub use numeric_sessions::{NumericSession, NumericSessionService, NumericSessionSettings};
pub use registration::{
    EmailLanguage, Registration, RegistrationKind, RegistrationPorts, RegistrationService,
    RegistrationSettings,
};
pub use remember_me::{Authorized, RememberMeService};
pub use sessions::{Session, SessionService};
pub use throttle::FailureThrottle;
pub use two_factor::{
    MAX_SECOND_FACTOR_ATTEMPTS, RECOVERY_CODES, TwoFactorPorts, TwoFactorService, TwoFactorSettings,
};
pub use wiring::{Ports, Services, Settings};

#[cfg(test)]
pub(crate) mod fixtures;
