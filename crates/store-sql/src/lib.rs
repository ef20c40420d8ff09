//! Limen's own tables as adapters of the domain's ports, on SQLite, PostgreSQL
//! and MySQL/MariaDB through sea-orm; the engine is chosen by the database URL.
//! `SqlUserDirectory` is Limen's own user directory; the others hold what Limen
//! owns whatever the directory is: accounts, tokens, second factors and counted
//! attempts.

mod account_states;
mod admin_token_store;
mod audit_log;
mod database;
mod entity;
mod errors;
mod import;
mod invalidations;
mod passkey_store;
mod polled_invalidations;
mod rate_limiter;
mod second_factor_store;
mod signing_keys;
mod time;
mod token_store;
mod user_directory;

pub use account_states::SqlAccountStates;
pub use admin_token_store::SqlAdminTokenStore;
pub use audit_log::SqlAuditLog;
pub use database::{Database, DatabaseConfig};
pub use import::{ImportError, ImportedUser};
pub use invalidations::PgInvalidations;
pub use passkey_store::SqlPasskeyStore;
pub use polled_invalidations::PolledInvalidations;
pub use rate_limiter::SqlRateLimiter;
pub use second_factor_store::SqlSecondFactorStore;
pub use signing_keys::{SqlSigningKeys, StoredSigningKey};
pub use token_store::SqlTokenStore;
pub use user_directory::{LIMEN_DIRECTORY, SqlUserDirectory};
