use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::error::{DomainError, StoreError, UniqueField};
use crate::model::{
    AuditKind, ClientAddress, Invalidation, IssuedToken, NewToken, TokenAttributes, TokenHash, TokenKind,
    TokenRecord, User, UserId,
};
use crate::ports::{Clock, Invalidations, SessionTokens, TokenMint};
use crate::services::{Audit, AuditEntry, Users, ValidationCache};

/// A token longer than this cannot be one Limen issued; it is refused unhashed.
const MAX_TOKEN_CHARS: usize = 512;

/// How stale `last_used_at` may get before a request writes it again. Coalescing
/// keeps token validation to reads on the hot path.
const TOUCH_INTERVAL: Duration = Duration::seconds(60);

/// How often a colliding session number is drawn again.
const NUMBER_DRAWS: usize = 8;

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

/// Issues, validates, consumes and revokes tokens.
pub struct SessionService {
    ports: SessionPorts,
}

/// The ports and the cache sessions work with.
pub struct SessionPorts {
    /// Token owners.
    pub users: Arc<Users>,
    /// The tokens.
    pub tokens: Arc<dyn SessionTokens>,
    /// New tokens and digests.
    pub mint: Arc<dyn TokenMint>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// Validated tokens kept in memory; `None` when the cache is off.
    pub cache: Option<Arc<ValidationCache>>,
    /// Tells every node what its cache must forget.
    pub invalidations: Arc<dyn Invalidations>,
    /// The trail of revocations.
    pub audit: Arc<Audit>,
}

impl SessionService {
    /// Wires the service to its ports.
    pub fn new(ports: SessionPorts) -> Self {
        Self { ports }
    }

    /// Forgets cached validations `change` makes wrong, here and, through the
    /// invalidation channel, on every other node. A channel that cannot take
    /// the message is logged: the other nodes' entries then expire by
    /// `max_staleness` at the latest.
    pub async fn invalidate(&self, change: Invalidation) {
        if let Some(cache) = &self.ports.cache {
            cache.evict(&change);
        }
        if let Err(err) = self.ports.invalidations.publish(change).await {
            tracing::warn!(error = %err, "could not tell the other nodes to forget cached validations");
        }
    }

    /// Something validation answers with changed for `user` (role, second
    /// factor, a lock, Limen's disabled flag).
    pub async fn user_changed(&self, user: UserId) {
        self.invalidate(Invalidation::User(user)).await;
    }

    /// The digest under which `plaintext` is stored.
    pub fn digest(&self, plaintext: &str) -> TokenHash {
        self.ports.mint.digest(plaintext)
    }

    /// The time on the service's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
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

    /// Mints a token with a note, a client binding, an address binding or an origin.
    pub async fn issue_with(
        &self,
        user: UserId,
        kind: TokenKind,
        ttl: Duration,
        attributes: TokenAttributes,
    ) -> Result<IssuedToken, DomainError> {
        let now = self.ports.clock.now();
        let (plaintext, hash) = self.ports.mint.mint();
        let record = self
            .ports
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

    /// Records a token under a digest the caller minted (single-use records
    /// whose name is handed out separately).
    pub async fn store(
        &self,
        user: UserId,
        kind: TokenKind,
        hash: TokenHash,
        ttl: Duration,
        attributes: TokenAttributes,
    ) -> Result<TokenRecord, DomainError> {
        let now = self.ports.clock.now();
        Ok(self
            .ports
            .tokens
            .issue(NewToken {
                user_id: user,
                kind,
                hash,
                created_at: now,
                expires_at: now + ttl,
                attributes,
            })
            .await?)
    }

    /// Mints a token whose plaintext is a random UUID (version 4), for APIs
    /// whose documents show one.
    pub async fn issue_uuid(
        &self,
        user: UserId,
        kind: TokenKind,
        ttl: Duration,
    ) -> Result<IssuedToken, DomainError> {
        let now = self.ports.clock.now();
        let plaintext = self.ports.mint.uuid();
        let record = self
            .ports
            .tokens
            .issue(NewToken {
                user_id: user,
                kind,
                hash: self.ports.mint.digest(&plaintext),
                created_at: now,
                expires_at: now + ttl,
                attributes: TokenAttributes::default(),
            })
            .await?;
        Ok(IssuedToken { plaintext, record })
    }

    /// The digest a session number is stored under.
    pub fn number_digest(&self, number: i32) -> TokenHash {
        self.ports.mint.digest(&format!("numeric-session:{number}"))
    }

    /// Opens a session named by a random 32-bit number, bound to `client`'s
    /// address; a number already in use is drawn again.
    pub async fn issue_numbered(
        &self,
        user: UserId,
        ttl: Duration,
        client: &ClientAddress,
    ) -> Result<i32, DomainError> {
        let now = self.ports.clock.now();
        for _ in 0..NUMBER_DRAWS {
            let number = self.ports.mint.session_number();
            let issued = self
                .ports
                .tokens
                .issue(NewToken {
                    user_id: user,
                    kind: TokenKind::NumericSession,
                    hash: self.number_digest(number),
                    created_at: now,
                    expires_at: now + ttl,
                    attributes: TokenAttributes {
                        bound_address: Some(client.as_text()),
                        ..TokenAttributes::default()
                    },
                })
                .await;
            match issued {
                Ok(_) => return Ok(number),
                Err(StoreError::Duplicate(UniqueField::Token)) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(DomainError::Internal(
            "no free session number after repeated draws".into(),
        ))
    }

    /// The live token of `kind` stored under `hash`, or `InvalidToken`: the one
    /// place that checks kind and liveness.
    pub async fn find_live(&self, hash: &TokenHash, kind: TokenKind) -> Result<TokenRecord, DomainError> {
        let now = self.ports.clock.now();
        self.ports
            .tokens
            .find(hash)
            .await?
            .filter(|token| token.kind == kind && token.is_live_at(now))
            .ok_or(DomainError::InvalidToken)
    }

    /// The record a presented token names, whatever its state (spent,
    /// revoked, expired): for telling a replay from a guess.
    pub async fn find_any(&self, plaintext: &str) -> Result<Option<TokenRecord>, DomainError> {
        if plaintext.is_empty() || plaintext.len() > MAX_TOKEN_CHARS {
            return Ok(None);
        }
        Ok(self.ports.tokens.find(&self.digest(plaintext)).await?)
    }

    /// The live token of `kind` a client presented, or `InvalidToken`.
    pub async fn find_presented(&self, plaintext: &str, kind: TokenKind) -> Result<TokenRecord, DomainError> {
        if plaintext.is_empty() || plaintext.len() > MAX_TOKEN_CHARS {
            return Err(DomainError::InvalidToken);
        }
        self.find_live(&self.ports.mint.digest(plaintext), kind).await
    }

    /// Spends a single-use token: of concurrent calls with the same token, one
    /// gets its record and the others `InvalidToken`.
    pub async fn consume(&self, plaintext: &str, kind: TokenKind) -> Result<TokenRecord, DomainError> {
        if plaintext.is_empty() || plaintext.len() > MAX_TOKEN_CHARS {
            return Err(DomainError::InvalidToken);
        }
        self.ports
            .tokens
            .consume(&self.ports.mint.digest(plaintext), kind, self.ports.clock.now())
            .await?
            .ok_or(DomainError::InvalidToken)
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
        let hash = self.ports.mint.digest(plaintext);
        let now = self.ports.clock.now();
        // Only while changes made on other nodes are being heard.
        let cache = self
            .ports
            .cache
            .as_ref()
            .filter(|_| self.ports.invalidations.is_live());
        if let Some((token, user)) = cache.and_then(|cache| cache.get(&hash, now))
            && token.kind == TokenKind::Access
            && token.is_live_at(now)
            && user.enabled
        {
            if !is_owner(&user) {
                return Err(DomainError::InvalidToken);
            }
            self.touch_if_stale(&token, now).await;
            return Ok(Session {
                user,
                token,
                checked_at: now,
            });
        }
        let generation = cache.map(|cache| cache.generation());
        let token = self.find_live(&hash, TokenKind::Access).await?;
        let user = self.ports.users.owner_of(&token).await?;
        if let (Some(cache), Some(generation)) = (cache, generation) {
            cache.insert(&token, &user, generation, now);
        }
        if !is_owner(&user) {
            return Err(DomainError::InvalidToken);
        }
        self.touch_if_stale(&token, now).await;
        Ok(Session {
            user,
            token,
            checked_at: now,
        })
    }

    /// Records a token's use unless it was recorded within the last minute.
    pub async fn touch_if_stale(&self, token: &TokenRecord, now: DateTime<Utc>) {
        let stale = token.last_used_at.is_none_or(|last| now - last >= TOUCH_INTERVAL);
        if stale {
            // A lost last-use update is not worth failing the request for.
            match self.ports.tokens.touch(&token.hash, now).await {
                Ok(()) => {
                    if let Some(cache) = &self.ports.cache {
                        cache.touched(&token.hash, now);
                    }
                }
                Err(err) => tracing::warn!(error = %err, "could not record token use"),
            }
        }
    }

    /// Ends the session: its own token, and the remember-me token it was issued
    /// with or exchanged for, so that logging out of a client ends the client's
    /// "remember me" too.
    pub async fn logout(&self, session: &Session) -> Result<(), DomainError> {
        let now = self.ports.clock.now();
        self.ports.tokens.revoke(&session.token.hash, now).await?;
        self.invalidate(Invalidation::Token(session.token.hash.clone()))
            .await;
        if let Some(origin) = &session.token.attributes.origin {
            self.ports.tokens.revoke(origin, now).await?;
        }
        self.ports
            .audit
            .record(
                AuditEntry::new(AuditKind::TokenRevoked)
                    .user(&session.user)
                    .detail(format!("logout of a {} token", session.token.kind.as_str())),
            )
            .await;
        Ok(())
    }

    /// Revokes one token by its digest.
    pub async fn revoke(&self, hash: &TokenHash) -> Result<bool, DomainError> {
        let revoked = self.ports.tokens.revoke(hash, self.ports.clock.now()).await?;
        self.invalidate(Invalidation::Token(hash.clone())).await;
        Ok(revoked)
    }

    /// Revokes every token of the user, of every kind, on every node (they
    /// share the store): sessions, remember-me tokens, pending logins, links.
    pub async fn logout_everywhere(&self, user: UserId) -> Result<u64, DomainError> {
        let revoked = self
            .ports
            .tokens
            .revoke_all_for_user(user, None, self.ports.clock.now())
            .await?;
        self.user_changed(user).await;
        self.ports
            .audit
            .record(
                AuditEntry::new(AuditKind::TokenRevoked)
                    .user_id(user)
                    .detail(format!("every token: {revoked}")),
            )
            .await;
        Ok(revoked)
    }

    /// Revokes every token of the user except the one of `keep` (the caller's
    /// own session, after a change made from it).
    pub async fn logout_others(&self, user: UserId, keep: &TokenHash) -> Result<u64, DomainError> {
        let revoked = self
            .ports
            .tokens
            .revoke_all_for_user(user, Some(keep.clone()), self.ports.clock.now())
            .await?;
        self.user_changed(user).await;
        self.ports
            .audit
            .record(
                AuditEntry::new(AuditKind::TokenRevoked)
                    .user_id(user)
                    .detail(format!("every token but the current session's: {revoked}")),
            )
            .await;
        Ok(revoked)
    }

    /// Deletes every token of a user who is being deleted.
    pub async fn forget_user(&self, user: UserId) -> Result<u64, DomainError> {
        let deleted = self.ports.tokens.delete_all_for_user(user).await?;
        self.user_changed(user).await;
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::fixtures::World;

    #[tokio::test]
    async fn an_issued_access_token_authenticates_and_stores_only_its_digest() {
        let world = World::new();
        let ann = world.add_user("ann");
        let sessions = world.services().sessions;
        let issued = sessions
            .issue(ann.id, TokenKind::Access, Duration::minutes(60))
            .await
            .unwrap();
        assert_ne!(issued.record.hash.0, issued.plaintext);
        assert_eq!(issued.record.hash, world.digest(&issued.plaintext));
        let session = sessions.authenticate(&issued.plaintext).await.unwrap();
        assert_eq!(session.user.username, "ann");
        assert_eq!(session.seconds_left(), 3600);
    }

    #[tokio::test]
    async fn expired_revoked_foreign_kind_and_unknown_tokens_are_refused() {
        let world = World::new();
        let ann = world.add_user("ann");
        let sessions = world.services().sessions;
        let expired = sessions
            .issue(ann.id, TokenKind::Access, Duration::minutes(1))
            .await
            .unwrap();
        let revoked = sessions
            .issue(ann.id, TokenKind::Access, Duration::minutes(60))
            .await
            .unwrap();
        let pending = sessions
            .issue(ann.id, TokenKind::PendingSecondFactor, Duration::minutes(5))
            .await
            .unwrap();
        sessions.revoke(&revoked.record.hash).await.unwrap();
        world.advance(Duration::minutes(1));
        for plaintext in [
            &expired.plaintext,
            &revoked.plaintext,
            &pending.plaintext,
            "unknown",
        ] {
            let err = sessions.authenticate(plaintext).await.unwrap_err();
            assert!(matches!(err, DomainError::InvalidToken), "{plaintext}: {err:?}");
        }
    }

    #[tokio::test]
    async fn a_disabled_or_vanished_owner_invalidates_the_token() {
        let world = World::new();
        let ann = world.add_user("ann");
        let sessions = world.services().sessions;
        let token = sessions
            .issue(ann.id, TokenKind::Access, Duration::minutes(60))
            .await
            .unwrap();
        world.set_disabled(ann.id, true);
        assert!(sessions.authenticate(&token.plaintext).await.is_err());
        world.set_disabled(ann.id, false);
        assert!(sessions.authenticate(&token.plaintext).await.is_ok());
        world.remove_directory_user(&ann.external_id);
        assert!(sessions.authenticate(&token.plaintext).await.is_err());
    }

    fn cached_world() -> World {
        World::with_cache(crate::services::CacheSettings {
            max_entries: 100,
            max_staleness: Duration::seconds(30),
        })
    }

    #[tokio::test]
    async fn a_cached_validation_asks_the_store_nothing_until_a_change_is_heard() {
        let world = cached_world();
        let ann = world.add_user("ann");
        let services = world.services();
        let token = services
            .sessions
            .issue(ann.id, TokenKind::Access, Duration::minutes(60))
            .await
            .unwrap();
        // The first validation is remembered, the second kept.
        for _ in 0..2 {
            services.sessions.authenticate(&token.plaintext).await.unwrap();
        }
        let (lookups, directory) = (world.token_lookups(), world.directory_lookups());
        for _ in 0..3 {
            services.sessions.authenticate(&token.plaintext).await.unwrap();
        }
        assert_eq!(
            (world.token_lookups(), world.directory_lookups()),
            (lookups, directory),
            "cached"
        );
        // Another node revokes it and says so.
        world.hear(Invalidation::Token(token.record.hash.clone()));
        services.sessions.authenticate(&token.plaintext).await.unwrap();
        assert_eq!(world.token_lookups(), lookups + 1, "asked again after the change");
    }

    #[tokio::test]
    async fn changes_made_here_are_forgotten_at_once_and_published() {
        let world = cached_world();
        let ann = world.add_user("ann");
        let services = world.services();
        let token = services
            .sessions
            .issue(ann.id, TokenKind::Access, Duration::minutes(60))
            .await
            .unwrap();
        services.sessions.authenticate(&token.plaintext).await.unwrap();
        services
            .accounts
            .set_enabled(&services.accounts.find("ann").await.unwrap(), false)
            .await
            .unwrap();
        assert!(services.sessions.authenticate(&token.plaintext).await.is_err());
        assert!(world.published().contains(&Invalidation::User(ann.id)));
        let second = services
            .sessions
            .issue(ann.id, TokenKind::Access, Duration::minutes(60))
            .await
            .unwrap();
        services
            .accounts
            .set_enabled(&services.accounts.find("ann").await.unwrap(), true)
            .await
            .unwrap();
        services.sessions.authenticate(&second.plaintext).await.unwrap();
        services.sessions.revoke(&second.record.hash).await.unwrap();
        assert!(services.sessions.authenticate(&second.plaintext).await.is_err());
        assert!(
            world
                .published()
                .contains(&Invalidation::Token(second.record.hash.clone()))
        );
    }

    #[tokio::test]
    async fn while_changes_cannot_be_heard_the_cache_is_bypassed_and_nothing_outlives_the_bound() {
        let world = cached_world();
        let ann = world.add_user("ann");
        let services = world.services();
        let token = services
            .sessions
            .issue(ann.id, TokenKind::Access, Duration::minutes(60))
            .await
            .unwrap();
        services.sessions.authenticate(&token.plaintext).await.unwrap();
        world.set_channel_down(true);
        let lookups = world.token_lookups();
        services.sessions.authenticate(&token.plaintext).await.unwrap();
        services.sessions.authenticate(&token.plaintext).await.unwrap();
        assert_eq!(world.token_lookups(), lookups + 2, "every check asks the store");
        assert_eq!(services.cache.as_ref().unwrap().len(), 0, "and nothing is kept");
        world.set_channel_down(false);
        // Its second validation while changes are heard: now it is kept.
        services.sessions.authenticate(&token.plaintext).await.unwrap();
        // A change nobody announced (the customer's directory disables the
        // user) is seen once the entry is older than the bound.
        world.set_disabled(ann.id, true);
        assert!(
            services.sessions.authenticate(&token.plaintext).await.is_ok(),
            "within the bound"
        );
        world.advance(Duration::seconds(30));
        assert!(
            services.sessions.authenticate(&token.plaintext).await.is_err(),
            "past the bound"
        );
    }

    #[tokio::test]
    async fn empty_and_oversized_tokens_never_reach_the_store() {
        let world = World::new();
        let sessions = world.services().sessions;
        for bad in [String::new(), "x".repeat(MAX_TOKEN_CHARS + 1)] {
            assert!(matches!(
                sessions.authenticate(&bad).await,
                Err(DomainError::InvalidToken)
            ));
        }
        assert_eq!(world.token_lookups(), 0);
    }

    #[tokio::test]
    async fn last_use_is_written_at_most_once_a_minute() {
        let world = World::new();
        let ann = world.add_user("ann");
        let sessions = world.services().sessions;
        let token = sessions
            .issue(ann.id, TokenKind::Access, Duration::minutes(60))
            .await
            .unwrap();
        sessions.authenticate(&token.plaintext).await.unwrap();
        world.advance(Duration::seconds(59));
        sessions.authenticate(&token.plaintext).await.unwrap();
        assert_eq!(world.touches(), 1);
        world.advance(Duration::seconds(1));
        sessions.authenticate(&token.plaintext).await.unwrap();
        assert_eq!(world.touches(), 2);
    }

    #[tokio::test]
    async fn a_consumed_token_works_once() {
        let world = World::new();
        let ann = world.add_user("ann");
        let sessions = world.services().sessions;
        let link = sessions
            .issue(ann.id, TokenKind::EmailVerification, Duration::minutes(60))
            .await
            .unwrap();
        assert!(matches!(
            sessions.consume(&link.plaintext, TokenKind::Access).await,
            Err(DomainError::InvalidToken)
        ));
        assert_eq!(
            sessions
                .consume(&link.plaintext, TokenKind::EmailVerification)
                .await
                .unwrap()
                .user_id,
            ann.id
        );
        assert!(
            sessions
                .consume(&link.plaintext, TokenKind::EmailVerification)
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn logout_ends_the_token_and_its_origin_and_logout_others_keeps_one() {
        let world = World::new();
        let ann = world.add_user("ann");
        let sessions = world.services().sessions;
        let remember = sessions
            .issue(ann.id, TokenKind::RememberMe, Duration::days(30))
            .await
            .unwrap();
        let access = sessions
            .issue_with(
                ann.id,
                TokenKind::Access,
                Duration::hours(1),
                TokenAttributes {
                    origin: Some(remember.record.hash.clone()),
                    ..TokenAttributes::default()
                },
            )
            .await
            .unwrap();
        let session = sessions.authenticate(&access.plaintext).await.unwrap();
        sessions.logout(&session).await.unwrap();
        assert!(world.token(&remember.record.hash).revoked_at.is_some());

        let kept = sessions
            .issue(ann.id, TokenKind::Access, Duration::hours(1))
            .await
            .unwrap();
        let other = sessions
            .issue(ann.id, TokenKind::Access, Duration::hours(1))
            .await
            .unwrap();
        assert_eq!(
            sessions.logout_others(ann.id, &kept.record.hash).await.unwrap(),
            1
        );
        assert!(sessions.authenticate(&kept.plaintext).await.is_ok());
        assert!(sessions.authenticate(&other.plaintext).await.is_err());
    }

    #[tokio::test]
    async fn a_colliding_session_number_is_drawn_again() {
        let world = World::new();
        let ann = world.add_user("ann");
        let sessions = world.services().sessions;
        world.next_session_numbers(&[7, 7, 8]);
        let client = ClientAddress::new("192.0.2.1".parse().unwrap());
        assert_eq!(
            sessions
                .issue_numbered(ann.id, Duration::minutes(15), &client)
                .await
                .unwrap(),
            7
        );
        assert_eq!(
            sessions
                .issue_numbered(ann.id, Duration::minutes(15), &client)
                .await
                .unwrap(),
            8
        );
        let record = world.token(&sessions.number_digest(8));
        assert_eq!(record.attributes.bound_address.as_deref(), Some("192.0.2.1"));
    }
}
