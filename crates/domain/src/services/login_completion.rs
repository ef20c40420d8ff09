//! The second half of every login: whoever proved who someone is (a password,
//! a remember-me token, a second factor, BankID, OpenID), the same rules decide
//! whether the login completes, and the same code issues the dialect's token.

use std::sync::Arc;

use chrono::Duration;

use crate::error::DomainError;
use crate::model::{AuditKind, ClientAddress, IssuedToken, TokenAttributes, TokenHash, TokenKind, User};
use crate::ports::{AccountStates, Clock, SecondFactorStore};
use crate::services::{Attempts, Audit, AuditEntry, SessionService};

/// Longest accepted client id of a remember-me token (the column's width).
pub const MAX_CLIENT_ID_CHARS: usize = 255;

/// How someone proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethod {
    /// A password, counted against the account's lockout.
    Password,
    /// A password and then a second-factor code.
    PasswordAndSecondFactor,
    /// A remember-me token, stored under this digest.
    RememberMe(TokenHash),
    /// Swedish BankID: possession of the BankID and its security code, two
    /// factors in themselves.
    BankId,
    /// An OpenID Connect provider; `second_factor` when the operator vouches
    /// that the provider asks for one itself.
    OpenId {
        /// The provider authenticates with a second factor.
        second_factor: bool,
    },
}

impl AuthMethod {
    /// The name used in logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            AuthMethod::Password => "password",
            AuthMethod::PasswordAndSecondFactor => "password+totp",
            AuthMethod::RememberMe(_) => "remember-me",
            AuthMethod::BankId => "bankid",
            AuthMethod::OpenId { .. } => "openid",
        }
    }

    /// Whether the user's own second factor must still be presented.
    fn needs_second_factor(&self) -> bool {
        !matches!(
            self,
            AuthMethod::PasswordAndSecondFactor
                | AuthMethod::BankId
                | AuthMethod::OpenId { second_factor: true }
        )
    }

    /// Whether the attempt was counted against the account's lockout (and so
    /// must be cleared or refunded).
    fn counted(&self) -> bool {
        matches!(self, AuthMethod::Password | AuthMethod::PasswordAndSecondFactor)
    }
}

/// The result of an identity provider: who, and how they proved it.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The user.
    pub user: User,
    /// How.
    pub method: AuthMethod,
}

/// What to do with a user who has a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondStep {
    /// Hand out a pending token, good for this long, for presenting the code.
    Pending {
        /// The pending token's lifetime.
        ttl: Duration,
    },
    /// Refuse: this API has no step for a second factor.
    Refuse,
}

/// The token(s) the dialect hands out for a completed login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// An access token.
    Access {
        /// Lifetime.
        ttl: Duration,
        /// A note for the token's owner.
        note: Option<String>,
    },
    /// A remember-me token bound to a client id, and an access token issued
    /// with it.
    AccessAndRememberMe {
        /// The access token's lifetime.
        ttl: Duration,
        /// The client the remember-me token is bound to.
        client_id: String,
        /// The remember-me token's lifetime.
        remember_ttl: Duration,
    },
    /// A session named by a number, bound to the client's address.
    NumberedSession {
        /// Lifetime.
        ttl: Duration,
        /// The client whose address the session is bound to.
        client: ClientAddress,
    },
}

impl Grant {
    /// An access token for `ttl`, without a note.
    pub fn access(ttl: Duration) -> Self {
        Grant::Access { ttl, note: None }
    }
}

/// What a completed login handed out.
#[derive(Debug, Clone)]
pub enum Granted {
    /// An access token.
    Access(IssuedToken),
    /// An access token and a remember-me token.
    AccessAndRememberMe {
        /// The access token.
        access: IssuedToken,
        /// The remember-me token.
        remember_me: Box<IssuedToken>,
    },
    /// The number of a numbered session.
    NumberedSession(i32),
}

/// The end of a login.
#[derive(Debug, Clone)]
pub enum LoginOutcome {
    /// Logged in.
    LoggedIn {
        /// Who.
        user: User,
        /// What they got.
        granted: Granted,
    },
    /// The user has a second factor: this pending token, good only for
    /// presenting it, stands for the first step.
    SecondFactorRequired {
        /// Whose login it is.
        user: User,
        /// The pending token.
        pending: IssuedToken,
    },
}

/// Rules of completion that are not an identity provider's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CompletionPolicy {
    /// Refuse logins until the e-mail address is verified.
    pub require_verified_email: bool,
}

/// Applies every rule of a login once, whatever proved the identity: enabled,
/// lock, e-mail verification, the second-factor policy; then records the login
/// and issues the dialect's token.
pub struct LoginCompletion {
    accounts: Arc<dyn AccountStates>,
    factors: Arc<dyn SecondFactorStore>,
    attempts: Arc<Attempts>,
    sessions: Arc<SessionService>,
    clock: Arc<dyn Clock>,
    audit: Arc<Audit>,
    policy: CompletionPolicy,
}

impl LoginCompletion {
    /// Wires the service.
    pub fn new(
        accounts: Arc<dyn AccountStates>,
        factors: Arc<dyn SecondFactorStore>,
        attempts: Arc<Attempts>,
        sessions: Arc<SessionService>,
        clock: Arc<dyn Clock>,
        audit: Arc<Audit>,
        policy: CompletionPolicy,
    ) -> Self {
        Self {
            accounts,
            factors,
            attempts,
            sessions,
            clock,
            audit,
            policy,
        }
    }

    /// Completes the login of `auth` with `grant`, or refuses it. A counted
    /// password attempt is cleared when the login completes and given back
    /// otherwise: the password was right, so it is no failure, but the count
    /// before it stands until the login is whole (a second-factor guesser cannot
    /// reset it by entering the password again).
    pub async fn complete(
        &self,
        auth: Authenticated,
        grant: Grant,
        second: SecondStep,
    ) -> Result<LoginOutcome, DomainError> {
        let counted = auth.method.counted();
        let method = auth.method.as_str();
        let user = auth.user.clone();
        let outcome = self.decide(auth, grant, second).await;
        if counted {
            let account = self.attempts.account(user.id);
            match &outcome {
                Ok(LoginOutcome::LoggedIn { .. }) => account.clear().await?,
                _ => account.refund().await?,
            }
        }
        match &outcome {
            Ok(LoginOutcome::LoggedIn { .. }) => {
                let entry = AuditEntry::new(AuditKind::LoginSucceeded)
                    .user(&user)
                    .method(method);
                self.audit.record(entry).await;
            }
            Ok(LoginOutcome::SecondFactorRequired { .. }) => {
                let entry = AuditEntry::new(AuditKind::SecondFactorRequired)
                    .user(&user)
                    .method(method);
                self.audit.record(entry).await;
            }
            Err(err) => self.audit.login_failed(method, Some(&user), "", err).await,
        }
        outcome
    }

    async fn decide(
        &self,
        auth: Authenticated,
        grant: Grant,
        second: SecondStep,
    ) -> Result<LoginOutcome, DomainError> {
        let Authenticated { user, method } = auth;
        if !user.enabled {
            return Err(DomainError::AccountDisabled);
        }
        if !method.counted()
            && let Some(until) = self.attempts.account(user.id).blocked().await?
        {
            // Locked by password guesses: no other way in until the lock lifts.
            return Err(DomainError::AccountLocked { until });
        }
        if self.policy.require_verified_email && user.email_verified_at.is_none() {
            return Err(DomainError::EmailNotVerified);
        }
        if method.needs_second_factor() && self.has_second_factor(&user).await? {
            return match (&method, second) {
                (AuthMethod::Password, SecondStep::Pending { ttl }) => {
                    let pending = self
                        .sessions
                        .issue(user.id, TokenKind::PendingSecondFactor, ttl)
                        .await?;
                    tracing::info!(user_id = %user.id, "password accepted; second factor required");
                    Ok(LoginOutcome::SecondFactorRequired { user, pending })
                }
                _ => Err(DomainError::SecondFactorRequired),
            };
        }
        self.accounts.record_login(user.id, self.clock.now()).await?;
        let origin = match &method {
            AuthMethod::RememberMe(hash) => Some(hash.clone()),
            _ => None,
        };
        let granted = self.issue(&user, grant, origin).await?;
        tracing::info!(user_id = %user.id, method = method.as_str(), "login");
        Ok(LoginOutcome::LoggedIn { user, granted })
    }

    async fn has_second_factor(&self, user: &User) -> Result<bool, DomainError> {
        Ok(self
            .factors
            .find_totp(user.id)
            .await?
            .is_some_and(|totp| totp.confirmed))
    }

    async fn issue(
        &self,
        user: &User,
        grant: Grant,
        origin: Option<TokenHash>,
    ) -> Result<Granted, DomainError> {
        match grant {
            Grant::Access { ttl, note } => {
                let attributes = TokenAttributes {
                    note,
                    origin,
                    ..TokenAttributes::default()
                };
                let access = self
                    .sessions
                    .issue_with(user.id, TokenKind::Access, ttl, attributes)
                    .await?;
                Ok(Granted::Access(access))
            }
            Grant::AccessAndRememberMe {
                ttl,
                client_id,
                remember_ttl,
            } => {
                let remember_me = self
                    .sessions
                    .issue_with(
                        user.id,
                        TokenKind::RememberMe,
                        remember_ttl,
                        TokenAttributes {
                            client_id: Some(client_id),
                            ..TokenAttributes::default()
                        },
                    )
                    .await?;
                let access = self
                    .sessions
                    .issue_with(
                        user.id,
                        TokenKind::Access,
                        ttl,
                        TokenAttributes {
                            origin: Some(remember_me.record.hash.clone()),
                            ..TokenAttributes::default()
                        },
                    )
                    .await?;
                Ok(Granted::AccessAndRememberMe {
                    access,
                    remember_me: Box::new(remember_me),
                })
            }
            Grant::NumberedSession { ttl, client } => {
                let number = self.sessions.issue_numbered(user.id, ttl, &client).await?;
                Ok(Granted::NumberedSession(number))
            }
        }
    }
}

/// Checks a client id before anything is counted or written.
pub fn validate_client_id(client_id: &str) -> Result<(), DomainError> {
    if client_id.chars().count() > MAX_CLIENT_ID_CHARS {
        return Err(DomainError::InvalidInput(format!(
            "client_id must be at most {MAX_CLIENT_ID_CHARS} characters"
        )));
    }
    if client_id.chars().any(char::is_control) {
        return Err(DomainError::InvalidInput(
            "client_id must not contain control characters".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::fixtures::World;

    fn password(user: User) -> Authenticated {
        Authenticated {
            user,
            method: AuthMethod::Password,
        }
    }

    #[tokio::test]
    async fn a_completed_login_records_it_clears_the_count_and_issues_the_grant() {
        let world = World::new();
        let ann = world.add_user("ann");
        world.set_failures(&format!("account:{}", ann.id), 3);
        let outcome = world
            .services()
            .completion
            .complete(
                password(ann.clone()),
                Grant::access(Duration::hours(1)),
                SecondStep::Refuse,
            )
            .await
            .unwrap();
        let LoginOutcome::LoggedIn {
            granted: Granted::Access(token),
            ..
        } = outcome
        else {
            panic!("{outcome:?}");
        };
        assert_eq!(token.record.expires_at, world.now() + Duration::hours(1));
        assert_eq!(world.account(ann.id).last_login_at, Some(world.now()));
        assert_eq!(world.failures(&format!("account:{}", ann.id)), 0);
    }

    #[tokio::test]
    async fn a_disabled_user_is_refused_and_the_right_password_is_not_counted() {
        let world = World::new();
        let ann = world.add_user("ann");
        world.set_disabled(ann.id, true);
        world.set_failures(&format!("account:{}", ann.id), 3);
        let ann = world.services().users.by_id(ann.id).await.unwrap().unwrap();
        let err = world
            .services()
            .completion
            .complete(
                password(ann.clone()),
                Grant::access(Duration::hours(1)),
                SecondStep::Refuse,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::AccountDisabled));
        assert_eq!(
            world.failures(&format!("account:{}", ann.id)),
            2,
            "the attempt is given back"
        );
        assert_eq!(world.account(ann.id).last_login_at, None);
    }

    #[tokio::test]
    async fn a_second_factor_yields_a_pending_token_or_a_refusal() {
        let world = World::new();
        let ann = world.add_user("ann");
        world.enrol_totp(ann.id);
        let completion = world.services().completion;
        let outcome = completion
            .complete(
                password(ann.clone()),
                Grant::access(Duration::hours(1)),
                SecondStep::Pending {
                    ttl: Duration::minutes(5),
                },
            )
            .await
            .unwrap();
        let LoginOutcome::SecondFactorRequired { pending, .. } = outcome else {
            panic!("{outcome:?}");
        };
        assert_eq!(pending.record.kind, TokenKind::PendingSecondFactor);
        assert_eq!(world.account(ann.id).last_login_at, None);
        let err = completion
            .complete(
                password(ann),
                Grant::access(Duration::hours(1)),
                SecondStep::Refuse,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::SecondFactorRequired));
    }

    #[tokio::test]
    async fn a_remember_me_token_never_stands_in_for_a_second_factor() {
        let world = World::new();
        let ann = world.add_user("ann");
        world.enrol_totp(ann.id);
        let err = world
            .services()
            .completion
            .complete(
                Authenticated {
                    user: ann,
                    method: AuthMethod::RememberMe(TokenHash("rm".into())),
                },
                Grant::access(Duration::hours(1)),
                SecondStep::Pending {
                    ttl: Duration::minutes(5),
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::SecondFactorRequired));
    }

    #[tokio::test]
    async fn a_locked_account_refuses_every_other_method() {
        let world = World::new();
        let ann = world.add_user("ann");
        world.block(&format!("account:{}", ann.id), Duration::minutes(10));
        let err = world
            .services()
            .completion
            .complete(
                Authenticated {
                    user: ann,
                    method: AuthMethod::RememberMe(TokenHash("rm".into())),
                },
                Grant::access(Duration::hours(1)),
                SecondStep::Refuse,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::AccountLocked { .. }));
    }

    #[tokio::test]
    async fn an_unverified_address_is_refused_when_the_policy_says_so() {
        let world = World::with_policy(CompletionPolicy {
            require_verified_email: true,
        });
        let ann = world.add_user("ann");
        let completion = world.services().completion;
        let err = completion
            .complete(
                password(ann.clone()),
                Grant::access(Duration::hours(1)),
                SecondStep::Refuse,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::EmailNotVerified));
        world.verify_email(ann.id);
        let ann = world.services().users.by_id(ann.id).await.unwrap().unwrap();
        assert!(
            completion
                .complete(
                    password(ann),
                    Grant::access(Duration::hours(1)),
                    SecondStep::Refuse
                )
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn remember_me_grants_bind_the_client_and_mark_the_access_token_s_origin() {
        let world = World::new();
        let ann = world.add_user("ann");
        let outcome = world
            .services()
            .completion
            .complete(
                password(ann),
                Grant::AccessAndRememberMe {
                    ttl: Duration::hours(8),
                    client_id: "client-1".into(),
                    remember_ttl: Duration::days(30),
                },
                SecondStep::Refuse,
            )
            .await
            .unwrap();
        let LoginOutcome::LoggedIn {
            granted: Granted::AccessAndRememberMe { access, remember_me },
            ..
        } = outcome
        else {
            panic!("{outcome:?}");
        };
        assert_eq!(
            remember_me.record.attributes.client_id.as_deref(),
            Some("client-1")
        );
        assert_eq!(access.record.attributes.origin, Some(remember_me.record.hash));
    }

    #[test]
    fn client_ids_longer_than_the_column_are_refused() {
        assert!(validate_client_id(&"c".repeat(MAX_CLIENT_ID_CHARS)).is_ok());
        assert!(validate_client_id(&"c".repeat(MAX_CLIENT_ID_CHARS + 1)).is_err());
        assert!(validate_client_id("a\nb").is_err());
    }
}
