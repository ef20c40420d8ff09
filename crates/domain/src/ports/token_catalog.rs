use async_trait::async_trait;

use crate::error::StoreError;
use crate::model::{TokenId, TokenKind, TokenRecord, UserId};

/// Operators' view of tokens: listing, lookup by row id, enabling and disabling.
/// Apart from `SessionTokens` because these need an index a key-value store does
/// not have; only SQL implements them.
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
