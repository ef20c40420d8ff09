use std::sync::Arc;

use chrono::Duration;

use crate::error::DomainError;
use crate::model::{
    IssuedToken, Password, Role, StoredTotp, TokenKind, TotpParams, TotpProvisioning, User, UserId,
};
use crate::ports::{Clock, SecondFactorStore, SecretCipher, TokenMint, TokenStore, TotpGenerator, UserStore};
use crate::services::{PasswordLogin, SessionService};

/// Recovery codes handed out when two-factor authentication is enabled.
pub const RECOVERY_CODES: usize = 10;

/// Failed codes a pending second-factor token survives.
pub const MAX_SECOND_FACTOR_ATTEMPTS: u32 = 5;

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
    users: Arc<dyn UserStore>,
    factors: Arc<dyn SecondFactorStore>,
    tokens: Arc<dyn TokenStore>,
    totp: Arc<dyn TotpGenerator>,
    cipher: Arc<dyn SecretCipher>,
    mint: Arc<dyn TokenMint>,
    clock: Arc<dyn Clock>,
    passwords: Arc<PasswordLogin>,
    sessions: Arc<SessionService>,
    settings: TwoFactorSettings,
}

/// The ports and services the two-factor service works with.
pub struct TwoFactorPorts {
    /// Users, for the enabled check at the second step.
    pub users: Arc<dyn UserStore>,
    /// Enrolments and recovery codes.
    pub factors: Arc<dyn SecondFactorStore>,
    /// Pending tokens.
    pub tokens: Arc<dyn TokenStore>,
    /// RFC 6238 arithmetic.
    pub totp: Arc<dyn TotpGenerator>,
    /// Sealing of secrets at rest.
    pub cipher: Arc<dyn SecretCipher>,
    /// Recovery codes and digests.
    pub mint: Arc<dyn TokenMint>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// Re-checks the password before enrolment.
    pub passwords: Arc<PasswordLogin>,
    /// Issues the final token.
    pub sessions: Arc<SessionService>,
}

impl TwoFactorService {
    /// Wires the service.
    pub fn new(ports: TwoFactorPorts, settings: TwoFactorSettings) -> Self {
        Self {
            users: ports.users,
            factors: ports.factors,
            tokens: ports.tokens,
            totp: ports.totp,
            cipher: ports.cipher,
            mint: ports.mint,
            clock: ports.clock,
            passwords: ports.passwords,
            sessions: ports.sessions,
            settings,
        }
    }

    /// The TOTP parameters of new enrolments.
    pub fn params(&self) -> TotpParams {
        self.settings.params
    }

    /// Whether the user must present a second factor at login.
    pub async fn is_enabled(&self, user: UserId) -> Result<bool, DomainError> {
        Ok(self
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
        self.users
            .find_by_id(target)
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
    ) -> Result<TotpProvisioning, DomainError> {
        only_self(caller, user)?;
        self.passwords.verify(&user.username, password).await?;
        if self.is_enabled(user.id).await? {
            return Err(DomainError::SecondFactorAlreadyEnabled);
        }
        let secret = self.totp.new_secret();
        let sealed_secret = self.cipher.seal(&secret).map_err(DomainError::Internal)?;
        self.factors
            .put_pending_totp(
                user.id,
                &StoredTotp {
                    sealed_secret,
                    params: self.settings.params,
                    confirmed: false,
                    last_used_step: None,
                    created_at: self.clock.now(),
                },
            )
            .await?;
        self.totp
            .provisioning(&secret, self.settings.params, &self.settings.issuer, &user.email)
            .map_err(DomainError::Internal)
    }

    /// Confirms a started enrolment with a current code; only now is two-factor
    /// active. Returns the recovery codes, which are stored only as digests.
    pub async fn confirm_enrolment(
        &self,
        caller: &User,
        user: &User,
        code: &str,
    ) -> Result<Vec<String>, DomainError> {
        only_self(caller, user)?;
        let totp = match self.factors.find_totp(user.id).await? {
            Some(totp) if totp.confirmed => return Err(DomainError::SecondFactorAlreadyEnabled),
            Some(totp) => totp,
            None => {
                return Err(DomainError::SecondFactorNotEnrolled(
                    "no two-factor enrolment was started; request a key first",
                ));
            }
        };
        let step = self
            .matching_step(&totp, code)?
            .ok_or(DomainError::InvalidSecondFactor)?;
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| self.mint.recovery_code()).collect();
        let hashes = codes.iter().map(|code| self.recovery_digest(code)).collect();
        self.factors
            .confirm_totp(user.id, step, hashes, self.clock.now())
            .await?;
        tracing::info!(user_id = %user.id, "two-factor authentication enabled");
        Ok(codes)
    }

    /// Turns two-factor off: users themselves with a current code (or a recovery
    /// code); support staff (already authorised by `target`) without one.
    pub async fn disable(&self, caller: &User, user: &User, code: Option<&str>) -> Result<(), DomainError> {
        if caller.id != user.id {
            return self.reset(user.id).await;
        }
        let code = code.ok_or_else(|| DomainError::InvalidInput("a current code is required".into()))?;
        let totp = self
            .factors
            .find_totp(user.id)
            .await?
            .filter(|totp| totp.confirmed)
            .ok_or(DomainError::SecondFactorNotEnrolled(
                "two-factor authentication is not enabled",
            ))?;
        if !self.check(user.id, &totp, code).await? {
            return Err(DomainError::InvalidSecondFactor);
        }
        self.factors.delete_totp(user.id).await?;
        tracing::info!(user_id = %user.id, "two-factor authentication disabled");
        Ok(())
    }

    /// Removes a user's second factor without a code (operators only).
    pub async fn reset(&self, user: UserId) -> Result<(), DomainError> {
        self.factors.delete_totp(user).await?;
        tracing::info!(user_id = %user, "two-factor authentication reset by an operator");
        Ok(())
    }

    /// Re-seals every stored secret with the cipher's current key (key rotation);
    /// returns how many were re-sealed.
    pub async fn reseal_all(&self) -> Result<usize, DomainError> {
        let mut resealed = 0;
        for (user, sealed) in self.factors.list_sealed_secrets().await? {
            let secret = self.cipher.open(&sealed).map_err(DomainError::Internal)?;
            let fresh = self.cipher.seal(&secret).map_err(DomainError::Internal)?;
            if self.factors.replace_sealed_secret(user, &sealed, &fresh).await? {
                resealed += 1;
            }
        }
        tracing::info!(resealed, "second-factor secrets re-sealed");
        Ok(resealed)
    }

    /// The second step of a login: the pending token and a code (or a recovery
    /// code) give an access token valid for `ttl`. Each wrong code counts against
    /// the pending token, which dies at the fifth.
    pub async fn complete_login(
        &self,
        pending: &str,
        code: &str,
        ttl: Duration,
    ) -> Result<IssuedToken, DomainError> {
        let now = self.clock.now();
        let token = self
            .tokens
            .find_by_hash(&self.mint.digest(pending))
            .await?
            .filter(|token| {
                token.kind == TokenKind::PendingSecondFactor
                    && token.is_live_at(now)
                    && token.attempts < MAX_SECOND_FACTOR_ATTEMPTS
            })
            .ok_or(DomainError::InvalidToken)?;
        let user = self
            .users
            .find_by_id(token.user_id)
            .await?
            .filter(|user| user.enabled)
            .ok_or(DomainError::InvalidToken)?;
        if let Some(until) = user.lock.locked_until.filter(|_| user.lock.is_locked_at(now)) {
            return Err(DomainError::AccountLocked { until });
        }
        let totp = self
            .factors
            .find_totp(user.id)
            .await?
            .filter(|totp| totp.confirmed)
            .ok_or(DomainError::InvalidToken)?;
        let accepted = match self.check(user.id, &totp, code).await {
            Ok(accepted) => accepted,
            Err(DomainError::InvalidInput(_)) => false,
            Err(other) => return Err(other),
        };
        if !accepted {
            let attempts = self.tokens.record_failed_attempt(token.id).await?;
            // Wrong codes also count towards the account's lock, so that logging
            // in again for a fresh pending token does not buy more guesses.
            let verdict = self.passwords.record_failure(user).await?;
            if attempts >= MAX_SECOND_FACTOR_ATTEMPTS || matches!(verdict, DomainError::AccountLocked { .. })
            {
                self.tokens.revoke(token.id, now).await?;
                tracing::warn!(user_id = %token.user_id, "pending login ended after repeated wrong codes");
            }
            return Err(match verdict {
                DomainError::AccountLocked { until } => DomainError::AccountLocked { until },
                _ => DomainError::InvalidSecondFactor,
            });
        }
        self.tokens.revoke(token.id, now).await?;
        self.users.record_login(user.id, now).await?;
        let issued = self.sessions.issue(user.id, TokenKind::Access, ttl).await?;
        tracing::info!(user_id = %user.id, token_id = issued.record.id.0, "second factor accepted");
        Ok(issued)
    }

    /// Accepts a current TOTP code once (claiming its step on every node) or an
    /// unused recovery code. `InvalidInput` for something that is neither shape.
    async fn check(&self, user: UserId, totp: &StoredTotp, code: &str) -> Result<bool, DomainError> {
        if looks_like_recovery_code(code) {
            let digest = self.recovery_digest(code);
            return Ok(self
                .factors
                .use_recovery_code(user, &digest, self.clock.now())
                .await?);
        }
        match self.matching_step(totp, code)? {
            Some(step) => Ok(self.factors.claim_totp_step(user, step).await?),
            None => Ok(false),
        }
    }

    /// The time step within the allowed skew whose code is `code`, later than the
    /// last used step.
    fn matching_step(&self, totp: &StoredTotp, code: &str) -> Result<Option<u64>, DomainError> {
        let code = code.trim();
        let digits = usize::try_from(totp.params.digits).unwrap_or(usize::MAX);
        if code.len() != digits || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::InvalidInput(format!(
                "the code must be {digits} digits"
            )));
        }
        let secret = self
            .cipher
            .open(&totp.sealed_secret)
            .map_err(DomainError::Internal)?;
        let now = u64::try_from(self.clock.now().timestamp()).unwrap_or(0);
        let current = now / totp.params.period.max(1);
        for step in current.saturating_sub(SKEW_STEPS)..=current + SKEW_STEPS {
            if totp.last_used_step.is_some_and(|last| step <= last) {
                continue;
            }
            let expected = self
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
        self.mint.digest(&normalize_recovery_code(code)).0
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
    use mockall::predicate::eq;

    use super::*;
    use crate::model::{LockState, TokenHash, TotpAlgorithm};
    use crate::ports::{
        MockClock, MockPasswordHasher, MockSecondFactorStore, MockSecretCipher, MockTokenMint,
        MockTokenStore, MockTotpGenerator, MockUserStore, PasswordCheck,
    };
    use crate::services::fixtures::{at, token, user};
    use crate::services::{LoginPolicy, PasswordLogin, SessionService};

    /// `at(100)` is 6000 s after the epoch: step 200 of 30 s.
    const NOW_STEP: u64 = 200;

    /// The fake generator's code for a step: its number, zero-padded.
    fn code(step: u64) -> String {
        format!("{step:06}")
    }

    fn stored(confirmed: bool, last_used_step: Option<u64>) -> StoredTotp {
        StoredTotp {
            sealed_secret: "sealed:secret".into(),
            params: TotpParams::default(),
            confirmed,
            last_used_step,
            created_at: at(0),
        }
    }

    struct Mocks {
        users: MockUserStore,
        factors: MockSecondFactorStore,
        tokens: MockTokenStore,
        hasher: MockPasswordHasher,
    }

    impl Mocks {
        fn new() -> Self {
            let mut users = MockUserStore::new();
            users
                .expect_find_by_id()
                .returning(|id| Ok(Some(user(id.0, "ann"))));
            users
                .expect_find_by_username()
                .returning(|name| Ok(Some(user(1, name))));
            let mut hasher = MockPasswordHasher::new();
            hasher.expect_dummy_hash().return_const("dummy".to_owned());
            hasher.expect_verify().returning(|password, _| {
                Ok(if password.expose() == "right" {
                    PasswordCheck::Match { needs_rehash: false }
                } else {
                    PasswordCheck::Mismatch
                })
            });
            Self {
                users,
                factors: MockSecondFactorStore::new(),
                tokens: MockTokenStore::new(),
                hasher,
            }
        }

        fn service(self) -> TwoFactorService {
            let mut clock = MockClock::new();
            clock.expect_now().return_const(at(100));
            let clock: Arc<dyn Clock> = Arc::new(clock);
            let mut mint = MockTokenMint::new();
            mint.expect_digest()
                .returning(|plain| TokenHash(format!("digest-of-{plain}")));
            mint.expect_mint()
                .return_const(("fresh".to_owned(), TokenHash("digest-of-fresh".into())));
            let counter = std::sync::atomic::AtomicUsize::new(0);
            mint.expect_recovery_code().returning(move || {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                format!("ABCD-EFGH-IJKL-{n:04}")
            });
            let mint: Arc<dyn TokenMint> = Arc::new(mint);
            let mut totp = MockTotpGenerator::new();
            totp.expect_new_secret().returning(|| b"secret".to_vec());
            totp.expect_code().returning(|secret, _, step| {
                assert_eq!(secret, b"secret");
                Ok(code(step))
            });
            totp.expect_provisioning()
                .returning(|_, params, issuer, account| {
                    Ok(TotpProvisioning {
                        key: "ONSWG4TFOQ".into(),
                        uri: format!("otpauth://totp/{issuer}:{account}"),
                        qr_data_uri: "data:image/png;base64,".into(),
                        params,
                    })
                });
            let mut cipher = MockSecretCipher::new();
            cipher
                .expect_seal()
                .returning(|secret| Ok(format!("sealed:{}", String::from_utf8_lossy(secret))));
            cipher.expect_open().returning(|sealed| {
                sealed
                    .strip_prefix("sealed:")
                    .map(|s| s.as_bytes().to_vec())
                    .ok_or_else(|| "cannot open".to_owned())
            });
            let users: Arc<dyn UserStore> = Arc::new(self.users);
            let tokens: Arc<dyn TokenStore> = Arc::new(self.tokens);
            let factors: Arc<dyn SecondFactorStore> = Arc::new(self.factors);
            let sessions = Arc::new(SessionService::new(
                users.clone(),
                tokens.clone(),
                mint.clone(),
                clock.clone(),
            ));
            let passwords = Arc::new(PasswordLogin::new(
                users.clone(),
                Arc::new(self.hasher),
                clock.clone(),
                sessions.clone(),
                factors.clone(),
                LoginPolicy::default(),
            ));
            TwoFactorService::new(
                TwoFactorPorts {
                    users,
                    factors,
                    tokens,
                    totp: Arc::new(totp),
                    cipher: Arc::new(cipher),
                    mint,
                    clock,
                    passwords,
                    sessions,
                },
                TwoFactorSettings::default(),
            )
        }
    }

    fn pending_token() -> crate::model::TokenRecord {
        let mut record = token(9, 1, 105);
        record.kind = TokenKind::PendingSecondFactor;
        record
    }

    #[tokio::test]
    async fn enrolment_rechecks_the_password_and_stores_a_sealed_unconfirmed_secret() {
        let mut mocks = Mocks::new();
        mocks.factors.expect_find_totp().returning(|_| Ok(None));
        mocks
            .factors
            .expect_put_pending_totp()
            .withf(|id, totp| *id == UserId(1) && totp.sealed_secret == "sealed:secret" && !totp.confirmed)
            .times(1)
            .returning(|_, _| Ok(()));
        let provisioning = mocks
            .service()
            .start_enrolment(&user(1, "ann"), &user(1, "ann"), &Password::new("right"))
            .await
            .unwrap();
        assert_eq!(provisioning.params.algorithm, TotpAlgorithm::Sha1);
        assert_eq!(provisioning.uri, "otpauth://totp/Limen:ann@example.com");
    }

    #[tokio::test]
    async fn enrolment_with_a_wrong_password_stores_nothing() {
        let mut mocks = Mocks::new();
        mocks.users.expect_update_lock_state().returning(|_, _, _| Ok(()));
        mocks.factors.expect_put_pending_totp().never();
        let err = mocks
            .service()
            .start_enrolment(&user(1, "ann"), &user(1, "ann"), &Password::new("wrong"))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::InvalidCredentials), "{err:?}");
    }

    #[tokio::test]
    async fn enrolment_is_refused_while_two_factor_is_active() {
        let mut mocks = Mocks::new();
        mocks
            .factors
            .expect_find_totp()
            .returning(|_| Ok(Some(stored(true, None))));
        mocks.factors.expect_put_pending_totp().never();
        let err = mocks
            .service()
            .start_enrolment(&user(1, "ann"), &user(1, "ann"), &Password::new("right"))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::SecondFactorAlreadyEnabled));
    }

    #[tokio::test]
    async fn confirming_with_a_current_code_activates_and_yields_ten_recovery_codes() {
        let mut mocks = Mocks::new();
        mocks
            .factors
            .expect_find_totp()
            .returning(|_| Ok(Some(stored(false, None))));
        mocks
            .factors
            .expect_confirm_totp()
            .withf(|id, step, hashes, _| {
                *id == UserId(1)
                    && *step == NOW_STEP
                    && hashes.len() == RECOVERY_CODES
                    && hashes[0] == "digest-of-ABCDEFGHIJKL0000"
            })
            .times(1)
            .returning(|_, _, _, _| Ok(()));
        let codes = mocks
            .service()
            .confirm_enrolment(&user(1, "ann"), &user(1, "ann"), &code(NOW_STEP))
            .await
            .unwrap();
        assert_eq!(codes.len(), 10);
        assert_eq!(codes[0], "ABCD-EFGH-IJKL-0000");
    }

    #[tokio::test]
    async fn one_step_of_skew_either_way_is_accepted_and_two_are_not() {
        for (step, accepted) in [
            (NOW_STEP - 1, true),
            (NOW_STEP + 1, true),
            (NOW_STEP - 2, false),
            (NOW_STEP + 2, false),
        ] {
            let mut mocks = Mocks::new();
            mocks
                .factors
                .expect_find_totp()
                .returning(|_| Ok(Some(stored(false, None))));
            mocks
                .factors
                .expect_confirm_totp()
                .with(
                    eq(UserId(1)),
                    eq(step),
                    mockall::predicate::always(),
                    mockall::predicate::always(),
                )
                .times(usize::from(accepted))
                .returning(|_, _, _, _| Ok(()));
            let result = mocks
                .service()
                .confirm_enrolment(&user(1, "ann"), &user(1, "ann"), &code(step))
                .await;
            assert_eq!(result.is_ok(), accepted, "step {step}: {result:?}");
        }
    }

    #[tokio::test]
    async fn a_wrong_code_leaves_two_factor_off() {
        let mut mocks = Mocks::new();
        mocks
            .factors
            .expect_find_totp()
            .returning(|_| Ok(Some(stored(false, None))));
        mocks.factors.expect_confirm_totp().never();
        let err = mocks
            .service()
            .confirm_enrolment(&user(1, "ann"), &user(1, "ann"), "999999")
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::InvalidSecondFactor));
    }

    #[tokio::test]
    async fn codes_of_the_wrong_shape_are_invalid_input() {
        for bad in ["12345a", "1234567", "12345", "", " 12 34 "] {
            let mut mocks = Mocks::new();
            mocks
                .factors
                .expect_find_totp()
                .returning(|_| Ok(Some(stored(false, None))));
            let err = mocks
                .service()
                .confirm_enrolment(&user(1, "ann"), &user(1, "ann"), bad)
                .await
                .unwrap_err();
            assert!(matches!(err, DomainError::InvalidInput(_)), "{bad:?}: {err:?}");
        }
    }

    #[tokio::test]
    async fn confirming_without_a_started_enrolment_is_refused() {
        let mut mocks = Mocks::new();
        mocks.factors.expect_find_totp().returning(|_| Ok(None));
        let err = mocks
            .service()
            .confirm_enrolment(&user(1, "ann"), &user(1, "ann"), &code(NOW_STEP))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::SecondFactorNotEnrolled(_)));
    }

    #[tokio::test]
    async fn the_second_step_exchanges_the_pending_token_for_an_access_token() {
        let mut mocks = Mocks::new();
        mocks
            .tokens
            .expect_find_by_hash()
            .with(eq(TokenHash("digest-of-pending".into())))
            .returning(|_| Ok(Some(pending_token())));
        mocks
            .factors
            .expect_find_totp()
            .returning(|_| Ok(Some(stored(true, Some(NOW_STEP - 5)))));
        mocks
            .factors
            .expect_claim_totp_step()
            .with(eq(UserId(1)), eq(NOW_STEP))
            .times(1)
            .returning(|_, _| Ok(true));
        mocks
            .tokens
            .expect_revoke()
            .with(eq(crate::model::TokenId(9)), eq(at(100)))
            .times(1)
            .returning(|_, _| Ok(()));
        mocks
            .users
            .expect_record_login()
            .times(1)
            .returning(|_, _| Ok(()));
        mocks
            .tokens
            .expect_issue()
            .withf(|new| new.kind == TokenKind::Access && new.expires_at == at(160))
            .times(1)
            .returning(|_| Ok(token(10, 1, 160)));
        let issued = mocks
            .service()
            .complete_login("pending", &code(NOW_STEP), Duration::minutes(60))
            .await
            .unwrap();
        assert_eq!(issued.plaintext, "fresh");
    }

    #[tokio::test]
    async fn a_code_already_used_is_refused_and_counted() {
        // Either the stored last step already covers it, or another node claimed it first.
        for (last_used, claim) in [(Some(NOW_STEP), true), (Some(NOW_STEP - 5), false)] {
            let mut mocks = Mocks::new();
            mocks
                .tokens
                .expect_find_by_hash()
                .returning(|_| Ok(Some(pending_token())));
            mocks
                .factors
                .expect_find_totp()
                .returning(move |_| Ok(Some(stored(true, last_used))));
            mocks
                .factors
                .expect_claim_totp_step()
                .returning(move |_, _| Ok(claim));
            mocks
                .tokens
                .expect_record_failed_attempt()
                .times(1)
                .returning(|_| Ok(1));
            mocks
                .users
                .expect_update_lock_state()
                .times(1)
                .returning(|_, _, _| Ok(()));
            mocks.tokens.expect_issue().never();
            let err = mocks
                .service()
                .complete_login("pending", &code(NOW_STEP), Duration::minutes(60))
                .await
                .unwrap_err();
            assert!(matches!(err, DomainError::InvalidSecondFactor), "{err:?}");
        }
    }

    #[tokio::test]
    async fn the_fifth_wrong_code_ends_the_pending_token() {
        let mut mocks = Mocks::new();
        mocks
            .tokens
            .expect_find_by_hash()
            .returning(|_| Ok(Some(pending_token())));
        mocks
            .factors
            .expect_find_totp()
            .returning(|_| Ok(Some(stored(true, None))));
        mocks.tokens.expect_record_failed_attempt().returning(|_| Ok(5));
        mocks.users.expect_update_lock_state().returning(|_, _, _| Ok(()));
        mocks
            .tokens
            .expect_revoke()
            .with(eq(crate::model::TokenId(9)), eq(at(100)))
            .times(1)
            .returning(|_, _| Ok(()));
        let err = mocks
            .service()
            .complete_login("pending", "000000", Duration::minutes(60))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::InvalidSecondFactor));
    }

    #[tokio::test]
    async fn a_spent_pending_token_or_an_access_token_is_not_accepted() {
        for record in [
            {
                let mut spent = pending_token();
                spent.attempts = MAX_SECOND_FACTOR_ATTEMPTS;
                spent
            },
            token(9, 1, 105),
        ] {
            let mut mocks = Mocks::new();
            mocks
                .tokens
                .expect_find_by_hash()
                .returning(move |_| Ok(Some(record.clone())));
            mocks.factors.expect_find_totp().never();
            let err = mocks
                .service()
                .complete_login("pending", &code(NOW_STEP), Duration::minutes(60))
                .await
                .unwrap_err();
            assert!(matches!(err, DomainError::InvalidToken));
        }
    }

    #[tokio::test]
    async fn a_recovery_code_works_in_place_of_a_code_in_any_spelling() {
        let mut mocks = Mocks::new();
        mocks
            .tokens
            .expect_find_by_hash()
            .returning(|_| Ok(Some(pending_token())));
        mocks
            .factors
            .expect_find_totp()
            .returning(|_| Ok(Some(stored(true, None))));
        mocks
            .factors
            .expect_use_recovery_code()
            .withf(|id, digest, _| *id == UserId(1) && digest == "digest-of-ABCDEFGHIJKL0003")
            .times(1)
            .returning(|_, _, _| Ok(true));
        mocks.factors.expect_claim_totp_step().never();
        mocks.tokens.expect_revoke().returning(|_, _| Ok(()));
        mocks.users.expect_record_login().returning(|_, _| Ok(()));
        mocks.tokens.expect_issue().returning(|_| Ok(token(10, 1, 160)));
        mocks
            .service()
            .complete_login("pending", "abcd efgh-ijkl-0003", Duration::minutes(60))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_locked_account_cannot_finish_a_pending_login() {
        let mut mocks = Mocks::new();
        mocks.users = MockUserStore::new();
        mocks.users.expect_find_by_id().returning(|id| {
            let mut locked = user(id.0, "ann");
            locked.lock = LockState {
                locked_until: Some(at(110)),
                ..LockState::default()
            };
            Ok(Some(locked))
        });
        mocks
            .tokens
            .expect_find_by_hash()
            .returning(|_| Ok(Some(pending_token())));
        mocks.tokens.expect_issue().never();
        let err = mocks
            .service()
            .complete_login("pending", &code(NOW_STEP), Duration::minutes(60))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::AccountLocked { .. }));
    }

    #[tokio::test]
    async fn support_staff_reset_others_without_a_code_and_others_are_forbidden() {
        let mut support = user(2, "sue");
        support.role = Role::Support;
        let mut mocks = Mocks::new();
        mocks
            .factors
            .expect_delete_totp()
            .with(eq(UserId(1)))
            .times(1)
            .returning(|_| Ok(()));
        let service = mocks.service();
        let target = service.target(&support, UserId(1)).await.unwrap();
        service.disable(&support, &target, None).await.unwrap();
        let err = service.target(&user(3, "bob"), UserId(1)).await.unwrap_err();
        assert!(matches!(err, DomainError::Forbidden(_)));
        let err = service
            .start_enrolment(&support, &target, &Password::new("right"))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::Forbidden(_)));
    }

    #[tokio::test]
    async fn support_staff_get_not_found_for_unknown_ids() {
        let mut support = user(2, "sue");
        support.role = Role::Support;
        let mut mocks = Mocks::new();
        mocks.users = MockUserStore::new();
        mocks.users.expect_find_by_id().returning(|_| Ok(None));
        let err = mocks.service().target(&support, UserId(99)).await.unwrap_err();
        assert!(matches!(err, DomainError::UnknownUser(_)));
    }

    #[tokio::test]
    async fn reseal_opens_and_seals_every_secret() {
        let mut mocks = Mocks::new();
        mocks.factors.expect_list_sealed_secrets().returning(|| {
            Ok(vec![
                (UserId(1), "sealed:secret".into()),
                (UserId(2), "sealed:secret".into()),
            ])
        });
        mocks
            .factors
            .expect_replace_sealed_secret()
            .withf(|_, old, new| old == "sealed:secret" && new == "sealed:secret")
            .times(2)
            .returning(|_, _, _| Ok(true));
        assert_eq!(mocks.service().reseal_all().await.unwrap(), 2);
    }

    #[tokio::test]
    async fn disabling_needs_a_valid_code_and_removes_everything() {
        let mut mocks = Mocks::new();
        mocks
            .factors
            .expect_find_totp()
            .returning(|_| Ok(Some(stored(true, None))));
        mocks.factors.expect_claim_totp_step().returning(|_, _| Ok(true));
        mocks
            .factors
            .expect_delete_totp()
            .with(eq(UserId(1)))
            .times(1)
            .returning(|_| Ok(()));
        mocks
            .service()
            .disable(&user(1, "ann"), &user(1, "ann"), Some(&code(NOW_STEP)))
            .await
            .unwrap();
    }
}
