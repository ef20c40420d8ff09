use std::sync::Arc;

use chrono::Duration;

use crate::error::{DomainError, StoreError, UniqueField};
use crate::model::{NewToken, Password, TokenAttributes, TokenHash, TokenKind, User};
use crate::ports::{Clock, TokenMint, TokenStore};
use crate::services::{FailureThrottle, PasswordLogin};

/// How often a colliding session number is drawn again.
const NUMBER_DRAWS: usize = 8;

/// Lifetime of numbered sessions, and how many wrong numbers an address may try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumericSessionSettings {
    /// How long a session lives.
    pub ttl: Duration,
    /// Wrong session numbers an address may present per window.
    pub max_wrong_numbers: u32,
    /// The window in which wrong numbers are counted.
    pub throttle_window: Duration,
}

impl Default for NumericSessionSettings {
    fn default() -> Self {
        Self {
            ttl: Duration::minutes(15),
            max_wrong_numbers: 10,
            throttle_window: Duration::minutes(15),
        }
    }
}

/// A session named by a number, as the `gradido` dialect has them.
#[derive(Debug, Clone)]
pub struct NumericSession {
    /// Who logged in.
    pub user: User,
    /// The session number handed to the client.
    pub number: i32,
}

/// Sessions named by a random 32-bit number, which the `gradido` API uses in
/// place of a token. A 32-bit number can be guessed, so each session is bound to
/// the client address it was created from, and wrong numbers are throttled per
/// address.
pub struct NumericSessionService {
    tokens: Arc<dyn TokenStore>,
    mint: Arc<dyn TokenMint>,
    clock: Arc<dyn Clock>,
    passwords: Arc<PasswordLogin>,
    throttle: FailureThrottle,
    ttl: Duration,
}

impl NumericSessionService {
    /// Wires the service.
    pub fn new(
        tokens: Arc<dyn TokenStore>,
        mint: Arc<dyn TokenMint>,
        clock: Arc<dyn Clock>,
        passwords: Arc<PasswordLogin>,
        settings: NumericSessionSettings,
    ) -> Self {
        Self {
            tokens,
            mint,
            clock,
            passwords,
            throttle: FailureThrottle::new(settings.max_wrong_numbers, settings.throttle_window),
            ttl: settings.ttl,
        }
    }

    fn digest(&self, number: i32) -> TokenHash {
        self.mint.digest(&format!("numeric-session:{number}"))
    }

    /// Logs in with e-mail and password from `address`. Users with a second factor
    /// are refused: this API has no step to present it.
    pub async fn login(
        &self,
        email: &str,
        password: &Password,
        address: &str,
    ) -> Result<NumericSession, DomainError> {
        let user = self.passwords.login_single_step(email, password).await?;
        let now = self.clock.now();
        for _ in 0..NUMBER_DRAWS {
            let number = self.mint.session_number();
            let issued = self
                .tokens
                .issue(NewToken {
                    user_id: user.id,
                    kind: TokenKind::NumericSession,
                    hash: self.digest(number),
                    created_at: now,
                    expires_at: now + self.ttl,
                    attributes: TokenAttributes {
                        bound_address: Some(address.to_owned()),
                        ..TokenAttributes::default()
                    },
                })
                .await;
            match issued {
                Ok(_) => return Ok(NumericSession { user, number }),
                Err(StoreError::Duplicate(UniqueField::Token)) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(DomainError::Internal(
            "no free session number after repeated draws".into(),
        ))
    }

    /// Ends session `number` if it was created from `address`. Unknown numbers,
    /// and numbers of sessions bound elsewhere, count against `address`.
    pub async fn logout(&self, number: i32, address: &str) -> Result<(), DomainError> {
        let now = self.clock.now();
        if self.throttle.is_blocked(address, now) {
            return Err(DomainError::TooManyAttempts);
        }
        let token = self
            .tokens
            .find_by_hash(&self.digest(number))
            .await?
            .filter(|token| {
                token.kind == TokenKind::NumericSession
                    && token.is_live_at(now)
                    && token.attributes.bound_address.as_deref() == Some(address)
            });
        let Some(token) = token else {
            self.throttle.record_failure(address, now);
            return Err(DomainError::InvalidToken);
        };
        self.tokens.revoke(token.id, now).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TokenId;
    use crate::ports::{
        MockClock, MockPasswordHasher, MockSecondFactorStore, MockTokenMint, MockTokenStore, MockUserStore,
        PasswordCheck,
    };
    use crate::services::fixtures::{at, token, user};
    use crate::services::{LoginPolicy, SessionService};

    fn service(tokens: MockTokenStore, numbers: Vec<i32>) -> NumericSessionService {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(at(10));
        let clock: Arc<dyn Clock> = Arc::new(clock);
        let mut mint = MockTokenMint::new();
        mint.expect_digest()
            .returning(|plain| TokenHash(format!("digest-of-{plain}")));
        let numbers = std::sync::Mutex::new(numbers.into_iter());
        mint.expect_session_number()
            .returning(move || numbers.lock().unwrap().next().unwrap());
        let mint: Arc<dyn TokenMint> = Arc::new(mint);
        let mut users = MockUserStore::new();
        users.expect_find_by_username().returning(|_| Ok(None));
        users
            .expect_find_by_email()
            .returning(|_| Ok(Some(user(1, "ann"))));
        users.expect_record_login().returning(|_, _| Ok(()));
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_dummy_hash().return_const("dummy".to_owned());
        hasher
            .expect_verify()
            .returning(|_, _| Ok(PasswordCheck::Match { needs_rehash: false }));
        let mut factors = MockSecondFactorStore::new();
        factors.expect_find_totp().returning(|_| Ok(None));
        let users: Arc<dyn crate::ports::UserStore> = Arc::new(users);
        let tokens: Arc<dyn TokenStore> = Arc::new(tokens);
        let sessions = Arc::new(SessionService::new(
            users.clone(),
            tokens.clone(),
            mint.clone(),
            clock.clone(),
        ));
        let passwords = Arc::new(PasswordLogin::new(
            users,
            Arc::new(hasher),
            clock.clone(),
            sessions,
            Arc::new(factors),
            LoginPolicy::default(),
        ));
        let settings = NumericSessionSettings {
            ttl: Duration::hours(1),
            max_wrong_numbers: 3,
            throttle_window: Duration::minutes(1),
        };
        NumericSessionService::new(tokens, mint, clock, passwords, settings)
    }

    fn session_token(address: &str) -> crate::model::TokenRecord {
        let mut record = token(4, 1, 70);
        record.kind = TokenKind::NumericSession;
        record.attributes.bound_address = Some(address.to_owned());
        record
    }

    #[tokio::test]
    async fn a_colliding_number_is_drawn_again_and_the_session_is_bound_to_the_address() {
        let mut tokens = MockTokenStore::new();
        let mut seq = mockall::Sequence::new();
        tokens
            .expect_issue()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Err(StoreError::Duplicate(UniqueField::Token)));
        tokens
            .expect_issue()
            .withf(|new| {
                new.kind == TokenKind::NumericSession
                    && new.hash.0 == "digest-of-numeric-session:-127182"
                    && new.attributes.bound_address.as_deref() == Some("192.0.2.7")
            })
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Ok(session_token("192.0.2.7")));
        let session = service(tokens, vec![5, -127_182])
            .login("ann@example.com", &Password::new("pw"), "192.0.2.7")
            .await
            .unwrap();
        assert_eq!(session.number, -127_182);
    }

    #[tokio::test]
    async fn logout_from_another_address_fails_and_wrong_numbers_are_throttled() {
        let mut tokens = MockTokenStore::new();
        tokens
            .expect_find_by_hash()
            .returning(|_| Ok(Some(session_token("192.0.2.7"))));
        tokens
            .expect_revoke()
            .withf(|id, _| *id == TokenId(4))
            .times(1)
            .returning(|_, _| Ok(()));
        let service = service(tokens, vec![]);
        for _ in 0..3 {
            assert!(matches!(
                service.logout(1, "198.51.100.1").await,
                Err(DomainError::InvalidToken)
            ));
        }
        assert!(matches!(
            service.logout(1, "198.51.100.1").await,
            Err(DomainError::TooManyAttempts)
        ));
        service.logout(1, "192.0.2.7").await.unwrap();
    }
}
