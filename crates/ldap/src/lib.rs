//! A `UserDirectory` over LDAP: a service account finds users (every value put
//! into a filter escaped as RFC 4515 asks), and a password is checked by
//! binding as the user's entry, so Limen never reads a hash. Connections are
//! pooled (searches as the service account, binds on their own), every
//! operation times out, and the next URL is tried when one does not answer.

mod active_directory;
mod config;
mod directory;
mod pool;

pub use config::{Attributes, Flavor, LdapConfig};
pub use directory::LdapDirectory;

#[cfg(feature = "testing")]
pub mod testing;
