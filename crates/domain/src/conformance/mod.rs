//! Suites every adapter of a port must pass, whatever its backend: the
//! behaviour the domain relies on, checked against the real thing (a database,
//! Redis, process memory). Adapter crates call them from their own tests.

// A suite's job is to fail loudly on a wrong answer.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

pub mod invalidations;
pub mod rate_limiter;
pub mod session_tokens;
pub mod user_directory;
