use std::sync::Arc;
use std::time::Duration;

use crate::error::{DomainError, HashError};
use crate::error_class::RetryAt;
use crate::model::{
    AuditKind, ClientAddress, DirectoryVerdict, HashProfile, Password, User, normalize_identifier,
};
use crate::ports::{HashPoolStats, PasswordCheck, PasswordHasher};
use crate::services::{
    Attempt, Attempts, Audit, AuditEntry, AuthMethod, Authenticated, Counted, Grant, HashAdmission, LoggedIn,
    LoginCompletion, LoginOutcome, RefusalFloor, Users,
};

/// The method's name in the audit trail.
const PASSWORD: &str = "password";

/// The password identity provider: proves who someone is by a username (or
/// e-mail address) and a password.
///
/// Every attempt is counted before the password is checked, atomically, against
/// the client's address and against the account (or, for a name no one has,
/// against the name), so that parallel guesses cannot outrun the limits. Only an
/// admitted attempt reaches the hasher, and only a hash that passed the hasher's
/// bounds (`PasswordHasher::inspect`). Unknown users and users without a
/// password cost one verification against a dummy hash; every refusal then
/// waits out the `RefusalFloor`, so that it takes as long as the slowest hash
/// in use whatever was stored.
pub struct PasswordLogin {
    ports: PasswordLoginPorts,
}

/// The ports and services a password login works with.
pub struct PasswordLoginPorts {
    /// The directory's users.
    pub users: Arc<Users>,
    /// Checks and makes hashes.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Counted attempts.
    pub attempts: Arc<Attempts>,
    /// Hashes in flight per address.
    pub admission: Arc<HashAdmission>,
    /// The second half of every login.
    pub completion: Arc<LoginCompletion>,
    /// The trail of refusals.
    pub audit: Arc<Audit>,
    /// The least time a refusal takes.
    pub floor: Arc<RefusalFloor>,
}

/// Why a password check refused, in the audit trail's words.
enum Wrong {
    /// The password does not match, or no one has the name.
    Password,
    /// The name is one user's username and another's e-mail address.
    Ambiguous,
    /// The stored hash may not be used; the reason is for operators.
    UnusableHash(String),
}

/// A password check, before the address's attempt is settled.
enum Checked {
    /// The password is right; the account's attempt is still open.
    Right {
        user: User,
        account: Attempt,
        needs_rehash: bool,
        ran: Duration,
    },
    /// The password is wrong (or the name unknown, or the hash unusable).
    Wrong {
        user: Option<User>,
        name: String,
        account: Attempt,
        why: Wrong,
        ran: Duration,
    },
    /// The account refused the attempt before any check.
    AccountRefused {
        user: Option<User>,
        name: String,
        /// `AccountLocked` (a failure of the address) or `Busy` (not one).
        error: DomainError,
    },
    /// No check could be made, which is not the client's failure (a full
    /// hashing pool, a store that did not answer).
    Unchecked(DomainError),
}

impl PasswordLogin {
    /// Wires the service.
    pub fn new(ports: PasswordLoginPorts) -> Self {
        Self { ports }
    }

    /// A whole password login, for paths that have no step for a second
    /// factor (its users are refused with `SecondFactorRequired`).
    pub async fn login<G: Grant>(
        &self,
        identifier: &str,
        password: &Password,
        client: &ClientAddress,
        grant: G,
    ) -> Result<LoggedIn<G::Issued>, DomainError> {
        let (authenticated, ran) = self.authenticate_timed(identifier, password, client).await?;
        let outcome = self.ports.completion.complete(authenticated, grant).await;
        self.pace_refusal(&outcome, ran).await;
        outcome
    }

    /// A whole password login that stops at a pending token, good for
    /// `pending_ttl`, for users with a second factor.
    pub async fn login_or_pending<G: Grant>(
        &self,
        identifier: &str,
        password: &Password,
        client: &ClientAddress,
        grant: G,
        pending_ttl: chrono::Duration,
    ) -> Result<LoginOutcome<G::Issued>, DomainError> {
        let (authenticated, ran) = self.authenticate_timed(identifier, password, client).await?;
        let outcome = self
            .ports
            .completion
            .complete_or_pending(authenticated, grant, pending_ttl)
            .await;
        self.pace_refusal(&outcome, ran).await;
        outcome
    }

    /// A disabled account answers like a wrong password in some dialects, so
    /// its refusal takes the floor too.
    async fn pace_refusal<T>(&self, outcome: &Result<T, DomainError>, ran: Duration) {
        if let Err(DomainError::AccountDisabled) = outcome {
            self.ports.floor.pace(ran).await;
        }
    }

    /// The user whose credentials these are, with the account's attempt
    /// still open: `LoginCompletion` clears or refunds it.
    pub async fn authenticate(
        &self,
        identifier: &str,
        password: &Password,
        client: &ClientAddress,
    ) -> Result<Authenticated, DomainError> {
        Ok(self.authenticate_timed(identifier, password, client).await?.0)
    }

    /// `authenticate`, and how long the stored hash ran.
    async fn authenticate_timed(
        &self,
        identifier: &str,
        password: &Password,
        client: &ClientAddress,
    ) -> Result<(Authenticated, Duration), DomainError> {
        let address = match self.ports.attempts.login_address(client).admit().await? {
            Counted::Admitted(attempt) => attempt,
            Counted::Blocked { until } => {
                tracing::warn!(client = %client.throttle_key(), "login refused: too many failures from this address");
                let refused = DomainError::TooManyAttempts { until };
                self.ports
                    .audit
                    .login_failed(PASSWORD, None, identifier, &refused)
                    .await;
                return Err(refused);
            }
            Counted::Full => {
                self.ports
                    .audit
                    .login_failed(PASSWORD, None, identifier, &DomainError::Busy)
                    .await;
                return Err(DomainError::Busy);
            }
        };
        match self.check(identifier, password, client).await {
            Checked::Right {
                user,
                account,
                needs_rehash,
                ran,
            } => {
                if let Err(err) = address.refund().await {
                    account.refund().await?;
                    return Err(err);
                }
                if needs_rehash {
                    self.rehash(&user, password).await;
                }
                let authenticated = Authenticated {
                    user,
                    method: AuthMethod::Password,
                    attempt: Some(account),
                };
                Ok((authenticated, ran))
            }
            Checked::Wrong {
                user,
                name,
                account,
                why,
                ran,
            } => {
                let locked = account.fail().await;
                let address_settled = address.fail().await;
                let locked = locked?;
                address_settled?;
                let refused = match locked {
                    Some(block) => {
                        if let (Some(user), true) = (&user, block.started) {
                            tracing::warn!(user_id = %user.id, until = %block.until, "account locked after repeated failures");
                            let entry = AuditEntry::new(AuditKind::AccountLocked)
                                .user(user)
                                .detail(format!("until {}", block.until));
                            self.ports.audit.record(entry).await;
                        }
                        DomainError::AccountLocked { until: block.until }
                    }
                    None => DomainError::InvalidCredentials,
                };
                match why {
                    Wrong::Password => {
                        self.ports
                            .audit
                            .login_failed(PASSWORD, user.as_ref(), &name, &refused)
                            .await;
                    }
                    Wrong::Ambiguous => {
                        let detail = "the name is one user's username and another's e-mail address";
                        self.ports
                            .audit
                            .login_refused(PASSWORD, None, &name, "ambiguous_login", detail)
                            .await;
                    }
                    Wrong::UnusableHash(reason) => {
                        let detail = format!("unusable password hash: {reason}");
                        self.ports
                            .audit
                            .login_refused(PASSWORD, user.as_ref(), &name, "unusable_hash", &detail)
                            .await;
                    }
                }
                self.ports.floor.pace(ran).await;
                Err(refused)
            }
            Checked::AccountRefused { user, name, error } => {
                if matches!(error, DomainError::AccountLocked { .. }) {
                    address.fail().await?;
                } else {
                    address.refund().await?;
                }
                self.ports
                    .audit
                    .login_failed(PASSWORD, user.as_ref(), &name, &error)
                    .await;
                Err(error)
            }
            Checked::Unchecked(error) => {
                // Not the client's failure: the attempt is given back (if the
                // counts' own store answers), or a database outage would end
                // in every address throttled.
                if let Err(refund) = address.refund().await {
                    tracing::warn!(error = %refund, "could not give back an address's attempt");
                }
                self.ports
                    .audit
                    .login_failed(PASSWORD, None, identifier, &error)
                    .await;
                Err(error)
            }
        }
    }

    /// The password check proper, once the address's attempt is counted:
    /// the user, the account's attempt, the hash's bounds, the hash.
    async fn check(&self, identifier: &str, password: &Password, client: &ClientAddress) -> Checked {
        let ticket = match self.ports.admission.enter(client) {
            Ok(ticket) => ticket,
            Err(err) => return Checked::Unchecked(err),
        };
        let name = normalize_identifier(identifier);
        let (user, ambiguous) = match self.ports.users.by_login(&name).await {
            Ok(user) => (user, false),
            // Counted and timed as a name no one has; refused whatever the password.
            Err(DomainError::AmbiguousLogin) => (None, true),
            Err(err) => return Checked::Unchecked(err),
        };
        let counter = match &user {
            Some(user) => self.ports.attempts.account(user.id),
            None => self.ports.attempts.unknown_name(&name),
        };
        let account = match counter.admit().await {
            Ok(Counted::Admitted(attempt)) => attempt,
            Ok(Counted::Blocked { until }) => {
                let error = DomainError::AccountLocked { until };
                return Checked::AccountRefused { user, name, error };
            }
            // As many attempts of this account as may be are being checked
            // right now: this one waits for them to settle (a right password
            // is given back within moments).
            Ok(Counted::Full) => {
                let error = DomainError::Busy;
                return Checked::AccountRefused { user, name, error };
            }
            Err(err) => return Checked::Unchecked(err),
        };
        if self.ports.users.capabilities().checks_passwords {
            let checked = self
                .check_with_directory(user, name, account, ambiguous, password)
                .await;
            drop(ticket);
            return checked;
        }
        let stored = user.as_ref().and_then(|user| user.password_hash.clone());
        let dummy = stored.is_none();
        let hash = stored.unwrap_or_else(|| self.ports.hasher.dummy_hash());
        let profile = match self.ports.hasher.inspect(&hash) {
            Ok(profile) => profile,
            Err(err) => return self.not_verified(user, name, account, err).await,
        };
        let verified = self.ports.hasher.verify(password, &hash).await;
        drop(ticket);
        let verification = match verified {
            Ok(verification) => verification,
            Err(err) => return self.not_verified(user, name, account, err).await,
        };
        self.ports.floor.observe(&profile, verification.ran);
        let ran = verification.ran;
        match (user, verification.check) {
            (Some(user), PasswordCheck::Match { needs_rehash }) if !dummy => Checked::Right {
                user,
                account,
                needs_rehash,
                ran,
            },
            (user, _) => {
                match &user {
                    Some(user) => tracing::info!(user_id = %user.id, "password rejected"),
                    None if ambiguous => {
                        tracing::warn!(
                            "login refused: the name is one user's username and another's e-mail address"
                        )
                    }
                    None => tracing::info!("password rejected: unknown user"),
                }
                Checked::Wrong {
                    user,
                    name,
                    account,
                    why: if ambiguous {
                        Wrong::Ambiguous
                    } else {
                        Wrong::Password
                    },
                    ran,
                }
            }
        }
    }

    /// The check of a directory that checks passwords itself (an LDAP bind).
    /// A name nobody has binds nothing: its refusal is held to the floor the
    /// real binds teach, like any other.
    async fn check_with_directory(
        &self,
        user: Option<User>,
        name: String,
        account: Attempt,
        ambiguous: bool,
        password: &Password,
    ) -> Checked {
        let Some(found) = user.as_ref() else {
            let why = if ambiguous {
                Wrong::Ambiguous
            } else {
                Wrong::Password
            };
            tracing::info!("password rejected: unknown user");
            let ran = Duration::ZERO;
            return Checked::Wrong {
                user,
                name,
                account,
                why,
                ran,
            };
        };
        let started = std::time::Instant::now();
        let verdict = self
            .ports
            .users
            .directory()
            .check_password(&found.external_id, password)
            .await;
        let ran = started.elapsed();
        match verdict {
            Ok(DirectoryVerdict::Match) => {
                self.ports.floor.observe(&directory_profile(), ran);
                Checked::Right {
                    user: found.clone(),
                    account,
                    needs_rehash: false,
                    ran,
                }
            }
            Ok(DirectoryVerdict::Mismatch) => {
                self.ports.floor.observe(&directory_profile(), ran);
                tracing::info!(user_id = %found.id, "password rejected by the directory");
                let why = Wrong::Password;
                Checked::Wrong {
                    user,
                    name,
                    account,
                    why,
                    ran,
                }
            }
            // The directory's own state refuses the account whatever the
            // password: not a failure of the account's count (the directory
            // keeps its own), but the address's, as Limen's lock is.
            Ok(
                refusal @ (DirectoryVerdict::Locked
                | DirectoryVerdict::Disabled
                | DirectoryVerdict::PasswordExpired),
            ) => {
                if let Err(err) = account.refund().await {
                    return Checked::Unchecked(err);
                }
                let error = match refusal {
                    DirectoryVerdict::Locked => {
                        let now = self.ports.users.now();
                        let until = RetryAt::new(now + DIRECTORY_LOCK_RETRY, now);
                        DomainError::AccountLocked { until }
                    }
                    DirectoryVerdict::PasswordExpired => DomainError::PasswordExpired,
                    _ => DomainError::AccountDisabled,
                };
                tracing::info!(user_id = %found.id, %error, "login refused by the directory's account state");
                Checked::AccountRefused { user, name, error }
            }
            // Not the client's failure: the attempt is given back.
            Err(err) => match account.refund().await {
                Ok(()) => Checked::Unchecked(err.into()),
                Err(refund) => Checked::Unchecked(refund),
            },
        }
    }

    /// A hash that could not be checked: an unusable one is a wrong password
    /// (nothing computed); anything else is not the client's failure.
    async fn not_verified(
        &self,
        user: Option<User>,
        name: String,
        account: Attempt,
        err: HashError,
    ) -> Checked {
        match err {
            HashError::Unusable(reason) => {
                let user_id = user.as_ref().map(|user| user.id.0);
                tracing::warn!(user_id, %reason, "password refused: the stored hash is unusable");
                Checked::Wrong {
                    user,
                    name,
                    account,
                    why: Wrong::UnusableHash(reason),
                    ran: Duration::ZERO,
                }
            }
            other => match account.refund().await {
                Ok(()) => Checked::Unchecked(other.into()),
                Err(refund) => Checked::Unchecked(refund),
            },
        }
    }

    /// The hashing pool's figures, for the metrics.
    pub fn pool_stats(&self) -> HashPoolStats {
        self.ports.hasher.pool_stats()
    }

    /// The floor every refused password login is held to now, for the metrics.
    pub fn refusal_floor(&self) -> Duration {
        self.ports.floor.floor()
    }

    /// Re-checks the password of a user who is already logged in, before a
    /// sensitive change; counted like a login attempt.
    pub async fn confirm(
        &self,
        user: &User,
        password: &Password,
        client: &ClientAddress,
    ) -> Result<(), DomainError> {
        let authenticated = self.authenticate(&user.username, password, client).await?;
        // The check is not a login: the attempt is given back, the count stands.
        if let Some(attempt) = authenticated.attempt {
            attempt.refund().await?;
        }
        if authenticated.user.id != user.id {
            return Err(DomainError::InvalidCredentials);
        }
        Ok(())
    }

    /// Stores a hash with the current parameters, when the directory takes it.
    async fn rehash(&self, user: &User, password: &Password) {
        if !self.ports.users.capabilities().set_password_hash {
            return;
        }
        let result = match self.ports.hasher.hash(password).await {
            Ok(hash) => self
                .ports
                .users
                .directory()
                .set_password_hash(&user.external_id, &hash)
                .await
                .map_err(|err| err.to_string()),
            Err(err) => Err(err.to_string()),
        };
        match result {
            Ok(()) => tracing::info!(user_id = %user.id, "password hash upgraded to the current parameters"),
            // The login succeeded; the upgrade is retried at the next one.
            Err(err) => tracing::warn!(user_id = %user.id, error = %err, "could not upgrade a password hash"),
        }
    }
}

/// When a client is told to come back to an account the directory has
/// locked: LDAP does not say when its lockout ends.
const DIRECTORY_LOCK_RETRY: chrono::Duration = chrono::Duration::minutes(5);

/// What the refusal floor learns a directory's password checks under.
fn directory_profile() -> HashProfile {
    HashProfile("directory bind".into())
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::model::IssuedToken;
    use crate::services::AccessGrant;
    use crate::services::fixtures::World;

    fn client() -> ClientAddress {
        ClientAddress::new("192.0.2.9".parse().unwrap())
    }

    async fn login(world: &World, name: &str, password: &str) -> Result<LoggedIn<IssuedToken>, DomainError> {
        world
            .services()
            .password_login
            .login(
                name,
                &Password::new(password),
                &client(),
                AccessGrant::new(Duration::hours(1)),
            )
            .await
    }

    #[tokio::test]
    async fn the_right_password_logs_in_by_username_or_e_mail_in_any_case() {
        let world = World::new();
        world.add_user("ann");
        assert!(login(&world, " ANN ", "pw-ann").await.is_ok());
        assert!(login(&world, "Ann@Example.com", "pw-ann").await.is_ok());
    }

    #[tokio::test]
    async fn an_unknown_user_costs_one_dummy_verification_and_is_counted_by_name() {
        let world = World::new();
        world.add_user("ann");
        let err = login(&world, "bob", "whatever").await.unwrap_err();
        assert!(matches!(err, DomainError::InvalidCredentials));
        assert_eq!(world.verifications(), vec![World::DUMMY_HASH.to_owned()]);
        assert_eq!(world.failures(&world.name_key("bob")), 1);
    }

    #[tokio::test]
    async fn the_failure_that_reaches_the_limit_answers_locked_and_locks() {
        let world = World::new();
        let ann = world.add_user("ann");
        for _ in 0..4 {
            assert!(matches!(
                login(&world, "ann", "wrong").await,
                Err(DomainError::InvalidCredentials)
            ));
        }
        let err = login(&world, "ann", "wrong").await.unwrap_err();
        assert!(
            matches!(err, DomainError::AccountLocked { until } if until.at() == world.now() + Duration::minutes(15))
        );
        // Locked: even the right password is refused, and costs no hash at all.
        let before = world.verifications().len();
        assert!(matches!(
            login(&world, "ann", "pw-ann").await,
            Err(DomainError::AccountLocked { .. })
        ));
        assert_eq!(world.verifications().len(), before);
        assert!(world.is_blocked(&format!("account:{}", ann.id)));
    }

    #[tokio::test]
    async fn while_the_allowed_attempts_are_being_checked_another_one_waits_uncounted() {
        let world = World::new();
        let ann = world.add_user("ann");
        // Five attempts admitted and not yet settled: as many as may be checked.
        world.set_failures(&format!("account:{}", ann.id), 5);
        let err = login(&world, "ann", "pw-ann").await.unwrap_err();
        assert!(matches!(err, DomainError::Busy), "{err:?}");
        assert!(world.verifications().is_empty());
        assert_eq!(
            world.failures("login:192.0.2.9"),
            0,
            "the address's attempt is given back"
        );
        assert!(!world.is_blocked(&format!("account:{}", ann.id)));
    }

    #[tokio::test]
    async fn an_unknown_name_locks_like_an_account_so_the_answer_reveals_nothing() {
        let world = World::new();
        for _ in 0..4 {
            assert!(matches!(
                login(&world, "ghost", "x").await,
                Err(DomainError::InvalidCredentials)
            ));
        }
        assert!(matches!(
            login(&world, "ghost", "x").await,
            Err(DomainError::AccountLocked { .. })
        ));
        assert!(matches!(
            login(&world, "ghost", "x").await,
            Err(DomainError::AccountLocked { .. })
        ));
    }

    #[tokio::test]
    async fn a_right_password_clears_the_count_and_a_lock_expires_by_itself() {
        let world = World::new();
        let ann = world.add_user("ann");
        for _ in 0..3 {
            let _ = login(&world, "ann", "wrong").await;
        }
        assert!(login(&world, "ann", "pw-ann").await.is_ok());
        assert_eq!(world.failures(&format!("account:{}", ann.id)), 0);
        for _ in 0..5 {
            let _ = login(&world, "ann", "wrong").await;
        }
        world.advance(Duration::minutes(15));
        assert!(login(&world, "ann", "pw-ann").await.is_ok());
    }

    #[tokio::test]
    async fn an_address_with_too_many_failures_is_refused_before_any_lookup() {
        let world = World::with_rules(|rules| rules.login_address.limit = 3);
        world.add_user("ann");
        for name in ["a", "b", "c"] {
            let _ = login(&world, name, "x").await;
        }
        let lookups = world.directory_lookups();
        let err = login(&world, "ann", "pw-ann").await.unwrap_err();
        assert!(matches!(err, DomainError::TooManyAttempts { .. }));
        assert_eq!(world.directory_lookups(), lookups);
    }

    #[tokio::test]
    async fn successful_logins_do_not_use_up_the_address_allowance() {
        let world = World::with_rules(|rules| rules.login_address.limit = 3);
        world.add_user("ann");
        for _ in 0..10 {
            assert!(login(&world, "ann", "pw-ann").await.is_ok());
        }
    }

    #[tokio::test]
    async fn a_user_without_a_password_costs_a_dummy_verification() {
        let world = World::new();
        let ann = world.add_user("ann");
        world.clear_password(&ann.external_id);
        assert!(matches!(
            login(&world, "ann", "").await,
            Err(DomainError::InvalidCredentials)
        ));
        assert_eq!(world.verifications(), vec![World::DUMMY_HASH.to_owned()]);
    }

    #[tokio::test]
    async fn an_outdated_hash_is_upgraded_only_in_a_writable_directory() {
        let world = World::new();
        let ann = world.add_user("ann");
        world.mark_outdated(&ann.external_id);
        login(&world, "ann", "pw-ann").await.unwrap();
        assert_eq!(world.password_hash(&ann.external_id), "hash:pw-ann:current");

        let read_only = World::read_only();
        let bob = read_only.add_user("bob");
        read_only.mark_outdated(&bob.external_id);
        login(&read_only, "bob", "pw-bob").await.unwrap();
        assert_eq!(read_only.password_hash(&bob.external_id), "hash:pw-bob:outdated");
    }

    #[tokio::test]
    async fn a_saturated_hasher_answers_busy_and_counts_nothing() {
        let world = World::new();
        let ann = world.add_user("ann");
        world.hasher_is_busy();
        assert!(matches!(
            login(&world, "ann", "wrong").await,
            Err(DomainError::Busy)
        ));
        assert_eq!(world.failures(&format!("account:{}", ann.id)), 0);
        assert_eq!(world.failures("login:192.0.2.9"), 0);
    }

    #[tokio::test]
    async fn confirming_a_password_is_counted_only_when_wrong() {
        let world = World::new();
        let ann = world.add_user("ann");
        let service = world.services().password_login;
        service
            .confirm(&ann, &Password::new("pw-ann"), &client())
            .await
            .unwrap();
        assert_eq!(world.failures(&format!("account:{}", ann.id)), 0);
        assert!(
            service
                .confirm(&ann, &Password::new("nope"), &client())
                .await
                .is_err()
        );
        assert_eq!(world.failures(&format!("account:{}", ann.id)), 1);
    }

    #[tokio::test]
    async fn an_unusable_hash_is_a_wrong_password_counted_and_audited_with_no_hash_computed() {
        let world = World::new();
        let ann = world.add_user("ann");
        world.set_password_hash(
            &ann.external_id,
            "unusable:argon2 memory 4194304 KiB is above the bound of 262144 KiB",
        );
        let err = login(&world, "ann", "pw-ann").await.unwrap_err();
        assert!(matches!(err, DomainError::InvalidCredentials), "{err:?}");
        assert!(world.verifications().is_empty(), "nothing was computed");
        assert_eq!(world.failures(&format!("account:{}", ann.id)), 1);
        assert_eq!(world.failures("login:192.0.2.9"), 1);
        let (kind, user, detail) = world.audited().pop().unwrap();
        assert_eq!((kind, user), (AuditKind::LoginFailed, Some(ann.id)));
        assert!(
            detail.unwrap().contains("unusable password hash: argon2 memory"),
            "the reason is kept"
        );
        // It locks like wrong passwords do.
        for _ in 0..4 {
            let _ = login(&world, "ann", "pw-ann").await;
        }
        assert!(world.is_blocked(&format!("account:{}", ann.id)));
    }

    /// Every refusal takes the slowest hash's time, whatever the user's hash:
    /// its own hash's time (the fake hasher reports it without spending it)
    /// plus the wait is the floor. Time is paused, so the waits are exact.
    #[tokio::test(start_paused = true)]
    async fn every_refused_password_login_takes_the_floor_and_a_success_does_not_wait() {
        let world = World::new();
        world.set_hash_time("current", std::time::Duration::from_millis(20));
        world.set_hash_time("sha512crypt", std::time::Duration::from_millis(2));
        world.set_hash_time("slow-argon2id", std::time::Duration::from_millis(150));
        world.add_user("ann");
        let bob = world.add_user("bob");
        world.set_password_hash(&bob.external_id, "hash:pw-bob:sha512crypt");
        let cid = world.add_user("cid");
        world.set_password_hash(&cid.external_id, "hash:pw-cid:slow-argon2id");
        let dan = world.add_user("dan");
        world.set_disabled(dan.id, true);
        let eve = world.add_user("eve");
        world.set_password_hash(&eve.external_id, "unusable:no such format");
        let services = world.services();
        let timed = |name: &'static str, password: &'static str| {
            let services = services.clone();
            async move {
                let started = tokio::time::Instant::now();
                let outcome = services
                    .password_login
                    .login(
                        name,
                        &Password::new(password),
                        &client(),
                        AccessGrant::new(Duration::hours(1)),
                    )
                    .await;
                (outcome.is_ok(), started.elapsed())
            }
        };
        // The slow profile is learned at its first check.
        assert_eq!(timed("cid", "wrong").await, (false, std::time::Duration::ZERO));
        let ms = std::time::Duration::from_millis;
        let cases = [
            ("ghost", "wrong", ms(20)),
            ("ann", "wrong", ms(20)),
            ("bob", "wrong", ms(2)),
            ("cid", "wrong", ms(150)),
            ("dan", "pw-dan", ms(20)),
            ("eve", "pw-eve", ms(0)),
        ];
        for (name, password, own_hash) in cases {
            let (ok, waited) = timed(name, password).await;
            assert!(!ok, "{name}");
            assert_eq!(waited + own_hash, ms(150), "{name}");
        }
        assert_eq!(timed("ann", "pw-ann").await, (true, std::time::Duration::ZERO));
    }

    #[tokio::test]
    async fn an_ambiguous_name_is_refused_like_a_wrong_password_and_audited() {
        let world = World::new();
        let ann = world.add_user("ann");
        world.add_directory_user("ext-x", "ann@example.com");
        // Even ann's right password: which of the two would log in is a guess.
        let err = login(&world, "ann@example.com", "pw-ann").await.unwrap_err();
        assert!(matches!(err, DomainError::InvalidCredentials), "{err:?}");
        assert_eq!(world.verifications(), vec![World::DUMMY_HASH.to_owned()]);
        assert_eq!(world.failures(&world.name_key("ann@example.com")), 1);
        assert_eq!(world.failures(&format!("account:{}", ann.id)), 0);
        let (kind, user, detail) = world.audited().pop().unwrap();
        assert_eq!((kind, user), (AuditKind::LoginFailed, None));
        assert!(detail.unwrap().contains("another's e-mail address"));
        // By username, ann logs in.
        assert!(login(&world, "ann", "pw-ann").await.is_ok());
    }

    #[tokio::test]
    async fn a_directory_that_checks_passwords_is_asked_and_no_hash_is_computed() {
        let world = World::checking_passwords();
        let ann = world.add_user("ann");
        assert!(login(&world, "ann", "pw-ann").await.is_ok());
        assert!(matches!(
            login(&world, "ann", "wrong").await,
            Err(DomainError::InvalidCredentials)
        ));
        assert_eq!(world.password_checks(), 2);
        assert!(world.verifications().is_empty(), "Limen verified no hash");
        assert_eq!(world.failures(&format!("account:{}", ann.id)), 1);
    }

    #[tokio::test]
    async fn an_unknown_name_binds_nothing_and_still_counts() {
        let world = World::checking_passwords();
        world.add_user("ann");
        assert!(matches!(
            login(&world, "ghost", "pw-ann").await,
            Err(DomainError::InvalidCredentials)
        ));
        assert_eq!(world.password_checks(), 0);
        assert_eq!(world.failures(&world.name_key("ghost")), 1);
    }

    #[tokio::test]
    async fn limens_lockout_applies_on_top_of_the_directory() {
        let world = World::checking_passwords();
        world.add_user("ann");
        for _ in 0..4 {
            assert!(login(&world, "ann", "wrong").await.is_err());
        }
        assert!(matches!(
            login(&world, "ann", "wrong").await,
            Err(DomainError::AccountLocked { .. })
        ));
        let checks = world.password_checks();
        assert!(matches!(
            login(&world, "ann", "pw-ann").await,
            Err(DomainError::AccountLocked { .. })
        ));
        assert_eq!(world.password_checks(), checks, "a locked account binds nothing");
    }

    #[tokio::test]
    async fn the_directorys_own_lock_and_disable_refuse_with_their_reason_and_count_no_failure() {
        let world = World::checking_passwords();
        let ann = world.add_user("ann");
        let bob = world.add_user("bob");
        world.refuse_in_directory(&ann.external_id, DirectoryVerdict::Locked);
        world.refuse_in_directory(&bob.external_id, DirectoryVerdict::Disabled);
        let cid = world.add_user("cid");
        world.refuse_in_directory(&cid.external_id, DirectoryVerdict::PasswordExpired);
        assert!(matches!(
            login(&world, "cid", "pw-cid").await,
            Err(DomainError::PasswordExpired)
        ));
        let locked = login(&world, "ann", "pw-ann").await.unwrap_err();
        assert!(
            matches!(locked, DomainError::AccountLocked { until } if until.at() == world.now() + DIRECTORY_LOCK_RETRY),
            "{locked:?}"
        );
        assert!(matches!(
            login(&world, "bob", "pw-bob").await,
            Err(DomainError::AccountDisabled)
        ));
        assert_eq!(world.failures(&format!("account:{}", ann.id)), 0);
        assert_eq!(world.failures(&format!("account:{}", bob.id)), 0);
    }
}
