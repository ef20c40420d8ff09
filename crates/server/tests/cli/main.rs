//! The `limen` binary, run as an operator runs it.

// Test helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod admin_api;
mod audit;
mod backends;
mod bankid_demo;
mod deploy;
mod faults;
mod helpers;
mod import;
mod ldap;
mod lime;
mod lime_races;
mod limecrm;
mod nodes;
mod oidc_provider;
mod openid;
mod passkeys;
mod races;
mod registration;
mod schemathesis;
mod scim;
mod serve;
mod storm;
mod tls;
mod tokens;
mod two_factor;
