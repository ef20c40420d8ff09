use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::model::{AdminToken, NewAdminToken, TokenHash};

/// The administration API's tokens, in Limen's own database.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AdminTokenStore: Send + Sync {
    /// Stores a new token; `Duplicate(Name)` when the name is taken.
    async fn create(&self, token: &NewAdminToken) -> Result<AdminToken, StoreError>;

    /// The token with this digest, live or not.
    async fn find(&self, hash: &TokenHash) -> Result<Option<AdminToken>, StoreError>;

    /// Every token, the newest first.
    async fn list(&self) -> Result<Vec<AdminToken>, StoreError>;

    /// Revokes the token with this name; false when there is no live one.
    async fn revoke(&self, name: &str, at: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Records that the token was presented.
    async fn touch(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError>;
}
