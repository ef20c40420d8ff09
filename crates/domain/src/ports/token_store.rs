use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::model::{NewToken, TokenHash, TokenId, TokenKind, TokenRecord, UserId};

/// Where tokens live. Only digests are stored; lookup is by digest.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Records a new token.
    async fn issue(&self, token: NewToken) -> Result<TokenRecord, StoreError>;

    /// The token with this digest, live or not.
    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError>;

    /// Records that the token was presented at `at`.
    async fn touch(&self, id: TokenId, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// The token with this id.
    async fn find_by_id(&self, id: TokenId) -> Result<Option<TokenRecord>, StoreError>;

    /// The user's tokens of one kind, newest first, revoked and expired ones included.
    async fn list_for_user(&self, user: UserId, kind: TokenKind) -> Result<Vec<TokenRecord>, StoreError>;

    /// Enables or disables a token (its `version` increases).
    async fn set_enabled(&self, id: TokenId, enabled: bool) -> Result<(), StoreError>;

    /// Counts one failed attempt made with the token; returns the new count.
    async fn record_failed_attempt(&self, id: TokenId) -> Result<u32, StoreError>;

    /// Revokes one token; revoking a revoked token is not an error.
    async fn revoke(&self, id: TokenId, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Revokes every live token of a user; returns how many were revoked.
    async fn revoke_all_for_user(&self, user: UserId, at: DateTime<Utc>) -> Result<u64, StoreError>;
}
