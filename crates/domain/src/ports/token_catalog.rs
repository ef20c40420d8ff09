use async_trait::async_trait;

use crate::error::StoreError;
use crate::model::{TokenId, TokenKind, TokenRecord, UserId};

/// Operators' view of tokens: listing, lookup by row id, enabling and disabling.
/// Apart from `SessionTokens` because they need indexes beyond a token's
/// digest: SQL implements them with its tables' indexes, Redis with a set of
/// digests per user and a key from each token id to its digest.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TokenCatalog: Send + Sync {
    /// The user's tokens of one kind, newest first, revoked and expired ones included.
    async fn list_for_user(&self, user: UserId, kind: TokenKind) -> Result<Vec<TokenRecord>, StoreError>;

    /// The token with this row id.
    async fn find_by_id(&self, id: TokenId) -> Result<Option<TokenRecord>, StoreError>;

    /// Enables or disables a token (its `version` increases); `NotFound` if missing.
    async fn set_enabled(&self, id: TokenId, enabled: bool) -> Result<(), StoreError>;
}
