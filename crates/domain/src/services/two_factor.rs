use std::sync::Arc;

use chrono::Duration;

use crate::error::DomainError;
use crate::model::{
    AuditKind, ClientAddress, Password, Role, StoredTotp, TokenKind, TotpParams, TotpProvisioning, User,
    UserId,
};
use crate::ports::{AccountStates, Clock, SecondFactorStore, SecretCipher, TokenMint, TotpGenerator};
use crate::services::{
    Attempts, Audit, AuditEntry, AuthMethod, Authenticated, Counted, Grant, LoginCompletion, PasswordLogin,
    Session, SessionService, Users,
};

/// Recovery codes handed out when two-factor authentication is enabled.
pub const RECOVERY_CODES: usize = 10;

/// The second step's method in the audit trail.
const SECOND_STEP: &str = "password+totp";

/// Accepted clock skew, in time steps either side of now.
const SKEW_STEPS: u64 = 1;

/// Settings of two-factor authentication.
#[derive(Debug, Clone)]
pub struct TwoFactorSettings {
    /// How new enrolments compute codes.
    pub params: TotpParams,
    /// The issuer shown in authenticator apps.
    pub issuer: String,
    /// How long the password step's pending token lasts.
    pub pending_ttl: Duration,
}

impl Default for TwoFactorSettings {
    fn default() -> Self {
        Self {
            params: TotpParams::default(),
            issuer: "Limen".into(),
            pending_ttl: Duration::minutes(5),
        }
    }
}

/// TOTP enrolment, confirmation, removal, and the second step of a login.
pub struct TwoFactorService {
    ports: TwoFactorPorts,
    settings: TwoFactorSettings,
}

/// The ports and services the two-factor service works with.
pub struct TwoFactorPorts {
    /// Users, for the second step and support staff.
    pub users: Arc<Users>,
    /// Sealed private keys, re-sealed with the TOTP secrets.
    pub accounts: Arc<dyn AccountStates>,
    /// Enrolments and recovery codes.
    pub factors: Arc<dyn SecondFactorStore>,
    /// RFC 6238 arithmetic.
    pub totp: Arc<dyn TotpGenerator>,
    /// Sealing of secrets at rest.
    pub cipher: Arc<dyn SecretCipher>,
    /// Recovery codes and digests.
    pub mint: Arc<dyn TokenMint>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// Counted code attempts.
    pub attempts: Arc<Attempts>,
    /// Re-checks the password before changes.
    pub passwords: Arc<PasswordLogin>,
    /// Pending tokens and revocation.
    pub sessions: Arc<SessionService>,
    /// Completes the login after the second step.
    pub completion: Arc<LoginCompletion>,
    /// The trail of enrolments, removals and wrong codes.
    pub audit: Arc<Audit>,
}

/// The context sealed secrets are bound to: their owner.
fn seal_context(user: UserId) -> Vec<u8> {
    format!("user:{user}").into_bytes()
}

impl TwoFactorService {
    /// Wires the service.
    pub fn new(ports: TwoFactorPorts, settings: TwoFactorSettings) -> Self {
        Self { ports, settings }
    }

    /// The TOTP parameters of new enrolments.
    pub fn params(&self) -> TotpParams {
        self.settings.params
    }

    /// How long the pending token of a password step lasts.
    pub fn pending_ttl(&self) -> Duration {
        self.settings.pending_ttl
    }

    /// Whether the user must present a second factor at login.
    pub async fn is_enabled(&self, user: UserId) -> Result<bool, DomainError> {
        Ok(self
            .ports
            .factors
            .find_totp(user)
            .await?
            .is_some_and(|totp| totp.confirmed))
    }

    /// The user `caller` wants to manage the second factor of: themselves, or,
    /// for support staff, anyone (`UnknownUser` if there is no such user). Other
    /// callers learn nothing about other ids: they get `Forbidden`.
    pub async fn target(&self, caller: &User, target: UserId) -> Result<User, DomainError> {
        if caller.id == target {
            return Ok(caller.clone());
        }
        if caller.role != Role::Support {
            return Err(DomainError::Forbidden(
                "the user can only manage their own second factor or needs SUPPORT rights",
            ));
        }
        self.ports
            .users
            .by_id(target)
            .await?
            .ok_or_else(|| DomainError::UnknownUser(target.to_string()))
    }

    /// Starts an enrolment after re-checking the password: stores a new secret,
    /// not yet active, and returns what an authenticator app needs. Only users
    /// themselves enrol, since the answer carries the secret.
    pub async fn start_enrolment(
        &self,
        caller: &User,
        user: &User,
        password: &Password,
        client: &ClientAddress,
    ) -> Result<TotpProvisioning, DomainError> {
        only_self(caller, user)?;
        self.ports.passwords.confirm(user, password, client).await?;
        if self.is_enabled(user.id).await? {
            return Err(DomainError::SecondFactorAlreadyEnabled);
        }
        let secret = self.ports.totp.new_secret();
        let sealed_secret = self
            .ports
            .cipher
            .seal(&secret, &seal_context(user.id))
            .map_err(DomainError::Internal)?;
        self.ports
            .factors
            .put_pending_totp(
                user.id,
                &StoredTotp {
                    sealed_secret,
                    params: self.settings.params,
                    confirmed: false,
                    last_used_step: None,
                    created_at: self.ports.clock.now(),
                },
            )
            .await?;
        let account = if user.email.is_empty() {
            &user.username
        } else {
            &user.email
        };
        self.ports
            .totp
            .provisioning(&secret, self.settings.params, &self.settings.issuer, account)
            .map_err(DomainError::Internal)
    }

    /// Confirms a started enrolment with a current code; only now is two-factor
    /// active. Every other session and remember-me token of the user ends, since
    /// they were opened with the password alone. Returns the recovery codes,
    /// which are stored only as digests.
    pub async fn confirm_enrolment(
        &self,
        session: &Session,
        user: &User,
        code: &str,
    ) -> Result<Vec<String>, DomainError> {
        only_self(&session.user, user)?;
        let totp = match self.ports.factors.find_totp(user.id).await? {
            Some(totp) if totp.confirmed => return Err(DomainError::SecondFactorAlreadyEnabled),
            Some(totp) => totp,
            None => {
                return Err(DomainError::SecondFactorNotEnrolled(
                    "no two-factor enrolment was started; request a key first",
                ));
            }
        };
        let step = self
            .matching_step(user.id, &totp, code)?
            .ok_or(DomainError::InvalidSecondFactor)?;
        let codes: Vec<String> = (0..RECOVERY_CODES)
            .map(|_| self.ports.mint.recovery_code())
            .collect();
        let hashes = codes.iter().map(|code| self.recovery_digest(code)).collect();
        self.ports
            .factors
            .confirm_totp(user.id, step, hashes, self.ports.clock.now())
            .await?;
        self.ports
            .audit
            .record(
                AuditEntry::new(AuditKind::SecondFactorEnabled)
                    .user(user)
                    .detail("totp"),
            )
            .await;
        let ended = self
            .ports
            .sessions
            .logout_others(user.id, &session.token.hash)
            .await?;
        tracing::info!(user_id = %user.id, ended, "two-factor authentication enabled; other sessions ended");
        Ok(codes)
    }

    /// Turns two-factor off. Users themselves need their password and a current
    /// code (or a recovery code), both counted like login attempts; support
    /// staff (already authorised by `target`) need neither.
    pub async fn disable(
        &self,
        caller: &User,
        user: &User,
        password: Option<&Password>,
        code: Option<&str>,
        client: &ClientAddress,
    ) -> Result<(), DomainError> {
        if caller.id != user.id {
            self.remove(user.id).await?;
            let entry = AuditEntry::new(AuditKind::SecondFactorDisabled)
                .user(user)
                .detail(format!("by support staff, user {}", caller.id));
            self.ports.audit.record(entry).await;
            return Ok(());
        }
        let password =
            password.ok_or_else(|| DomainError::InvalidInput("the password is required".into()))?;
        let code = code.ok_or_else(|| DomainError::InvalidInput("a current code is required".into()))?;
        let totp = self
            .ports
            .factors
            .find_totp(user.id)
            .await?
            .filter(|totp| totp.confirmed)
            .ok_or(DomainError::SecondFactorNotEnrolled(
                "two-factor authentication is not enabled",
            ))?;
        self.ports.passwords.confirm(user, password, client).await?;
        let account = match self.ports.attempts.account(user.id).admit().await? {
            Counted::Admitted(attempt) => attempt,
            Counted::Blocked { until } => return Err(DomainError::AccountLocked { until }),
            Counted::Full => return Err(DomainError::Busy),
        };
        if !self.check(user.id, &totp, code).await.unwrap_or(false) {
            return Err(match account.fail().await? {
                Some(block) => DomainError::AccountLocked { until: block.until },
                None => DomainError::InvalidSecondFactor,
            });
        }
        account.refund().await?;
        self.ports.factors.delete_totp(user.id).await?;
        self.ports.sessions.user_changed(user.id).await;
        tracing::info!(user_id = %user.id, "two-factor authentication disabled");
        self.ports
            .audit
            .record(
                AuditEntry::new(AuditKind::SecondFactorDisabled)
                    .user(user)
                    .detail("by its owner"),
            )
            .await;
        Ok(())
    }

    /// Removes a user's second factor without a code (operators only).
    pub async fn reset(&self, user: UserId) -> Result<(), DomainError> {
        self.remove(user).await?;
        tracing::info!(user_id = %user, "two-factor authentication reset by an operator");
        self.ports
            .audit
            .record(AuditEntry::new(AuditKind::SecondFactorReset).user_id(user))
            .await;
        Ok(())
    }

    /// Deletes the user's second factor; every node forgets what it cached of them.
    async fn remove(&self, user: UserId) -> Result<(), DomainError> {
        self.ports.factors.delete_totp(user).await?;
        self.ports.sessions.user_changed(user).await;
        Ok(())
    }

    /// Re-seals stored secrets (TOTP secrets and private keys) with the cipher's
    /// current key and form, bound to their owner; with `only_outdated`, those
    /// already current are left alone. Returns how many were re-sealed.
    pub async fn reseal(&self, only_outdated: bool) -> Result<usize, DomainError> {
        let mut resealed = 0;
        for (user, sealed) in self.ports.factors.list_sealed_secrets().await? {
            if only_outdated && self.ports.cipher.is_current(&sealed) {
                continue;
            }
            let fresh = self.resealed(user, &sealed)?;
            if self
                .ports
                .factors
                .replace_sealed_secret(user, &sealed, &fresh)
                .await?
            {
                resealed += 1;
            }
        }
        for (user, sealed) in self.ports.accounts.list_sealed_keys().await? {
            if only_outdated && self.ports.cipher.is_current(&sealed) {
                continue;
            }
            let fresh = self.resealed(user, &sealed)?;
            if self
                .ports
                .accounts
                .replace_sealed_key(user, &sealed, &fresh)
                .await?
            {
                resealed += 1;
            }
        }
        if resealed > 0 {
            tracing::info!(resealed, "secrets re-sealed");
        }
        Ok(resealed)
    }

    fn resealed(&self, user: UserId, sealed: &str) -> Result<String, DomainError> {
        let context = seal_context(user);
        let secret =
            self.ports.cipher.open(sealed, &context).map_err(|err| {
                DomainError::Internal(format!("cannot open a secret of user {user}: {err}"))
            })?;
        self.ports
            .cipher
            .seal(&secret, &context)
            .map_err(DomainError::Internal)
    }

    /// The second step of a login: the pending token and a code (or a recovery
    /// code) complete it with `grant`. Each code is counted before it is checked,
    /// against the pending token and against the account, so parallel guesses
    /// cannot outrun either limit; a pending token that reaches its limit ends.
    pub async fn complete_login<G: Grant>(
        &self,
        pending: &str,
        code: &str,
        grant: G,
    ) -> Result<G::Issued, DomainError> {
        let token = match self
            .ports
            .sessions
            .find_presented(pending, TokenKind::PendingSecondFactor)
            .await
        {
            Ok(token) => token,
            Err(err) => {
                self.ports.audit.login_failed(SECOND_STEP, None, "", &err).await;
                return Err(err);
            }
        };
        let user = self
            .ports
            .users
            .by_id(token.user_id)
            .await?
            .ok_or(DomainError::InvalidToken)?;
        let per_token = match self
            .ports
            .attempts
            .second_factor_token(&token.hash)
            .admit()
            .await?
        {
            Counted::Admitted(attempt) => attempt,
            Counted::Blocked { .. } => {
                self.ports.sessions.revoke(&token.hash).await?;
                return Err(DomainError::InvalidToken);
            }
            Counted::Full => return Err(DomainError::Busy),
        };
        let account = match self.ports.attempts.account(user.id).admit().await {
            Ok(Counted::Admitted(attempt)) => attempt,
            Ok(Counted::Blocked { until }) => {
                per_token.refund().await?;
                return Err(DomainError::AccountLocked { until });
            }
            Ok(Counted::Full) => {
                per_token.refund().await?;
                return Err(DomainError::Busy);
            }
            Err(err) => {
                per_token.refund().await?;
                return Err(err);
            }
        };
        let accepted = match self.enrolled_code(&user, code).await {
            Ok(accepted) => accepted,
            Err(err) => {
                let token_settled = per_token.refund().await;
                account.refund().await?;
                token_settled?;
                return Err(err);
            }
        };
        tracing::info!(user_id = %user.id, accepted, "second-factor code checked");
        if !accepted {
            let token_spent = per_token.fail().await;
            let locked = account.fail().await?;
            let token_spent = token_spent?;
            if token_spent.is_some() || locked.is_some() {
                self.ports.sessions.revoke(&token.hash).await?;
                tracing::warn!(user_id = %user.id, "pending login ended after repeated wrong codes");
            }
            if let Some(block) = locked.as_ref().filter(|block| block.started) {
                let entry = AuditEntry::new(AuditKind::AccountLocked)
                    .user(&user)
                    .detail(format!("until {}", block.until));
                self.ports.audit.record(entry).await;
            }
            let refused = match locked {
                Some(block) => DomainError::AccountLocked { until: block.until },
                None => DomainError::InvalidSecondFactor,
            };
            self.ports
                .audit
                .login_failed(SECOND_STEP, Some(&user), "", &refused)
                .await;
            return Err(refused);
        }
        if let Err(err) = per_token.refund().await {
            account.refund().await?;
            return Err(err);
        }
        // Only one completion per pending token, whatever runs in parallel.
        if self
            .ports
            .sessions
            .consume(pending, TokenKind::PendingSecondFactor)
            .await
            .is_err()
        {
            account.refund().await?;
            return Err(DomainError::InvalidToken);
        }
        let authenticated = Authenticated {
            user,
            method: AuthMethod::PasswordAndSecondFactor,
            attempt: Some(account),
        };
        Ok(self
            .ports
            .completion
            .complete(authenticated, grant)
            .await?
            .granted)
    }

    /// Whether `code` is a right code of the user's confirmed enrolment; a
    /// code of the wrong shape is a wrong code, and a user without an
    /// enrolment (removed since the password step) has no login to complete.
    async fn enrolled_code(&self, user: &User, code: &str) -> Result<bool, DomainError> {
        let totp = match self.ports.factors.find_totp(user.id).await? {
            Some(totp) if totp.confirmed => totp,
            _ => return Err(DomainError::InvalidToken),
        };
        match self.check(user.id, &totp, code).await {
            Ok(accepted) => Ok(accepted),
            Err(DomainError::InvalidInput(_)) => Ok(false),
            Err(other) => Err(other),
        }
    }

    /// Accepts a current TOTP code once (claiming its step on every node) or an
    /// unused recovery code. `InvalidInput` for something that is neither shape.
    async fn check(&self, user: UserId, totp: &StoredTotp, code: &str) -> Result<bool, DomainError> {
        if looks_like_recovery_code(code) {
            let digest = self.recovery_digest(code);
            return Ok(self
                .ports
                .factors
                .use_recovery_code(user, &digest, self.ports.clock.now())
                .await?);
        }
        match self.matching_step(user, totp, code)? {
            Some(step) => Ok(self.ports.factors.claim_totp_step(user, step).await?),
            None => Ok(false),
        }
    }

    /// The time step within the allowed skew whose code is `code`, later than the
    /// last used step.
    fn matching_step(&self, user: UserId, totp: &StoredTotp, code: &str) -> Result<Option<u64>, DomainError> {
        let code = code.trim();
        let digits = usize::try_from(totp.params.digits).unwrap_or(usize::MAX);
        if code.len() != digits || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::InvalidInput(format!(
                "the code must be {digits} digits"
            )));
        }
        let secret = self
            .ports
            .cipher
            .open(&totp.sealed_secret, &seal_context(user))
            .map_err(DomainError::Internal)?;
        let now = u64::try_from(self.ports.clock.now().timestamp()).unwrap_or(0);
        let current = now / totp.params.period.max(1);
        for step in current.saturating_sub(SKEW_STEPS)..=current + SKEW_STEPS {
            if totp.last_used_step.is_some_and(|last| step <= last) {
                continue;
            }
            let expected = self
                .ports
                .totp
                .code(&secret, totp.params, step)
                .map_err(DomainError::Internal)?;
            if constant_time_eq(expected.as_bytes(), code.as_bytes()) {
                return Ok(Some(step));
            }
        }
        Ok(None)
    }

    fn recovery_digest(&self, code: &str) -> String {
        self.ports.mint.digest(&normalize_recovery_code(code)).0
    }
}

fn only_self(caller: &User, user: &User) -> Result<(), DomainError> {
    if caller.id == user.id {
        Ok(())
    } else {
        Err(DomainError::Forbidden(
            "only the user can enrol their own authenticator",
        ))
    }
}

/// Recovery codes are typed with or without dashes, in any case.
fn normalize_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn looks_like_recovery_code(code: &str) -> bool {
    let normalized = normalize_recovery_code(code);
    normalized.len() == 16 && normalized.bytes().any(|b| b.is_ascii_alphabetic())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TotpAlgorithm;
    use crate::services::fixtures::World;
    use crate::services::{AccessGrant, LoginOutcome};

    fn client() -> ClientAddress {
        ClientAddress::unknown()
    }

    /// The world's fake generator: a step's code is its number's last six digits.
    fn code(step: u64) -> String {
        format!("{:06}", step % 1_000_000)
    }

    async fn session_of(world: &World, user: &User) -> Session {
        let token = world
            .services()
            .sessions
            .issue(user.id, TokenKind::Access, Duration::hours(1))
            .await
            .unwrap();
        world
            .services()
            .sessions
            .authenticate(&token.plaintext)
            .await
            .unwrap()
    }

    /// Enrols and confirms `user` through the service; returns the recovery codes.
    async fn enabled(world: &World, user: &User) -> Vec<String> {
        let service = world.services().two_factor;
        service
            .start_enrolment(
                user,
                user,
                &Password::new(format!("pw-{}", user.username)),
                &client(),
            )
            .await
            .unwrap();
        let session = session_of(world, user).await;
        let codes = service
            .confirm_enrolment(&session, user, &code(world.step()))
            .await
            .unwrap();
        world.advance(Duration::seconds(30));
        codes
    }

    async fn pending(world: &World, user: &User) -> String {
        let outcome = world
            .services()
            .password_login
            .login_or_pending(
                &user.username,
                &Password::new(format!("pw-{}", user.username)),
                &client(),
                AccessGrant::new(Duration::hours(1)),
                Duration::minutes(5),
            )
            .await
            .unwrap();
        match outcome {
            LoginOutcome::SecondFactorRequired { pending, .. } => pending.plaintext,
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn enrolment_rechecks_the_password_and_stores_a_secret_sealed_for_the_user() {
        let world = World::new();
        let ann = world.add_user("ann");
        let service = world.services().two_factor;
        assert!(matches!(
            service
                .start_enrolment(&ann, &ann, &Password::new("wrong"), &client())
                .await,
            Err(DomainError::InvalidCredentials)
        ));
        assert!(!world.has_totp(ann.id));
        let provisioning = service
            .start_enrolment(&ann, &ann, &Password::new("pw-ann"), &client())
            .await
            .unwrap();
        assert_eq!(provisioning.params.algorithm, TotpAlgorithm::Sha1);
        assert_eq!(
            world.sealed_secret(ann.id),
            format!("sealed[user:{}]:secret", ann.id)
        );
        assert!(!service.is_enabled(ann.id).await.unwrap());
    }

    #[tokio::test]
    async fn confirming_activates_yields_recovery_codes_and_ends_other_sessions() {
        let world = World::new();
        let ann = world.add_user("ann");
        let service = world.services().two_factor;
        service
            .start_enrolment(&ann, &ann, &Password::new("pw-ann"), &client())
            .await
            .unwrap();
        let kept = session_of(&world, &ann).await;
        let other = session_of(&world, &ann).await;
        let remember = world
            .services()
            .sessions
            .issue(ann.id, TokenKind::RememberMe, Duration::days(30))
            .await
            .unwrap();
        assert!(matches!(
            service.confirm_enrolment(&kept, &ann, "000000").await,
            Err(DomainError::InvalidSecondFactor)
        ));
        let codes = service
            .confirm_enrolment(&kept, &ann, &code(world.step()))
            .await
            .unwrap();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert!(service.is_enabled(ann.id).await.unwrap());
        assert!(world.token(&kept.token.hash).revoked_at.is_none());
        assert!(world.token(&other.token.hash).revoked_at.is_some());
        assert!(world.token(&remember.record.hash).revoked_at.is_some());
    }

    #[tokio::test]
    async fn one_step_of_skew_either_way_is_accepted_and_two_are_not() {
        for (offset, ok) in [(-1i64, true), (1, true), (-2, false), (2, false)] {
            let world = World::new();
            let ann = world.add_user("ann");
            let service = world.services().two_factor;
            service
                .start_enrolment(&ann, &ann, &Password::new("pw-ann"), &client())
                .await
                .unwrap();
            let session = session_of(&world, &ann).await;
            let step = world.step().checked_add_signed(offset).unwrap();
            let result = service.confirm_enrolment(&session, &ann, &code(step)).await;
            assert_eq!(result.is_ok(), ok, "offset {offset}: {result:?}");
        }
    }

    #[tokio::test]
    async fn codes_of_the_wrong_shape_are_invalid_input_and_confirming_needs_an_enrolment() {
        let world = World::new();
        let ann = world.add_user("ann");
        let service = world.services().two_factor;
        let session = session_of(&world, &ann).await;
        assert!(matches!(
            service.confirm_enrolment(&session, &ann, "123456").await,
            Err(DomainError::SecondFactorNotEnrolled(_))
        ));
        service
            .start_enrolment(&ann, &ann, &Password::new("pw-ann"), &client())
            .await
            .unwrap();
        for bad in ["12345", "1234567", "12a456"] {
            assert!(matches!(
                service.confirm_enrolment(&session, &ann, bad).await,
                Err(DomainError::InvalidInput(_))
            ));
        }
    }

    #[tokio::test]
    async fn the_second_step_completes_the_login_once_and_clears_the_count() {
        let world = World::new();
        let ann = world.add_user("ann");
        enabled(&world, &ann).await;
        let token = pending(&world, &ann).await;
        let service = world.services().two_factor;
        let issued = service
            .complete_login(&token, &code(world.step()), AccessGrant::new(Duration::hours(1)))
            .await
            .unwrap();
        assert_eq!(issued.record.kind, TokenKind::Access);
        assert_eq!(world.failures(&format!("account:{}", ann.id)), 0);
        assert_eq!(world.account(ann.id).last_login_at, Some(world.now()));
        world.advance(Duration::seconds(30));
        assert!(matches!(
            service
                .complete_login(&token, &code(world.step()), AccessGrant::new(Duration::hours(1)))
                .await,
            Err(DomainError::InvalidToken)
        ));
    }

    #[tokio::test]
    async fn a_used_code_is_refused_and_counted_against_token_and_account() {
        let world = World::new();
        let ann = world.add_user("ann");
        enabled(&world, &ann).await;
        let service = world.services().two_factor;
        let first = pending(&world, &ann).await;
        let step = world.step();
        service
            .complete_login(&first, &code(step), AccessGrant::new(Duration::hours(1)))
            .await
            .unwrap();
        let second = pending(&world, &ann).await;
        assert!(matches!(
            service
                .complete_login(&second, &code(step), AccessGrant::new(Duration::hours(1)))
                .await,
            Err(DomainError::InvalidSecondFactor)
        ));
        assert_eq!(world.failures(&format!("account:{}", ann.id)), 1);
        assert_eq!(world.failures(&world.second_factor_key(&second)), 1);
    }

    #[tokio::test]
    async fn the_fifth_wrong_code_ends_the_pending_token() {
        let world = World::with_rules(|rules| rules.account_lockout.limit = 100);
        let ann = world.add_user("ann");
        enabled(&world, &ann).await;
        let service = world.services().two_factor;
        let token = pending(&world, &ann).await;
        for _ in 0..5 {
            assert!(matches!(
                service
                    .complete_login(&token, "999999", AccessGrant::new(Duration::hours(1)))
                    .await,
                Err(DomainError::InvalidSecondFactor)
            ));
        }
        assert!(matches!(
            service
                .complete_login(&token, &code(world.step()), AccessGrant::new(Duration::hours(1)))
                .await,
            Err(DomainError::InvalidToken)
        ));
    }

    #[tokio::test]
    async fn wrong_codes_lock_the_account_and_a_fresh_password_step_buys_no_more_guesses() {
        let world = World::new();
        let ann = world.add_user("ann");
        enabled(&world, &ann).await;
        let service = world.services().two_factor;
        let mut last = Ok(());
        for _ in 0..5 {
            let token = pending(&world, &ann).await;
            last = service
                .complete_login(&token, "999999", AccessGrant::new(Duration::hours(1)))
                .await
                .map(|_| ());
        }
        assert!(matches!(last, Err(DomainError::AccountLocked { .. })), "{last:?}");
        assert!(world.is_blocked(&format!("account:{}", ann.id)));
    }

    #[tokio::test]
    async fn a_recovery_code_works_once_in_any_spelling() {
        let world = World::new();
        let ann = world.add_user("ann");
        let codes = enabled(&world, &ann).await;
        let service = world.services().two_factor;
        let spelled = codes[0].to_lowercase().replace('-', "");
        let token = pending(&world, &ann).await;
        service
            .complete_login(&token, &spelled, AccessGrant::new(Duration::hours(1)))
            .await
            .unwrap();
        let token = pending(&world, &ann).await;
        assert!(matches!(
            service
                .complete_login(&token, &codes[0], AccessGrant::new(Duration::hours(1)))
                .await,
            Err(DomainError::InvalidSecondFactor)
        ));
    }

    #[tokio::test]
    async fn an_access_token_is_no_pending_token() {
        let world = World::new();
        let ann = world.add_user("ann");
        enabled(&world, &ann).await;
        let access = session_of(&world, &ann).await;
        let plaintext = world.plaintext_of(&access.token.hash);
        assert!(matches!(
            world
                .services()
                .two_factor
                .complete_login(
                    &plaintext,
                    &code(world.step()),
                    AccessGrant::new(Duration::hours(1))
                )
                .await,
            Err(DomainError::InvalidToken)
        ));
    }

    #[tokio::test]
    async fn disabling_needs_the_password_and_a_code_and_counts_wrong_codes() {
        let world = World::new();
        let ann = world.add_user("ann");
        enabled(&world, &ann).await;
        let service = world.services().two_factor;
        let password = Password::new("pw-ann");
        assert!(matches!(
            service
                .disable(&ann, &ann, None, Some(&code(world.step())), &client())
                .await,
            Err(DomainError::InvalidInput(_))
        ));
        assert!(matches!(
            service
                .disable(
                    &ann,
                    &ann,
                    Some(&Password::new("wrong")),
                    Some(&code(world.step())),
                    &client()
                )
                .await,
            Err(DomainError::InvalidCredentials)
        ));
        assert!(matches!(
            service
                .disable(&ann, &ann, Some(&password), Some("999999"), &client())
                .await,
            Err(DomainError::InvalidSecondFactor)
        ));
        assert_eq!(world.failures(&format!("account:{}", ann.id)), 2);
        service
            .disable(&ann, &ann, Some(&password), Some(&code(world.step())), &client())
            .await
            .unwrap();
        assert!(!world.has_totp(ann.id));
    }

    #[tokio::test]
    async fn support_staff_reset_others_without_a_code_and_others_are_forbidden() {
        let world = World::new();
        let ann = world.add_user("ann");
        let bob = world.add_user("bob");
        enabled(&world, &ann).await;
        let service = world.services().two_factor;
        assert!(matches!(
            service.target(&bob, ann.id).await,
            Err(DomainError::Forbidden(_))
        ));
        world.set_role(bob.id, Role::Support);
        let support = world.services().users.by_id(bob.id).await.unwrap().unwrap();
        let target = service.target(&support, ann.id).await.unwrap();
        service
            .disable(&support, &target, None, None, &client())
            .await
            .unwrap();
        assert!(!world.has_totp(ann.id));
        assert!(matches!(
            service.target(&support, UserId(999)).await,
            Err(DomainError::UnknownUser(_))
        ));
    }

    #[tokio::test]
    async fn resealing_binds_every_secret_to_its_owner() {
        let world = World::new();
        let ann = world.add_user("ann");
        world.put_sealed_secret(ann.id, "legacy:secret");
        world.put_sealed_key(ann.id, "legacy:private");
        let service = world.services().two_factor;
        assert_eq!(service.reseal(true).await.unwrap(), 2);
        assert_eq!(
            world.sealed_secret(ann.id),
            format!("sealed[user:{}]:secret", ann.id)
        );
        assert_eq!(
            world.sealed_key(ann.id),
            format!("sealed[user:{}]:private", ann.id)
        );
        assert_eq!(service.reseal(true).await.unwrap(), 0, "current ones are skipped");
        assert_eq!(service.reseal(false).await.unwrap(), 2);
    }
}
