use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::model::{
    AssertedCredential, CeremonyStart, PasskeyError, StoredPasskey, UserId, VerifiedAssertion,
    VerifiedCredential,
};

/// Where passkeys live: Limen's own tables, whatever the user backend (a
/// customer's table, a CRM or a directory has no place for them).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PasskeyStore: Send + Sync {
    /// Stores a new passkey (its `id` is assigned); `Duplicate(Credential)`
    /// when its credential is registered already, `Duplicate(PasskeyName)`
    /// when its owner has one by that name.
    async fn add(&self, passkey: &StoredPasskey) -> Result<StoredPasskey, StoreError>;

    /// The user's passkeys, oldest first.
    async fn list_for_user(&self, user: UserId) -> Result<Vec<StoredPasskey>, StoreError>;

    /// The passkey of `credential_id` (base64url).
    async fn find_by_credential(&self, credential_id: &str) -> Result<Option<StoredPasskey>, StoreError>;

    /// Records a login with passkey `id`: when, and its credential with the
    /// new sign counter when it changed.
    async fn record_use(
        &self,
        id: i64,
        credential: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Renames the user's passkey `name`; `false` when they have none by it.
    async fn rename(&self, user: UserId, name: &str, new_name: &str) -> Result<bool, StoreError>;

    /// Removes the user's passkey `name`; `false` when they have none by it.
    async fn remove(&self, user: UserId, name: &str) -> Result<bool, StoreError>;

    /// Removes every passkey of the user (the user is deleted); how many.
    async fn remove_all_for_user(&self, user: UserId) -> Result<u64, StoreError>;
}

/// The WebAuthn ceremonies for passkeys (discoverable credentials, user
/// verification required): options to send and responses to verify, for
/// one relying party. Pure computation: the challenges' single use and the
/// credentials' storage are the domain's.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait PasskeyCeremonies: Send + Sync {
    /// A new WebAuthn user handle (a random UUID) for a user's first passkey.
    fn new_user_handle(&self) -> String;

    /// Options for registering a passkey of the user with this handle and
    /// names, excluding the credentials they already have.
    fn start_registration(
        &self,
        user_handle: &str,
        name: &str,
        display_name: &str,
        exclude: &[String],
    ) -> Result<CeremonyStart, PasskeyError>;

    /// Verifies a registration response (`RegistrationResponseJSON`) against
    /// the state its options left.
    fn finish_registration(
        &self,
        response: &serde_json::Value,
        state: &str,
    ) -> Result<VerifiedCredential, PasskeyError>;

    /// Options for a login with any discoverable passkey of this relying party.
    fn start_authentication(&self) -> Result<CeremonyStart, PasskeyError>;

    /// The user handle and credential an assertion
    /// (`AuthenticationResponseJSON`) names, before it is verified.
    fn identify(&self, response: &serde_json::Value) -> Result<AssertedCredential, PasskeyError>;

    /// Verifies an assertion with the stored credential against the state
    /// its options left.
    fn finish_authentication(
        &self,
        response: &serde_json::Value,
        state: &str,
        credential: &str,
    ) -> Result<VerifiedAssertion, PasskeyError>;
}
