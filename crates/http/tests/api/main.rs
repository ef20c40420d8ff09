//! HTTP tests of every dialect, in-process against a real SQLite database.

// Test helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod audit;
mod bad_input;
mod bimplus;
mod flow;
mod flow_two_factor;
mod gradido;
mod health;
mod helpers;
mod lime;
mod lime_openid;
mod login_rules;
mod mapped_table;
mod openapi;
mod read_only_directory;
mod tokens;
