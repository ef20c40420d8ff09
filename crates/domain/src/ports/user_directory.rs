use async_trait::async_trait;

use crate::error::StoreError;
use crate::model::{
    DirectoryCapabilities, DirectoryEntry, DirectoryVerdict, NewDirectoryEntry, Password, ProfileChange,
};

/// The customer's users: identity data (names, e-mail, personal number, password
/// hash, enabled) wherever it lives: Limen's own table, a customer's table, a CRM.
/// Limen's own state about a user is not here but in `AccountStates`, so a
/// read-only directory is a first-class backend: logins never write to it except
/// for an optional rehash when `capabilities().set_password_hash` allows it.
/// Lookups take normalised (trimmed, lower-case) usernames and addresses.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UserDirectory: Send + Sync {
    /// The directory's stable name, under which its users are linked to Limen ids.
    fn name(&self) -> &str;

    /// Which writes the directory accepts.
    fn capabilities(&self) -> DirectoryCapabilities;

    /// Whether the directory answers, for readiness checks: a remote one
    /// (a customer's database, a CRM) says why not. One inside Limen's own
    /// database has nothing of its own to check.
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// The user with this directory id.
    async fn find_by_id(&self, external_id: &str) -> Result<Option<DirectoryEntry>, StoreError>;

    /// The user with this username.
    async fn find_by_username(&self, username: &str) -> Result<Option<DirectoryEntry>, StoreError>;

    /// The user with this e-mail address.
    async fn find_by_email(&self, email: &str) -> Result<Option<DirectoryEntry>, StoreError>;

    /// The user with this 12-digit personal number.
    async fn find_by_personal_number(
        &self,
        personal_number: &str,
    ) -> Result<Option<DirectoryEntry>, StoreError>;

    /// Creates a user: `Duplicate` for a taken username or e-mail, `ReadOnly`
    /// without the `create` capability.
    async fn create(&self, entry: NewDirectoryEntry) -> Result<DirectoryEntry, StoreError>;

    /// Checks `password` with the directory itself (an LDAP bind as the
    /// user), for a directory whose capabilities say `checks_passwords`. The
    /// others keep hashes, which Limen verifies; for them this is never called.
    async fn check_password(
        &self,
        _external_id: &str,
        _password: &Password,
    ) -> Result<DirectoryVerdict, StoreError> {
        Err(StoreError::Unavailable(
            "this directory keeps password hashes; Limen verifies them".into(),
        ))
    }

    /// Sets a new password in a directory that keeps passwords its own way
    /// (`capabilities().set_password`); `Refused` with the directory's reason
    /// when its policy turns the password down, `ReadOnly` without the capability.
    async fn set_password(&self, _external_id: &str, _password: &Password) -> Result<(), StoreError> {
        Err(StoreError::ReadOnly)
    }

    /// Replaces the password hash; `ReadOnly` without the capability.
    async fn set_password_hash(&self, external_id: &str, hash: &str) -> Result<(), StoreError>;

    /// Applies a validated, normalised change of identity data and answers the
    /// entry as it is now: `Duplicate` for an address another user has,
    /// `NotFound` for no such user. A directory that does not take such
    /// changes (a customer's table, a CRM) answers `ReadOnly`.
    async fn update_profile(
        &self,
        _external_id: &str,
        _change: &ProfileChange,
    ) -> Result<DirectoryEntry, StoreError> {
        Err(StoreError::ReadOnly)
    }

    /// Deletes the user; `ReadOnly` without the capability.
    async fn delete(&self, external_id: &str) -> Result<(), StoreError>;

    /// Users in id order after `after` (exclusive), at most `limit`, for operators.
    async fn list(&self, after: Option<String>, limit: u32) -> Result<Vec<DirectoryEntry>, StoreError>;
}
