use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::error::DomainError;
use crate::model::{
    AuditKind, ClientAddress, IssuedToken, Password, TokenAttributes, TokenId, TokenKind, TokenRecord, User,
    normalize_identifier,
};
use crate::ports::{AccountStates, Clock, TokenCatalog};
use crate::services::{AccessGrant, Audit, AuditEntry, PasswordLogin, Session, SessionService, Users};

/// The kinds of token `limen token` lists, disables and revokes.
const MANAGED_KINDS: [TokenKind; 5] = [
    TokenKind::Access,
    TokenKind::RememberMe,
    TokenKind::NumericSession,
    TokenKind::ProviderRefresh,
    TokenKind::BrowserSession,
];

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
    ports: ApiTokenPorts,
    settings: ApiTokenSettings,
}

/// The ports and services the API token service works with.
pub struct ApiTokenPorts {
    /// Owners.
    pub users: Arc<Users>,
    /// Last-login records ("bump").
    pub accounts: Arc<dyn AccountStates>,
    /// Listing, lookup by id, enabling.
    pub catalog: Arc<dyn TokenCatalog>,
    /// Issue, validation, revocation.
    pub sessions: Arc<SessionService>,
    /// Password logins.
    pub passwords: Arc<PasswordLogin>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// The trail of created and revoked tokens.
    pub audit: Arc<Audit>,
}

impl ApiTokenService {
    /// Wires the service.
    pub fn new(ports: ApiTokenPorts, settings: ApiTokenSettings) -> Self {
        Self { ports, settings }
    }

    /// Logs in with a password (no second step: users with a second factor are
    /// refused) and issues a user token as `request` asks.
    pub async fn login(
        &self,
        username: &str,
        password: &Password,
        client: &ClientAddress,
        request: TokenRequest,
    ) -> Result<IssuedToken, DomainError> {
        // Checked before the password, so a bad request costs no hash.
        let (note, ttl) = self.validate(&request)?;
        let grant = AccessGrant { ttl, note };
        let logged_in = self
            .ports
            .passwords
            .login(username, password, client, grant)
            .await?;
        Ok(logged_in.granted)
    }

    /// Creates a named token for `username` (an operator's command).
    pub async fn create(&self, username: &str, request: TokenRequest) -> Result<IssuedToken, DomainError> {
        let (note, ttl) = self.validate(&request)?;
        let user = self.user(username).await?;
        let issued = self
            .ports
            .sessions
            .issue_with(
                user.id,
                TokenKind::Access,
                ttl,
                TokenAttributes {
                    note,
                    ..TokenAttributes::default()
                },
            )
            .await?;
        tracing::info!(user_id = %user.id, token_id = issued.record.id.0, "API token created");
        let entry = AuditEntry::new(AuditKind::TokenCreated)
            .user(&user)
            .detail(format!(
                "access token {}, expires {}",
                issued.record.id.0,
                issued.record.expires_at.to_rfc3339()
            ));
        self.ports.audit.record(entry).await;
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
            Some(at) => at - self.ports.clock.now(),
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

    async fn user(&self, username: &str) -> Result<User, DomainError> {
        self.ports
            .users
            .by_username(username)
            .await?
            .ok_or_else(|| DomainError::UnknownUser(username.to_owned()))
    }

    /// The tokens of `username` an operator manages: access tokens (the
    /// dialects' sessions and API tokens, OpenID clients' access tokens),
    /// remember-me tokens, numbered sessions, the OpenID Provider's refresh
    /// tokens and browser sessions; the newest first.
    pub async fn list(&self, username: &str) -> Result<Vec<TokenRecord>, DomainError> {
        let user = self.user(username).await?;
        let mut listed = Vec::new();
        for kind in MANAGED_KINDS {
            listed.extend(self.ports.catalog.list_for_user(user.id, kind).await?);
        }
        listed.sort_by_key(|token| std::cmp::Reverse(token.id.0));
        Ok(listed)
    }

    /// The token with this id, of the kinds operators manage.
    pub async fn find(&self, id: TokenId) -> Result<TokenRecord, DomainError> {
        self.ports
            .catalog
            .find_by_id(id)
            .await?
            .filter(|token| MANAGED_KINDS.contains(&token.kind))
            .ok_or(DomainError::UnknownToken(id.0))
    }

    /// Enables or disables an access token.
    pub async fn set_enabled(&self, id: TokenId, enabled: bool) -> Result<(), DomainError> {
        let token = self.find(id).await?;
        self.ports.catalog.set_enabled(id, enabled).await?;
        self.ports
            .sessions
            .invalidate(crate::model::Invalidation::Token(token.hash))
            .await;
        tracing::info!(token_id = id.0, enabled, "API token enabled state changed");
        Ok(())
    }

    /// Revokes an access token for good.
    pub async fn revoke(&self, id: TokenId) -> Result<(), DomainError> {
        let token = self.find(id).await?;
        self.ports.sessions.revoke(&token.hash).await?;
        tracing::info!(token_id = id.0, "API token revoked");
        let entry = AuditEntry::new(AuditKind::TokenRevoked)
            .user_id(token.user_id)
            .detail(format!("access token {}", id.0));
        self.ports.audit.record(entry).await;
        Ok(())
    }

    /// The session of a token presented together with its owner's username or
    /// e-mail address; a token of another user is refused like an unknown one.
    pub async fn authenticate(&self, owner: &str, plaintext: &str) -> Result<Session, DomainError> {
        let owner = normalize_identifier(owner);
        self.ports
            .sessions
            .authenticate_owned_by(plaintext, |user| {
                user.username == owner || (!user.email.is_empty() && user.email == owner)
            })
            .await
    }

    /// Records a login now ("bump") and returns its time. It does not touch the
    /// account's failure count: holding a token proves nothing about passwords.
    pub async fn bump(&self, session: &Session) -> Result<DateTime<Utc>, DomainError> {
        let now = self.ports.clock.now();
        self.ports.accounts.record_login(session.user.id, now).await?;
        Ok(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::fixtures::World;

    #[tokio::test]
    async fn a_named_token_carries_its_trimmed_note_and_lifetime() {
        let world = World::new();
        world.add_user("ann");
        let issued = world
            .services()
            .api_tokens
            .create(
                "ANN",
                TokenRequest {
                    note: Some("  deploy key ".into()),
                    expires_at: Some(world.now() + Duration::days(2)),
                },
            )
            .await
            .unwrap();
        assert_eq!(issued.record.attributes.note.as_deref(), Some("deploy key"));
        assert_eq!(issued.record.expires_at, world.now() + Duration::days(2));
    }

    #[tokio::test]
    async fn bad_notes_lifetimes_and_users_are_refused() {
        let world = World::new();
        world.add_user("ann");
        let service = world.services().api_tokens;
        let now = world.now();
        for request in [
            TokenRequest {
                note: Some("x".repeat(256)),
                expires_at: None,
            },
            TokenRequest {
                note: Some("a\u{7}b".into()),
                expires_at: None,
            },
            TokenRequest {
                note: None,
                expires_at: Some(now),
            },
            TokenRequest {
                note: None,
                expires_at: Some(now + Duration::days(366)),
            },
        ] {
            assert!(matches!(
                service.create("ann", request).await,
                Err(DomainError::InvalidInput(_))
            ));
        }
        assert!(matches!(
            service.create("bob", TokenRequest::default()).await,
            Err(DomainError::UnknownUser(_))
        ));
    }

    #[tokio::test]
    async fn a_token_presented_with_another_username_is_refused_and_not_touched() {
        let world = World::new();
        world.add_user("ann");
        world.add_user("bob");
        let service = world.services().api_tokens;
        let token = service.create("ann", TokenRequest::default()).await.unwrap();
        assert!(service.authenticate("bob", &token.plaintext).await.is_err());
        assert_eq!(world.touches(), 0);
        assert!(
            service
                .authenticate("ann@example.com", &token.plaintext)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn only_access_tokens_are_managed_here() {
        let world = World::new();
        let ann = world.add_user("ann");
        let pending = world
            .services()
            .sessions
            .issue(ann.id, TokenKind::PendingSecondFactor, Duration::minutes(5))
            .await
            .unwrap();
        let service = world.services().api_tokens;
        assert!(matches!(
            service.revoke(pending.record.id).await,
            Err(DomainError::UnknownToken(_))
        ));
        let token = service.create("ann", TokenRequest::default()).await.unwrap();
        service.set_enabled(token.record.id, false).await.unwrap();
        assert!(service.authenticate("ann", &token.plaintext).await.is_err());
        service.set_enabled(token.record.id, true).await.unwrap();
        service.revoke(token.record.id).await.unwrap();
        assert!(service.authenticate("ann", &token.plaintext).await.is_err());
    }

    #[tokio::test]
    async fn bump_records_a_login_and_leaves_a_lock_alone() {
        let world = World::new();
        let ann = world.add_user("ann");
        let service = world.services().api_tokens;
        let token = service.create("ann", TokenRequest::default()).await.unwrap();
        let key = format!("account:{}", ann.id);
        world.set_failures(&key, 4);
        world.block(&key, Duration::minutes(10));
        let session = service.authenticate("ann", &token.plaintext).await.unwrap();
        assert_eq!(service.bump(&session).await.unwrap(), world.now());
        assert_eq!(world.account(ann.id).last_login_at, Some(world.now()));
        assert!(world.is_blocked(&key));
    }
}
