use std::sync::Arc;

use chrono::Duration;

use crate::error::DomainError;
use crate::model::{ClientAddress, IssuedToken, Password, TokenKind, TokenRecord};
use crate::services::{
    AccessGrant, Audit, AuthMethod, Authenticated, LoggedIn, LoginCompletion, PasswordLogin, RememberMeGrant,
    SessionService, Users, validate_client_id,
};

/// What a password login that may ask to be remembered handed out.
#[derive(Debug, Clone)]
pub struct Authorized {
    /// Who logged in.
    pub user: crate::model::User,
    /// The access token.
    pub access: IssuedToken,
    /// The remember-me token, when one was asked for.
    pub remember_me: Option<IssuedToken>,
}

/// The lifetimes a client of remember-me tokens asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RememberMeLifetimes {
    /// Access tokens.
    pub access: Duration,
    /// Remember-me tokens.
    pub remember_me: Duration,
}

/// The services remember-me logins work with.
pub struct RememberMePorts {
    /// The directory's users.
    pub users: Arc<Users>,
    /// Password logins.
    pub passwords: Arc<PasswordLogin>,
    /// Issues and checks tokens.
    pub sessions: Arc<SessionService>,
    /// The second half of every login.
    pub completion: Arc<LoginCompletion>,
    /// The trail of logins.
    pub audit: Arc<Audit>,
}

/// The remember-me identity provider: a token issued with a password login for
/// one client id, exchanged by that client for access tokens without the
/// password. These tokens are ordinary tokens of kind `RememberMe`, so "log out
/// everywhere", a password change, enabling a second factor and disabling the
/// account end them too. They never stand in for a second factor.
pub struct RememberMeService {
    ports: RememberMePorts,
}

impl RememberMeService {
    /// Wires the service.
    pub fn new(ports: RememberMePorts) -> Self {
        Self { ports }
    }

    /// A password login; with `remember_for = Some(client_id)` also a
    /// remember-me token bound to that client. Users with a second factor are
    /// refused: this path has no step to present it.
    pub async fn login(
        &self,
        identifier: &str,
        password: &Password,
        client: &ClientAddress,
        lifetimes: RememberMeLifetimes,
        remember_for: Option<&str>,
    ) -> Result<Authorized, DomainError> {
        if let Some(client_id) = remember_for {
            // Checked before the password, so a refused request writes nothing.
            validate_client_id(client_id)?;
        }
        match remember_for {
            Some(client_id) => {
                let grant = RememberMeGrant {
                    ttl: lifetimes.access,
                    client_id: client_id.to_owned(),
                    remember_ttl: lifetimes.remember_me,
                };
                let LoggedIn { user, granted } = self
                    .ports
                    .passwords
                    .login(identifier, password, client, grant)
                    .await?;
                Ok(Authorized {
                    user,
                    access: granted.access,
                    remember_me: Some(granted.remember_me),
                })
            }
            None => {
                let grant = AccessGrant::new(lifetimes.access);
                let LoggedIn { user, granted } = self
                    .ports
                    .passwords
                    .login(identifier, password, client, grant)
                    .await?;
                Ok(Authorized {
                    user,
                    access: granted,
                    remember_me: None,
                })
            }
        }
    }

    /// A fresh access token for a remember-me token presented by the client it
    /// was issued to. Another client id, an expired or revoked token, or a
    /// vanished or disabled user: `InvalidToken`; a locked user: `AccountLocked`.
    pub async fn exchange(
        &self,
        plaintext: &str,
        client_id: &str,
        access_ttl: Duration,
    ) -> Result<IssuedToken, DomainError> {
        validate_client_id(client_id)?;
        let (token, authenticated) = match self.presented(plaintext, client_id).await {
            Ok(found) => found,
            Err(err) => {
                self.ports.audit.login_failed("remember-me", None, "", &err).await;
                return Err(err);
            }
        };
        let access = self
            .ports
            .completion
            .complete(authenticated, AccessGrant::new(access_ttl))
            .await?
            .granted;
        self.ports
            .sessions
            .touch_if_stale(&token, access.record.created_at)
            .await;
        Ok(access)
    }

    /// The remember-me token presented by `client_id`, and the enabled user it
    /// proves.
    async fn presented(
        &self,
        plaintext: &str,
        client_id: &str,
    ) -> Result<(TokenRecord, Authenticated), DomainError> {
        let token = self
            .ports
            .sessions
            .find_presented(plaintext, TokenKind::RememberMe)
            .await?;
        if token.attributes.client_id.as_deref() != Some(client_id) {
            return Err(DomainError::InvalidToken);
        }
        let user = self.ports.users.owner_of(&token).await?;
        let authenticated = Authenticated::uncounted(user, AuthMethod::RememberMe(token.hash.clone()));
        Ok((token, authenticated))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::fixtures::World;

    const LIFETIMES: RememberMeLifetimes = RememberMeLifetimes {
        access: Duration::hours(8),
        remember_me: Duration::days(30),
    };

    fn client() -> ClientAddress {
        ClientAddress::unknown()
    }

    async fn remembered(world: &World) -> Authorized {
        world
            .services()
            .remember_me
            .login(
                "ann",
                &Password::new("pw-ann"),
                &client(),
                LIFETIMES,
                Some("client-a"),
            )
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn remember_me_issues_a_second_token_bound_to_the_client() {
        let world = World::new();
        world.add_user("ann");
        let authorized = remembered(&world).await;
        let remember = authorized.remember_me.unwrap();
        assert_eq!(remember.record.kind, TokenKind::RememberMe);
        assert_eq!(remember.record.expires_at, world.now() + Duration::days(30));
        assert_eq!(remember.record.attributes.client_id.as_deref(), Some("client-a"));
    }

    #[tokio::test]
    async fn the_token_is_exchanged_only_by_its_client_and_the_session_remembers_its_origin() {
        let world = World::new();
        world.add_user("ann");
        let remember = remembered(&world).await.remember_me.unwrap();
        let service = world.services().remember_me;
        assert!(matches!(
            service
                .exchange(&remember.plaintext, "client-b", Duration::hours(8))
                .await,
            Err(DomainError::InvalidToken)
        ));
        let access = service
            .exchange(&remember.plaintext, "client-a", Duration::hours(8))
            .await
            .unwrap();
        assert_eq!(access.record.attributes.origin, Some(remember.record.hash));
    }

    #[tokio::test]
    async fn access_tokens_and_revoked_tokens_are_not_remember_me_tokens() {
        let world = World::new();
        world.add_user("ann");
        let authorized = remembered(&world).await;
        let service = world.services().remember_me;
        assert!(
            service
                .exchange(&authorized.access.plaintext, "client-a", Duration::hours(8))
                .await
                .is_err()
        );
        let remember = authorized.remember_me.unwrap();
        world
            .services()
            .sessions
            .revoke(&remember.record.hash)
            .await
            .unwrap();
        assert!(
            service
                .exchange(&remember.plaintext, "client-a", Duration::hours(8))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn an_exchange_for_a_user_with_a_second_factor_is_refused() {
        let world = World::new();
        let ann = world.add_user("ann");
        let remember = remembered(&world).await.remember_me.unwrap();
        world.enrol_totp(ann.id);
        let err = world
            .services()
            .remember_me
            .exchange(&remember.plaintext, "client-a", Duration::hours(8))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::SecondFactorRequired));
    }

    #[tokio::test]
    async fn a_client_id_longer_than_the_column_is_refused_before_the_password_is_checked() {
        let world = World::new();
        world.add_user("ann");
        let err = world
            .services()
            .remember_me
            .login(
                "ann",
                &Password::new("pw-ann"),
                &client(),
                LIFETIMES,
                Some(&"c".repeat(256)),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::InvalidInput(_)));
        assert!(world.verifications().is_empty());
    }
}
