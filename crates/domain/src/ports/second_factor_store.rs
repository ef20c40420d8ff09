use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::model::{StoredTotp, UserId};

/// Where second factors live. Separate from `UserDirectory` because they stay in
/// Limen's own tables whatever the user backend is (a customer's user table or a
/// CRM has no column for them).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SecondFactorStore: Send + Sync {
    /// The user's TOTP enrolment, confirmed or pending.
    async fn find_totp(&self, user: UserId) -> Result<Option<StoredTotp>, StoreError>;

    /// Stores a new, unconfirmed enrolment, replacing any earlier one of the user.
    async fn put_pending_totp(&self, user: UserId, totp: &StoredTotp) -> Result<(), StoreError>;

    /// Confirms the enrolment, records `step` as used, and replaces the user's
    /// recovery codes with these digests.
    async fn confirm_totp(
        &self,
        user: UserId,
        step: u64,
        recovery_code_hashes: Vec<String>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Atomically records `step` as used if it is later than the last used one;
    /// `false` if it is not (a replay, possibly on another node).
    async fn claim_totp_step(&self, user: UserId, step: u64) -> Result<bool, StoreError>;

    /// Removes the enrolment and the recovery codes.
    async fn delete_totp(&self, user: UserId) -> Result<(), StoreError>;

    /// Every stored sealed secret, for re-sealing under a new key.
    async fn list_sealed_secrets(&self) -> Result<Vec<(UserId, String)>, StoreError>;

    /// Replaces a sealed secret if it is still `old` (a concurrent re-enrolment wins).
    async fn replace_sealed_secret(&self, user: UserId, old: &str, new: &str) -> Result<bool, StoreError>;

    /// Marks the unused recovery code with this digest as used; `false` if there is none.
    async fn use_recovery_code(
        &self,
        user: UserId,
        code_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}
