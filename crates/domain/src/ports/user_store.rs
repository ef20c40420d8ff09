use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::model::{LockState, NewUser, Role, User, UserId};

/// Where users live: Limen's own tables, a customer's table, or a remote system.
/// Lookups by username and e-mail take the normalised (lower-case) form.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UserStore: Send + Sync {
    /// The user with this id.
    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError>;

    /// The user with this username.
    async fn find_by_username(&self, username: &str) -> Result<Option<User>, StoreError>;

    /// The user with this e-mail address.
    async fn find_by_email(&self, email: &str) -> Result<Option<User>, StoreError>;

    /// Creates a user; a taken username or e-mail is `StoreError::Duplicate`.
    async fn create(&self, user: NewUser) -> Result<User, StoreError>;

    /// Every user, ordered by id, for operators.
    async fn list(&self) -> Result<Vec<User>, StoreError>;

    /// Replaces the password hash.
    async fn set_password_hash(&self, id: UserId, hash: &str, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Enables or disables the account.
    async fn set_enabled(&self, id: UserId, enabled: bool, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Records that the user proved the e-mail address theirs.
    async fn mark_email_verified(&self, id: UserId, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Deletes a user and everything of theirs (tokens, second factors).
    async fn delete(&self, id: UserId) -> Result<(), StoreError>;

    /// Sets the user's role.
    async fn set_role(&self, id: UserId, role: Role, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Writes the brute-force state if the user is still at `expected_version`;
    /// otherwise `StoreError::Conflict`, and the caller re-reads and retries.
    async fn update_lock_state(
        &self,
        id: UserId,
        expected_version: i64,
        lock: &LockState,
    ) -> Result<(), StoreError>;

    /// Records a successful login at `at` and clears the brute-force state.
    async fn record_login(&self, id: UserId, at: DateTime<Utc>) -> Result<(), StoreError>;
}
