//! A `UserDirectory` over a Lime CRM system's REST API: users are objects of
//! a configurable limetype, each Limen attribute a configurable property, as
//! the Lime add-on has it ("any limetype can be used"). Requests time out,
//! passing failures are retried, a failing CRM trips a circuit breaker, and
//! users looked up by id (token validation) are cached for a short while.

mod breaker;
mod client;
mod config;
mod directory;

pub use config::{LimeCrmConfig, Properties};
pub use directory::LimeCrmDirectory;

#[cfg(feature = "testing")]
pub mod testing;
