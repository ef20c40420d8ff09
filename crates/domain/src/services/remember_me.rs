use std::sync::Arc;

use chrono::Duration;

use crate::error::DomainError;
use crate::model::{IssuedToken, Password, TokenAttributes, TokenKind, User};
use crate::ports::{Clock, TokenMint, TokenStore, UserStore};
use crate::services::{PasswordLogin, SessionService};

/// The result of a password login that may also ask to be remembered.
#[derive(Debug, Clone)]
pub struct Authorized {
    /// Who logged in.
    pub user: User,
    /// The access token.
    pub access: IssuedToken,
    /// The remember-me token, when one was asked for.
    pub remember_me: Option<IssuedToken>,
}

/// Remember-me tokens: issued with a password login for one client id, and
/// exchanged by that client for access tokens without the password. They are
/// ordinary tokens of kind `RememberMe`, so "log out everywhere" and a password
/// change (which revoke all of a user's tokens) end them too.
pub struct RememberMeService {
    users: Arc<dyn UserStore>,
    tokens: Arc<dyn TokenStore>,
    mint: Arc<dyn TokenMint>,
    clock: Arc<dyn Clock>,
    passwords: Arc<PasswordLogin>,
    sessions: Arc<SessionService>,
    remember_ttl: Duration,
}

impl RememberMeService {
    /// Wires the service; remember-me tokens live `remember_ttl`.
    pub fn new(
        users: Arc<dyn UserStore>,
        tokens: Arc<dyn TokenStore>,
        mint: Arc<dyn TokenMint>,
        clock: Arc<dyn Clock>,
        passwords: Arc<PasswordLogin>,
        sessions: Arc<SessionService>,
        remember_ttl: Duration,
    ) -> Self {
        Self {
            users,
            tokens,
            mint,
            clock,
            passwords,
            sessions,
            remember_ttl,
        }
    }

    /// How long remember-me tokens live.
    pub fn remember_ttl(&self) -> Duration {
        self.remember_ttl
    }

    /// A password login; with `remember_for = Some(client_id)` also a remember-me
    /// token bound to that client. Users with a second factor are refused: this
    /// path has no step to present it.
    pub async fn login(
        &self,
        identifier: &str,
        password: &Password,
        access_ttl: Duration,
        remember_for: Option<&str>,
    ) -> Result<Authorized, DomainError> {
        let user = self.passwords.login_single_step(identifier, password).await?;
        let access = self
            .sessions
            .issue(user.id, TokenKind::Access, access_ttl)
            .await?;
        let remember_me = match remember_for {
            Some(client_id) => Some(
                self.sessions
                    .issue_with(
                        user.id,
                        TokenKind::RememberMe,
                        self.remember_ttl,
                        TokenAttributes {
                            client_id: Some(client_id.to_owned()),
                            ..TokenAttributes::default()
                        },
                    )
                    .await?,
            ),
            None => None,
        };
        Ok(Authorized {
            user,
            access,
            remember_me,
        })
    }

    /// A fresh access token for a remember-me token presented by the client it
    /// was issued to. Another client id, an expired or revoked token, or a
    /// disabled or locked user: `InvalidToken` (locked: `AccountLocked`).
    pub async fn exchange(
        &self,
        plaintext: &str,
        client_id: &str,
        access_ttl: Duration,
    ) -> Result<IssuedToken, DomainError> {
        let now = self.clock.now();
        let token = self
            .tokens
            .find_by_hash(&self.mint.digest(plaintext))
            .await?
            .filter(|token| {
                token.kind == TokenKind::RememberMe
                    && token.is_live_at(now)
                    && token.attributes.client_id.as_deref() == Some(client_id)
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
        if let Err(err) = self.tokens.touch(token.id, now).await {
            tracing::warn!(error = %err, "could not record remember-me token use");
        }
        let access = self
            .sessions
            .issue(user.id, TokenKind::Access, access_ttl)
            .await?;
        tracing::info!(user_id = %user.id, token_id = access.record.id.0, "remember-me exchange");
        Ok(access)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TokenHash;
    use crate::ports::{
        MockClock, MockPasswordHasher, MockSecondFactorStore, MockTokenMint, MockTokenStore, MockUserStore,
        PasswordCheck,
    };
    use crate::services::LoginPolicy;
    use crate::services::fixtures::{at, token, user};

    fn service(users: MockUserStore, tokens: MockTokenStore) -> RememberMeService {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(at(10));
        let clock: Arc<dyn Clock> = Arc::new(clock);
        let mut mint = MockTokenMint::new();
        mint.expect_mint()
            .return_const(("plain".to_owned(), TokenHash("digest".into())));
        mint.expect_digest()
            .returning(|plain| TokenHash(format!("digest-of-{plain}")));
        let mint: Arc<dyn TokenMint> = Arc::new(mint);
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_dummy_hash().return_const("dummy".to_owned());
        hasher.expect_verify().returning(|password, _| {
            Ok(if password.expose() == "right" {
                PasswordCheck::Match { needs_rehash: false }
            } else {
                PasswordCheck::Mismatch
            })
        });
        let mut factors = MockSecondFactorStore::new();
        factors.expect_find_totp().returning(|_| Ok(None));
        let users: Arc<dyn UserStore> = Arc::new(users);
        let tokens: Arc<dyn TokenStore> = Arc::new(tokens);
        let sessions = Arc::new(SessionService::new(
            users.clone(),
            tokens.clone(),
            mint.clone(),
            clock.clone(),
        ));
        let passwords = Arc::new(PasswordLogin::new(
            users.clone(),
            Arc::new(hasher),
            clock.clone(),
            sessions.clone(),
            Arc::new(factors),
            LoginPolicy::default(),
        ));
        RememberMeService::new(
            users,
            tokens,
            mint,
            clock,
            passwords,
            sessions,
            Duration::days(30),
        )
    }

    fn users() -> MockUserStore {
        let mut users = MockUserStore::new();
        users.expect_find_by_username().returning(|_| Ok(None));
        users
            .expect_find_by_email()
            .returning(|email| Ok((email == "ann@example.com").then(|| user(1, "ann"))));
        users
            .expect_find_by_id()
            .returning(|id| Ok(Some(user(id.0, "ann"))));
        users.expect_record_login().returning(|_, _| Ok(()));
        users
    }

    fn remember_token(client: &str) -> crate::model::TokenRecord {
        let mut record = token(7, 1, 60 * 24 * 30);
        record.kind = TokenKind::RememberMe;
        record.attributes.client_id = Some(client.to_owned());
        record
    }

    #[tokio::test]
    async fn remember_me_issues_a_second_token_bound_to_the_client() {
        let mut tokens = MockTokenStore::new();
        tokens
            .expect_issue()
            .withf(|new| new.kind == TokenKind::Access)
            .times(1)
            .returning(|_| Ok(token(1, 1, 70)));
        tokens
            .expect_issue()
            .withf(|new| {
                new.kind == TokenKind::RememberMe
                    && new.attributes.client_id.as_deref() == Some("client-a")
                    && new.expires_at == at(10) + Duration::days(30)
            })
            .times(1)
            .returning(|_| Ok(remember_token("client-a")));
        let authorized = service(users(), tokens)
            .login(
                "ann@example.com",
                &Password::new("right"),
                Duration::hours(8),
                Some("client-a"),
            )
            .await
            .unwrap();
        assert!(authorized.remember_me.is_some());
    }

    #[tokio::test]
    async fn the_token_is_exchanged_only_by_its_client() {
        for (client, ok) in [("client-a", true), ("client-b", false)] {
            let mut tokens = MockTokenStore::new();
            tokens
                .expect_find_by_hash()
                .returning(|_| Ok(Some(remember_token("client-a"))));
            tokens.expect_touch().returning(|_, _| Ok(()));
            tokens
                .expect_issue()
                .withf(|new| new.kind == TokenKind::Access)
                .times(usize::from(ok))
                .returning(|_| Ok(token(2, 1, 70)));
            let result = service(users(), tokens)
                .exchange("r", client, Duration::hours(8))
                .await;
            assert_eq!(result.is_ok(), ok, "{client}: {result:?}");
        }
    }

    #[tokio::test]
    async fn access_tokens_and_revoked_tokens_are_not_remember_me_tokens() {
        for record in [token(7, 1, 1000), {
            let mut revoked = remember_token("client-a");
            revoked.revoked_at = Some(at(5));
            revoked
        }] {
            let mut tokens = MockTokenStore::new();
            tokens
                .expect_find_by_hash()
                .returning(move |_| Ok(Some(record.clone())));
            tokens.expect_issue().never();
            let result = service(users(), tokens)
                .exchange("r", "client-a", Duration::hours(8))
                .await;
            assert!(matches!(result, Err(DomainError::InvalidToken)));
        }
    }
}
