//! sea-orm entities of Limen's tables.

pub mod account;
pub mod admin_token;
pub mod audit_event;
pub mod identity_link;
pub mod invalidation;
pub mod passkey;
pub mod rate_limit;
pub mod recovery_code;
pub mod signing_key;
pub mod token;
pub mod user;
pub mod user_totp;
