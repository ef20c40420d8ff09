use std::sync::Arc;

use crate::error::{DomainError, StoreError};
use crate::model::{
    LockState, NewUser, Password, Role, User, normalize_identifier, parse_personal_number, validate_email,
    validate_name, validate_new_password, validate_username,
};
use crate::ports::{Clock, PasswordHasher, TokenStore, UserStore};

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

/// Account administration: create, list, change password, enable, disable, unlock.
pub struct AccountService {
    users: Arc<dyn UserStore>,
    tokens: Arc<dyn TokenStore>,
    hasher: Arc<dyn PasswordHasher>,
    clock: Arc<dyn Clock>,
}

impl AccountService {
    /// Wires the service to its ports.
    pub fn new(
        users: Arc<dyn UserStore>,
        tokens: Arc<dyn TokenStore>,
        hasher: Arc<dyn PasswordHasher>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            users,
            tokens,
            hasher,
            clock,
        }
    }

    /// Validates and creates an account; nothing is written if any field is invalid.
    pub async fn create(&self, account: NewAccount) -> Result<User, DomainError> {
        let username = validate_username(&account.username)?;
        let email = validate_email(&account.email)?;
        let first_name = validate_name("first name", account.first_name.as_deref())?;
        let last_name = validate_name("last name", account.last_name.as_deref())?;
        let personal_number = match account.personal_number.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(parse_personal_number(raw).ok_or_else(|| {
                DomainError::InvalidInput(format!("{raw:?} is not a valid Swedish personal number"))
            })?),
        };
        // Checked first so that a clash on both answers deterministically; the
        // store's unique indexes still settle races between concurrent creations.
        if self.users.find_by_username(&username).await?.is_some() {
            return Err(DomainError::UsernameTaken);
        }
        if self.users.find_by_email(&email).await?.is_some() {
            return Err(DomainError::EmailTaken);
        }
        let password_hash = match &account.password {
            Some(password) => {
                validate_new_password(password.expose())?;
                Some(self.hasher.hash(password).await?)
            }
            None => None,
        };
        let user = self
            .users
            .create(NewUser {
                username,
                email,
                first_name,
                last_name,
                personal_number,
                password_hash,
                key_pair: None,

                created_at: self.clock.now(),
            })
            .await?;
        tracing::info!(user_id = %user.id, "user created");
        Ok(user)
    }

    /// Every user, ordered by id.
    pub async fn list(&self) -> Result<Vec<User>, DomainError> {
        Ok(self.users.list().await?)
    }

    /// The user with this username, or `UnknownUser`.
    pub async fn find(&self, username: &str) -> Result<User, DomainError> {
        self.users
            .find_by_username(&normalize_identifier(username))
            .await?
            .ok_or_else(|| DomainError::UnknownUser(username.to_owned()))
    }

    /// Sets a new password and ends every session of the user, since whoever
    /// held the old password may hold one of them.
    pub async fn set_password(&self, username: &str, password: &Password) -> Result<(), DomainError> {
        validate_new_password(password.expose())?;
        let user = self.find(username).await?;
        let hash = self.hasher.hash(password).await?;
        let now = self.clock.now();
        self.users.set_password_hash(user.id, &hash, now).await?;
        self.tokens.revoke_all_for_user(user.id, now).await?;
        tracing::info!(user_id = %user.id, "password changed; sessions revoked");
        Ok(())
    }

    /// Enables or disables an account; disabling also revokes its tokens.
    pub async fn set_enabled(&self, username: &str, enabled: bool) -> Result<(), DomainError> {
        let user = self.find(username).await?;
        let now = self.clock.now();
        self.users.set_enabled(user.id, enabled, now).await?;
        if !enabled {
            self.tokens.revoke_all_for_user(user.id, now).await?;
        }
        tracing::info!(user_id = %user.id, enabled, "account enabled state changed");
        Ok(())
    }

    /// Gives the user a role.
    pub async fn set_role(&self, username: &str, role: Role) -> Result<(), DomainError> {
        let user = self.find(username).await?;
        self.users.set_role(user.id, role, self.clock.now()).await?;
        tracing::info!(user_id = %user.id, role = role.as_str(), "role changed");
        Ok(())
    }

    /// Lifts a brute-force lock and forgets the failure count.
    pub async fn unlock(&self, username: &str) -> Result<(), DomainError> {
        let mut user = self.find(username).await?;
        loop {
            match self
                .users
                .update_lock_state(user.id, user.version, &LockState::default())
                .await
            {
                Ok(()) => break,
                Err(StoreError::Conflict) => user = self.find(username).await?,
                Err(other) => return Err(other.into()),
            }
        }
        tracing::info!(user_id = %user.id, "account unlocked");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use mockall::predicate::eq;

    use super::*;
    use crate::error::UniqueField;
    use crate::model::UserId;
    use crate::ports::{MockClock, MockPasswordHasher, MockTokenStore, MockUserStore};
    use crate::services::fixtures::{at, user};

    struct Mocks {
        users: MockUserStore,
        tokens: MockTokenStore,
        hasher: MockPasswordHasher,
    }

    impl Mocks {
        fn new() -> Self {
            let mut users = MockUserStore::new();
            users.expect_find_by_email().returning(|_| Ok(None));
            let mut hasher = MockPasswordHasher::new();
            hasher
                .expect_hash()
                .returning(|password| Ok(format!("argon2-of-{}", password.expose())));
            Self {
                users,
                tokens: MockTokenStore::new(),
                hasher,
            }
        }

        fn service(self) -> AccountService {
            let mut clock = MockClock::new();
            clock.expect_now().return_const(at(7));
            AccountService::new(
                Arc::new(self.users),
                Arc::new(self.tokens),
                Arc::new(self.hasher),
                Arc::new(clock),
            )
        }
    }

    fn account() -> NewAccount {
        NewAccount {
            username: " Ann ".into(),
            email: "Ann@Example.com".into(),
            first_name: Some(" Ann ".into()),
            last_name: Some("".into()),
            personal_number: Some("19900101-2385".into()),
            password: Some(Password::new("correct horse")),
        }
    }

    #[tokio::test]
    async fn create_normalises_and_hashes_before_storing() {
        let mut mocks = Mocks::new();
        mocks.users.expect_find_by_username().returning(|_| Ok(None));
        mocks
            .users
            .expect_create()
            .withf(|new| {
                new.username == "ann"
                    && new.email == "ann@example.com"
                    && new.first_name.as_deref() == Some("Ann")
                    && new.last_name.is_none()
                    && new.personal_number.as_deref() == Some("199001012385")
                    && new.password_hash.as_deref() == Some("argon2-of-correct horse")
                    && new.created_at == at(7)
            })
            .times(1)
            .returning(|_| Ok(user(1, "ann")));
        assert_eq!(mocks.service().create(account()).await.unwrap().id, UserId(1));
    }

    #[tokio::test]
    async fn invalid_fields_write_nothing() {
        let cases = [
            NewAccount {
                username: "a b".into(),
                ..account()
            },
            NewAccount {
                email: "nope".into(),
                ..account()
            },
            NewAccount {
                personal_number: Some("199001012384".into()),
                ..account()
            },
            NewAccount {
                password: Some(Password::new("short")),
                ..account()
            },
        ];
        for case in cases {
            let mut mocks = Mocks::new();
            mocks.users.expect_find_by_username().returning(|_| Ok(None));
            mocks.users.expect_create().never();
            let err = mocks.service().create(case).await.unwrap_err();
            assert!(matches!(err, DomainError::InvalidInput(_)), "{err:?}");
        }
    }

    #[tokio::test]
    async fn a_taken_username_is_reported_as_such() {
        let mut mocks = Mocks::new();
        mocks.users.expect_find_by_username().returning(|_| Ok(None));
        mocks
            .users
            .expect_create()
            .returning(|_| Err(StoreError::Duplicate(UniqueField::Username)));
        let err = mocks.service().create(account()).await.unwrap_err();
        assert!(matches!(err, DomainError::UsernameTaken));
    }

    #[tokio::test]
    async fn an_existing_username_is_refused_before_hashing_or_writing() {
        let mut users = MockUserStore::new();
        users
            .expect_find_by_username()
            .with(eq("ann"))
            .returning(|_| Ok(Some(user(1, "ann"))));
        users.expect_create().never();
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_hash().never();
        let mocks = Mocks {
            users,
            tokens: MockTokenStore::new(),
            hasher,
        };
        let err = mocks.service().create(account()).await.unwrap_err();
        assert!(matches!(err, DomainError::UsernameTaken));
    }

    #[tokio::test]
    async fn a_new_password_revokes_every_session() {
        let mut mocks = Mocks::new();
        mocks
            .users
            .expect_find_by_username()
            .with(eq("ann"))
            .returning(|_| Ok(Some(user(4, "ann"))));
        mocks
            .users
            .expect_set_password_hash()
            .with(eq(UserId(4)), eq("argon2-of-new password"), eq(at(7)))
            .times(1)
            .returning(|_, _, _| Ok(()));
        mocks
            .tokens
            .expect_revoke_all_for_user()
            .with(eq(UserId(4)), eq(at(7)))
            .times(1)
            .returning(|_, _| Ok(2));
        mocks
            .service()
            .set_password("ANN", &Password::new("new password"))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn unknown_users_are_named_in_the_error() {
        let mut mocks = Mocks::new();
        mocks.users.expect_find_by_username().returning(|_| Ok(None));
        let err = mocks.service().set_enabled("ghost", false).await.unwrap_err();
        assert!(matches!(err, DomainError::UnknownUser(name) if name == "ghost"));
    }

    #[tokio::test]
    async fn disabling_revokes_tokens_and_enabling_does_not() {
        for enabled in [false, true] {
            let mut mocks = Mocks::new();
            mocks
                .users
                .expect_find_by_username()
                .returning(|_| Ok(Some(user(4, "ann"))));
            mocks
                .users
                .expect_set_enabled()
                .with(eq(UserId(4)), eq(enabled), eq(at(7)))
                .times(1)
                .returning(|_, _, _| Ok(()));
            mocks
                .tokens
                .expect_revoke_all_for_user()
                .times(usize::from(!enabled))
                .returning(|_, _| Ok(1));
            mocks.service().set_enabled("ann", enabled).await.unwrap();
        }
    }

    #[tokio::test]
    async fn unlock_clears_the_lock_state_at_the_version_read() {
        let mut mocks = Mocks::new();
        mocks.users.expect_find_by_username().returning(|_| {
            let mut ann = user(4, "ann");
            ann.version = 9;
            ann.lock.locked_until = Some(at(30));
            Ok(Some(ann))
        });
        mocks
            .users
            .expect_update_lock_state()
            .withf(|id, version, lock| *id == UserId(4) && *version == 9 && *lock == LockState::default())
            .times(1)
            .returning(|_, _, _| Ok(()));
        mocks.service().unlock("ann").await.unwrap();
    }
}
