use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::model::{AccountPatch, AccountState, IdentityLink, UserId};

/// What Limen owns about every user, whatever directory the user lives in:
/// role, Limen's own disabled flag, e-mail verification, last login, key pair,
/// the link from (directory, external id) to Limen's numeric id, and the
/// links from identities at OpenID providers (issuer, subject). Always in
/// Limen's own database, so a read-only directory loses nothing. (Failure
/// counters and locks are counted attempts, kept by the lockout `RateLimiter`.)
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AccountStates: Send + Sync {
    /// The account of a directory user, created with a fresh Limen id on first
    /// sight. Concurrent first sights agree on one id.
    async fn link(
        &self,
        directory: &str,
        external_id: &str,
        at: DateTime<Utc>,
    ) -> Result<AccountState, StoreError>;

    /// The account with this Limen id.
    async fn find(&self, user: UserId) -> Result<Option<AccountState>, StoreError>;

    /// The accounts a SCIM client gave this id (`externalId`), by Limen id.
    async fn find_by_scim_external_id(&self, external_id: &str) -> Result<Vec<UserId>, StoreError>;

    /// Applies `patch`; `NotFound` when there is no such account.
    async fn update(&self, user: UserId, patch: AccountPatch, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Records a successful login. It touches nothing else: failure counts are
    /// the lockout's, and a token's "bump" must not clear them.
    async fn record_login(&self, user: UserId, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Forgets the account (its links included).
    async fn delete(&self, user: UserId) -> Result<(), StoreError>;

    /// The account an identity at a provider is linked to.
    async fn find_identity(&self, issuer: &str, subject: &str) -> Result<Option<UserId>, StoreError>;

    /// Links `link.subject` at `link.issuer` to `link.user_id`; `false` (and
    /// nothing written) when the subject is linked already or the account
    /// already has another subject at that issuer.
    async fn add_identity(&self, link: &IdentityLink) -> Result<bool, StoreError>;

    /// The identities linked to an account.
    async fn identities(&self, user: UserId) -> Result<Vec<IdentityLink>, StoreError>;

    /// Removes the account's link at `issuer`; whether there was one.
    async fn remove_identity(&self, user: UserId, issuer: &str) -> Result<bool, StoreError>;

    /// Every sealed private key, for re-sealing under a new key.
    async fn list_sealed_keys(&self) -> Result<Vec<(UserId, String)>, StoreError>;

    /// Replaces a sealed private key if it is still `old`.
    async fn replace_sealed_key(&self, user: UserId, old: &str, new: &str) -> Result<bool, StoreError>;
}
