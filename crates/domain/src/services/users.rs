use std::sync::Arc;

use crate::error::DomainError;
use crate::model::{
    DirectoryCapabilities, DirectoryEntry, Password, TokenRecord, User, UserId, normalize_identifier,
};
use crate::ports::{AccountStates, Clock, UserDirectory};

/// The ports a user is read from.
pub struct UserPorts {
    /// The directory users live in.
    pub directory: Arc<dyn UserDirectory>,
    /// Limen's state of each account.
    pub accounts: Arc<dyn AccountStates>,
    /// The time.
    pub clock: Arc<dyn Clock>,
}

/// Users as the services see them: the directory's entry joined with the
/// account state Limen keeps, linked to a Limen id on first sight.
pub struct Users {
    ports: UserPorts,
}

impl Users {
    /// Joins `directory` with `accounts`.
    pub fn new(ports: UserPorts) -> Self {
        Self { ports }
    }

    /// The directory users live in.
    pub fn directory(&self) -> &dyn UserDirectory {
        self.ports.directory.as_ref()
    }

    /// Which writes the directory accepts.
    pub fn capabilities(&self) -> DirectoryCapabilities {
        self.ports.directory.capabilities()
    }

    /// The time on the domain's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.ports.clock.now()
    }

    /// Limen's account state store.
    pub fn accounts(&self) -> &dyn AccountStates {
        self.ports.accounts.as_ref()
    }

    /// Stores `hash` as the user's password in the directory, and records the
    /// change on the account (its update time and version move), whatever the
    /// directory itself keeps.
    pub async fn store_password_hash(&self, user: &User, hash: &str) -> Result<(), DomainError> {
        self.ports
            .directory
            .set_password_hash(&user.external_id, hash)
            .await?;
        self.record_password_change(user).await
    }

    /// Hands `password` to a directory that keeps passwords its own way
    /// (`capabilities().set_password`), and records the change on the account.
    pub async fn store_password(&self, user: &User, password: &Password) -> Result<(), DomainError> {
        self.ports
            .directory
            .set_password(&user.external_id, password)
            .await?;
        self.record_password_change(user).await
    }

    async fn record_password_change(&self, user: &User) -> Result<(), DomainError> {
        self.ports
            .accounts
            .update(
                user.id,
                crate::model::AccountPatch::default(),
                self.ports.clock.now(),
            )
            .await?;
        Ok(())
    }

    /// Links a directory entry to its account (creating the account on first
    /// sight) and joins the two.
    pub async fn resolve(&self, entry: DirectoryEntry) -> Result<User, DomainError> {
        let account = self
            .ports
            .accounts
            .link(
                self.ports.directory.name(),
                &entry.external_id,
                self.ports.clock.now(),
            )
            .await?;
        Ok(User::assemble(entry, account))
    }

    /// The user with this Limen id, if the account exists, belongs to the
    /// configured directory, and the directory still has the user.
    pub async fn by_id(&self, id: UserId) -> Result<Option<User>, DomainError> {
        let Some(account) = self.ports.accounts.find(id).await? else {
            return Ok(None);
        };
        if account.directory != self.ports.directory.name() {
            // An account of a directory that is no longer configured.
            return Ok(None);
        }
        let entry = self.ports.directory.find_by_id(&account.external_id).await?;
        Ok(entry.map(|entry| User::assemble(entry, account)))
    }

    /// The enabled owner of `token`; `InvalidToken` for a vanished or
    /// disabled one, whom a token no longer stands for.
    pub async fn owner_of(&self, token: &TokenRecord) -> Result<User, DomainError> {
        self.by_id(token.user_id)
            .await?
            .filter(|user| user.enabled)
            .ok_or(DomainError::InvalidToken)
    }

    /// The user a login names: by username, or by e-mail address when the
    /// identifier looks like one. `identifier` is normalised here. A name that
    /// is one user's username and another's e-mail address is
    /// `AmbiguousLogin`: which of them logs in must not depend on the order of
    /// the lookups.
    pub async fn by_login(&self, identifier: &str) -> Result<Option<User>, DomainError> {
        let key = normalize_identifier(identifier);
        if key.is_empty() {
            return Ok(None);
        }
        let by_username = self.ports.directory.find_by_username(&key).await?;
        let by_email = match key.contains('@') {
            true => self.ports.directory.find_by_email(&key).await?,
            false => None,
        };
        let entry = match (by_username, by_email) {
            (Some(named), Some(addressed)) if named.external_id != addressed.external_id => {
                return Err(DomainError::AmbiguousLogin);
            }
            (Some(entry), _) | (None, Some(entry)) => entry,
            (None, None) => return Ok(None),
        };
        Ok(Some(self.resolve(entry).await?))
    }

    /// The user with exactly this username (normalised here).
    pub async fn by_username(&self, username: &str) -> Result<Option<User>, DomainError> {
        let key = normalize_identifier(username);
        if key.is_empty() {
            return Ok(None);
        }
        match self.ports.directory.find_by_username(&key).await? {
            Some(entry) => Ok(Some(self.resolve(entry).await?)),
            None => Ok(None),
        }
    }

    /// The user with this e-mail address (normalised here).
    pub async fn by_email(&self, email: &str) -> Result<Option<User>, DomainError> {
        let key = normalize_identifier(email);
        if key.is_empty() {
            return Ok(None);
        }
        match self.ports.directory.find_by_email(&key).await? {
            Some(entry) => Ok(Some(self.resolve(entry).await?)),
            None => Ok(None),
        }
    }

    /// The user with this 12-digit personal number.
    pub async fn by_personal_number(&self, personal_number: &str) -> Result<Option<User>, DomainError> {
        match self
            .ports
            .directory
            .find_by_personal_number(personal_number)
            .await?
        {
            Some(entry) => Ok(Some(self.resolve(entry).await?)),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::error::DomainError;
    use crate::services::fixtures::World;

    #[tokio::test]
    async fn a_directory_user_gets_a_limen_id_on_first_sight_and_keeps_it() {
        let world = World::new();
        world.add_directory_user("ext-a", "ann");
        let users = world.services().users;
        let first = users.by_login("ANN").await.unwrap().unwrap();
        let again = users.by_login("ann@example.com").await.unwrap().unwrap();
        assert_eq!(first.id, again.id);
        assert_eq!(first.external_id, "ext-a");
        assert_eq!(users.by_id(first.id).await.unwrap().unwrap().username, "ann");
    }

    #[tokio::test]
    async fn an_e_mail_lookup_happens_only_for_identifiers_with_an_at() {
        let world = World::new();
        world.add_directory_user("1", "ann");
        let users = world.services().users;
        assert!(users.by_login("ann@example.com").await.unwrap().is_some());
        assert!(users.by_login("nobody").await.unwrap().is_none());
        assert!(users.by_login("   ").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn an_account_of_another_directory_or_a_vanished_user_is_no_user() {
        let world = World::new();
        world.add_directory_user("1", "ann");
        let users = world.services().users;
        let ann = users.by_login("ann").await.unwrap().unwrap();
        world.remove_directory_user("1");
        assert!(users.by_id(ann.id).await.unwrap().is_none());
        world.add_directory_user("1", "ann");
        world.move_account_to_directory(ann.id, "former");
        assert!(users.by_id(ann.id).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_name_that_is_one_user_s_username_and_another_s_address_is_ambiguous() {
        let world = World::new();
        world.add_directory_user("1", "ann");
        // Someone whose username is ann's address (added past Limen's checks).
        world.add_directory_user("2", "ann@example.com");
        let users = world.services().users;
        assert!(matches!(
            users.by_login("Ann@Example.com").await,
            Err(DomainError::AmbiguousLogin)
        ));
        assert_eq!(users.by_login("ann").await.unwrap().unwrap().external_id, "1");
    }
}
