//! Limen's own tables as `UserStore` and `TokenStore`, on SQLite, PostgreSQL and
//! MySQL/MariaDB through sea-orm. The engine is chosen by the database URL.

mod database;
mod entity;
mod errors;
mod second_factor_store;
mod time;
mod token_store;
mod user_store;

pub use database::{Database, DatabaseConfig, redact};
pub use second_factor_store::SqlSecondFactorStore;
pub use token_store::SqlTokenStore;
pub use user_store::SqlUserStore;
