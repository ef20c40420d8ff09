use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::error::DomainError;
use crate::model::{
    AccountPatch, AuditKind, IdentityLink, NewDirectoryEntry, Password, ProfileChange, Role, User, UserId,
    parse_personal_number, validate_email, validate_name, validate_new_password, validate_username,
};
use crate::ports::{Clock, PasskeyStore, PasswordHasher, SecondFactorStore};
use crate::services::{Attempts, Audit, AuditEntry, SessionService, Users};

/// Users fetched from the directory per page when listing.
const LIST_PAGE: u32 = 500;

/// What an operator (or a registration) supplies to create an account.
#[derive(Debug, Clone, Default)]
pub struct NewAccount {
    /// Login name.
    pub username: String,
    /// E-mail address.
    pub email: String,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Swedish personal number, in any form `parse_personal_number` accepts.
    pub personal_number: Option<String>,
    /// Initial password; `None` for accounts that log in only through a provider.
    pub password: Option<Password>,
}

/// A user with the lock Limen keeps, for operators.
#[derive(Debug, Clone)]
pub struct AccountSummary {
    /// The user.
    pub user: User,
    /// The account refuses logins until then.
    pub locked_until: Option<DateTime<Utc>>,
    /// A confirmed TOTP second factor.
    pub second_factor: bool,
}

/// Most users in one page of `AccountService::page`.
pub const MAX_PAGE: usize = 200;

/// Most directory entries one page reads to fill itself.
const SCAN_LIMIT: usize = 5_000;

/// Longest SCIM `externalId` kept.
const MAX_SCIM_EXTERNAL_ID_CHARS: usize = 255;

/// Which users a listing shows; `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// A part of the username, e-mail address or a name (any case).
    pub text: Option<String>,
    /// Locked (true) or not (false) by failed logins.
    pub locked: Option<bool>,
    /// Disabled (true) or not (false), by Limen or the directory.
    pub disabled: Option<bool>,
    /// With (true) or without (false) a confirmed second factor.
    pub second_factor: Option<bool>,
}

impl UserFilter {
    /// Whether `summary` passes every part of the filter.
    pub fn matches(&self, summary: &AccountSummary) -> bool {
        let user = &summary.user;
        let text = self.text.as_deref().map(str::to_lowercase);
        let text_matches = text.is_none_or(|text| {
            [
                Some(&user.username),
                Some(&user.email),
                user.first_name.as_ref(),
                user.last_name.as_ref(),
            ]
            .into_iter()
            .flatten()
            .any(|field| field.to_lowercase().contains(&text))
        });
        text_matches
            && self
                .locked
                .is_none_or(|locked| locked == summary.locked_until.is_some())
            && self.disabled.is_none_or(|disabled| disabled != user.enabled)
            && self
                .second_factor
                .is_none_or(|wanted| wanted == summary.second_factor)
    }
}

/// A page of users, and the cursor of the next when there may be more.
#[derive(Debug, Clone)]
pub struct UserPage {
    /// The users, in the directory's order.
    pub users: Vec<AccountSummary>,
    /// The directory id to go on after; `None` at the end.
    pub next: Option<String>,
}

/// A change of a user made through `AccountService::update`; `None` fields
/// stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserUpdate {
    /// Identity data, written to the directory.
    pub profile: ProfileChange,
    /// Limen's enabled flag.
    pub enabled: Option<bool>,
    /// The role.
    pub role: Option<Role>,
    /// The SCIM client's id of the user; `Some(None)` clears it.
    pub scim_external_id: Option<Option<String>>,
}

impl UserUpdate {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A SCIM `externalId`: trimmed, 1 to 255 characters without control characters.
fn validate_scim_external_id(id: &str) -> Result<String, DomainError> {
    let id = id.trim();
    if id.is_empty() || id.chars().count() > MAX_SCIM_EXTERNAL_ID_CHARS || id.chars().any(char::is_control) {
        return Err(DomainError::InvalidInput(format!(
            "externalId must be 1 to {MAX_SCIM_EXTERNAL_ID_CHARS} characters without control characters"
        )));
    }
    Ok(id.to_owned())
}

/// Account administration: create, list, change password, enable, disable,
/// unlock, set role, delete. Changes to identity data go to the directory (and
/// are refused by a read-only one); changes to Limen's state go to the account.
pub struct AccountService {
    ports: AccountPorts,
}

/// The ports and services account administration works with.
pub struct AccountPorts {
    /// The directory and the accounts.
    pub users: Arc<Users>,
    /// Revocation of a user's tokens.
    pub sessions: Arc<SessionService>,
    /// Second factors, deleted with the user.
    pub factors: Arc<dyn SecondFactorStore>,
    /// Passkeys, removed with their user.
    pub passkeys: Arc<dyn PasskeyStore>,
    /// Locks.
    pub attempts: Arc<Attempts>,
    /// Password hashing.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// The trail of password changes and unlocks.
    pub audit: Arc<Audit>,
}

impl AccountService {
    /// Wires the service.
    pub fn new(ports: AccountPorts) -> Self {
        Self { ports }
    }

    /// Validates and creates an account; nothing is written if any field is
    /// invalid or the directory is read-only.
    pub async fn create(&self, account: NewAccount) -> Result<User, DomainError> {
        if !self.ports.users.capabilities().create {
            return Err(DomainError::ReadOnlyDirectory);
        }
        let username = validate_username(&account.username)?;
        let email = validate_email(&account.email)?;
        let first_name = validate_name("first name", account.first_name.as_deref())?;
        let last_name = validate_name("last name", account.last_name.as_deref())?;
        let personal_number = self.personal_number(account.personal_number.as_deref())?;
        // Checked first so that a clash on both answers deterministically; the
        // directory's unique indexes still settle races between creations.
        let directory = self.ports.users.directory();
        // A username that is another user's e-mail address (or the other way
        // round) would make that address name two users at login.
        if directory.find_by_username(&username).await?.is_some()
            || directory.find_by_email(&username).await?.is_some()
        {
            return Err(DomainError::UsernameTaken);
        }
        if directory.find_by_email(&email).await?.is_some()
            || directory.find_by_username(&email).await?.is_some()
        {
            return Err(DomainError::EmailTaken);
        }
        let password_hash = match &account.password {
            Some(password) => {
                validate_new_password(password.expose())?;
                Some(self.ports.hasher.hash(password).await?)
            }
            None => None,
        };
        let entry = directory
            .create(NewDirectoryEntry {
                username,
                email,
                first_name,
                last_name,
                personal_number,
                password_hash,
                created_at: self.ports.clock.now(),
            })
            .await?;
        let user = self.ports.users.resolve(entry).await?;
        tracing::info!(user_id = %user.id, "user created");
        Ok(user)
    }

    /// Every user of the directory with Limen's lock and second factor, in
    /// the directory's order.
    pub async fn list(&self) -> Result<Vec<AccountSummary>, DomainError> {
        let mut summaries = Vec::new();
        let mut after = None;
        loop {
            let page = self.page(&UserFilter::default(), after, MAX_PAGE).await?;
            summaries.extend(page.users);
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(summaries),
            }
        }
    }

    /// The user with this username and Limen's lock of them.
    pub async fn summary(&self, username: &str) -> Result<AccountSummary, DomainError> {
        let user = self.find(username).await?;
        self.summarise(user).await
    }

    /// The user with this username, or `UnknownUser`.
    pub async fn find(&self, username: &str) -> Result<User, DomainError> {
        self.ports
            .users
            .by_username(username)
            .await?
            .ok_or_else(|| DomainError::UnknownUser(username.to_owned()))
    }

    /// Sets a new password and ends every session and remember-me token of the
    /// user, since whoever held the old password may hold one of them.
    pub async fn set_password(&self, username: &str, password: &Password) -> Result<(), DomainError> {
        validate_new_password(password.expose())?;
        let capabilities = self.ports.users.capabilities();
        if !capabilities.changes_passwords() {
            return Err(DomainError::ReadOnlyDirectory);
        }
        let user = self.find(username).await?;
        if capabilities.set_password {
            self.ports.users.store_password(&user, password).await?;
        } else {
            let hash = self.ports.hasher.hash(password).await?;
            self.ports.users.store_password_hash(&user, &hash).await?;
        }
        self.ports
            .audit
            .record(AuditEntry::new(AuditKind::PasswordChanged).user(&user))
            .await;
        self.ports.sessions.logout_everywhere(user.id).await?;
        tracing::info!(user_id = %user.id, "password changed; sessions revoked");
        Ok(())
    }

    /// Changes a user's e-mail address, names or personal number, each
    /// validated as at creation; an empty name or personal number clears it.
    /// Every node forgets what it cached of the user.
    pub async fn edit(&self, user: &User, change: ProfileChange) -> Result<User, DomainError> {
        if change.is_empty() {
            return Err(DomainError::InvalidInput("nothing to change".into()));
        }
        let normalised = self.normalise_profile(user, change).await?;
        self.write_profile(user, &normalised, AccountPatch::default())
            .await
    }

    /// The change validated and normalised as at creation; an e-mail address
    /// another user has is refused.
    async fn normalise_profile(
        &self,
        user: &User,
        change: ProfileChange,
    ) -> Result<ProfileChange, DomainError> {
        let directory = self.ports.users.directory();
        let another = |holder: Option<crate::model::DirectoryEntry>| {
            holder.is_some_and(|holder| holder.external_id != user.external_id)
        };
        let username = change.username.as_deref().map(validate_username).transpose()?;
        if let Some(username) = &username
            && (another(directory.find_by_username(username).await?)
                || another(directory.find_by_email(username).await?))
        {
            return Err(DomainError::UsernameTaken);
        }
        let email = change.email.as_deref().map(validate_email).transpose()?;
        if let Some(email) = &email
            && (another(directory.find_by_email(email).await?)
                || another(directory.find_by_username(email).await?))
        {
            return Err(DomainError::EmailTaken);
        }
        let name = |field: &str, value: &Option<Option<String>>| {
            value
                .as_ref()
                .map(|value| validate_name(field, value.as_deref()))
                .transpose()
        };
        let personal_number = change
            .personal_number
            .as_ref()
            .map(|value| self.personal_number(value.as_deref()))
            .transpose()?;
        Ok(ProfileChange {
            username,
            email,
            first_name: name("first name", &change.first_name)?,
            last_name: name("last name", &change.last_name)?,
            personal_number,
        })
    }

    /// Applies `patch` to the account (conditional on its version when the
    /// patch says so), then the profile change to the directory; every node
    /// forgets what it cached of the user. The account goes first so that of
    /// concurrent changes against one version exactly one writes anything.
    async fn write_profile(
        &self,
        user: &User,
        profile: &ProfileChange,
        patch: AccountPatch,
    ) -> Result<User, DomainError> {
        self.ports
            .users
            .accounts()
            .update(user.id, patch, self.ports.clock.now())
            .await?;
        if !profile.is_empty() {
            self.ports
                .users
                .directory()
                .update_profile(&user.external_id, profile)
                .await?;
            tracing::info!(user_id = %user.id, "profile changed");
        }
        self.ports.sessions.user_changed(user.id).await;
        self.by_id(user.id).await
    }

    /// A personal number in its stored form (12 digits); none for none or
    /// an empty one.
    fn personal_number(&self, raw: Option<&str>) -> Result<Option<String>, DomainError> {
        match raw.map(str::trim) {
            None | Some("") => Ok(None),
            Some(raw) => parse_personal_number(raw, self.ports.clock.now().date_naive())
                .map(Some)
                .ok_or_else(|| {
                    DomainError::InvalidInput(format!("{raw:?} is not a valid Swedish personal number"))
                }),
        }
    }

    /// The user with Limen's id `id`, or `UnknownUser`.
    pub async fn by_id(&self, id: UserId) -> Result<User, DomainError> {
        self.ports
            .users
            .by_id(id)
            .await?
            .ok_or_else(|| DomainError::UnknownUser(id.0.to_string()))
    }

    /// Changes a user as one operation against the version the caller read
    /// (`If-Match`): the profile (in the directory), Limen's enabled flag,
    /// the role and the SCIM client's id. Of concurrent updates against one
    /// version exactly one is applied; the others get `StaleVersion`.
    /// Nothing is written when any part is invalid, or when the profile
    /// changes and the directory is read-only.
    pub async fn update(
        &self,
        user: &User,
        expected_version: i64,
        update: UserUpdate,
    ) -> Result<User, DomainError> {
        if update.is_empty() {
            return Err(DomainError::InvalidInput("nothing to change".into()));
        }
        let profile = if update.profile.is_empty() {
            ProfileChange::default()
        } else {
            if !self.ports.users.capabilities().update_profile {
                return Err(DomainError::ReadOnlyDirectory);
            }
            self.normalise_profile(user, update.profile).await?
        };
        let scim_external_id = update
            .scim_external_id
            .map(|external| external.map(|id| validate_scim_external_id(&id)).transpose())
            .transpose()?;
        let patch = AccountPatch {
            role: update.role,
            disabled: update.enabled.map(|enabled| !enabled),
            scim_external_id,
            expected_version: Some(expected_version),
            ..AccountPatch::default()
        };
        let changed = self.write_profile(user, &profile, patch).await?;
        if let Some(role) = update.role {
            tracing::info!(user_id = %user.id, role = role.as_str(), "role changed");
        }
        if let Some(enabled) = update.enabled {
            self.enabled_changed(user, enabled).await?;
        }
        Ok(changed)
    }

    /// Deletes a user as `delete` does, only if the account is still at
    /// `expected_version`; `StaleVersion` otherwise.
    pub async fn delete_at_version(&self, user: &User, expected_version: i64) -> Result<(), DomainError> {
        if !self.ports.users.capabilities().delete {
            return Err(DomainError::ReadOnlyDirectory);
        }
        let claim = AccountPatch {
            expected_version: Some(expected_version),
            ..AccountPatch::default()
        };
        self.ports
            .users
            .accounts()
            .update(user.id, claim, self.ports.clock.now())
            .await?;
        self.delete(user).await
    }

    /// The users with `scim_external_id` as their SCIM client's id.
    pub async fn by_scim_external_id(&self, scim_external_id: &str) -> Result<Vec<User>, DomainError> {
        let ids = self
            .ports
            .users
            .accounts()
            .find_by_scim_external_id(scim_external_id)
            .await?;
        let mut users = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(user) = self.ports.users.by_id(id).await? {
                users.push(user);
            }
        }
        Ok(users)
    }

    /// One page of the directory's users that match `filter`, in the
    /// directory's order, starting after the directory id `after`. A page
    /// reads at most `SCAN_LIMIT` entries, so a filter that matches few users
    /// answers with fewer than `limit` and a cursor to go on from.
    pub async fn page(
        &self,
        filter: &UserFilter,
        after: Option<String>,
        limit: usize,
    ) -> Result<UserPage, DomainError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let mut users = Vec::new();
        let mut after = after;
        let mut scanned = 0;
        loop {
            let page = self
                .ports
                .users
                .directory()
                .list(after.clone(), LIST_PAGE)
                .await?;
            let full = page.len() == LIST_PAGE as usize;
            for entry in page {
                scanned += 1;
                after = Some(entry.external_id.clone());
                let user = self.ports.users.resolve(entry).await?;
                let summary = self.summarise(user).await?;
                if filter.matches(&summary) {
                    users.push(summary);
                    if users.len() == limit {
                        return Ok(UserPage { users, next: after });
                    }
                }
            }
            if !full {
                return Ok(UserPage { users, next: None });
            }
            if scanned >= SCAN_LIMIT {
                return Ok(UserPage { users, next: after });
            }
        }
    }

    /// The user with Limen's lock and second factor.
    pub async fn summarise(&self, user: User) -> Result<AccountSummary, DomainError> {
        let locked_until = self
            .ports
            .attempts
            .account(user.id)
            .blocked()
            .await?
            .map(|until| until.at());
        let second_factor = self
            .ports
            .factors
            .find_totp(user.id)
            .await?
            .is_some_and(|totp| totp.confirmed);
        Ok(AccountSummary {
            user,
            locked_until,
            second_factor,
        })
    }

    /// Enables or disables an account in Limen (whatever the directory says);
    /// disabling also revokes every token of the user.
    pub async fn set_enabled(&self, user: &User, enabled: bool) -> Result<(), DomainError> {
        let patch = AccountPatch {
            disabled: Some(!enabled),
            ..AccountPatch::default()
        };
        self.ports
            .users
            .accounts()
            .update(user.id, patch, self.ports.clock.now())
            .await?;
        self.enabled_changed(user, enabled).await
    }

    /// What follows a change of Limen's enabled flag: a disabled user's
    /// tokens are revoked everywhere, and either change is audited.
    async fn enabled_changed(&self, user: &User, enabled: bool) -> Result<(), DomainError> {
        if enabled {
            self.ports.sessions.user_changed(user.id).await;
        } else {
            self.ports.sessions.logout_everywhere(user.id).await?;
        }
        let kind = if enabled {
            AuditKind::AccountEnabled
        } else {
            AuditKind::AccountDisabled
        };
        self.ports.audit.record(AuditEntry::new(kind).user(user)).await;
        tracing::info!(user_id = %user.id, enabled, "account enabled state changed");
        Ok(())
    }

    /// Gives the user a role.
    pub async fn set_role(&self, user: &User, role: Role) -> Result<(), DomainError> {
        let patch = AccountPatch {
            role: Some(role),
            ..AccountPatch::default()
        };
        self.ports
            .users
            .accounts()
            .update(user.id, patch, self.ports.clock.now())
            .await?;
        self.ports.sessions.user_changed(user.id).await;
        tracing::info!(user_id = %user.id, role = role.as_str(), "role changed");
        Ok(())
    }

    /// The identities at OpenID providers linked to a user.
    pub async fn identities(&self, user: &User) -> Result<Vec<IdentityLink>, DomainError> {
        Ok(self.ports.users.accounts().identities(user.id).await?)
    }

    /// Removes the link of a user's identity at `issuer`: the next login
    /// through that provider matches by its claim again (and links anew).
    /// `InvalidInput` when the user has no identity there.
    pub async fn unlink(&self, username: &str, issuer: &str) -> Result<(), DomainError> {
        let user = self.find(username).await?;
        if !self
            .ports
            .users
            .accounts()
            .remove_identity(user.id, issuer)
            .await?
        {
            return Err(DomainError::InvalidInput(format!(
                "{username} has no identity linked at {issuer:?}"
            )));
        }
        tracing::info!(user_id = %user.id, %issuer, "identity at an OpenID provider unlinked");
        Ok(())
    }

    /// Lifts a brute-force lock and forgets the failure count.
    pub async fn unlock(&self, user: &User) -> Result<(), DomainError> {
        self.ports.attempts.account(user.id).reset().await?;
        self.ports.sessions.user_changed(user.id).await;
        tracing::info!(user_id = %user.id, "account unlocked");
        self.ports
            .audit
            .record(AuditEntry::new(AuditKind::AccountUnlocked).user(user))
            .await;
        Ok(())
    }

    /// Deletes a user and everything Limen keeps of them, explicitly: tokens,
    /// second factor, lock, account state, and the directory's entry.
    pub async fn delete(&self, user: &User) -> Result<(), DomainError> {
        if !self.ports.users.capabilities().delete {
            return Err(DomainError::ReadOnlyDirectory);
        }
        self.ports.sessions.forget_user(user.id).await?;
        self.ports.factors.delete_totp(user.id).await?;
        self.ports.passkeys.remove_all_for_user(user.id).await?;
        self.ports.attempts.account(user.id).reset().await?;
        self.ports.users.accounts().delete(user.id).await?;
        self.ports.users.directory().delete(&user.external_id).await?;
        tracing::info!(user_id = %user.id, "user deleted");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::model::TokenKind;
    use crate::services::fixtures::World;

    fn new_account(username: &str) -> NewAccount {
        NewAccount {
            username: format!(" {username} "),
            email: format!("{username}@Example.com"),
            first_name: Some(" Ann ".into()),
            last_name: None,
            personal_number: Some("19900101-0017".into()),
            password: Some(Password::new("long enough")),
        }
    }

    #[tokio::test]
    async fn create_normalises_hashes_and_links_the_new_user() {
        let world = World::new();
        let user = world
            .services()
            .accounts
            .create(new_account("Ann"))
            .await
            .unwrap();
        assert_eq!(user.username, "ann");
        assert_eq!(user.email, "ann@example.com");
        assert_eq!(user.first_name.as_deref(), Some("Ann"));
        assert_eq!(user.personal_number.as_deref(), Some("199001010017"));
        assert_eq!(world.password_hash(&user.external_id), "hash:long enough:current");
        assert_eq!(world.account(user.id).external_id, user.external_id);
    }

    #[tokio::test]
    async fn edits_are_validated_written_and_announced_to_every_node() {
        let world = World::new();
        let ann = world.add_user("ann");
        world.add_user("bob");
        let service = world.services().accounts;
        let edited = service
            .edit(
                &service.find("ann").await.unwrap(),
                ProfileChange {
                    email: Some(" Ann.New@Example.com ".into()),
                    first_name: Some(Some("".into())),
                    personal_number: Some(Some("19900101-0017".into())),
                    ..ProfileChange::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(edited.email, "ann.new@example.com");
        assert_eq!(edited.first_name, None);
        assert_eq!(edited.personal_number.as_deref(), Some("199001010017"));
        assert!(
            world
                .published()
                .contains(&crate::model::Invalidation::User(ann.id)),
            "{:?}",
            world.published()
        );
        for (change, refused) in [
            (ProfileChange::default(), "nothing"),
            (
                ProfileChange {
                    email: Some("bob@example.com".into()),
                    ..ProfileChange::default()
                },
                "taken",
            ),
            (
                ProfileChange {
                    email: Some("no address".into()),
                    ..ProfileChange::default()
                },
                "invalid",
            ),
        ] {
            let outcome = service.edit(&service.find("ann").await.unwrap(), change).await;
            assert!(
                matches!(
                    (&outcome, refused),
                    (Err(DomainError::InvalidInput(_)), "nothing" | "invalid")
                        | (Err(DomainError::EmailTaken), "taken")
                ),
                "{refused}: {outcome:?}"
            );
        }
        let read_only = World::read_only();
        let ann = read_only.add_user("ann");
        assert!(matches!(
            read_only
                .services()
                .accounts
                .edit(
                    &ann,
                    ProfileChange {
                        last_name: Some(Some("Lind".into())),
                        ..ProfileChange::default()
                    }
                )
                .await,
            Err(DomainError::ReadOnlyDirectory)
        ));
    }

    #[tokio::test]
    async fn invalid_fields_and_taken_names_write_nothing() {
        let world = World::new();
        world.add_user("ann");
        let service = world.services().accounts;
        for account in [
            NewAccount {
                email: "not an address".into(),
                ..new_account("bob")
            },
            NewAccount {
                personal_number: Some("19900101-0018".into()),
                ..new_account("bob")
            },
            NewAccount {
                password: Some(Password::new("short")),
                ..new_account("bob")
            },
        ] {
            assert!(matches!(
                service.create(account).await,
                Err(DomainError::InvalidInput(_))
            ));
        }
        assert!(matches!(
            service.create(new_account("ann")).await,
            Err(DomainError::UsernameTaken)
        ));
        assert_eq!(world.directory_size(), 1);
        assert!(world.hashes_made() == 0);
    }

    #[tokio::test]
    async fn a_read_only_directory_refuses_creation_and_passwords_but_not_limen_s_own_state() {
        let world = World::read_only();
        let ann = world.add_user("ann");
        let service = world.services().accounts;
        assert!(matches!(
            service.create(new_account("bob")).await,
            Err(DomainError::ReadOnlyDirectory)
        ));
        assert!(matches!(
            service.set_password("ann", &Password::new("long enough")).await,
            Err(DomainError::ReadOnlyDirectory)
        ));
        service
            .set_role(&service.find("ann").await.unwrap(), Role::Support)
            .await
            .unwrap();
        service
            .set_enabled(&service.find("ann").await.unwrap(), false)
            .await
            .unwrap();
        assert!(world.account(ann.id).disabled);
        assert_eq!(world.account(ann.id).role, Role::Support);
    }

    #[tokio::test]
    async fn a_new_password_revokes_every_token_of_the_user() {
        let world = World::new();
        let ann = world.add_user("ann");
        let sessions = world.services().sessions;
        let access = sessions
            .issue(ann.id, TokenKind::Access, Duration::hours(1))
            .await
            .unwrap();
        let remember = sessions
            .issue(ann.id, TokenKind::RememberMe, Duration::days(30))
            .await
            .unwrap();
        world
            .services()
            .accounts
            .set_password("ann", &Password::new("brand new pw"))
            .await
            .unwrap();
        assert!(world.token(&access.record.hash).revoked_at.is_some());
        assert!(world.token(&remember.record.hash).revoked_at.is_some());
        assert_eq!(world.password_hash(&ann.external_id), "hash:brand new pw:current");
    }

    #[tokio::test]
    async fn disabling_revokes_tokens_and_enabling_does_not_revive_them() {
        let world = World::new();
        let ann = world.add_user("ann");
        let sessions = world.services().sessions;
        let access = sessions
            .issue(ann.id, TokenKind::Access, Duration::hours(1))
            .await
            .unwrap();
        let service = world.services().accounts;
        service
            .set_enabled(&service.find("ann").await.unwrap(), false)
            .await
            .unwrap();
        service
            .set_enabled(&service.find("ann").await.unwrap(), true)
            .await
            .unwrap();
        assert!(sessions.authenticate(&access.plaintext).await.is_err());
        assert!(!world.account(ann.id).disabled);
    }

    #[tokio::test]
    async fn unlock_lifts_an_active_lock_and_list_shows_it() {
        let world = World::new();
        let ann = world.add_user("ann");
        let key = format!("account:{}", ann.id);
        world.block(&key, Duration::minutes(10));
        let service = world.services().accounts;
        let listed = service.list().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].locked_until.is_some());
        service.unlock(&service.find("ANN").await.unwrap()).await.unwrap();
        assert!(!world.is_blocked(&key));
        assert!(matches!(
            service.find("nobody").await,
            Err(DomainError::UnknownUser(name)) if name == "nobody"
        ));
    }

    #[tokio::test]
    async fn an_update_against_an_old_version_changes_nothing() {
        let world = World::new();
        let ann = world.add_user("ann");
        let service = world.services().accounts;
        let first = UserUpdate {
            role: Some(Role::Support),
            ..UserUpdate::default()
        };
        let changed = service.update(&ann, ann.version, first).await.unwrap();
        assert_eq!(changed.role, Role::Support);
        assert!(changed.version > ann.version);
        let stale = UserUpdate {
            profile: ProfileChange {
                last_name: Some(Some("Lind".into())),
                ..ProfileChange::default()
            },
            enabled: Some(false),
            ..UserUpdate::default()
        };
        assert!(matches!(
            service.update(&ann, ann.version, stale.clone()).await,
            Err(DomainError::StaleVersion)
        ));
        let now = service.by_id(ann.id).await.unwrap();
        assert_eq!((now.last_name.as_deref(), now.enabled), (None, true));
        let changed = service.update(&now, now.version, stale).await.unwrap();
        assert_eq!(
            (changed.last_name.as_deref(), changed.enabled),
            (Some("Lind"), false)
        );
        assert!(
            world
                .audited()
                .iter()
                .any(|(kind, user, _)| *kind == AuditKind::AccountDisabled && *user == Some(ann.id))
        );
        assert!(matches!(
            service
                .update(&changed, changed.version, UserUpdate::default())
                .await,
            Err(DomainError::InvalidInput(_))
        ));
    }

    #[tokio::test]
    async fn renames_are_checked_against_every_name_and_address() {
        let world = World::new();
        let ann = world.add_user("ann");
        world.add_user("bob");
        let service = world.services().accounts;
        let rename = |name: &str| UserUpdate {
            profile: ProfileChange {
                username: Some(name.into()),
                ..ProfileChange::default()
            },
            ..UserUpdate::default()
        };
        for taken in ["bob", "bob@example.com"] {
            assert!(
                matches!(
                    service.update(&ann, ann.version, rename(taken)).await,
                    Err(DomainError::UsernameTaken)
                ),
                "{taken}"
            );
        }
        let renamed = service.update(&ann, ann.version, rename(" Anna ")).await.unwrap();
        assert_eq!((renamed.id, renamed.username.as_str()), (ann.id, "anna"));
    }

    #[tokio::test]
    async fn a_read_only_directory_keeps_its_profile_and_limen_its_own_state() {
        let world = World::read_only();
        let ann = world.add_user("ann");
        let service = world.services().accounts;
        let profile = UserUpdate {
            profile: ProfileChange {
                email: Some("new@example.com".into()),
                ..ProfileChange::default()
            },
            enabled: Some(false),
            ..UserUpdate::default()
        };
        assert!(matches!(
            service.update(&ann, ann.version, profile).await,
            Err(DomainError::ReadOnlyDirectory)
        ));
        assert!(
            service.by_id(ann.id).await.unwrap().enabled,
            "nothing was written"
        );
        let own = UserUpdate {
            enabled: Some(false),
            scim_external_id: Some(Some(" e-1 ".into())),
            ..UserUpdate::default()
        };
        let changed = service.update(&ann, ann.version, own).await.unwrap();
        assert!(!changed.enabled);
        assert_eq!(changed.scim_external_id.as_deref(), Some("e-1"));
        assert_eq!(
            service.by_scim_external_id("e-1").await.unwrap(),
            vec![changed.clone()]
        );
        assert!(matches!(
            service.delete_at_version(&changed, changed.version).await,
            Err(DomainError::ReadOnlyDirectory)
        ));
    }

    #[tokio::test]
    async fn pages_filter_and_go_on_from_their_cursor() {
        let world = World::new();
        for name in ["ann", "bob", "cecilia", "dan"] {
            world.add_user(name);
        }
        let service = world.services().accounts;
        let bob = service.find("bob").await.unwrap();
        service.set_enabled(&bob, false).await.unwrap();
        let first = service.page(&UserFilter::default(), None, 3).await.unwrap();
        let names = |page: &UserPage| {
            page.users
                .iter()
                .map(|summary| summary.user.username.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&first), ["ann", "bob", "cecilia"]);
        let second = service
            .page(&UserFilter::default(), first.next.clone(), 3)
            .await
            .unwrap();
        assert_eq!((names(&second), second.next), (vec!["dan".to_owned()], None));
        let disabled = UserFilter {
            disabled: Some(true),
            ..UserFilter::default()
        };
        assert_eq!(names(&service.page(&disabled, None, 10).await.unwrap()), ["bob"]);
        let text = UserFilter {
            text: Some("CEC".into()),
            ..UserFilter::default()
        };
        assert_eq!(names(&service.page(&text, None, 10).await.unwrap()), ["cecilia"]);
    }

    #[tokio::test]
    async fn delete_removes_tokens_second_factor_lock_account_and_entry() {
        let world = World::new();
        let ann = world.add_user("ann");
        world.enrol_totp(ann.id);
        world.block(&format!("account:{}", ann.id), Duration::minutes(10));
        world
            .services()
            .sessions
            .issue(ann.id, TokenKind::Access, Duration::hours(1))
            .await
            .unwrap();
        world.services().accounts.delete(&ann).await.unwrap();
        assert_eq!(world.tokens_of(ann.id), 0);
        assert!(!world.has_totp(ann.id));
        assert!(!world.is_blocked(&format!("account:{}", ann.id)));
        assert!(!world.has_account(ann.id));
        assert_eq!(world.directory_size(), 0);
    }

    #[tokio::test]
    async fn a_username_may_not_be_another_user_s_address_nor_the_other_way_round() {
        let world = World::new();
        world.add_user("ann");
        let accounts = world.services().accounts;
        let as_username = NewAccount {
            username: "Ann@Example.com".into(),
            email: "someone@example.com".into(),
            ..new_account("x")
        };
        assert!(matches!(
            accounts.create(as_username).await,
            Err(DomainError::UsernameTaken)
        ));
        let as_address = NewAccount {
            username: "bo".into(),
            email: "ann".into(),
            ..new_account("x")
        };
        // "ann" is no address; one that is another user's username:
        assert!(accounts.create(as_address).await.is_err());
        world.add_directory_user("ext-z", "zed@example.com");
        let taken = NewAccount {
            username: "zed".into(),
            email: "ZED@example.com".into(),
            ..new_account("x")
        };
        assert!(matches!(
            accounts.create(taken).await,
            Err(DomainError::EmailTaken)
        ));
        assert_eq!(world.directory_size(), 2, "nothing was created");
    }
}
