use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::StoreError;
use crate::error::{DomainError, UniqueField};
use crate::model::{AdminScope, AdminToken, AuditKind, NewAdminToken};
use crate::ports::{AdminTokenStore, Clock, TokenMint};
use crate::services::{Audit, AuditEntry};

/// Longest name of an admin token.
pub const MAX_ADMIN_TOKEN_NAME_CHARS: usize = 64;

/// A presented admin token's last use is written at most this often.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// Operators' tokens for the administration API and SCIM: created and
/// revoked at the command line, checked on every call.
pub struct AdminAccess {
    ports: AdminAccessPorts,
}

/// What admin tokens need.
pub struct AdminAccessPorts {
    /// Where they are kept.
    pub store: Arc<dyn AdminTokenStore>,
    /// Secrets and digests.
    pub mint: Arc<dyn TokenMint>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// The trail of creations and revocations.
    pub audit: Arc<Audit>,
}

/// A new admin token: its secret, shown once, and what is stored.
#[derive(Debug)]
pub struct IssuedAdminToken {
    /// The bearer token.
    pub plaintext: String,
    /// The stored record.
    pub token: AdminToken,
}

impl AdminAccess {
    /// Wires the service.
    pub fn new(ports: AdminAccessPorts) -> Self {
        Self { ports }
    }

    /// Creates a token named `name` with `scopes`, living until `expires_at`
    /// (for ever when `None`).
    pub async fn create(
        &self,
        name: &str,
        scopes: Vec<AdminScope>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<IssuedAdminToken, DomainError> {
        let name = validate_name(name)?;
        if scopes.is_empty() {
            return Err(DomainError::InvalidInput(
                "an admin token needs at least one scope".into(),
            ));
        }
        let now = self.ports.clock.now();
        if expires_at.is_some_and(|at| at <= now) {
            return Err(DomainError::InvalidInput(
                "the expiration time must be in the future".into(),
            ));
        }
        let (plaintext, hash) = self.ports.mint.mint();
        let new = NewAdminToken {
            name: name.clone(),
            hash,
            scopes,
            created_at: now,
            expires_at,
        };
        let token = self.ports.store.create(&new).await.map_err(|err| match err {
            StoreError::Duplicate(UniqueField::AdminTokenName) => {
                DomainError::AdminTokenNameTaken(name.clone())
            }
            other => other.into(),
        })?;
        self.ports
            .audit
            .record(
                AuditEntry::new(AuditKind::AdminTokenCreated)
                    .detail(format!("{name}: {}", AdminScope::join(&token.scopes))),
            )
            .await;
        tracing::info!(token = %name, "admin token created");
        Ok(IssuedAdminToken { plaintext, token })
    }

    /// Every admin token, the newest first.
    pub async fn list(&self) -> Result<Vec<AdminToken>, DomainError> {
        Ok(self.ports.store.list().await?)
    }

    /// Revokes the live token named `name`.
    pub async fn revoke(&self, name: &str) -> Result<(), DomainError> {
        if !self
            .ports
            .store
            .revoke(name.trim(), self.ports.clock.now())
            .await?
        {
            return Err(DomainError::InvalidInput(format!(
                "no live admin token is named {name:?}"
            )));
        }
        self.ports
            .audit
            .record(AuditEntry::new(AuditKind::AdminTokenRevoked).detail(name.trim()))
            .await;
        tracing::info!(token = %name, "admin token revoked");
        Ok(())
    }

    /// The live token `plaintext` is, allowed `scope`: `InvalidToken` for an
    /// unknown, expired or revoked one, `Forbidden` without the scope.
    pub async fn authorize(&self, plaintext: &str, scope: AdminScope) -> Result<AdminToken, DomainError> {
        let hash = self.ports.mint.digest(plaintext);
        let now = self.ports.clock.now();
        let token = self
            .ports
            .store
            .find(&hash)
            .await?
            .filter(|token| token.is_live(now))
            .ok_or(DomainError::InvalidToken)?;
        if !token.allows(scope) {
            return Err(DomainError::Forbidden(
                "the admin token lacks the scope this call needs",
            ));
        }
        if token.last_used_at.is_none_or(|at| now - at >= TOUCH_EVERY)
            && let Err(err) = self.ports.store.touch(token.id, now).await
        {
            tracing::warn!(%err, token = %token.name, "cannot record an admin token's use");
        }
        Ok(token)
    }
}

/// A name of letters, digits, `-`, `_` and `.`, so that it reads well as an
/// audit actor (`admin:<name>`).
fn validate_name(name: &str) -> Result<String, DomainError> {
    let name = name.trim();
    let fits = !name.is_empty()
        && name.chars().count() <= MAX_ADMIN_TOKEN_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if fits {
        Ok(name.to_owned())
    } else {
        Err(DomainError::InvalidInput(format!(
            "an admin token's name is 1 to {MAX_ADMIN_TOKEN_NAME_CHARS} letters, digits, '-', '_' or '.'"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AuditKind;
    use crate::services::fixtures::World;

    #[tokio::test]
    async fn only_a_live_token_with_the_scope_is_let_in() {
        let world = World::new();
        let admin = world.services().admin;
        let forever = admin
            .create("ci-bot", vec![AdminScope::UsersRead, AdminScope::AuditRead], None)
            .await
            .unwrap();
        let brief = admin
            .create(
                "brief",
                vec![AdminScope::Scim],
                Some(world.now() + Duration::hours(1)),
            )
            .await
            .unwrap();
        let found = admin
            .authorize(&forever.plaintext, AdminScope::UsersRead)
            .await
            .unwrap();
        assert_eq!(found.name, "ci-bot");
        assert!(matches!(
            admin.authorize(&forever.plaintext, AdminScope::UsersWrite).await,
            Err(DomainError::Forbidden(_))
        ));
        assert!(matches!(
            admin.authorize("token-unknown", AdminScope::UsersRead).await,
            Err(DomainError::InvalidToken)
        ));
        admin.authorize(&brief.plaintext, AdminScope::Scim).await.unwrap();
        world.advance(Duration::hours(1));
        assert!(matches!(
            admin.authorize(&brief.plaintext, AdminScope::Scim).await,
            Err(DomainError::InvalidToken)
        ));
        admin.revoke("ci-bot").await.unwrap();
        assert!(matches!(
            admin.authorize(&forever.plaintext, AdminScope::UsersRead).await,
            Err(DomainError::InvalidToken)
        ));
        assert!(matches!(
            admin.revoke("ci-bot").await,
            Err(DomainError::InvalidInput(_))
        ));
        let kinds: Vec<_> = world.audited().into_iter().map(|(kind, _, _)| kind).collect();
        assert_eq!(
            kinds,
            [
                AuditKind::AdminTokenCreated,
                AuditKind::AdminTokenCreated,
                AuditKind::AdminTokenRevoked
            ]
        );
    }

    #[tokio::test]
    async fn names_and_scopes_are_checked_before_anything_is_stored() {
        let world = World::new();
        let admin = world.services().admin;
        for name in ["", "two words", "ünicode", &"x".repeat(65)] {
            let err = admin
                .create(name, vec![AdminScope::Scim], None)
                .await
                .unwrap_err();
            assert!(matches!(err, DomainError::InvalidInput(_)), "{name:?}: {err:?}");
        }
        let err = admin.create("bot", vec![], None).await.unwrap_err();
        assert!(matches!(err, DomainError::InvalidInput(_)), "{err:?}");
        let err = admin
            .create("bot", vec![AdminScope::Scim], Some(world.now()))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::InvalidInput(_)), "{err:?}");
        admin.create("bot", vec![AdminScope::Scim], None).await.unwrap();
        let err = admin
            .create("bot", vec![AdminScope::Scim], None)
            .await
            .unwrap_err();
        assert!(
            matches!(err, DomainError::AdminTokenNameTaken(ref name) if name == "bot"),
            "{err:?}"
        );
        assert_eq!(admin.list().await.unwrap().len(), 1);
    }
}
