//! Builders shared by the services' unit tests.

use chrono::{DateTime, Duration, Utc};

use crate::model::{
    LockState, Role, TokenAttributes, TokenHash, TokenId, TokenKind, TokenRecord, User, UserId,
};

/// The test clock's reading `minutes` after the epoch.
pub fn at(minutes: i64) -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(minutes)
}

/// An enabled user with a password hash of `"hash-of-<username>"`.
pub fn user(id: i64, username: &str) -> User {
    User {
        id: UserId(id),
        username: username.into(),
        email: format!("{username}@example.com"),
        first_name: None,
        last_name: None,
        personal_number: None,
        password_hash: Some(format!("hash-of-{username}")),
        enabled: true,
        lock: LockState::default(),
        created_at: at(0),
        updated_at: at(0),
        last_login_at: None,
        email_verified_at: None,
        public_key: None,
        role: Role::User,
        version: 1,
    }
}

/// A live access token issued at minute 0 that expires at `expires_minute`.
pub fn token(id: i64, user: i64, expires_minute: i64) -> TokenRecord {
    TokenRecord {
        id: TokenId(id),
        user_id: UserId(user),
        kind: TokenKind::Access,
        hash: TokenHash(format!("hash-{id}")),
        created_at: at(0),
        expires_at: at(expires_minute),
        last_used_at: None,
        revoked_at: None,
        attempts: 0,
        attributes: TokenAttributes::default(),
        enabled: true,
        version: 0,
    }
}
