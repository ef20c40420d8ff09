//! The use cases. Each service holds its rules and talks to the world only through ports.

mod accounts;
mod lockout;
mod login;
mod sessions;
mod two_factor;

pub use accounts::{AccountService, NewAccount};
pub use lockout::LockoutPolicy;
pub use login::{LoginOutcome, LoginPolicy, PasswordLogin};
pub use sessions::{Session, SessionService};
pub use two_factor::{
    MAX_SECOND_FACTOR_ATTEMPTS, RECOVERY_CODES, TwoFactorPorts, TwoFactorService, TwoFactorSettings,
};

#[cfg(test)]
pub(crate) mod fixtures;
