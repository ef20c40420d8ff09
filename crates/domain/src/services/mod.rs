//! The use cases. Each service holds its rules and talks to the world only through ports.

mod accounts;
mod lockout;
mod login;
mod sessions;

pub use accounts::{AccountService, NewAccount};
pub use lockout::LockoutPolicy;
pub use login::{LoggedIn, PasswordLogin};
pub use sessions::{Session, SessionService};

#[cfg(test)]
pub(crate) mod fixtures;
