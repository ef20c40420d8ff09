use std::sync::Arc;

use crate::error::DomainError;
use crate::model::{Admission, AuditKind, ClientAddress, Password, User, normalize_identifier};
use crate::ports::{HashPoolStats, PasswordCheck, PasswordHasher};
use crate::services::{
    Attempts, Audit, AuditEntry, AuthMethod, Authenticated, Grant, HashAdmission, LoginCompletion,
    LoginOutcome, SecondStep, Users,
};

/// The method's name in the audit trail.
const PASSWORD: &str = "password";

/// The password identity provider: proves who someone is by a username (or
/// e-mail address) and a password.
///
/// Every attempt is counted before the password is checked, atomically, against
/// the client's address and against the account (or, for a name no one has,
/// against the name), so that parallel guesses cannot outrun the limits. Only an
/// admitted attempt reaches the hasher. Unknown users and users without a
/// password cost one verification against a dummy hash, like a wrong password.
pub struct PasswordLogin {
    users: Arc<Users>,
    hasher: Arc<dyn PasswordHasher>,
    attempts: Arc<Attempts>,
    admission: Arc<HashAdmission>,
    completion: Arc<LoginCompletion>,
    audit: Arc<Audit>,
}

impl PasswordLogin {
    /// Wires the service.
    pub fn new(
        users: Arc<Users>,
        hasher: Arc<dyn PasswordHasher>,
        attempts: Arc<Attempts>,
        admission: Arc<HashAdmission>,
        completion: Arc<LoginCompletion>,
        audit: Arc<Audit>,
    ) -> Self {
        Self {
            users,
            hasher,
            attempts,
            admission,
            completion,
            audit,
        }
    }

    /// A whole password login: the credentials, then `LoginCompletion`.
    pub async fn login(
        &self,
        identifier: &str,
        password: &Password,
        client: &ClientAddress,
        grant: Grant,
        second: SecondStep,
    ) -> Result<LoginOutcome, DomainError> {
        let authenticated = self.authenticate(identifier, password, client).await?;
        self.completion.complete(authenticated, grant, second).await
    }

    /// The user whose credentials these are. The account attempt stays counted:
    /// `LoginCompletion` clears or refunds it.
    pub async fn authenticate(
        &self,
        identifier: &str,
        password: &Password,
        client: &ClientAddress,
    ) -> Result<Authenticated, DomainError> {
        let address = self.attempts.login_address(client);
        match address.admit().await? {
            Admission::Admitted => {}
            Admission::Blocked { until } => {
                tracing::warn!(client = %client.throttle_key(), "login refused: too many failures from this address");
                let refused = DomainError::TooManyAttempts { until };
                self.audit
                    .login_failed(PASSWORD, None, identifier, &refused)
                    .await;
                return Err(refused);
            }
            Admission::Full => {
                self.audit
                    .login_failed(PASSWORD, None, identifier, &DomainError::Busy)
                    .await;
                return Err(DomainError::Busy);
            }
        }
        let outcome = self.check_admitted(identifier, password, client, &address).await;
        if let Err(DomainError::Unavailable(_)) = &outcome {
            // A store that did not answer is not the client's failure: the
            // attempt is given back (if the counts' own store answers), or a
            // database outage would end in every address throttled.
            let _ = address.refund().await;
        }
        outcome
    }

    /// The rest of `authenticate`, once the address's attempt is counted.
    async fn check_admitted(
        &self,
        identifier: &str,
        password: &Password,
        client: &ClientAddress,
        address: &crate::services::Counter<'_>,
    ) -> Result<Authenticated, DomainError> {
        let ticket = match self.admission.enter(client) {
            Ok(ticket) => ticket,
            Err(err) => {
                address.refund().await?;
                self.audit.login_failed(PASSWORD, None, identifier, &err).await;
                return Err(err);
            }
        };
        let name = normalize_identifier(identifier);
        let user = self.users.by_login(&name).await?;
        let account = match &user {
            Some(user) => self.attempts.account(user.id),
            None => self.attempts.unknown_name(&name),
        };
        match account.admit().await? {
            Admission::Admitted => {}
            Admission::Blocked { until } => {
                address.fail().await?;
                let refused = DomainError::AccountLocked { until };
                self.audit
                    .login_failed(PASSWORD, user.as_ref(), &name, &refused)
                    .await;
                return Err(refused);
            }
            // As many attempts of this account as may be are being checked
            // right now: this one waits for them to settle (a right password
            // is given back within moments).
            Admission::Full => {
                address.refund().await?;
                self.audit
                    .login_failed(PASSWORD, user.as_ref(), &name, &DomainError::Busy)
                    .await;
                return Err(DomainError::Busy);
            }
        }
        let stored = user.as_ref().and_then(|user| user.password_hash.clone());
        let dummy = stored.is_none();
        let hash = stored.unwrap_or_else(|| self.hasher.dummy_hash());
        let check = self.hasher.verify(password, &hash).await;
        drop(ticket);
        let check = match check {
            Ok(check) => check,
            Err(err) => {
                // Not the client's failure: the attempt is given back.
                account.refund().await?;
                address.refund().await?;
                return Err(err.into());
            }
        };
        match (user, check) {
            (Some(user), PasswordCheck::Match { needs_rehash }) if !dummy => {
                address.refund().await?;
                if needs_rehash {
                    self.rehash(&user, password).await;
                }
                Ok(Authenticated {
                    user,
                    method: AuthMethod::Password,
                })
            }
            (user, _) => {
                let locked = account.fail().await?;
                address.fail().await?;
                match &user {
                    Some(user) => tracing::info!(user_id = %user.id, "password rejected"),
                    None => tracing::info!("password rejected: unknown user"),
                }
                let refused = match locked {
                    Some(block) => {
                        if let (Some(user), true) = (&user, block.started) {
                            tracing::warn!(user_id = %user.id, until = %block.until, "account locked after repeated failures");
                            let entry = AuditEntry::new(AuditKind::AccountLocked)
                                .user(user)
                                .detail(format!("until {}", block.until.to_rfc3339()));
                            self.audit.record(entry).await;
                        }
                        DomainError::AccountLocked { until: block.until }
                    }
                    None => DomainError::InvalidCredentials,
                };
                self.audit
                    .login_failed(PASSWORD, user.as_ref(), &name, &refused)
                    .await;
                Err(refused)
            }
        }
    }

    /// The hashing pool's figures, for the metrics.
    pub fn pool_stats(&self) -> HashPoolStats {
        self.hasher.pool_stats()
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
        self.attempts.account(authenticated.user.id).refund().await?;
        if authenticated.user.id != user.id {
            return Err(DomainError::InvalidCredentials);
        }
        Ok(())
    }

    /// Stores a hash with the current parameters, when the directory takes it.
    async fn rehash(&self, user: &User, password: &Password) {
        if !self.users.capabilities().set_password_hash {
            return;
        }
        let result = match self.hasher.hash(password).await {
            Ok(hash) => self
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

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::services::fixtures::World;

    fn client() -> ClientAddress {
        ClientAddress::new("192.0.2.9".parse().unwrap())
    }

    async fn login(world: &World, name: &str, password: &str) -> Result<LoginOutcome, DomainError> {
        world
            .services()
            .password_login
            .login(
                name,
                &Password::new(password),
                &client(),
                Grant::access(Duration::hours(1)),
                SecondStep::Refuse,
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
            matches!(err, DomainError::AccountLocked { until } if until == world.now() + Duration::minutes(15))
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
}
