use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::error::DomainError;
use crate::model::{IssuedToken, NewToken, TokenAttributes, TokenKind, TokenRecord, User, UserId};
use crate::ports::{Clock, TokenMint, TokenStore, UserStore};

/// A token longer than this cannot be one Limen issued; it is refused unhashed.
const MAX_TOKEN_CHARS: usize = 512;

/// How stale `last_used_at` may get before a request writes it again. Coalescing
/// keeps token validation to one read on the hot path.
const TOUCH_INTERVAL: Duration = Duration::seconds(60);

/// An authenticated request: the token presented and the user it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The owner, as of this request.
    pub user: User,
    /// The presented token's record.
    pub token: TokenRecord,
    /// When the token was checked, by the service's clock.
    pub checked_at: DateTime<Utc>,
}

impl Session {
    /// Whole seconds the token has left (0 once it has expired).
    pub fn seconds_left(&self) -> i64 {
        (self.token.expires_at - self.checked_at).num_seconds().max(0)
    }
}

/// Issues, validates and revokes tokens.
pub struct SessionService {
    users: Arc<dyn UserStore>,
    tokens: Arc<dyn TokenStore>,
    mint: Arc<dyn TokenMint>,
    clock: Arc<dyn Clock>,
}

impl SessionService {
    /// Wires the service to its ports.
    pub fn new(
        users: Arc<dyn UserStore>,
        tokens: Arc<dyn TokenStore>,
        mint: Arc<dyn TokenMint>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            users,
            tokens,
            mint,
            clock,
        }
    }

    /// Mints a token of `kind` for `user`, valid for `ttl` from now.
    pub async fn issue(
        &self,
        user: UserId,
        kind: TokenKind,
        ttl: Duration,
    ) -> Result<IssuedToken, DomainError> {
        self.issue_with(user, kind, ttl, TokenAttributes::default()).await
    }

    /// Mints a token with a note, a client binding or an address binding.
    pub async fn issue_with(
        &self,
        user: UserId,
        kind: TokenKind,
        ttl: Duration,
        attributes: TokenAttributes,
    ) -> Result<IssuedToken, DomainError> {
        let now = self.clock.now();
        let (plaintext, hash) = self.mint.mint();
        let record = self
            .tokens
            .issue(NewToken {
                user_id: user,
                kind,
                hash,
                created_at: now,
                expires_at: now + ttl,
                attributes,
            })
            .await?;
        Ok(IssuedToken { plaintext, record })
    }

    /// The session an access token stands for. Every failure (unknown, expired,
    /// revoked, wrong kind, owner gone or disabled) is the same `InvalidToken`.
    pub async fn authenticate(&self, plaintext: &str) -> Result<Session, DomainError> {
        self.authenticate_owned_by(plaintext, |_| true).await
    }

    /// Like `authenticate`, for APIs that name the owner next to the token: a
    /// token whose owner `is_owner` refuses is `InvalidToken`, and is not
    /// recorded as used.
    pub async fn authenticate_owned_by(
        &self,
        plaintext: &str,
        is_owner: impl Fn(&User) -> bool,
    ) -> Result<Session, DomainError> {
        if plaintext.is_empty() || plaintext.len() > MAX_TOKEN_CHARS {
            return Err(DomainError::InvalidToken);
        }
        let now = self.clock.now();
        let token = self
            .tokens
            .find_by_hash(&self.mint.digest(plaintext))
            .await?
            .filter(|token| token.kind == TokenKind::Access && token.is_live_at(now))
            .ok_or(DomainError::InvalidToken)?;
        let user = self
            .users
            .find_by_id(token.user_id)
            .await?
            .filter(|user| user.enabled && is_owner(user))
            .ok_or(DomainError::InvalidToken)?;
        let stale = token.last_used_at.is_none_or(|last| now - last >= TOUCH_INTERVAL);
        if stale {
            // A lost last-use update is not worth failing the request for.
            if let Err(err) = self.tokens.touch(token.id, now).await {
                tracing::warn!(error = %err, "could not record token use");
            }
        }
        Ok(Session {
            user,
            token,
            checked_at: now,
        })
    }

    /// Revokes the session's own token.
    pub async fn logout(&self, session: &Session) -> Result<(), DomainError> {
        self.tokens.revoke(session.token.id, self.clock.now()).await?;
        Ok(())
    }

    /// Revokes every token of the user, on every node (they share the store).
    pub async fn logout_everywhere(&self, user: UserId) -> Result<u64, DomainError> {
        Ok(self.tokens.revoke_all_for_user(user, self.clock.now()).await?)
    }
}

#[cfg(test)]
mod tests {
    use mockall::predicate::eq;

    use super::*;
    use crate::model::{TokenHash, TokenId};
    use crate::ports::{MockClock, MockTokenMint, MockTokenStore, MockUserStore};
    use crate::services::fixtures::{at, token, user};

    struct Mocks {
        users: MockUserStore,
        tokens: MockTokenStore,
        mint: MockTokenMint,
        clock: MockClock,
    }

    impl Mocks {
        fn new(now_minutes: i64) -> Self {
            let mut clock = MockClock::new();
            clock.expect_now().return_const(at(now_minutes));
            let mut mint = MockTokenMint::new();
            mint.expect_digest()
                .returning(|plain| TokenHash(format!("digest-of-{plain}")));
            Self {
                users: MockUserStore::new(),
                tokens: MockTokenStore::new(),
                mint,
                clock,
            }
        }

        fn service(self) -> SessionService {
            SessionService::new(
                Arc::new(self.users),
                Arc::new(self.tokens),
                Arc::new(self.mint),
                Arc::new(self.clock),
            )
        }
    }

    #[tokio::test]
    async fn issue_stores_only_the_digest_and_the_expiry() {
        let mut mocks = Mocks::new(0);
        mocks
            .mint
            .expect_mint()
            .return_const(("secret".to_owned(), TokenHash("digest".into())));
        mocks
            .tokens
            .expect_issue()
            .withf(|new| new.hash.0 == "digest" && new.expires_at == at(60) && new.created_at == at(0))
            .returning(|new| {
                let mut record = token(7, new.user_id.0, 60);
                record.hash = new.hash;
                Ok(record)
            });
        let issued = mocks
            .service()
            .issue(UserId(7), TokenKind::Access, Duration::minutes(60))
            .await
            .unwrap();
        assert_eq!(issued.plaintext, "secret");
        assert_eq!(issued.record.hash.0, "digest");
    }

    #[tokio::test]
    async fn a_live_token_of_an_enabled_user_authenticates() {
        let mut mocks = Mocks::new(10);
        mocks
            .tokens
            .expect_find_by_hash()
            .with(eq(TokenHash("digest-of-abc".into())))
            .returning(|_| {
                let mut record = token(1, 5, 60);
                record.last_used_at = Some(at(10) - Duration::seconds(59));
                Ok(Some(record))
            });
        mocks
            .users
            .expect_find_by_id()
            .with(eq(UserId(5)))
            .returning(|id| Ok(Some(user(id.0, "ann"))));
        mocks.tokens.expect_touch().never();
        let session = mocks.service().authenticate("abc").await.unwrap();
        assert_eq!(session.user.username, "ann");
        assert_eq!(session.token.id, TokenId(1));
    }

    #[tokio::test]
    async fn last_use_is_written_at_most_once_a_minute() {
        let mut mocks = Mocks::new(10);
        mocks.tokens.expect_find_by_hash().returning(|_| {
            let mut record = token(1, 5, 60);
            record.last_used_at = Some(at(9));
            Ok(Some(record))
        });
        mocks
            .users
            .expect_find_by_id()
            .returning(|id| Ok(Some(user(id.0, "ann"))));
        mocks
            .tokens
            .expect_touch()
            .with(eq(TokenId(1)), eq(at(10)))
            .times(1)
            .returning(|_, _| Ok(()));
        mocks.service().authenticate("abc").await.unwrap();
    }

    #[tokio::test]
    async fn expired_revoked_and_unknown_tokens_are_refused() {
        for case in ["expired", "revoked", "unknown"] {
            let mut mocks = Mocks::new(100);
            mocks.tokens.expect_find_by_hash().returning(move |_| {
                Ok(match case {
                    "expired" => Some(token(1, 5, 100)),
                    "revoked" => {
                        let mut record = token(1, 5, 1000);
                        record.revoked_at = Some(at(50));
                        Some(record)
                    }
                    _ => None,
                })
            });
            mocks.users.expect_find_by_id().never();
            let err = mocks.service().authenticate("abc").await.unwrap_err();
            assert!(matches!(err, DomainError::InvalidToken), "{case}: {err:?}");
        }
    }

    #[tokio::test]
    async fn a_disabled_or_deleted_owner_invalidates_the_token() {
        for enabled in [Some(false), None] {
            let mut mocks = Mocks::new(0);
            mocks
                .tokens
                .expect_find_by_hash()
                .returning(|_| Ok(Some(token(1, 5, 60))));
            mocks.users.expect_find_by_id().returning(move |id| {
                Ok(enabled.map(|enabled| {
                    let mut found = user(id.0, "ann");
                    found.enabled = enabled;
                    found
                }))
            });
            let err = mocks.service().authenticate("abc").await.unwrap_err();
            assert!(matches!(err, DomainError::InvalidToken));
        }
    }

    #[tokio::test]
    async fn empty_and_oversized_tokens_never_reach_the_store() {
        let mut mocks = Mocks::new(0);
        mocks.tokens.expect_find_by_hash().never();
        let service = mocks.service();
        for bad in [String::new(), "x".repeat(MAX_TOKEN_CHARS + 1)] {
            assert!(matches!(
                service.authenticate(&bad).await,
                Err(DomainError::InvalidToken)
            ));
        }
    }

    #[tokio::test]
    async fn logout_everywhere_revokes_all_tokens_of_the_user() {
        let mut mocks = Mocks::new(3);
        mocks
            .tokens
            .expect_revoke_all_for_user()
            .with(eq(UserId(5)), eq(at(3)))
            .times(1)
            .returning(|_, _| Ok(4));
        assert_eq!(mocks.service().logout_everywhere(UserId(5)).await.unwrap(), 4);
    }

    #[tokio::test]
    async fn logout_revokes_only_the_presented_token() {
        let mut mocks = Mocks::new(3);
        mocks
            .tokens
            .expect_revoke()
            .with(eq(TokenId(9)), eq(at(3)))
            .times(1)
            .returning(|_, _| Ok(()));
        mocks.tokens.expect_revoke_all_for_user().never();
        let session = Session {
            user: user(5, "ann"),
            token: token(9, 5, 60),
            checked_at: at(3),
        };
        assert_eq!(session.seconds_left(), 57 * 60);
        mocks.service().logout(&session).await.unwrap();
    }
}
