use std::sync::Arc;

use crate::error::{DomainError, StoreError};
use chrono::Duration;

use crate::model::{IssuedToken, Password, TokenKind, User, normalize_identifier};
use crate::ports::{Clock, PasswordCheck, PasswordHasher, SecondFactorStore, UserStore};
use crate::services::{LockoutPolicy, SessionService};

/// How often a lock-state write is retried after losing an optimistic-locking race.
const LOCK_STATE_RETRIES: usize = 5;

/// Password login: finds the user by username or e-mail, verifies the password,
/// and keeps the brute-force lockout.
pub struct PasswordLogin {
    users: Arc<dyn UserStore>,
    hasher: Arc<dyn PasswordHasher>,
    clock: Arc<dyn Clock>,
    sessions: Arc<SessionService>,
    factors: Arc<dyn SecondFactorStore>,
    policy: LoginPolicy,
}

/// The rules of password login.
#[derive(Debug, Clone, Copy)]
pub struct LoginPolicy {
    /// Brute-force lockout.
    pub lockout: LockoutPolicy,
    /// How long the pending token of a user with a second factor lasts.
    pub pending_second_factor_ttl: Duration,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        Self {
            lockout: LockoutPolicy::default(),
            pending_second_factor_ttl: Duration::minutes(5),
        }
    }
}

/// The result of a right password.
#[derive(Debug, Clone)]
pub enum LoginOutcome {
    /// Logged in: the access token of the session.
    LoggedIn {
        /// Who logged in.
        user: User,
        /// The access token.
        token: IssuedToken,
    },
    /// The user has a second factor: this pending token, good only for
    /// presenting it, stands for the password step.
    SecondFactorRequired {
        /// Whose password it was.
        user: User,
        /// The pending token.
        pending: IssuedToken,
    },
}

impl PasswordLogin {
    /// Wires the service to its ports.
    pub fn new(
        users: Arc<dyn UserStore>,
        hasher: Arc<dyn PasswordHasher>,
        clock: Arc<dyn Clock>,
        sessions: Arc<SessionService>,
        factors: Arc<dyn SecondFactorStore>,
        policy: LoginPolicy,
    ) -> Self {
        Self {
            users,
            hasher,
            clock,
            sessions,
            factors,
            policy,
        }
    }

    /// Verifies the credentials; then issues an access token valid for `ttl`, or,
    /// for a user with a second factor, a pending token. The failure count is
    /// cleared only once the login is complete, so that a second-factor guesser
    /// cannot reset it by entering the password again.
    pub async fn login(
        &self,
        identifier: &str,
        password: &Password,
        ttl: Duration,
    ) -> Result<LoginOutcome, DomainError> {
        let user = self.verify(identifier, password).await?;
        let second_factor = self
            .factors
            .find_totp(user.id)
            .await?
            .is_some_and(|totp| totp.confirmed);
        if second_factor {
            let pending = self
                .sessions
                .issue(
                    user.id,
                    TokenKind::PendingSecondFactor,
                    self.policy.pending_second_factor_ttl,
                )
                .await?;
            tracing::info!(user_id = %user.id, "password accepted; second factor required");
            return Ok(LoginOutcome::SecondFactorRequired { user, pending });
        }
        self.users.record_login(user.id, self.clock.now()).await?;
        let token = self.sessions.issue(user.id, TokenKind::Access, ttl).await?;
        tracing::info!(user_id = %user.id, token_id = token.record.id.0, "password login");
        Ok(LoginOutcome::LoggedIn { user, token })
    }

    /// A login for APIs that have no second step: the user, with the login
    /// recorded, or `SecondFactorRequired` for users who have a second factor.
    pub async fn login_single_step(
        &self,
        identifier: &str,
        password: &Password,
    ) -> Result<User, DomainError> {
        let user = self.verify(identifier, password).await?;
        let second_factor = self
            .factors
            .find_totp(user.id)
            .await?
            .is_some_and(|totp| totp.confirmed);
        if second_factor {
            return Err(DomainError::SecondFactorRequired);
        }
        self.users.record_login(user.id, self.clock.now()).await?;
        Ok(user)
    }

    /// The user whose credentials these are, without logging them in. Unknown
    /// users, users without a password and locked users cost one hash
    /// verification like everyone else; wrong passwords count towards the lock.
    pub async fn verify(&self, identifier: &str, password: &Password) -> Result<User, DomainError> {
        let Some(user) = self.find(identifier).await? else {
            self.burn(password).await?;
            return Err(DomainError::InvalidCredentials);
        };
        let now = self.clock.now();
        if let Some(until) = user.lock.locked_until.filter(|_| user.lock.is_locked_at(now)) {
            self.burn(password).await?;
            return Err(DomainError::AccountLocked { until });
        }
        let Some(hash) = user.password_hash.as_deref() else {
            self.burn(password).await?;
            return Err(DomainError::InvalidCredentials);
        };
        match self.hasher.verify(password, hash).await? {
            PasswordCheck::Mismatch => Err(self.record_failure(user).await?),
            PasswordCheck::Match { .. } if !user.enabled => Err(DomainError::AccountDisabled),
            PasswordCheck::Match { needs_rehash } => {
                if needs_rehash {
                    self.rehash(&user, password).await;
                }
                Ok(user)
            }
        }
    }

    async fn find(&self, identifier: &str) -> Result<Option<User>, DomainError> {
        let key = normalize_identifier(identifier);
        if key.is_empty() {
            return Ok(None);
        }
        if let Some(user) = self.users.find_by_username(&key).await? {
            return Ok(Some(user));
        }
        if key.contains('@') {
            return Ok(self.users.find_by_email(&key).await?);
        }
        Ok(None)
    }

    /// Verifies against the dummy hash so that the caller cannot tell this
    /// refusal from a wrong password by its duration.
    async fn burn(&self, password: &Password) -> Result<(), DomainError> {
        self.hasher.verify(password, &self.hasher.dummy_hash()).await?;
        Ok(())
    }

    /// Counts a failure (a wrong password or second-factor code); returns the
    /// error to answer with (locked if this failure locked the account).
    pub(crate) async fn record_failure(&self, mut user: User) -> Result<DomainError, DomainError> {
        for _ in 0..LOCK_STATE_RETRIES {
            let now = self.clock.now();
            let next = self.policy.lockout.after_failure(&user.lock, now);
            match self.users.update_lock_state(user.id, user.version, &next).await {
                Ok(()) => {
                    return Ok(match next.locked_until {
                        Some(until) => {
                            tracing::warn!(user_id = %user.id, %until, "account locked after repeated failures");
                            DomainError::AccountLocked { until }
                        }
                        None => DomainError::InvalidCredentials,
                    });
                }
                Err(StoreError::Conflict) => {
                    user = self
                        .users
                        .find_by_id(user.id)
                        .await?
                        .ok_or(DomainError::InvalidCredentials)?;
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(DomainError::Internal(format!(
            "lock state of user {} kept changing under concurrent logins",
            user.id
        )))
    }

    /// Upgrades a hash made with old parameters; a failure only delays the upgrade.
    async fn rehash(&self, user: &User, password: &Password) {
        let result = match self.hasher.hash(password).await {
            Ok(hash) => self
                .users
                .set_password_hash(user.id, &hash, self.clock.now())
                .await
                .map_err(DomainError::from),
            Err(err) => Err(err.into()),
        };
        if let Err(err) = result {
            tracing::warn!(user_id = %user.id, error = %err, "could not upgrade password hash");
        }
    }
}

#[cfg(test)]
mod tests {
    use mockall::predicate::eq;

    use super::*;
    use crate::error::HashError;
    use crate::model::{LockState, UserId};
    use crate::model::{StoredTotp, TokenHash, TotpParams};
    use crate::ports::{
        MockClock, MockPasswordHasher, MockSecondFactorStore, MockTokenMint, MockTokenStore, MockUserStore,
    };
    use crate::services::fixtures::{at, token, user};

    const DUMMY: &str = "dummy-hash";

    struct Mocks {
        users: MockUserStore,
        hasher: MockPasswordHasher,
        clock: MockClock,
        factors: MockSecondFactorStore,
    }

    impl Mocks {
        fn new() -> Self {
            let mut clock = MockClock::new();
            clock.expect_now().return_const(at(100));
            let mut hasher = MockPasswordHasher::new();
            hasher.expect_dummy_hash().return_const(DUMMY.to_owned());
            let mut factors = MockSecondFactorStore::new();
            factors.expect_find_totp().returning(|_| Ok(None));
            Self {
                users: MockUserStore::new(),
                hasher,
                clock,
                factors,
            }
        }

        fn with_user(mut self, found: User) -> Self {
            let by_name = found.clone();
            self.users
                .expect_find_by_username()
                .returning(move |name| Ok((name == by_name.username).then(|| by_name.clone())));
            self.users
                .expect_find_by_email()
                .returning(move |email| Ok((email == found.email).then(|| found.clone())));
            self
        }

        /// The hasher accepts exactly `right` against `hash-of-ann`, and counts
        /// dummy verifications.
        fn password_is(mut self, right: &'static str) -> Self {
            self.hasher.expect_verify().returning(move |password, hash| {
                Ok(if hash == "hash-of-ann" && password.expose() == right {
                    PasswordCheck::Match { needs_rehash: false }
                } else {
                    PasswordCheck::Mismatch
                })
            });
            self
        }

        fn service(self) -> PasswordLogin {
            self.service_with_tokens(MockTokenStore::new())
        }

        fn service_with_tokens(self, tokens: MockTokenStore) -> PasswordLogin {
            let users: Arc<dyn UserStore> = Arc::new(self.users);
            let clock: Arc<dyn Clock> = Arc::new(self.clock);
            let mut mint = MockTokenMint::new();
            mint.expect_mint()
                .return_const(("plain".to_owned(), TokenHash("digest".into())));
            let sessions =
                SessionService::new(users.clone(), Arc::new(tokens), Arc::new(mint), clock.clone());
            PasswordLogin::new(
                users,
                Arc::new(self.hasher),
                clock,
                Arc::new(sessions),
                Arc::new(self.factors),
                LoginPolicy::default(),
            )
        }
    }

    #[tokio::test]
    async fn verifying_the_right_password_records_no_login() {
        let mut mocks = Mocks::new().with_user(user(1, "ann")).password_is("s3cret!!");
        mocks.users.expect_record_login().never();
        let found = mocks
            .service()
            .verify("ann", &Password::new("s3cret!!"))
            .await
            .unwrap();
        assert_eq!(found.id, UserId(1));
    }

    #[tokio::test]
    async fn login_issues_an_access_token_and_clears_the_failure_count() {
        let mut mocks = Mocks::new().with_user(user(1, "ann")).password_is("pw");
        mocks
            .users
            .expect_record_login()
            .with(eq(UserId(1)), eq(at(100)))
            .times(1)
            .returning(|_, _| Ok(()));
        let mut tokens = MockTokenStore::new();
        tokens
            .expect_issue()
            .withf(|new| {
                new.kind == TokenKind::Access && new.expires_at == at(160) && new.user_id == UserId(1)
            })
            .times(1)
            .returning(|_| Ok(token(3, 1, 160)));
        let outcome = mocks
            .service_with_tokens(tokens)
            .login("ann", &Password::new("pw"), Duration::minutes(60))
            .await
            .unwrap();
        let LoginOutcome::LoggedIn { user, token } = outcome else {
            panic!("expected a completed login: {outcome:?}");
        };
        assert_eq!(token.plaintext, "plain");
        assert_eq!(user.username, "ann");
    }

    #[tokio::test]
    async fn a_user_with_a_confirmed_second_factor_gets_only_a_pending_token() {
        let mut mocks = Mocks::new().with_user(user(1, "ann")).password_is("pw");
        mocks.factors = MockSecondFactorStore::new();
        mocks.factors.expect_find_totp().returning(|_| {
            Ok(Some(StoredTotp {
                sealed_secret: "sealed".into(),
                params: TotpParams::default(),
                confirmed: true,
                last_used_step: None,
                created_at: at(0),
            }))
        });
        mocks.users.expect_record_login().never();
        let mut tokens = MockTokenStore::new();
        tokens
            .expect_issue()
            .withf(|new| new.kind == TokenKind::PendingSecondFactor && new.expires_at == at(105))
            .times(1)
            .returning(|_| Ok(token(3, 1, 105)));
        let outcome = mocks
            .service_with_tokens(tokens)
            .login("ann", &Password::new("pw"), Duration::minutes(60))
            .await
            .unwrap();
        assert!(
            matches!(outcome, LoginOutcome::SecondFactorRequired { .. }),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn an_unconfirmed_enrolment_does_not_ask_for_a_second_factor() {
        let mut mocks = Mocks::new().with_user(user(1, "ann")).password_is("pw");
        mocks.factors = MockSecondFactorStore::new();
        mocks.factors.expect_find_totp().returning(|_| {
            Ok(Some(StoredTotp {
                sealed_secret: "sealed".into(),
                params: TotpParams::default(),
                confirmed: false,
                last_used_step: None,
                created_at: at(0),
            }))
        });
        mocks.users.expect_record_login().returning(|_, _| Ok(()));
        let mut tokens = MockTokenStore::new();
        tokens
            .expect_issue()
            .withf(|new| new.kind == TokenKind::Access)
            .times(1)
            .returning(|_| Ok(token(3, 1, 160)));
        let outcome = mocks
            .service_with_tokens(tokens)
            .login("ann", &Password::new("pw"), Duration::minutes(60))
            .await
            .unwrap();
        assert!(matches!(outcome, LoginOutcome::LoggedIn { .. }));
    }

    #[tokio::test]
    async fn failed_credentials_issue_no_token() {
        let mocks = Mocks::new().with_user(user(1, "ann")).password_is("pw");
        let mut tokens = MockTokenStore::new();
        tokens.expect_issue().never();
        let mut mocks = mocks;
        mocks.users.expect_update_lock_state().returning(|_, _, _| Ok(()));
        let result = mocks
            .service_with_tokens(tokens)
            .login("ann", &Password::new("nope"), Duration::minutes(60))
            .await;
        assert!(matches!(result, Err(DomainError::InvalidCredentials)));
    }

    #[tokio::test]
    async fn the_identifier_may_be_the_email_in_any_case() {
        let mut mocks = Mocks::new().with_user(user(1, "ann")).password_is("pw");
        mocks.users.expect_record_login().returning(|_, _| Ok(()));
        let found = mocks
            .service()
            .verify(" ANN@example.com ", &Password::new("pw"))
            .await;
        assert_eq!(found.unwrap().username, "ann");
    }

    #[tokio::test]
    async fn an_unknown_user_costs_one_dummy_verification() {
        let mut mocks = Mocks::new().with_user(user(1, "ann"));
        mocks
            .hasher
            .expect_verify()
            .withf(|_, hash| hash == DUMMY)
            .times(1)
            .returning(|_, _| Ok(PasswordCheck::Mismatch));
        let err = mocks
            .service()
            .verify("bob", &Password::new("pw"))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::InvalidCredentials));
    }

    #[tokio::test]
    async fn a_wrong_password_is_counted_with_the_version_read() {
        let mut mocks = Mocks::new().with_user(user(1, "ann")).password_is("right");
        mocks
            .users
            .expect_update_lock_state()
            .withf(|id, version, lock| {
                *id == UserId(1) && *version == 1 && lock.failed_attempts == 1 && lock.locked_until.is_none()
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        mocks.users.expect_record_login().never();
        let err = mocks
            .service()
            .verify("ann", &Password::new("wrong"))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::InvalidCredentials));
    }

    #[tokio::test]
    async fn the_failure_that_reaches_the_limit_answers_locked() {
        let mut ann = user(1, "ann");
        ann.lock = LockState {
            failed_attempts: 4,
            window_started_at: Some(at(95)),
            locked_until: None,
        };
        let mut mocks = Mocks::new().with_user(ann).password_is("right");
        mocks.users.expect_update_lock_state().returning(|_, _, _| Ok(()));
        let err = mocks
            .service()
            .verify("ann", &Password::new("wrong"))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::AccountLocked { until } if until == at(115)));
    }

    #[tokio::test]
    async fn a_locked_account_refuses_even_the_right_password_at_full_cost() {
        let mut ann = user(1, "ann");
        ann.lock.locked_until = Some(at(101));
        let mut mocks = Mocks::new().with_user(ann);
        mocks
            .hasher
            .expect_verify()
            .withf(|_, hash| hash == DUMMY)
            .times(1)
            .returning(|_, _| Ok(PasswordCheck::Mismatch));
        mocks.users.expect_update_lock_state().never();
        mocks.users.expect_record_login().never();
        let err = mocks
            .service()
            .verify("ann", &Password::new("right"))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::AccountLocked { .. }));
    }

    #[tokio::test]
    async fn an_expired_lock_lets_the_right_password_in() {
        let mut ann = user(1, "ann");
        ann.lock.locked_until = Some(at(100));
        let mocks = Mocks::new().with_user(ann).password_is("right");
        assert!(
            mocks
                .service()
                .verify("ann", &Password::new("right"))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn a_disabled_account_with_the_right_password_is_refused_uncounted() {
        let mut ann = user(1, "ann");
        ann.enabled = false;
        let mut mocks = Mocks::new().with_user(ann).password_is("right");
        mocks.users.expect_update_lock_state().never();
        mocks.users.expect_record_login().never();
        let err = mocks
            .service()
            .verify("ann", &Password::new("right"))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::AccountDisabled));
    }

    #[tokio::test]
    async fn a_lost_race_re_reads_the_user_and_counts_on_the_newer_state() {
        let mut mocks = Mocks::new().with_user(user(1, "ann")).password_is("right");
        let mut seq = mockall::Sequence::new();
        mocks
            .users
            .expect_update_lock_state()
            .withf(|_, version, _| *version == 1)
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _, _| Err(StoreError::Conflict));
        mocks.users.expect_find_by_id().returning(|id| {
            let mut newer = user(id.0, "ann");
            newer.version = 2;
            newer.lock = LockState {
                failed_attempts: 2,
                window_started_at: Some(at(99)),
                locked_until: None,
            };
            Ok(Some(newer))
        });
        mocks
            .users
            .expect_update_lock_state()
            .withf(|_, version, lock| *version == 2 && lock.failed_attempts == 3)
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _, _| Ok(()));
        let err = mocks
            .service()
            .verify("ann", &Password::new("wrong"))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::InvalidCredentials));
    }

    #[tokio::test]
    async fn an_outdated_hash_is_upgraded_after_a_successful_login() {
        let mut mocks = Mocks::new().with_user(user(1, "ann"));
        mocks
            .hasher
            .expect_verify()
            .returning(|_, _| Ok(PasswordCheck::Match { needs_rehash: true }));
        mocks
            .hasher
            .expect_hash()
            .times(1)
            .returning(|_| Ok("fresh-hash".into()));
        mocks
            .users
            .expect_set_password_hash()
            .withf(|id, hash, _| *id == UserId(1) && hash == "fresh-hash")
            .times(1)
            .returning(|_, _, _| Ok(()));
        mocks.users.expect_record_login().returning(|_, _| Ok(()));
        assert!(mocks.service().verify("ann", &Password::new("pw")).await.is_ok());
    }

    #[tokio::test]
    async fn a_saturated_hasher_answers_busy() {
        let mut mocks = Mocks::new().with_user(user(1, "ann"));
        mocks
            .hasher
            .expect_verify()
            .returning(|_, _| Err(HashError::Busy));
        let err = mocks
            .service()
            .verify("ann", &Password::new("pw"))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::Busy));
    }

    #[tokio::test]
    async fn a_user_without_a_password_costs_a_dummy_verification() {
        let mut ann = user(1, "ann");
        ann.password_hash = None;
        let mut mocks = Mocks::new().with_user(ann);
        mocks
            .hasher
            .expect_verify()
            .withf(|_, hash| hash == DUMMY)
            .times(1)
            .returning(|_, _| Ok(PasswordCheck::Mismatch));
        let err = mocks
            .service()
            .verify("ann", &Password::new("pw"))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::InvalidCredentials));
    }
}
