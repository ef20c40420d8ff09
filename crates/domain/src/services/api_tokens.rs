use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::error::DomainError;
use crate::model::{
    IssuedToken, Password, TokenAttributes, TokenId, TokenKind, TokenRecord, User, normalize_identifier,
};
use crate::ports::{Clock, TokenStore, UserStore};
use crate::services::{PasswordLogin, Session, SessionService};

/// Longest accepted token note.
const MAX_NOTE_CHARS: usize = 255;

/// Lifetimes of user tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiTokenSettings {
    /// Lifetime of a token whose creator named no expiry.
    pub default_ttl: Duration,
    /// The longest lifetime a token may be given.
    pub max_ttl: Duration,
}

impl Default for ApiTokenSettings {
    fn default() -> Self {
        Self {
            default_ttl: Duration::days(1),
            max_ttl: Duration::days(365),
        }
    }
}

/// What the creator of a token may choose.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenRequest {
    /// A note for operators and API users ("CI deploy key").
    pub note: Option<String>,
    /// When the token stops working; `None` for the default lifetime.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Named user tokens, and the `tokens` dialect's rules: a token is presented with
/// its owner's username (or e-mail address), and "bump" records a login.
pub struct ApiTokenService {
    users: Arc<dyn UserStore>,
    tokens: Arc<dyn TokenStore>,
    sessions: Arc<SessionService>,
    passwords: Arc<PasswordLogin>,
    clock: Arc<dyn Clock>,
    settings: ApiTokenSettings,
}

impl ApiTokenService {
    /// Wires the service.
    pub fn new(
        users: Arc<dyn UserStore>,
        tokens: Arc<dyn TokenStore>,
        sessions: Arc<SessionService>,
        passwords: Arc<PasswordLogin>,
        clock: Arc<dyn Clock>,
        settings: ApiTokenSettings,
    ) -> Self {
        Self {
            users,
            tokens,
            sessions,
            passwords,
            clock,
            settings,
        }
    }

    /// Logs in with a password (no second step: users with a second factor are
    /// refused) and issues a user token as `request` asks.
    pub async fn login(
        &self,
        username: &str,
        password: &Password,
        request: TokenRequest,
    ) -> Result<IssuedToken, DomainError> {
        // Checked before the password, so a bad request costs no hash.
        let (note, ttl) = self.validate(&request)?;
        let user = self.passwords.login_single_step(username, password).await?;
        self.issue(&user, note, ttl).await
    }

    /// Creates a named token for `username` (an operator's command).
    pub async fn create(&self, username: &str, request: TokenRequest) -> Result<IssuedToken, DomainError> {
        let (note, ttl) = self.validate(&request)?;
        let user = self.user(username).await?;
        let issued = self.issue(&user, note, ttl).await?;
        tracing::info!(user_id = %user.id, token_id = issued.record.id.0, "API token created");
        Ok(issued)
    }

    /// The trimmed note and the lifetime `request` asks for, or why they are refused.
    fn validate(&self, request: &TokenRequest) -> Result<(Option<String>, Duration), DomainError> {
        let note = request
            .note
            .as_deref()
            .map(str::trim)
            .filter(|note| !note.is_empty());
        if note.is_some_and(|note| note.chars().count() > MAX_NOTE_CHARS) {
            return Err(DomainError::InvalidInput(format!(
                "the note must be at most {MAX_NOTE_CHARS} characters"
            )));
        }
        if note.is_some_and(|note| note.chars().any(char::is_control)) {
            return Err(DomainError::InvalidInput(
                "the note must not contain control characters".into(),
            ));
        }
        let ttl = match request.expires_at {
            None => self.settings.default_ttl,
            Some(at) => at - self.clock.now(),
        };
        if ttl <= Duration::zero() {
            return Err(DomainError::InvalidInput(
                "the expiration time must be in the future".into(),
            ));
        }
        if ttl > self.settings.max_ttl {
            return Err(DomainError::InvalidInput(format!(
                "a token may live at most {} days",
                self.settings.max_ttl.num_days()
            )));
        }
        Ok((note.map(str::to_owned), ttl))
    }

    async fn issue(
        &self,
        user: &User,
        note: Option<String>,
        ttl: Duration,
    ) -> Result<IssuedToken, DomainError> {
        self.sessions
            .issue_with(
                user.id,
                TokenKind::Access,
                ttl,
                TokenAttributes {
                    note,
                    ..TokenAttributes::default()
                },
            )
            .await
    }

    async fn user(&self, username: &str) -> Result<User, DomainError> {
        self.users
            .find_by_username(&normalize_identifier(username))
            .await?
            .ok_or_else(|| DomainError::UnknownUser(username.to_owned()))
    }

    /// The access tokens of `username`, newest first.
    pub async fn list(&self, username: &str) -> Result<Vec<TokenRecord>, DomainError> {
        let user = self.user(username).await?;
        Ok(self.tokens.list_for_user(user.id, TokenKind::Access).await?)
    }

    async fn token(&self, id: TokenId) -> Result<TokenRecord, DomainError> {
        self.tokens
            .find_by_id(id)
            .await?
            .filter(|token| token.kind == TokenKind::Access)
            .ok_or(DomainError::UnknownToken(id.0))
    }

    /// Enables or disables an access token.
    pub async fn set_enabled(&self, id: TokenId, enabled: bool) -> Result<(), DomainError> {
        self.token(id).await?;
        self.tokens.set_enabled(id, enabled).await?;
        tracing::info!(token_id = id.0, enabled, "API token enabled state changed");
        Ok(())
    }

    /// Revokes an access token for good.
    pub async fn revoke(&self, id: TokenId) -> Result<(), DomainError> {
        self.token(id).await?;
        self.tokens.revoke(id, self.clock.now()).await?;
        tracing::info!(token_id = id.0, "API token revoked");
        Ok(())
    }

    /// The session of a token presented together with its owner's username or
    /// e-mail address; a token of another user is refused like an unknown one.
    pub async fn authenticate(&self, owner: &str, plaintext: &str) -> Result<Session, DomainError> {
        let owner = normalize_identifier(owner);
        self.sessions
            .authenticate_owned_by(plaintext, |user| user.username == owner || user.email == owner)
            .await
    }

    /// Records a login now ("bump") and returns its time.
    pub async fn bump(&self, session: &Session) -> Result<DateTime<Utc>, DomainError> {
        let now = self.clock.now();
        self.users.record_login(session.user.id, now).await?;
        Ok(now)
    }
}

#[cfg(test)]
mod tests {
    use mockall::predicate::eq;

    use super::*;
    use crate::model::TokenHash;
    use crate::ports::{MockClock, MockTokenMint, MockTokenStore, MockUserStore};
    use crate::services::fixtures::{at, token, user};

    fn service(users: MockUserStore, tokens: MockTokenStore) -> ApiTokenService {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(at(10));
        let clock: Arc<dyn Clock> = Arc::new(clock);
        let mut mint = MockTokenMint::new();
        mint.expect_mint()
            .return_const(("plain".to_owned(), TokenHash("digest".into())));
        mint.expect_digest()
            .returning(|plain| TokenHash(format!("digest-of-{plain}")));
        let users: Arc<dyn UserStore> = Arc::new(users);
        let tokens: Arc<dyn TokenStore> = Arc::new(tokens);
        let sessions = Arc::new(SessionService::new(
            users.clone(),
            tokens.clone(),
            Arc::new(mint),
            clock.clone(),
        ));
        let mut hasher = crate::ports::MockPasswordHasher::new();
        hasher.expect_dummy_hash().return_const("dummy".to_owned());
        let mut factors = crate::ports::MockSecondFactorStore::new();
        factors.expect_find_totp().returning(|_| Ok(None));
        let passwords = Arc::new(PasswordLogin::new(
            users.clone(),
            Arc::new(hasher),
            clock.clone(),
            sessions.clone(),
            Arc::new(factors),
            crate::services::LoginPolicy::default(),
        ));
        ApiTokenService::new(
            users,
            tokens,
            sessions,
            passwords,
            clock,
            ApiTokenSettings::default(),
        )
    }

    fn users_with_ann() -> MockUserStore {
        let mut users = MockUserStore::new();
        users
            .expect_find_by_username()
            .returning(|name| Ok((name == "ann").then(|| user(1, "ann"))));
        users
            .expect_find_by_id()
            .returning(|id| Ok(Some(user(id.0, "ann"))));
        users
    }

    #[tokio::test]
    async fn a_named_token_carries_its_trimmed_note() {
        let mut tokens = MockTokenStore::new();
        tokens
            .expect_issue()
            .withf(|new| new.attributes.note.as_deref() == Some("deploy key") && new.expires_at == at(70))
            .times(1)
            .returning(|_| Ok(token(5, 1, 70)));
        let issued = service(users_with_ann(), tokens)
            .create(
                "ANN",
                TokenRequest {
                    note: Some("  deploy key ".into()),
                    expires_at: Some(at(70)),
                },
            )
            .await
            .unwrap();
        assert_eq!(issued.plaintext, "plain");
    }

    #[tokio::test]
    async fn bad_notes_lifetimes_and_users_are_refused() {
        let service = service(users_with_ann(), MockTokenStore::new());
        let refused = [
            TokenRequest {
                note: Some("x".repeat(256)),
                expires_at: None,
            },
            TokenRequest {
                note: Some("two\nlines".into()),
                expires_at: None,
            },
            TokenRequest {
                note: None,
                expires_at: Some(at(10)),
            },
            TokenRequest {
                note: None,
                expires_at: Some(at(10) + Duration::days(366)),
            },
        ];
        for request in refused {
            assert!(
                matches!(
                    service.create("ann", request.clone()).await,
                    Err(DomainError::InvalidInput(_))
                ),
                "{request:?}"
            );
        }
        assert!(matches!(
            service.create("ghost", TokenRequest::default()).await,
            Err(DomainError::UnknownUser(_))
        ));
    }

    #[tokio::test]
    async fn a_token_presented_with_another_username_is_refused() {
        let mut tokens = MockTokenStore::new();
        tokens
            .expect_find_by_hash()
            .returning(|_| Ok(Some(token(5, 1, 70))));
        // Used twice under a right name; the refusal records no use.
        tokens.expect_touch().times(2).returning(|_, _| Ok(()));
        let service = service(users_with_ann(), tokens);
        assert!(service.authenticate("Ann", "plain").await.is_ok());
        assert!(service.authenticate("ann@example.com", "plain").await.is_ok());
        assert!(matches!(
            service.authenticate("bob", "plain").await,
            Err(DomainError::InvalidToken)
        ));
    }

    #[tokio::test]
    async fn only_access_tokens_are_managed_here() {
        let mut tokens = MockTokenStore::new();
        tokens.expect_find_by_id().returning(|id| {
            let mut record = token(id.0, 1, 70);
            record.kind = TokenKind::RememberMe;
            Ok(Some(record))
        });
        tokens.expect_set_enabled().never();
        let err = service(users_with_ann(), tokens)
            .set_enabled(TokenId(3), false)
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::UnknownToken(3)));
    }

    #[tokio::test]
    async fn bump_records_a_login_now() {
        let mut users = users_with_ann();
        users
            .expect_record_login()
            .with(eq(crate::model::UserId(1)), eq(at(10)))
            .times(1)
            .returning(|_, _| Ok(()));
        let session = Session {
            user: user(1, "ann"),
            token: token(5, 1, 70),
            checked_at: at(10),
        };
        let when = service(users, MockTokenStore::new())
            .bump(&session)
            .await
            .unwrap();
        assert_eq!(when, at(10));
    }
}
