use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::model::{NewToken, TokenHash, TokenKind, TokenRecord, UserId};

/// The hot path: tokens by digest. Shaped so that a key-value store can hold it
/// (no listing, no lookup by row id); operators' views are `TokenCatalog`'s.
/// Only digests are stored.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SessionTokens: Send + Sync {
    /// Records a new token; a digest already in use is `Duplicate(Token)`.
    async fn issue(&self, token: NewToken) -> Result<TokenRecord, StoreError>;

    /// The token with this digest, live or not.
    async fn find(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError>;

    /// Records that the token was presented at `at`.
    async fn touch(&self, hash: &TokenHash, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Revokes one token; `false` if it was already revoked or does not exist.
    async fn revoke(&self, hash: &TokenHash, at: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Revokes every live token of a user except `except`; returns how many.
    async fn revoke_all_for_user(
        &self,
        user: UserId,
        except: Option<TokenHash>,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// Atomically revokes the live token of `kind` with this digest and returns
    /// it: of any number of concurrent calls, at most one gets `Some`.
    async fn consume(
        &self,
        hash: &TokenHash,
        kind: TokenKind,
        at: DateTime<Utc>,
    ) -> Result<Option<TokenRecord>, StoreError>;

    /// Deletes every token of a user (the user is being deleted).
    async fn delete_all_for_user(&self, user: UserId) -> Result<u64, StoreError>;

    /// Deletes the tokens whose record is no longer kept at `now`: expired
    /// for longer than `TokenKind::kept_after_expiry`; answers how many. A
    /// store whose records expire by themselves answers 0.
    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
}
