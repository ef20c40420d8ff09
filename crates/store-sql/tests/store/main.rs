//! The adapter test suite: every test runs against SQLite, and against PostgreSQL
//! and MySQL/MariaDB when `LIMEN_TEST_POSTGRES_URL` / `LIMEN_TEST_MYSQL_URL` name a
//! server (each test gets a throw-away database of its own there).

// Test helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod admin_tokens;
mod audit;
mod directory;
mod engines;
mod import;
mod invalidations;
mod passkeys;
mod rate_limits;
mod second_factors;
mod tokens;
mod upgrade;
