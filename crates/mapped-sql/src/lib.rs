//! A `UserDirectory` over a customer's existing table: which table and which
//! column holds each field is configuration, checked against the database at
//! start; queries are built with sea-query from validated identifiers, so the
//! configuration cannot inject SQL. Limen creates nothing in that database and
//! writes to it only password hashes, and only when allowed.

mod config;
mod directory;
mod schema;

pub use config::{Columns, MappedConfig, MappedError};
pub use directory::MappedDirectory;
#[cfg(feature = "testing")]
pub mod testing;
