use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Duration;

use serde_json::{Map, Value};

use crate::error::DomainError;
use crate::model::{
    AccountPatch, ClientAddress, IdentityLink, IssuedToken, OpenIdError, OpenIdIdentity, TokenAttributes,
    TokenKind, User, UserFields, UserId,
};
use crate::ports::{Clock, OpenIdProvider, PayloadSigner, SecretCipher, TokenMint};
use crate::services::{
    AccessGrant, AccountService, Attempts, Audit, AuthMethod, Authenticated, Grant, LoggedIn,
    LoginCompletion, LoginOnly, NewAccount, SessionService, Users,
};

/// How long an OpenID login may take between the redirect to the provider
/// and its callback.
pub const STATE_TTL: Duration = Duration::minutes(10);

/// The context a waiting login's record is sealed with.
const STATE_CONTEXT: &[u8] = b"openid-state";

/// The longest `state` a consumer may pass (it comes back in the payload).
pub const MAX_CONSUMER_STATE_CHARS: usize = 512;

/// The method's name in the audit trail.
const OPENID: &str = "openid";

/// The longest subject identifier a provider may use (OpenID Connect Core §2).
const MAX_SUBJECT_CHARS: usize = 255;

/// Which field of a directory user the identifying claim is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityMatch {
    /// The user's e-mail address.
    Email,
    /// The user's username.
    Username,
}

/// What Limen does with one provider's identities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenIdProviderPolicy {
    /// The provider's id in `?provider=`.
    pub id: String,
    /// Its name on the hosted login page's button ("Continue with …").
    pub name: String,
    /// Its issuer, which a callback's `iss` parameter (RFC 9207) must name.
    pub issuer: String,
    /// The claim that identifies the user (`email`, `sub`, `preferred_username`, …).
    pub claim: String,
    /// The user field the claim is compared with.
    pub match_by: IdentityMatch,
    /// Matching by e-mail needs `email_verified: true` from the provider:
    /// otherwise anyone who types a victim's address into their account at
    /// the provider would log in as the victim.
    pub require_verified_email: bool,
    /// Create a user on first login when none matches (directory permitting).
    pub create_users: bool,
    /// The provider asks for a second factor itself, so Limen's own is not
    /// asked again.
    pub second_factor: bool,
}

/// Settings of OpenID login.
#[derive(Debug, Clone, Default)]
pub struct OpenIdSettings {
    /// Every provider's policy; the first is the default.
    pub providers: Vec<OpenIdProviderPolicy>,
    /// The consumers the browser may be sent back to; the first is the default.
    pub consumer_urls: Vec<String>,
    /// What the consumer's payload holds.
    pub payload: PayloadSettings,
}

/// The payload a consumer gets: the user, the consumer's state, and the
/// claims that let the consumer trust it once (`iss`, `aud`, `iat`, `exp`,
/// `jti`).
#[derive(Debug, Clone, Default)]
pub struct PayloadSettings {
    /// Limen's public URL: the payload's `iss`.
    pub issuer: String,
    /// How long a consumer may accept it.
    pub ttl: Duration,
    /// Which user field fills each key of its `user` object.
    pub user_fields: UserFields,
    /// Put an access token of this lifetime into the payload. `None` (the
    /// default): no token is issued, since a URL ends up in browser history
    /// and access logs.
    pub token_ttl: Option<Duration>,
}

/// Where the browser goes back to, and the consumer's own `state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenIdConsumer {
    /// One of the allowed consumer URLs.
    pub url: String,
    /// The consumer's `state`, when known.
    pub state: Option<String>,
}

/// What the provider's callback carries.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenIdCallback<'a> {
    /// Limen's own state, naming the waiting login.
    pub state: Option<&'a str>,
    /// The authorization code.
    pub code: Option<&'a str>,
    /// The provider's error code, instead of a code.
    pub error: Option<&'a str>,
    /// The issuer the callback says it comes from (RFC 9207), when sent.
    pub iss: Option<&'a str>,
}

/// A completed OpenID login.
#[derive(Debug, Clone)]
pub struct OpenIdLoggedIn {
    /// Where to send the browser.
    pub consumer: OpenIdConsumer,
    /// Who logged in.
    pub user: Box<User>,
    /// The signed payload for the consumer (a compact JWS).
    pub payload: String,
}

/// Where a provider's callback leads.
#[derive(Debug)]
pub enum CallbackOutcome {
    /// The login of a dialect's consumer, done or failed.
    Consumer(Result<OpenIdLoggedIn, OpenIdFailed>),
    /// A login of the hosted page: the authorization request it answers (as
    /// the page sent it), and who the provider proved, or why not.
    HostedPage {
        /// The page's request, URL-encoded.
        request: String,
        /// The proven identity, to be logged in with the page's grant
        /// (boxed: it holds the whole user).
        identified: Result<Box<Identified>, DomainError>,
    },
}

/// A user a provider proved, for `OpenIdLogin::log_in_identified`.
#[derive(Debug)]
pub struct Identified {
    authenticated: Authenticated,
    started_from: ClientAddress,
}

/// A failed OpenID login, with the consumer to tell.
#[derive(Debug)]
pub struct OpenIdFailed {
    /// The login's consumer, or the default one when the login is unknown.
    pub consumer: OpenIdConsumer,
    /// Why.
    pub error: DomainError,
}

/// The OpenID Connect identity provider: sends the browser to a provider with
/// a single-use server-side record of the login (state, nonce, PKCE verifier,
/// consumer), and on the provider's callback exchanges the code, maps the
/// verified identity to a directory user (creating one if allowed) and logs
/// them in through `LoginCompletion`.
pub struct OpenIdLogin {
    ports: OpenIdPorts,
    settings: OpenIdSettings,
}

/// The ports and services OpenID login works with.
pub struct OpenIdPorts {
    /// Each configured provider by id.
    pub providers: BTreeMap<String, Arc<dyn OpenIdProvider>>,
    /// The signer of each consumer's payloads, by consumer URL.
    pub signers: BTreeMap<String, Arc<dyn PayloadSigner>>,
    /// Counted starts per client address.
    pub attempts: Arc<Attempts>,
    /// Lookup of the identified user.
    pub users: Arc<Users>,
    /// Creation of users on first login.
    pub accounts: Arc<AccountService>,
    /// Waiting logins as single-use records.
    pub sessions: Arc<SessionService>,
    /// The rules of every login.
    pub completion: Arc<LoginCompletion>,
    /// Seals a waiting login's nonce and verifier.
    pub cipher: Arc<dyn SecretCipher>,
    /// Limen's `state` for the provider.
    pub mint: Arc<dyn TokenMint>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// The trail of refused callbacks.
    pub audit: Arc<Audit>,
}

impl OpenIdLogin {
    /// Wires the service.
    pub fn new(ports: OpenIdPorts, settings: OpenIdSettings) -> Self {
        Self { ports, settings }
    }

    /// Whether the dialect's OpenID login is on: a provider and a consumer.
    pub fn is_enabled(&self) -> bool {
        !self.settings.providers.is_empty() && !self.settings.consumer_urls.is_empty()
    }

    /// Every provider's id and name, for the hosted login page's buttons.
    pub fn providers(&self) -> Vec<(String, String)> {
        self.settings
            .providers
            .iter()
            .map(|policy| (policy.id.clone(), policy.name.clone()))
            .collect()
    }

    /// The public keys consumers verify payloads with (JSON Web Keys), one
    /// per key in use; none when every consumer shares a secret.
    pub fn payload_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .ports
            .signers
            .values()
            .filter_map(|signer| signer.public_jwk())
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// The consumer a login will return to: `redirect` when it is on the
    /// allow-list (compared exactly), the first allowed URL without one.
    /// A URL off the list is refused: Limen never redirects there.
    pub fn consumer(
        &self,
        redirect: Option<&str>,
        state: Option<&str>,
    ) -> Result<OpenIdConsumer, DomainError> {
        if !self.is_enabled() {
            return Err(DomainError::NotEnabled("OpenID login"));
        }
        let url = match redirect {
            None => &self.settings.consumer_urls[0],
            Some(wanted) => self
                .settings
                .consumer_urls
                .iter()
                .find(|allowed| allowed.as_str() == wanted)
                .ok_or(DomainError::Forbidden(
                    "the redirect URL is not an allowed consumer",
                ))?,
        };
        Ok(OpenIdConsumer {
            url: url.clone(),
            // A state that is not one is never echoed back (into a URL).
            state: state.filter(|state| is_consumer_state(state)).map(str::to_owned),
        })
    }

    /// Starts a login at `provider` (the default without one) for `consumer`
    /// from `client`; the URL to send the browser to. Each start stores a
    /// record, so starts are counted per client address
    /// (`AttemptRules::openid_starts`); a completed login gives its start back.
    pub async fn begin(
        &self,
        consumer: &OpenIdConsumer,
        provider: Option<&str>,
        client: &ClientAddress,
    ) -> Result<String, DomainError> {
        let state = consumer
            .state
            .as_deref()
            .filter(|state| is_consumer_state(state))
            .ok_or_else(|| {
                DomainError::InvalidInput(format!(
                    "state is required: 1 to {MAX_CONSUMER_STATE_CHARS} characters without control characters"
                ))
            })?;
        let returns = Returns {
            consumer_url: consumer.url.clone(),
            consumer_state: state.to_owned(),
            hosted_request: String::new(),
        };
        self.start(returns, provider, client).await
    }

    /// Starts a login at `provider` for the hosted login page, which the
    /// callback answers: `request` is the page's authorization request,
    /// URL-encoded (it comes back in `CallbackOutcome::HostedPage`).
    pub async fn begin_for_page(
        &self,
        request: &str,
        provider: &str,
        client: &ClientAddress,
    ) -> Result<String, DomainError> {
        let returns = Returns {
            consumer_url: String::new(),
            consumer_state: String::new(),
            hosted_request: request.to_owned(),
        };
        self.start(returns, Some(provider), client).await
    }

    async fn start(
        &self,
        returns: Returns,
        provider: Option<&str>,
        client: &ClientAddress,
    ) -> Result<String, DomainError> {
        let policy = match provider {
            None => self.settings.providers.first(),
            Some(id) => self.settings.providers.iter().find(|policy| policy.id == id),
        }
        .ok_or(DomainError::UnknownProvider)?;
        let port = self.port(&policy.id)?;
        self.ports.attempts.openid_starts(client).spend().await?;
        let (own_state, hash) = self.ports.mint.mint();
        let request = port
            .authorization_request(&own_state)
            .await
            .map_err(from_provider)?;
        let waiting = Waiting {
            provider: policy.id.clone(),
            consumer_url: returns.consumer_url,
            consumer_state: returns.consumer_state,
            hosted_request: returns.hosted_request,
            nonce: request.nonce,
            pkce_verifier: request.pkce_verifier,
            issuer_in_callback: request.issuer_in_callback,
        };
        let payload = self
            .ports
            .cipher
            .seal(waiting.encode().as_bytes(), STATE_CONTEXT)
            .map_err(DomainError::Internal)?;
        self.ports
            .sessions
            .store(
                UserId::NONE,
                TokenKind::OpenIdState,
                hash,
                STATE_TTL,
                TokenAttributes {
                    payload: Some(payload),
                    // Whose start to give back when the login completes.
                    bound_address: client.0.map(|ip| ip.to_string()),
                    ..TokenAttributes::default()
                },
            )
            .await?;
        tracing::info!(provider = %policy.id, "OpenID login started");
        Ok(request.url)
    }

    /// Takes the provider's callback: spends the waiting record `state`
    /// names first (a replayed callback finds nothing), then takes the
    /// provider's `error`, or exchanges `code`. A dialect consumer's login is
    /// finished here (the user logged in, the payload signed); the hosted
    /// page's is handed back, to be logged in with the page's own grant.
    /// An unknown `state` is the default consumer's failure (its URL empty
    /// when there is none).
    pub async fn callback(&self, callback: OpenIdCallback<'_>) -> CallbackOutcome {
        let (waiting, started_from) = match self.take_waiting(callback.state).await {
            Ok(taken) => taken,
            Err(error) => {
                self.ports.audit.login_failed(OPENID, None, "", &error).await;
                return CallbackOutcome::Consumer(Err(OpenIdFailed {
                    consumer: OpenIdConsumer {
                        url: self.settings.consumer_urls.first().cloned().unwrap_or_default(),
                        state: None,
                    },
                    error,
                }));
            }
        };
        if waiting.hosted_request.is_empty() {
            return CallbackOutcome::Consumer(
                self.finish_for_consumer(waiting, started_from, &callback).await,
            );
        }
        let identified = match self.identified(&waiting, &callback).await {
            Ok((_, authenticated)) => Ok(Box::new(Identified {
                authenticated,
                started_from,
            })),
            Err(err) => {
                tracing::info!(provider = %waiting.provider, error = %err, "OpenID login for the hosted page refused");
                self.ports.audit.login_failed(OPENID, None, "", &err).await;
                Err(err)
            }
        };
        CallbackOutcome::HostedPage {
            request: waiting.hosted_request,
            identified,
        }
    }

    /// Logs in the user a provider proved for the hosted page, with `grant`.
    pub async fn log_in_identified<G: Grant>(
        &self,
        identified: Box<Identified>,
        grant: G,
    ) -> Result<LoggedIn<G::Issued>, DomainError> {
        let Identified {
            authenticated,
            started_from,
        } = *identified;
        let done = self.ports.completion.complete(authenticated, grant).await?;
        if let Err(err) = self.ports.attempts.openid_starts(&started_from).give_back().await {
            tracing::warn!(error = %err, "could not give back a completed OpenID start");
        }
        tracing::info!(user_id = %done.user.id, "OpenID login for the hosted page");
        Ok(done)
    }

    /// Finishes a dialect consumer's login: the user logged in, the payload signed.
    async fn finish_for_consumer(
        &self,
        waiting: Waiting,
        started_from: ClientAddress,
        callback: &OpenIdCallback<'_>,
    ) -> Result<OpenIdLoggedIn, OpenIdFailed> {
        let consumer = OpenIdConsumer {
            url: waiting.consumer_url.clone(),
            state: Some(waiting.consumer_state.clone()),
        };
        let done = match self.log_in(&waiting, callback).await {
            Ok((user, token)) => self
                .payload(&consumer, &user, token.as_ref())
                .map(|payload| (user, payload)),
            Err(error) => Err(error),
        };
        match done {
            Ok((user, payload)) => {
                if let Err(err) = self.ports.attempts.openid_starts(&started_from).give_back().await {
                    tracing::warn!(error = %err, "could not give back a completed OpenID start");
                }
                Ok(OpenIdLoggedIn {
                    consumer,
                    user: Box::new(user),
                    payload,
                })
            }
            Err(error) => {
                tracing::info!(provider = %waiting.provider, %error, "OpenID login refused");
                Err(OpenIdFailed { consumer, error })
            }
        }
    }

    /// The consumer's payload, signed with its key: the user, the consumer's
    /// state, Limen as `iss`, the consumer as `aud`, a one-time `jti`, and
    /// the access token only when the settings ask for one.
    fn payload(
        &self,
        consumer: &OpenIdConsumer,
        user: &User,
        token: Option<&IssuedToken>,
    ) -> Result<String, DomainError> {
        let settings = &self.settings.payload;
        let signer = self.ports.signers.get(&consumer.url).ok_or_else(|| {
            DomainError::Internal(format!("no payload key for the consumer {}", consumer.url))
        })?;
        let now = self.ports.clock.now();
        let (jti, _) = self.ports.mint.mint();
        let mut claims = Map::new();
        claims.insert("user".into(), Value::Object(settings.user_fields.render(user)));
        if let Some(token) = token {
            claims.insert("token".into(), Value::String(token.plaintext.clone()));
        }
        claims.insert(
            "state".into(),
            Value::String(consumer.state.clone().unwrap_or_default()),
        );
        claims.insert("iss".into(), Value::String(settings.issuer.clone()));
        claims.insert("aud".into(), Value::String(consumer.url.clone()));
        claims.insert("iat".into(), Value::from(now.timestamp()));
        claims.insert("exp".into(), Value::from((now + settings.ttl).timestamp()));
        claims.insert("jti".into(), Value::String(jti));
        let json = serde_json::to_vec(&claims)
            .map_err(|err| DomainError::Internal(format!("the OpenID payload does not serialise: {err}")))?;
        Ok(signer.sign(&json))
    }

    /// The waiting login `state` names, spent, and the address it was
    /// started from.
    async fn take_waiting(&self, state: Option<&str>) -> Result<(Waiting, ClientAddress), DomainError> {
        let state = state.ok_or(DomainError::InvalidToken)?;
        let record = self.ports.sessions.consume(state, TokenKind::OpenIdState).await?;
        let sealed = record
            .attributes
            .payload
            .as_deref()
            .ok_or_else(|| DomainError::Internal("a waiting OpenID login has no record".into()))?;
        let opened = self
            .ports
            .cipher
            .open(sealed, STATE_CONTEXT)
            .map_err(DomainError::Internal)?;
        let started_from = ClientAddress(
            record
                .attributes
                .bound_address
                .as_deref()
                .and_then(|ip| ip.parse().ok()),
        );
        Ok((Waiting::decode(&opened)?, started_from))
    }

    /// The login of the identity the callback proves, with an access token
    /// when the payload is to carry one.
    async fn log_in(
        &self,
        waiting: &Waiting,
        callback: &OpenIdCallback<'_>,
    ) -> Result<(User, Option<IssuedToken>), DomainError> {
        let (policy, authenticated) = match self.identified(waiting, callback).await {
            Ok(identified) => identified,
            Err(err) => {
                self.ports.audit.login_failed(OPENID, None, "", &err).await;
                return Err(err);
            }
        };
        let (user, token) = match self.settings.payload.token_ttl {
            Some(ttl) => {
                let LoggedIn { user, granted } = self
                    .ports
                    .completion
                    .complete(authenticated, AccessGrant::new(ttl))
                    .await?;
                (user, Some(granted))
            }
            None => (
                self.ports
                    .completion
                    .complete(authenticated, LoginOnly)
                    .await?
                    .user,
                None,
            ),
        };
        tracing::info!(provider = %policy.id, user_id = %user.id, "OpenID login");
        Ok((user, token))
    }

    /// The provider's policy and the user its callback proves.
    async fn identified(
        &self,
        waiting: &Waiting,
        callback: &OpenIdCallback<'_>,
    ) -> Result<(&OpenIdProviderPolicy, Authenticated), DomainError> {
        let policy = self
            .settings
            .providers
            .iter()
            .find(|policy| policy.id == waiting.provider)
            .ok_or(DomainError::UnknownProvider)?;
        // RFC 9207: with several providers, a callback must come from the one
        // the login went to (a mix-up attack swaps them); a provider that
        // says it sends `iss` must send it.
        match callback.iss {
            Some(iss) if iss != policy.issuer => {
                return Err(DomainError::OpenIdRefused(OpenIdError::InvalidIdToken(format!(
                    "the callback comes from issuer {iss:?}, the login went to {:?}",
                    policy.issuer
                ))));
            }
            None if waiting.issuer_in_callback => {
                return Err(DomainError::OpenIdRefused(OpenIdError::InvalidIdToken(format!(
                    "{} sends iss with its callbacks (RFC 9207), and this one has none",
                    policy.issuer
                ))));
            }
            _ => {}
        }
        if let Some(error) = callback.error {
            return Err(DomainError::ProviderDenied(sanitize_error_code(error)));
        }
        let code = callback
            .code
            .filter(|code| !code.is_empty())
            .ok_or_else(|| DomainError::InvalidInput("code is required".into()))?;
        let identity = self
            .port(&policy.id)?
            .identify(code, &waiting.nonce, &waiting.pkce_verifier)
            .await
            .map_err(from_provider)?;
        let user = self.user_for(policy, &identity).await?;
        let method = AuthMethod::OpenId {
            second_factor: policy.second_factor,
        };
        let authenticated = Authenticated::uncounted(user, method);
        Ok((policy, authenticated))
    }

    /// The user `identity` stands for: the one its subject at the provider is
    /// linked to; at the first login, the one its claim matches (created when
    /// the policy and the directory allow it), linked from then on. A link,
    /// not the claim, names the user afterwards, so whoever changes their
    /// address at the provider to another user's does not become that user.
    async fn user_for(
        &self,
        policy: &OpenIdProviderPolicy,
        identity: &OpenIdIdentity,
    ) -> Result<User, DomainError> {
        if identity.subject.is_empty() || identity.subject.chars().count() > MAX_SUBJECT_CHARS {
            return Err(DomainError::OpenIdRefused(OpenIdError::InvalidIdToken(
                "the subject identifier must have 1 to 255 characters".into(),
            )));
        }
        let accounts = self.ports.users.accounts();
        if let Some(linked) = accounts.find_identity(&policy.issuer, &identity.subject).await? {
            if let Some(user) = self.ports.users.by_id(linked).await? {
                return Ok(user);
            }
            // The directory no longer has the user: the link goes with them.
            accounts.remove_identity(linked, &policy.issuer).await?;
        }
        let user = self.matched_or_created(policy, identity).await?;
        let link = IdentityLink {
            user_id: user.id,
            issuer: policy.issuer.clone(),
            subject: identity.subject.clone(),
            linked_at: self.ports.clock.now(),
        };
        if !accounts.add_identity(&link).await? {
            match accounts.find_identity(&policy.issuer, &identity.subject).await? {
                // A concurrent first login linked it a moment ago.
                Some(linked) if linked == user.id => {}
                _ => {
                    tracing::warn!(provider = %policy.id, user_id = %user.id, "OpenID login refused: the matched user is linked to another identity at this provider");
                    return Err(DomainError::NoMatchingUser);
                }
            }
        } else {
            tracing::info!(provider = %policy.id, user_id = %user.id, "identity at the provider linked to the user");
        }
        Ok(user)
    }

    /// The directory user `identity`'s claim matches, created when the policy
    /// and the directory allow it.
    async fn matched_or_created(
        &self,
        policy: &OpenIdProviderPolicy,
        identity: &OpenIdIdentity,
    ) -> Result<User, DomainError> {
        let Some(value) = identity.claim(&policy.claim) else {
            tracing::warn!(provider = %policy.id, claim = %policy.claim, "the provider sent no identifying claim");
            return Err(DomainError::NoMatchingUser);
        };
        let verified_email = identity.claim("email_verified") == Some("true");
        if policy.match_by == IdentityMatch::Email && policy.require_verified_email && !verified_email {
            return Err(DomainError::EmailNotVerified);
        }
        if let Some(user) = self.find(policy.match_by, value).await? {
            return Ok(user);
        }
        if !policy.create_users || !self.ports.users.directory().capabilities().create {
            return Err(DomainError::NoMatchingUser);
        }
        let email = identity.claim("email").ok_or(DomainError::NoMatchingUser)?;
        let username = match policy.match_by {
            IdentityMatch::Username => value,
            IdentityMatch::Email => identity.claim("preferred_username").unwrap_or(email),
        };
        let created = self
            .ports
            .accounts
            .create(NewAccount {
                username: username.to_owned(),
                email: email.to_owned(),
                first_name: identity.claim("given_name").map(str::to_owned),
                last_name: identity.claim("family_name").map(str::to_owned),
                personal_number: None,
                password: None,
            })
            .await;
        let user = match created {
            Ok(user) => user,
            // A concurrent first login created the user a moment ago.
            Err(DomainError::UsernameTaken | DomainError::EmailTaken) => self
                .find(policy.match_by, value)
                .await?
                .ok_or(DomainError::NoMatchingUser)?,
            Err(DomainError::InvalidInput(reason)) => {
                tracing::warn!(provider = %policy.id, %reason, "cannot create a user from the provider's claims");
                return Err(DomainError::NoMatchingUser);
            }
            Err(other) => return Err(other),
        };
        if verified_email && user.email_verified_at.is_none() {
            let patch = AccountPatch {
                email_verified_at: Some(self.ports.clock.now()),
                ..AccountPatch::default()
            };
            self.ports
                .users
                .accounts()
                .update(user.id, patch, self.ports.clock.now())
                .await?;
        }
        tracing::info!(provider = %policy.id, user_id = %user.id, "user created on first OpenID login");
        Ok(self.ports.users.by_id(user.id).await?.unwrap_or(user))
    }

    async fn find(&self, by: IdentityMatch, value: &str) -> Result<Option<User>, DomainError> {
        match by {
            IdentityMatch::Email => self.ports.users.by_email(value).await,
            IdentityMatch::Username => self.ports.users.by_username(value).await,
        }
    }

    fn port(&self, id: &str) -> Result<&dyn OpenIdProvider, DomainError> {
        self.ports
            .providers
            .get(id)
            .map(Arc::as_ref)
            .ok_or_else(|| DomainError::Internal(format!("OpenID provider {id} has a policy but no adapter")))
    }
}

/// Whether a consumer's `state` is one Limen keeps and hands back.
fn is_consumer_state(state: &str) -> bool {
    !state.is_empty()
        && state.chars().count() <= MAX_CONSUMER_STATE_CHARS
        && !state.chars().any(char::is_control)
}

fn from_provider(err: OpenIdError) -> DomainError {
    match err {
        OpenIdError::Unavailable(reason) => DomainError::Unavailable(format!("OpenID provider: {reason}")),
        refused => DomainError::OpenIdRefused(refused),
    }
}

/// A provider's `error` as it may travel on: an OAuth error code is
/// `[\x20-\x7e]` without `"` and `\`; anything else is replaced.
fn sanitize_error_code(code: &str) -> String {
    let clean: String = code
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.is_empty() { "unknown".into() } else { clean }
}

/// A login waiting for its callback, as sealed in its record.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Waiting {
    provider: String,
    consumer_url: String,
    consumer_state: String,
    /// The hosted page's authorization request; empty for a consumer's login.
    hosted_request: String,
    nonce: String,
    pkce_verifier: String,
    /// The provider's discovery says its callbacks carry `iss` (RFC 9207).
    issuer_in_callback: bool,
}

/// Where a login goes back to: a consumer, or the hosted page's request.
struct Returns {
    consumer_url: String,
    consumer_state: String,
    hosted_request: String,
}

impl Waiting {
    /// One field per line: none may hold a line break (URLs and provider ids
    /// are configuration, the consumer's state is checked for control
    /// characters, nonce and verifier are base64url, the hosted page's
    /// request is URL-encoded).
    fn encode(&self) -> String {
        [
            self.provider.as_str(),
            &self.consumer_url,
            &self.consumer_state,
            &self.nonce,
            &self.pkce_verifier,
            if self.issuer_in_callback { "iss" } else { "" },
            &self.hosted_request,
        ]
        .join("\n")
    }

    fn decode(bytes: &[u8]) -> Result<Self, DomainError> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| DomainError::Internal("a waiting OpenID login is not UTF-8".into()))?;
        let fields: Vec<&str> = text.split('\n').collect();
        // Five or six fields: a login started by a version before `iss` or
        // the hosted page's request was kept.
        let (provider, consumer_url, consumer_state, nonce, pkce_verifier, iss, hosted) = match fields[..] {
            [provider, consumer_url, consumer_state, nonce, pkce_verifier] => (
                provider,
                consumer_url,
                consumer_state,
                nonce,
                pkce_verifier,
                "",
                "",
            ),
            [provider, consumer_url, consumer_state, nonce, pkce_verifier, iss] => (
                provider,
                consumer_url,
                consumer_state,
                nonce,
                pkce_verifier,
                iss,
                "",
            ),
            [
                provider,
                consumer_url,
                consumer_state,
                nonce,
                pkce_verifier,
                iss,
                hosted,
            ] => (
                provider,
                consumer_url,
                consumer_state,
                nonce,
                pkce_verifier,
                iss,
                hosted,
            ),
            _ => {
                return Err(DomainError::Internal(
                    "a waiting OpenID login is malformed".into(),
                ));
            }
        };
        Ok(Self {
            provider: provider.to_owned(),
            consumer_url: consumer_url.to_owned(),
            consumer_state: consumer_state.to_owned(),
            hosted_request: hosted.to_owned(),
            nonce: nonce.to_owned(),
            pkce_verifier: pkce_verifier.to_owned(),
            issuer_in_callback: iss == "iss",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::fixtures::World;

    fn client() -> ClientAddress {
        ClientAddress::new("192.0.2.7".parse().unwrap())
    }

    impl OpenIdLogin {
        /// `callback` of a consumer's login.
        async fn complete(&self, callback: OpenIdCallback<'_>) -> Result<OpenIdLoggedIn, OpenIdFailed> {
            match self.callback(callback).await {
                CallbackOutcome::Consumer(done) => done,
                other => panic!("not a consumer's login: {other:?}"),
            }
        }
    }

    /// The claims of a payload the world's fake signer "signed".
    fn claims(payload: &str) -> Value {
        serde_json::from_str(payload.strip_prefix("signed:").unwrap()).unwrap()
    }

    fn policy(id: &str) -> OpenIdProviderPolicy {
        OpenIdProviderPolicy {
            id: id.into(),
            name: id.to_uppercase(),
            issuer: format!("https://{id}.test"),
            claim: "email".into(),
            match_by: IdentityMatch::Email,
            require_verified_email: true,
            create_users: false,
            second_factor: false,
        }
    }

    fn identity(claims: &[(&str, &str)]) -> OpenIdIdentity {
        OpenIdIdentity {
            subject: "subject-1".into(),
            claims: claims
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
        }
    }

    fn ann_verified() -> OpenIdIdentity {
        identity(&[("email", "ann@example.com"), ("email_verified", "true")])
    }

    fn consumer(world: &World, state: &str) -> OpenIdConsumer {
        world.services().openid.consumer(None, Some(state)).unwrap()
    }

    /// Starts a login at `provider` and returns Limen's own state from the URL.
    async fn begin(world: &World, provider: Option<&str>) -> String {
        let url = world
            .services()
            .openid
            .begin(&consumer(world, "consumer-state"), provider, &client())
            .await
            .unwrap();
        url.split("state=").nth(1).unwrap().to_owned()
    }

    async fn complete(world: &World, state: &str) -> Result<OpenIdLoggedIn, OpenIdFailed> {
        world
            .services()
            .openid
            .complete(OpenIdCallback {
                state: Some(state),
                code: Some("code-1"),
                ..OpenIdCallback::default()
            })
            .await
    }

    #[tokio::test]
    async fn consumers_come_only_from_the_allow_list() {
        let world = World::with_openid(vec![policy("idp")]);
        let openid = world.services().openid;
        assert_eq!(openid.consumer(None, None).unwrap().url, World::CONSUMERS[0]);
        assert_eq!(
            openid.consumer(Some(World::CONSUMERS[1]), None).unwrap().url,
            World::CONSUMERS[1]
        );
        for foreign in ["https://evil.example/back", "https://portal.example/back/", ""] {
            assert!(matches!(
                openid.consumer(Some(foreign), None),
                Err(DomainError::Forbidden(_))
            ));
        }
        let off = World::new().services().openid;
        assert!(matches!(
            off.consumer(None, None),
            Err(DomainError::NotEnabled(_))
        ));
    }

    #[tokio::test]
    async fn a_login_starts_with_its_own_state_and_keeps_the_rest_sealed() {
        let world = World::with_openid(vec![policy("idp"), policy("other")]);
        let own_state = begin(&world, None).await;
        assert_ne!(own_state, "consumer-state");
        let record = world.token(&world.digest(&own_state));
        assert_eq!(record.kind, TokenKind::OpenIdState);
        assert_eq!(record.expires_at, world.now() + STATE_TTL);
        let sealed = record.attributes.payload.unwrap();
        assert!(sealed.starts_with("sealed[openid-state]:"), "{sealed}");
        let second = world
            .services()
            .openid
            .begin(&consumer(&world, "s"), Some("other"), &client())
            .await
            .unwrap();
        assert!(second.starts_with("https://other.test/auth?"), "{second}");
    }

    #[tokio::test]
    async fn unknown_providers_and_bad_states_are_refused() {
        let world = World::with_openid(vec![policy("idp")]);
        let openid = world.services().openid;
        assert!(matches!(
            openid
                .begin(&consumer(&world, "s"), Some("nope"), &client())
                .await,
            Err(DomainError::UnknownProvider)
        ));
        for state in [None, Some(""), Some("a\nb"), Some(&*"s".repeat(513))] {
            let consumer = openid.consumer(None, state).unwrap();
            assert_eq!(consumer.state, None, "{state:?} is never echoed back");
            assert!(matches!(
                openid.begin(&consumer, None, &client()).await,
                Err(DomainError::InvalidInput(_))
            ));
        }
    }

    #[tokio::test]
    async fn a_login_for_the_hosted_page_comes_back_with_its_request_and_logs_in_with_its_grant() {
        let world = World::with_openid(vec![policy("idp"), policy("other")]);
        let ann = world.add_user("ann");
        world.openid_answers(Ok(ann_verified()));
        let openid = world.services().openid;
        assert_eq!(
            openid.providers(),
            vec![
                ("idp".to_owned(), "IDP".to_owned()),
                ("other".to_owned(), "OTHER".to_owned())
            ]
        );
        let request = "client_id=wiki&state=a%26b";
        let url = openid.begin_for_page(request, "other", &client()).await.unwrap();
        assert!(url.starts_with("https://other.test/auth?"), "{url}");
        let own_state = url.split("state=").nth(1).unwrap().to_owned();
        let callback = OpenIdCallback {
            state: Some(&own_state),
            code: Some("code-1"),
            ..OpenIdCallback::default()
        };
        let CallbackOutcome::HostedPage {
            request: back,
            identified,
        } = openid.callback(callback).await
        else {
            panic!("not the hosted page's login");
        };
        assert_eq!(back, request);
        let done = openid
            .log_in_identified(identified.unwrap(), LoginOnly)
            .await
            .unwrap();
        assert_eq!(done.user.id, ann.id);
        assert_eq!(world.account(ann.id).last_login_at, Some(world.now()));
        // Spent: the same callback again is nobody's login.
        assert!(matches!(
            openid.callback(callback).await,
            CallbackOutcome::Consumer(Err(OpenIdFailed {
                error: DomainError::InvalidToken,
                ..
            }))
        ));
        // A provider's refusal comes back to the page too, never to a consumer.
        let url = openid.begin_for_page(request, "idp", &client()).await.unwrap();
        let own_state = url.split("state=").nth(1).unwrap().to_owned();
        let denied = OpenIdCallback {
            state: Some(&own_state),
            error: Some("access_denied"),
            ..OpenIdCallback::default()
        };
        assert!(matches!(
            openid.callback(denied).await,
            CallbackOutcome::HostedPage {
                identified: Err(DomainError::ProviderDenied(_)),
                ..
            }
        ));
        assert!(matches!(
            openid.begin_for_page(request, "nope", &client()).await,
            Err(DomainError::UnknownProvider)
        ));
    }

    #[tokio::test]
    async fn a_verified_identity_logs_its_user_in_once() {
        let world = World::with_openid(vec![policy("idp")]);
        let ann = world.add_user("ann");
        world.openid_answers(Ok(ann_verified()));
        let own_state = begin(&world, None).await;
        let logged_in = complete(&world, &own_state).await.unwrap();
        assert_eq!(logged_in.user.id, ann.id);
        assert_eq!(logged_in.consumer.url, World::CONSUMERS[0]);
        assert_eq!(logged_in.consumer.state.as_deref(), Some("consumer-state"));
        let claims = claims(&logged_in.payload);
        assert_eq!(claims["user"]["_id"], ann.id.0);
        assert_eq!(claims["user"]["email"], "ann@example.com");
        assert_eq!(claims["state"], "consumer-state");
        assert_eq!(claims["iss"], World::ISSUER);
        assert_eq!(claims["aud"], World::CONSUMERS[0]);
        assert_eq!(claims["iat"], world.now().timestamp());
        assert_eq!(claims["exp"], world.now().timestamp() + 120);
        assert!(claims["jti"].as_str().is_some_and(|jti| !jti.is_empty()));
        assert_eq!(claims.get("token"), None, "no access token unless asked for");
        assert_eq!(
            world.account(ann.id).last_login_at,
            Some(world.now()),
            "the login is recorded"
        );
        assert_eq!(
            world.openid_exchanges(),
            vec![(
                "idp".to_owned(),
                "code-1".to_owned(),
                "nonce-1".to_owned(),
                "verifier-1".to_owned()
            )]
        );
        let replay = complete(&world, &own_state).await.unwrap_err();
        assert!(matches!(replay.error, DomainError::InvalidToken));
        assert_eq!(replay.consumer.url, World::CONSUMERS[0]);
        assert_eq!(
            replay.consumer.state, None,
            "an unknown login's consumer state is unknown"
        );
        assert_eq!(
            world.openid_exchanges().len(),
            1,
            "a replay never reaches the provider"
        );
    }

    #[tokio::test]
    async fn a_provider_error_spends_the_login_and_travels_sanitised() {
        let world = World::with_openid(vec![policy("idp")]);
        let own_state = begin(&world, None).await;
        let failed = world
            .services()
            .openid
            .complete(OpenIdCallback {
                state: Some(&own_state),
                error: Some("access_denied\"><script>"),
                ..OpenIdCallback::default()
            })
            .await
            .unwrap_err();
        assert!(
            matches!(&failed.error, DomainError::ProviderDenied(code) if code == "access_denied___script_"),
            "{:?}",
            failed.error
        );
        assert_eq!(failed.consumer.state.as_deref(), Some("consumer-state"));
        assert!(world.openid_exchanges().is_empty());
        assert!(matches!(
            complete(&world, &own_state).await.unwrap_err().error,
            DomainError::InvalidToken
        ));
    }

    #[tokio::test]
    async fn a_refused_code_or_token_and_an_unreachable_provider_are_told_apart() {
        let world = World::with_openid(vec![policy("idp")]);
        world.openid_answers(Err(OpenIdError::InvalidIdToken("nonce mismatch".into())));
        let failed = complete(&world, &begin(&world, None).await).await.unwrap_err();
        assert!(matches!(
            failed.error,
            DomainError::OpenIdRefused(OpenIdError::InvalidIdToken(_))
        ));
        world.openid_answers(Err(OpenIdError::Unavailable("connection refused".into())));
        let failed = complete(&world, &begin(&world, None).await).await.unwrap_err();
        assert!(matches!(failed.error, DomainError::Unavailable(_)));
    }

    #[tokio::test]
    async fn an_unverified_e_mail_address_matches_nobody() {
        let world = World::with_openid(vec![policy("idp")]);
        world.add_user("ann");
        world.openid_answers(Ok(identity(&[("email", "ann@example.com")])));
        let failed = complete(&world, &begin(&world, None).await).await.unwrap_err();
        assert!(matches!(failed.error, DomainError::EmailNotVerified));
        world.openid_answers(Ok(identity(&[
            ("email", "ann@example.com"),
            ("email_verified", "false"),
        ])));
        let failed = complete(&world, &begin(&world, None).await).await.unwrap_err();
        assert!(matches!(failed.error, DomainError::EmailNotVerified));
    }

    #[tokio::test]
    async fn the_configured_claim_can_match_usernames() {
        let world = World::with_openid(vec![OpenIdProviderPolicy {
            claim: "preferred_username".into(),
            match_by: IdentityMatch::Username,
            ..policy("idp")
        }]);
        let ann = world.add_user("ann");
        world.openid_answers(Ok(identity(&[("preferred_username", "ann")])));
        let logged_in = complete(&world, &begin(&world, None).await).await.unwrap();
        assert_eq!(logged_in.user.id, ann.id);
        // Another subject (the first one is linked to ann by now) without the claim.
        world.openid_answers(Ok(OpenIdIdentity {
            subject: "subject-2".into(),
            ..identity(&[("email", "ann@example.com")])
        }));
        let failed = complete(&world, &begin(&world, None).await).await.unwrap_err();
        assert!(
            matches!(failed.error, DomainError::NoMatchingUser),
            "the claim is missing"
        );
    }

    #[tokio::test]
    async fn nobody_is_created_unless_the_policy_and_the_directory_allow_it() {
        let world = World::with_openid(vec![policy("idp")]);
        world.openid_answers(Ok(identity(&[
            ("email", "bo@example.com"),
            ("email_verified", "true"),
        ])));
        let failed = complete(&world, &begin(&world, None).await).await.unwrap_err();
        assert!(matches!(failed.error, DomainError::NoMatchingUser));
        assert_eq!(world.directory_size(), 0);

        let creating = vec![OpenIdProviderPolicy {
            create_users: true,
            ..policy("idp")
        }];
        let read_only = World::read_only_with_openid(creating.clone());
        read_only.openid_answers(Ok(ann_verified()));
        let failed = complete(&read_only, &begin(&read_only, None).await)
            .await
            .unwrap_err();
        assert!(matches!(failed.error, DomainError::NoMatchingUser));
    }

    #[tokio::test]
    async fn a_first_login_creates_the_user_from_the_claims_when_allowed() {
        let world = World::with_openid(vec![OpenIdProviderPolicy {
            create_users: true,
            ..policy("idp")
        }]);
        world.openid_answers(Ok(identity(&[
            ("email", "bo@example.com"),
            ("email_verified", "true"),
            ("preferred_username", "bo"),
            ("given_name", "Bo"),
            ("family_name", "Ek"),
        ])));
        let logged_in = complete(&world, &begin(&world, None).await).await.unwrap();
        let user = logged_in.user;
        assert_eq!(
            (user.username.as_str(), user.email.as_str()),
            ("bo", "bo@example.com")
        );
        assert_eq!(user.first_name.as_deref(), Some("Bo"));
        assert_eq!(user.last_name.as_deref(), Some("Ek"));
        assert_eq!(user.email_verified_at, Some(world.now()));
        assert!(world.password_hash(&user.external_id).is_empty(), "no password");
        let again = complete(&world, &begin(&world, None).await).await.unwrap();
        assert_eq!(again.user.id, user.id, "the second login finds the user");
        assert_eq!(world.directory_size(), 1);
    }

    #[tokio::test]
    async fn limen_s_own_second_factor_is_asked_unless_the_provider_vouches_for_one() {
        let world = World::with_openid(vec![
            policy("idp"),
            OpenIdProviderPolicy {
                second_factor: true,
                ..policy("mfa")
            },
        ]);
        let ann = world.add_user("ann");
        world.enrol_totp(ann.id);
        world.openid_answers(Ok(ann_verified()));
        let failed = complete(&world, &begin(&world, Some("idp")).await)
            .await
            .unwrap_err();
        assert!(matches!(failed.error, DomainError::SecondFactorRequired));
        let logged_in = complete(&world, &begin(&world, Some("mfa")).await).await.unwrap();
        assert_eq!(logged_in.user.id, ann.id);
    }

    #[tokio::test]
    async fn a_callback_from_another_issuer_is_refused() {
        let world = World::with_openid(vec![policy("idp"), policy("other")]);
        world.add_user("ann");
        world.openid_answers(Ok(ann_verified()));
        let own_state = begin(&world, Some("idp")).await;
        let failed = world
            .services()
            .openid
            .complete(OpenIdCallback {
                state: Some(&own_state),
                code: Some("code-1"),
                iss: Some("https://other.test"),
                ..OpenIdCallback::default()
            })
            .await
            .unwrap_err();
        assert!(matches!(
            failed.error,
            DomainError::OpenIdRefused(OpenIdError::InvalidIdToken(_))
        ));
        assert!(world.openid_exchanges().is_empty(), "the code is never exchanged");
        let own_state = begin(&world, Some("idp")).await;
        let logged_in = world
            .services()
            .openid
            .complete(OpenIdCallback {
                state: Some(&own_state),
                code: Some("code-1"),
                iss: Some("https://idp.test"),
                ..OpenIdCallback::default()
            })
            .await;
        assert!(logged_in.is_ok());
    }

    #[tokio::test]
    async fn a_disabled_user_is_refused() {
        let world = World::with_openid(vec![policy("idp")]);
        let ann = world.add_user("ann");
        world.set_disabled(ann.id, true);
        world.openid_answers(Ok(ann_verified()));
        let failed = complete(&world, &begin(&world, None).await).await.unwrap_err();
        assert!(matches!(failed.error, DomainError::AccountDisabled));
    }

    #[tokio::test]
    async fn the_payload_carries_an_access_token_only_when_asked_and_each_jti_once() {
        let world = World::with_openid(vec![policy("idp")]);
        world.add_user("ann");
        world.openid_answers(Ok(ann_verified()));
        let first = claims(
            &complete(&world, &begin(&world, None).await)
                .await
                .unwrap()
                .payload,
        );
        let second = claims(
            &complete(&world, &begin(&world, None).await)
                .await
                .unwrap()
                .payload,
        );
        assert_ne!(first["jti"], second["jti"]);
        world.change_settings(|settings| settings.openid.payload.token_ttl = Some(Duration::hours(1)));
        let with_token = claims(
            &complete(&world, &begin(&world, None).await)
                .await
                .unwrap()
                .payload,
        );
        let token = with_token["token"].as_str().unwrap();
        let record = world.token(&world.digest(token));
        assert_eq!(record.kind, TokenKind::Access);
        assert_eq!(record.expires_at, world.now() + Duration::hours(1));
    }

    #[tokio::test]
    async fn each_consumer_gets_a_payload_for_itself() {
        let world = World::with_openid(vec![policy("idp")]);
        world.add_user("ann");
        world.openid_answers(Ok(ann_verified()));
        let openid = world.services().openid;
        let other = openid
            .consumer(Some(World::CONSUMERS[1]), Some("their-state"))
            .unwrap();
        let url = openid.begin(&other, None, &client()).await.unwrap();
        let own_state = url.split("state=").nth(1).unwrap();
        let logged_in = complete(&world, own_state).await.unwrap();
        assert_eq!(logged_in.consumer.url, World::CONSUMERS[1]);
        assert_eq!(claims(&logged_in.payload)["aud"], World::CONSUMERS[1]);
    }

    /// Mallory changes her address at the provider to Ann's: once Ann's
    /// subject is linked to Ann, the address names no one any more.
    #[tokio::test]
    async fn after_the_first_login_the_subject_not_the_claim_names_the_user() {
        let world = World::with_openid(vec![policy("idp")]);
        let ann = world.add_user("ann");
        let mallory = world.add_user("mallory");
        let at = |subject: &str, email: &str| OpenIdIdentity {
            subject: subject.into(),
            claims: [("email", email), ("email_verified", "true")]
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
        };
        world.openid_answers(Ok(at("ann-sub", "ann@example.com")));
        assert_eq!(
            complete(&world, &begin(&world, None).await)
                .await
                .unwrap()
                .user
                .id,
            ann.id
        );
        world.openid_answers(Ok(at("mallory-sub", "mallory@example.com")));
        assert_eq!(
            complete(&world, &begin(&world, None).await)
                .await
                .unwrap()
                .user
                .id,
            mallory.id
        );
        // Her address changed at the provider: her subject still names her.
        world.openid_answers(Ok(at("mallory-sub", "ann@example.com")));
        assert_eq!(
            complete(&world, &begin(&world, None).await)
                .await
                .unwrap()
                .user
                .id,
            mallory.id
        );
        // A new subject claiming Ann's address: Ann is linked to another one.
        world.openid_answers(Ok(at("stranger-sub", "ann@example.com")));
        let failed = complete(&world, &begin(&world, None).await).await.unwrap_err();
        assert!(
            matches!(failed.error, DomainError::NoMatchingUser),
            "{:?}",
            failed.error
        );
        // Ann changed her address at the provider: still Ann.
        world.openid_answers(Ok(at("ann-sub", "ann.new@example.com")));
        assert_eq!(
            complete(&world, &begin(&world, None).await)
                .await
                .unwrap()
                .user
                .id,
            ann.id
        );
        let links = world
            .services()
            .users
            .accounts()
            .identities(ann.id)
            .await
            .unwrap();
        assert_eq!(links.len(), 1);
        assert_eq!(
            (links[0].issuer.as_str(), links[0].subject.as_str()),
            ("https://idp.test", "ann-sub")
        );
    }

    #[tokio::test]
    async fn a_provider_that_sends_iss_must_send_it() {
        let world = World::with_openid(vec![policy("idp")]);
        world.add_user("ann");
        world.openid_answers(Ok(ann_verified()));
        world.providers_send_iss();
        let failed = complete(&world, &begin(&world, None).await).await.unwrap_err();
        assert!(matches!(
            failed.error,
            DomainError::OpenIdRefused(OpenIdError::InvalidIdToken(_))
        ));
        assert!(world.openid_exchanges().is_empty(), "the code is never exchanged");
        let own_state = begin(&world, None).await;
        let logged_in = world
            .services()
            .openid
            .complete(OpenIdCallback {
                state: Some(&own_state),
                code: Some("code-1"),
                iss: Some("https://idp.test"),
                ..OpenIdCallback::default()
            })
            .await;
        assert!(logged_in.is_ok());
    }

    #[tokio::test]
    async fn starts_are_counted_per_address_and_a_completed_login_gives_its_start_back() {
        let world = World::with_openid(vec![policy("idp")]);
        world.change_settings(|settings| settings.attempts.openid_starts.limit = 2);
        world.add_user("ann");
        world.openid_answers(Ok(ann_verified()));
        let start = || async {
            world
                .services()
                .openid
                .begin(&consumer(&world, "s"), None, &client())
                .await
        };
        // Completed: given back, so two more starts fit the limit of two.
        let first = begin(&world, None).await;
        complete(&world, &first).await.unwrap();
        assert!(start().await.is_ok());
        assert!(start().await.is_ok());
        // Two abandoned starts used the window up.
        let refused = start().await;
        assert!(
            matches!(refused, Err(DomainError::TooManyAttempts { .. })),
            "{refused:?}"
        );
        // Another address is not affected.
        let elsewhere = world
            .services()
            .openid
            .begin(
                &consumer(&world, "s"),
                None,
                &ClientAddress::new("198.51.100.1".parse().unwrap()),
            )
            .await;
        assert!(elsewhere.is_ok());
    }
}
