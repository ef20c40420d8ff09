//! The second half of every login: whoever proved who someone is (a password,
//! a remember-me token, a second factor, BankID, OpenID), the same rules decide
//! whether the login completes, and the same code issues the dialect's token.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;

use crate::error::DomainError;
use crate::model::{AuditKind, ClientAddress, IssuedToken, TokenAttributes, TokenHash, TokenKind, User};
use crate::ports::{AccountStates, Clock, SecondFactorStore};
use crate::services::{Attempt, Attempts, Audit, AuditEntry, SessionService};

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
    /// A passkey: possession of the authenticator and its user verification
    /// (a PIN or biometrics), two factors in themselves.
    Passkey,
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
            AuthMethod::Passkey => "passkey",
        }
    }

    /// Whether the user's own second factor must still be presented.
    fn needs_second_factor(&self) -> bool {
        !matches!(
            self,
            AuthMethod::PasswordAndSecondFactor
                | AuthMethod::BankId
                | AuthMethod::Passkey
                | AuthMethod::OpenId { second_factor: true }
        )
    }
}

/// The result of an identity provider: who, how they proved it, and the
/// account's attempt when the proof was counted against its lockout (a
/// password, a second-factor code), which `LoginCompletion` settles.
#[derive(Debug)]
pub struct Authenticated {
    /// The user.
    pub user: User,
    /// How.
    pub method: AuthMethod,
    /// The account's counted attempt, cleared when the login completes and
    /// given back otherwise.
    pub attempt: Option<Attempt>,
}

impl Authenticated {
    /// A proof that was not counted against the account (BankID, OpenID, a
    /// remember-me token).
    pub fn uncounted(user: User, method: AuthMethod) -> Self {
        Self {
            user,
            method,
            attempt: None,
        }
    }
}

/// What a completed login hands out; `Issued` is what the dialect gets back,
/// so a dialect never meets a token kind it did not ask for.
#[async_trait]
pub trait Grant: Send {
    /// What the grant hands out.
    type Issued: Send;

    /// Issues the grant to `user`; `origin` is the remember-me token the login
    /// was made with, if any.
    async fn issue(
        self,
        sessions: &SessionService,
        user: &User,
        origin: Option<TokenHash>,
    ) -> Result<Self::Issued, DomainError>;
}

/// An access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessGrant {
    /// Lifetime.
    pub ttl: Duration,
    /// A note for the token's owner.
    pub note: Option<String>,
}

impl AccessGrant {
    /// An access token for `ttl`, without a note.
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, note: None }
    }
}

#[async_trait]
impl Grant for AccessGrant {
    type Issued = IssuedToken;

    async fn issue(
        self,
        sessions: &SessionService,
        user: &User,
        origin: Option<TokenHash>,
    ) -> Result<IssuedToken, DomainError> {
        let attributes = TokenAttributes {
            note: self.note,
            origin,
            ..TokenAttributes::default()
        };
        sessions
            .issue_with(user.id, TokenKind::Access, self.ttl, attributes)
            .await
    }
}

/// A remember-me token bound to a client id, and an access token issued with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RememberMeGrant {
    /// The access token's lifetime.
    pub ttl: Duration,
    /// The client the remember-me token is bound to.
    pub client_id: String,
    /// The remember-me token's lifetime.
    pub remember_ttl: Duration,
}

/// What a `RememberMeGrant` hands out.
#[derive(Debug, Clone)]
pub struct Remembered {
    /// The access token.
    pub access: IssuedToken,
    /// The remember-me token.
    pub remember_me: IssuedToken,
}

#[async_trait]
impl Grant for RememberMeGrant {
    type Issued = Remembered;

    async fn issue(
        self,
        sessions: &SessionService,
        user: &User,
        _origin: Option<TokenHash>,
    ) -> Result<Remembered, DomainError> {
        let remember_me = sessions
            .issue_with(
                user.id,
                TokenKind::RememberMe,
                self.remember_ttl,
                TokenAttributes {
                    client_id: Some(self.client_id),
                    ..TokenAttributes::default()
                },
            )
            .await?;
        let access = sessions
            .issue_with(
                user.id,
                TokenKind::Access,
                self.ttl,
                TokenAttributes {
                    origin: Some(remember_me.record.hash.clone()),
                    ..TokenAttributes::default()
                },
            )
            .await?;
        Ok(Remembered { access, remember_me })
    }
}

/// A session named by a number, bound to the client's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberedSessionGrant {
    /// Lifetime.
    pub ttl: Duration,
    /// The client whose address the session is bound to.
    pub client: ClientAddress,
}

#[async_trait]
impl Grant for NumberedSessionGrant {
    /// The session's number.
    type Issued = i32;

    async fn issue(
        self,
        sessions: &SessionService,
        user: &User,
        _origin: Option<TokenHash>,
    ) -> Result<i32, DomainError> {
        sessions.issue_numbered(user.id, self.ttl, &self.client).await
    }
}

/// The login alone, recorded and audited, with nothing handed out: for a
/// consumer that keeps a session of its own (an OpenID login's payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginOnly;

#[async_trait]
impl Grant for LoginOnly {
    type Issued = ();

    async fn issue(self, _: &SessionService, _: &User, _: Option<TokenHash>) -> Result<(), DomainError> {
        Ok(())
    }
}

/// A completed login: who, and what their grant handed out.
#[derive(Debug, Clone)]
pub struct LoggedIn<T> {
    /// Who.
    pub user: User,
    /// What they got.
    pub granted: T,
}

/// The end of a login that may stop at the second factor.
#[derive(Debug, Clone)]
pub enum LoginOutcome<T> {
    /// Logged in.
    LoggedIn(LoggedIn<T>),
    /// The user has a second factor: this pending token, good only for
    /// presenting it, stands for the first step.
    SecondFactorRequired {
        /// Whose login it is.
        user: User,
        /// The pending token.
        pending: Box<IssuedToken>,
    },
}

/// Rules of completion that are not an identity provider's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CompletionPolicy {
    /// Refuse logins until the e-mail address is verified.
    pub require_verified_email: bool,
}

/// The ports and services the second half of a login works with.
pub struct CompletionPorts {
    /// Limen's state of each account.
    pub accounts: Arc<dyn AccountStates>,
    /// Second factors.
    pub factors: Arc<dyn SecondFactorStore>,
    /// Counted attempts.
    pub attempts: Arc<Attempts>,
    /// Issues what a login grants.
    pub sessions: Arc<SessionService>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// The trail of logins.
    pub audit: Arc<Audit>,
}

/// Applies every rule of a login once, whatever proved the identity: enabled,
/// lock, e-mail verification, the second-factor policy; then records the login
/// and issues the dialect's token.
pub struct LoginCompletion {
    ports: CompletionPorts,
    policy: CompletionPolicy,
}

/// Where a login stands once every rule but the second factor passed.
enum Standing {
    /// Nothing more to present.
    Complete,
    /// The user's own second factor is still to be presented.
    SecondFactorMissing,
}

impl LoginCompletion {
    /// Wires the service.
    pub fn new(ports: CompletionPorts, policy: CompletionPolicy) -> Self {
        Self { ports, policy }
    }

    /// Completes the login of `auth` with `grant`, or refuses it, a user who
    /// still owes a second factor included (`SecondFactorRequired`): for
    /// paths that have no step to present one.
    pub async fn complete<G: Grant>(
        &self,
        auth: Authenticated,
        grant: G,
    ) -> Result<LoggedIn<G::Issued>, DomainError> {
        let Authenticated {
            user,
            method,
            attempt,
        } = auth;
        let outcome = match self.standing(&user, &method).await {
            Ok(Standing::Complete) => self.log_in(&user, &method, grant).await,
            Ok(Standing::SecondFactorMissing) => Err(DomainError::SecondFactorRequired),
            Err(err) => Err(err),
        };
        let ended = outcome.as_ref().map(|_| AuditKind::LoginSucceeded);
        self.conclude(&user, &method, attempt, ended).await?;
        outcome.map(|granted| LoggedIn { user, granted })
    }

    /// Completes the login of `auth` with `grant`, or, for a user who still
    /// owes a second factor, hands out a pending token good for `pending_ttl`
    /// that stands for this first step.
    pub async fn complete_or_pending<G: Grant>(
        &self,
        auth: Authenticated,
        grant: G,
        pending_ttl: Duration,
    ) -> Result<LoginOutcome<G::Issued>, DomainError> {
        let Authenticated {
            user,
            method,
            attempt,
        } = auth;
        let outcome = match self.standing(&user, &method).await {
            Ok(Standing::Complete) => self.log_in(&user, &method, grant).await.map(|granted| {
                LoginOutcome::LoggedIn(LoggedIn {
                    user: user.clone(),
                    granted,
                })
            }),
            Ok(Standing::SecondFactorMissing) if method == AuthMethod::Password => self
                .ports
                .sessions
                .issue(user.id, TokenKind::PendingSecondFactor, pending_ttl)
                .await
                .map(|pending| {
                    tracing::info!(user_id = %user.id, "password accepted; second factor required");
                    LoginOutcome::SecondFactorRequired {
                        user: user.clone(),
                        pending: Box::new(pending),
                    }
                }),
            // Only a password may stand for the first step.
            Ok(Standing::SecondFactorMissing) => Err(DomainError::SecondFactorRequired),
            Err(err) => Err(err),
        };
        let ended = outcome.as_ref().map(|outcome| match outcome {
            LoginOutcome::LoggedIn(_) => AuditKind::LoginSucceeded,
            LoginOutcome::SecondFactorRequired { .. } => AuditKind::SecondFactorRequired,
        });
        self.conclude(&user, &method, attempt, ended).await?;
        outcome
    }

    /// Settles the account's attempt and records how the login `ended`. The
    /// attempt is cleared when the login completed and given back otherwise:
    /// the password was right, so it is no failure, but the count before it
    /// stands until the login is whole (a second-factor guesser cannot reset
    /// it by entering the password again).
    async fn conclude(
        &self,
        user: &User,
        method: &AuthMethod,
        attempt: Option<Attempt>,
        ended: Result<AuditKind, &DomainError>,
    ) -> Result<(), DomainError> {
        let completed = matches!(ended, Ok(AuditKind::LoginSucceeded));
        match attempt {
            Some(attempt) if completed => attempt.clear().await?,
            Some(attempt) => attempt.refund().await?,
            None => {}
        }
        match ended {
            Ok(kind) => {
                let entry = AuditEntry::new(kind).user(user).method(method.as_str());
                self.ports.audit.record(entry).await;
            }
            Err(err) => {
                self.ports
                    .audit
                    .login_failed(method.as_str(), Some(user), "", err)
                    .await
            }
        }
        Ok(())
    }

    /// Every rule but the second factor's, and whether that one is owed.
    async fn standing(&self, user: &User, method: &AuthMethod) -> Result<Standing, DomainError> {
        if !user.enabled {
            return Err(DomainError::AccountDisabled);
        }
        let counted = matches!(method, AuthMethod::Password | AuthMethod::PasswordAndSecondFactor);
        if !counted && let Some(until) = self.ports.attempts.account(user.id).blocked().await? {
            // Locked by password guesses: no other way in until the lock lifts.
            return Err(DomainError::AccountLocked { until });
        }
        if self.policy.require_verified_email && user.email_verified_at.is_none() {
            return Err(DomainError::EmailNotVerified);
        }
        if method.needs_second_factor() && self.has_second_factor(user).await? {
            return Ok(Standing::SecondFactorMissing);
        }
        Ok(Standing::Complete)
    }

    /// Records the login and issues the grant.
    async fn log_in<G: Grant>(
        &self,
        user: &User,
        method: &AuthMethod,
        grant: G,
    ) -> Result<G::Issued, DomainError> {
        self.ports
            .accounts
            .record_login(user.id, self.ports.clock.now())
            .await?;
        let origin = match method {
            AuthMethod::RememberMe(hash) => Some(hash.clone()),
            _ => None,
        };
        let granted = grant.issue(&self.ports.sessions, user, origin).await?;
        tracing::info!(user_id = %user.id, method = method.as_str(), "login");
        Ok(granted)
    }

    async fn has_second_factor(&self, user: &User) -> Result<bool, DomainError> {
        Ok(self
            .ports
            .factors
            .find_totp(user.id)
            .await?
            .is_some_and(|totp| totp.confirmed))
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
    use crate::services::{Counted, Services};

    /// A right password of `user`, with the account's attempt admitted as
    /// `PasswordLogin` admits it.
    async fn password(services: &Services, user: User) -> Authenticated {
        let Counted::Admitted(attempt) = services.attempts.account(user.id).admit().await.unwrap() else {
            panic!("the account's attempt is refused");
        };
        Authenticated {
            user,
            method: AuthMethod::Password,
            attempt: Some(attempt),
        }
    }

    fn hour() -> AccessGrant {
        AccessGrant::new(Duration::hours(1))
    }

    #[tokio::test]
    async fn a_completed_login_records_it_clears_the_count_and_issues_the_grant() {
        let world = World::new();
        let ann = world.add_user("ann");
        world.set_failures(&format!("account:{}", ann.id), 3);
        let services = world.services();
        let auth = password(&services, ann.clone()).await;
        let logged_in = services.completion.complete(auth, hour()).await.unwrap();
        assert_eq!(
            logged_in.granted.record.expires_at,
            world.now() + Duration::hours(1)
        );
        assert_eq!(world.account(ann.id).last_login_at, Some(world.now()));
        assert_eq!(world.failures(&format!("account:{}", ann.id)), 0);
    }

    #[tokio::test]
    async fn a_disabled_user_is_refused_and_the_right_password_is_not_counted() {
        let world = World::new();
        let ann = world.add_user("ann");
        world.set_disabled(ann.id, true);
        world.set_failures(&format!("account:{}", ann.id), 3);
        let services = world.services();
        let ann = services.users.by_id(ann.id).await.unwrap().unwrap();
        let auth = password(&services, ann.clone()).await;
        let err = services.completion.complete(auth, hour()).await.unwrap_err();
        assert!(matches!(err, DomainError::AccountDisabled));
        assert_eq!(
            world.failures(&format!("account:{}", ann.id)),
            3,
            "the attempt is given back"
        );
        assert_eq!(world.account(ann.id).last_login_at, None);
    }

    #[tokio::test]
    async fn a_second_factor_yields_a_pending_token_or_a_refusal() {
        let world = World::new();
        let ann = world.add_user("ann");
        world.enrol_totp(ann.id);
        let services = world.services();
        let auth = password(&services, ann.clone()).await;
        let outcome = services
            .completion
            .complete_or_pending(auth, hour(), Duration::minutes(5))
            .await
            .unwrap();
        let LoginOutcome::SecondFactorRequired { pending, .. } = outcome else {
            panic!("{outcome:?}");
        };
        assert_eq!(pending.record.kind, TokenKind::PendingSecondFactor);
        assert_eq!(world.account(ann.id).last_login_at, None);
        assert_eq!(
            world.failures(&format!("account:{}", ann.id)),
            0,
            "the right password is given back until the login is whole"
        );
        let auth = password(&services, ann).await;
        let err = services.completion.complete(auth, hour()).await.unwrap_err();
        assert!(matches!(err, DomainError::SecondFactorRequired));
    }

    #[tokio::test]
    async fn a_remember_me_token_never_stands_in_for_a_second_factor() {
        let world = World::new();
        let ann = world.add_user("ann");
        world.enrol_totp(ann.id);
        let auth = Authenticated::uncounted(ann, AuthMethod::RememberMe(TokenHash("rm".into())));
        let err = world
            .services()
            .completion
            .complete_or_pending(auth, hour(), Duration::minutes(5))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::SecondFactorRequired));
    }

    #[tokio::test]
    async fn a_locked_account_refuses_every_other_method() {
        let world = World::new();
        let ann = world.add_user("ann");
        world.block(&format!("account:{}", ann.id), Duration::minutes(10));
        let auth = Authenticated::uncounted(ann, AuthMethod::RememberMe(TokenHash("rm".into())));
        let err = world
            .services()
            .completion
            .complete(auth, hour())
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
        let services = world.services();
        let auth = password(&services, ann.clone()).await;
        let err = services.completion.complete(auth, hour()).await.unwrap_err();
        assert!(matches!(err, DomainError::EmailNotVerified));
        world.verify_email(ann.id);
        let ann = services.users.by_id(ann.id).await.unwrap().unwrap();
        let auth = password(&services, ann).await;
        assert!(services.completion.complete(auth, hour()).await.is_ok());
    }

    #[tokio::test]
    async fn remember_me_grants_bind_the_client_and_mark_the_access_token_s_origin() {
        let world = World::new();
        let ann = world.add_user("ann");
        let services = world.services();
        let auth = password(&services, ann).await;
        let grant = RememberMeGrant {
            ttl: Duration::hours(8),
            client_id: "client-1".into(),
            remember_ttl: Duration::days(30),
        };
        let Remembered { access, remember_me } =
            services.completion.complete(auth, grant).await.unwrap().granted;
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
