use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::DomainError;
use crate::model::{
    AuthorizationParams, AuthorizationRefusal, AuthorizationRequest, ProviderClient, TokenAnswer,
    TokenAttributes, TokenHash, TokenKind, TokenRecord, TokenRefusal, Untrusted, User, UserId,
};
use crate::ports::{Clock, PayloadSigner, TokenCatalog, TokenMint};
use crate::services::{Grant, SessionService, Users};

/// The longest `state` or `nonce` kept (they travel back in URLs and tokens).
const MAX_ECHOED_CHARS: usize = 512;

/// What an access token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccessTokenFormat {
    /// A Limen session: validated by a lookup (cached), revoked at once on
    /// every node.
    #[default]
    Opaque,
    /// A JWT (RFC 9068) signed with the provider's key: a resource server
    /// verifies it alone, and it cannot be revoked before it expires.
    Jwt,
}

/// How Limen as an OpenID Provider is set up.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    /// `<public_url>/oidc`: the `iss` of every answer and token.
    pub issuer: String,
    /// The name the login page shows (`[registration] site_name`).
    pub site_name: String,
    /// The applications that may log users in through Limen.
    pub clients: Vec<ProviderClient>,
    /// The JWS algorithm of ID tokens unless a client asks for another.
    pub default_alg: String,
    /// How long an authorization code may wait for its exchange.
    pub code_ttl: Duration,
    /// How long an access token lives.
    pub access_token_ttl: Duration,
    /// Opaque (a Limen session) or a JWT.
    pub access_token_format: AccessTokenFormat,
    /// How long an ID token may be accepted.
    pub id_token_ttl: Duration,
    /// How long a refresh token lives (each refresh issues the next).
    pub refresh_token_ttl: Duration,
    /// How long a browser's session with the provider (single sign-on) lasts.
    pub session_ttl: Duration,
}

/// The ports and services the provider works with.
pub struct OidcProviderPorts {
    /// Codes and access tokens.
    pub sessions: Arc<SessionService>,
    /// Users, for the claims.
    pub users: Arc<Users>,
    /// Digests of client secrets.
    pub mint: Arc<dyn TokenMint>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// The ID token signers, by JWS algorithm; every key is published.
    pub signers: BTreeMap<String, Arc<dyn PayloadSigner>>,
    /// Keys a rotation retired: published, and checked for logout hints,
    /// while tokens they signed may still be presented.
    pub retired: Vec<Arc<dyn PayloadSigner>>,
    /// A user's tokens, for ending a whole family of them.
    pub catalog: Arc<dyn TokenCatalog>,
}

/// Limen as an OpenID Provider (authorization code flow with PKCE): checks
/// authorization requests, issues codes through the login's grant, exchanges
/// them for an access token and a signed ID token, answers userinfo.
pub struct OidcProvider {
    ports: OidcProviderPorts,
    settings: ProviderSettings,
}

/// What a client presented to authenticate itself at the token endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientCredentials {
    /// `client_id` (from Basic authentication or the form).
    pub client_id: Option<String>,
    /// `client_secret`, when sent.
    pub client_secret: Option<String>,
    /// Whether they came in an `Authorization: Basic` header (a refusal then
    /// answers 401 with a challenge).
    pub basic: bool,
}

/// The parameters of a code exchange.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeExchange {
    /// `grant_type`.
    pub grant_type: Option<String>,
    /// `code`.
    pub code: Option<String>,
    /// `redirect_uri`.
    pub redirect_uri: Option<String>,
    /// `code_verifier`.
    pub code_verifier: Option<String>,
    /// `refresh_token`.
    pub refresh_token: Option<String>,
    /// `scope` (a refresh may narrow it).
    pub scope: Option<String>,
}

/// Ends a login with an authorization code for the checked request, and a
/// browser session for the clients that ask next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCodeGrant {
    /// The request the login answers.
    pub request: AuthorizationRequest,
    /// How the user proved who they are (`pwd`, `otp`, `bankid`, `fed`).
    pub methods: Vec<String>,
    /// How long the code may wait.
    pub code_ttl: Duration,
    /// How long the browser session lasts.
    pub session_ttl: Duration,
}

/// What a login through the provider's page hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderLogin {
    /// The authorization code, for the redirect.
    pub code: String,
    /// The browser session, for its cookie.
    pub session: String,
}

/// The client id of Limen's own account page.
pub const ACCOUNT_CLIENT: &str = "limen-account";

/// A live browser session with the provider.
#[derive(Debug, Clone)]
pub struct BrowserSession {
    /// Its user, enabled.
    pub user: User,
    /// Its record.
    pub token: TokenRecord,
    /// When its login was (Unix seconds).
    pub auth_time: i64,
    /// How (`pwd`, `otp`, `bankid`, `fed`, `hwk`).
    pub methods: Vec<String>,
}

/// A browser session: when and how its user logged in.
#[derive(serde::Serialize, serde::Deserialize)]
struct SessionContext {
    auth_time: i64,
    methods: Vec<String>,
}

/// Issues the code of a login (the request, how, and when) to `user`.
async fn issue_code(
    sessions: &SessionService,
    user: UserId,
    context: &CodeContext,
    ttl: Duration,
) -> Result<String, DomainError> {
    let payload = serde_json::to_string(context).map_err(|err| DomainError::Internal(err.to_string()))?;
    let attributes = TokenAttributes {
        client_id: Some(context.request.client_id.clone()),
        payload: Some(payload),
        ..TokenAttributes::default()
    };
    let code = sessions
        .issue_with(user, TokenKind::AuthorizationCode, ttl, attributes)
        .await?;
    Ok(code.plaintext)
}

/// What an authorization code stands for, kept with it and with every
/// refresh token of its family.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct CodeContext {
    request: AuthorizationRequest,
    methods: Vec<String>,
    auth_time: i64,
}

#[async_trait]
impl Grant for AuthorizationCodeGrant {
    type Issued = ProviderLogin;

    async fn issue(
        self,
        sessions: &SessionService,
        user: &User,
        _origin: Option<TokenHash>,
    ) -> Result<ProviderLogin, DomainError> {
        let context = CodeContext {
            auth_time: sessions.now().timestamp(),
            methods: self.methods,
            request: self.request,
        };
        let code = issue_code(sessions, user.id, &context, self.code_ttl).await?;
        let session = SessionContext {
            auth_time: context.auth_time,
            methods: context.methods,
        };
        let payload =
            serde_json::to_string(&session).map_err(|err| DomainError::Internal(err.to_string()))?;
        let session = sessions
            .issue_with(
                user.id,
                TokenKind::BrowserSession,
                self.session_ttl,
                TokenAttributes {
                    note: Some("OpenID Provider browser session".into()),
                    payload: Some(payload),
                    ..TokenAttributes::default()
                },
            )
            .await?;
        Ok(ProviderLogin {
            code,
            session: session.plaintext,
        })
    }
}

impl OidcProvider {
    /// Wires the provider.
    pub fn new(ports: OidcProviderPorts, mut settings: ProviderSettings) -> Self {
        // The account page is a client of the provider: it sends the browser
        // to the login page, and the code comes back to the page itself,
        // where it is never exchanged (its challenge has no known verifier):
        // the browser session the login opened is what the page uses.
        settings.clients.push(ProviderClient {
            client_id: ACCOUNT_CLIENT.to_owned(),
            secret_digest: None,
            redirect_uris: vec![format!("{}/account", settings.issuer)],
            scopes: vec!["openid".to_owned()],
            require_pkce: true,
            id_token_alg: None,
            post_logout_redirect_uris: Vec::new(),
        });
        Self { ports, settings }
    }

    /// Whether `session`'s login was within `within` of now.
    pub fn logged_in_within(&self, session: &BrowserSession, within: Duration) -> bool {
        self.ports.clock.now().timestamp() - session.auth_time <= within.num_seconds()
    }

    /// The browser session `session` names, while it lasts and its user may
    /// log in; `None` otherwise.
    pub async fn browser_session(&self, session: &str) -> Result<Option<BrowserSession>, DomainError> {
        let record = match self
            .ports
            .sessions
            .find_presented(session, TokenKind::BrowserSession)
            .await
        {
            Ok(record) => record,
            Err(DomainError::InvalidToken) => return Ok(None),
            Err(err) => return Err(err),
        };
        let Some(context) = record
            .attributes
            .payload
            .as_deref()
            .and_then(|payload| serde_json::from_str::<SessionContext>(payload).ok())
        else {
            return Ok(None);
        };
        match self.ports.users.by_id(record.user_id).await? {
            Some(user) if user.enabled => Ok(Some(BrowserSession {
                user,
                token: record,
                auth_time: context.auth_time,
                methods: context.methods,
            })),
            _ => Ok(None),
        }
    }

    /// Its settings.
    pub fn settings(&self) -> &ProviderSettings {
        &self.settings
    }

    /// The published keys, as JSON Web Keys.
    pub fn keys(&self) -> Vec<String> {
        self.ports
            .signers
            .values()
            .chain(&self.ports.retired)
            .filter_map(|signer| signer.public_jwk())
            .collect()
    }

    /// The algorithms ID tokens may be signed with.
    pub fn algorithms(&self) -> Vec<String> {
        self.ports.signers.keys().cloned().collect()
    }

    fn client(&self, client_id: &str) -> Option<&ProviderClient> {
        self.settings
            .clients
            .iter()
            .find(|client| client.client_id == client_id)
    }

    /// Checks an authorization request. What cannot be trusted (the client,
    /// the redirect URI) is refused on Limen's page; the rest goes back to
    /// the client. `prompt` and `max_age` are kept for `resume`: the
    /// browser has no session with Limen that could answer without a login.
    pub fn authorize(
        &self,
        params: &AuthorizationParams,
    ) -> Result<AuthorizationRequest, AuthorizationRefusal> {
        let shown = AuthorizationRefusal::Shown;
        let client_id = params.client_id.as_deref().unwrap_or_default();
        let client = self.client(client_id).ok_or(shown(Untrusted::UnknownClient))?;
        let redirect_uri = params
            .redirect_uri
            .clone()
            .filter(|uri| client.accepts_redirect(uri))
            .ok_or(shown(Untrusted::UnregisteredRedirect))?;
        let state = params.state.clone();
        let refuse = |error: &'static str, description: &str| AuthorizationRefusal::Redirected {
            redirect_uri: redirect_uri.clone(),
            state: state.clone(),
            error,
            description: description.to_owned(),
        };
        if state
            .as_ref()
            .is_some_and(|state| state.chars().count() > MAX_ECHOED_CHARS)
            || params
                .nonce
                .as_ref()
                .is_some_and(|nonce| nonce.chars().count() > MAX_ECHOED_CHARS)
        {
            return Err(refuse(
                "invalid_request",
                "state and nonce are at most 512 characters",
            ));
        }
        // OpenID Connect Core §6: a provider that does not process them says so.
        if params.request_object {
            return Err(refuse(
                "request_not_supported",
                "request objects are not supported",
            ));
        }
        if params.request_uri {
            return Err(refuse(
                "request_uri_not_supported",
                "request_uri is not supported",
            ));
        }
        match params.response_type.as_deref() {
            Some("code") => {}
            None => return Err(refuse("invalid_request", "response_type is required")),
            Some(_) => {
                return Err(refuse(
                    "unsupported_response_type",
                    "only the code flow (response_type=code) is offered",
                ));
            }
        }
        let scopes: Vec<String> = params
            .scope
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .filter(|scope| !scope.is_empty())
            .map(str::to_owned)
            .collect();
        if !scopes.iter().any(|scope| scope == "openid") {
            return Err(refuse("invalid_scope", "the scope must include openid"));
        }
        if let Some(unknown) = scopes.iter().find(|scope| !client.scopes.contains(scope)) {
            return Err(refuse(
                "invalid_scope",
                &format!("the client may not ask for the scope {unknown}"),
            ));
        }
        match (
            params.code_challenge.as_deref(),
            params.code_challenge_method.as_deref(),
        ) {
            (Some(challenge), Some("S256")) if is_s256_challenge(challenge) => {}
            (Some(_), Some("S256")) => {
                return Err(refuse(
                    "invalid_request",
                    "code_challenge is not an S256 challenge",
                ));
            }
            (Some(_), _) => {
                return Err(refuse(
                    "invalid_request",
                    "code_challenge_method must be S256 (plain is refused)",
                ));
            }
            (None, Some(_)) => {
                return Err(refuse(
                    "invalid_request",
                    "code_challenge_method without a code_challenge",
                ));
            }
            (None, None) if client.require_pkce => {
                return Err(refuse(
                    "invalid_request",
                    "this client must send a PKCE code_challenge (S256)",
                ));
            }
            (None, None) => {}
        }
        let prompts: Vec<&str> = params.prompt.as_deref().unwrap_or_default().split(' ').collect();
        let (prompt_none, prompt_login) = (prompts.contains(&"none"), prompts.contains(&"login"));
        if prompt_none
            && prompts
                .iter()
                .any(|prompt| !prompt.is_empty() && *prompt != "none")
        {
            return Err(refuse(
                "invalid_request",
                "prompt=none cannot be combined with another value",
            ));
        }
        let max_age = match params.max_age.as_deref() {
            None => None,
            Some(text) => match text.parse::<i64>() {
                Ok(seconds) if seconds >= 0 => Some(seconds),
                _ => return Err(refuse("invalid_request", "max_age must be a number of seconds")),
            },
        };
        Ok(AuthorizationRequest {
            client_id: client.client_id.clone(),
            redirect_uri,
            scopes,
            state,
            nonce: params.nonce.clone(),
            code_challenge: params.code_challenge.clone(),
            prompt_login,
            prompt_none,
            max_age,
        })
    }

    /// The grant a login for `request` ends with, after `methods`.
    pub fn code_grant(&self, request: AuthorizationRequest, methods: &[&str]) -> AuthorizationCodeGrant {
        AuthorizationCodeGrant {
            request,
            methods: methods.iter().map(|method| (*method).to_owned()).collect(),
            code_ttl: self.settings.code_ttl,
            session_ttl: self.settings.session_ttl,
        }
    }

    /// The browser session's answer to `request` (single sign-on): a code
    /// for the session's user, as of the session's login, unless the request
    /// asks for a new login (`prompt=login`, a `max_age` the login is older
    /// than), the session ended, or its user can no longer log in.
    pub async fn resume(
        &self,
        session: &str,
        request: &AuthorizationRequest,
    ) -> Result<Option<String>, DomainError> {
        if request.prompt_login {
            return Ok(None);
        }
        let Some(session) = self.browser_session(session).await? else {
            return Ok(None);
        };
        let now = self.ports.clock.now().timestamp();
        if request
            .max_age
            .is_some_and(|max_age| now - session.auth_time > max_age)
        {
            return Ok(None);
        }
        let context = CodeContext {
            request: request.clone(),
            methods: session.methods,
            auth_time: session.auth_time,
        };
        tracing::info!(user_id = %session.user.id, client = %request.client_id, "answered from the browser session");
        issue_code(
            &self.ports.sessions,
            session.user.id,
            &context,
            self.settings.code_ttl,
        )
        .await
        .map(Some)
    }

    /// What a request the browser session could not answer gets: the login
    /// page, or, for `prompt=none`, `login_required` at the redirect URI.
    pub fn login_needed(&self, request: &AuthorizationRequest) -> Result<(), AuthorizationRefusal> {
        if !request.prompt_none {
            return Ok(());
        }
        Err(AuthorizationRefusal::Redirected {
            redirect_uri: request.redirect_uri.clone(),
            state: request.state.clone(),
            error: "login_required",
            description: "the user must log in".into(),
        })
    }

    /// Ends a browser session (its cookie's token); nothing for an unknown one.
    pub async fn end_session(&self, session: &str) -> Result<(), DomainError> {
        if let Ok(Some(record)) = self.ports.sessions.find_any(session).await
            && record.kind == TokenKind::BrowserSession
        {
            self.ports.sessions.revoke(&record.hash).await?;
        }
        Ok(())
    }

    /// Where RP-initiated logout may send the browser: `uri` when an ID
    /// token of this provider (`id_token_hint`, signature checked) names a
    /// client that registered `uri` as a `post_logout_redirect_uri` (and is
    /// `client_id`, when that is given). `None` keeps the browser on Limen's
    /// own page.
    pub fn logout_target(
        &self,
        hint: Option<&str>,
        uri: Option<&str>,
        client_id: Option<&str>,
    ) -> Option<String> {
        let (hint, uri) = (hint?, uri?);
        let payload = self
            .ports
            .signers
            .values()
            .chain(&self.ports.retired)
            .find_map(|signer| signer.verify(hint))?;
        let claims: Value = serde_json::from_slice(&payload).ok()?;
        if claims["iss"] != self.settings.issuer.as_str() {
            return None;
        }
        let audience = claims["aud"].as_str()?;
        if client_id.is_some_and(|client_id| client_id != audience) {
            return None;
        }
        let client = self.client(audience)?;
        client
            .post_logout_redirect_uris
            .iter()
            .any(|registered| registered == uri)
            .then(|| uri.to_owned())
    }

    /// The client the credentials name, if they prove it (a public client
    /// proves nothing and sends no secret).
    fn authenticate(&self, credentials: &ClientCredentials) -> Result<&ProviderClient, TokenRefusal> {
        let unknown = || TokenRefusal::new("invalid_client", "unknown client or wrong secret");
        let client = credentials
            .client_id
            .as_deref()
            .and_then(|id| self.client(id))
            .ok_or_else(unknown)?;
        match (&client.secret_digest, &credentials.client_secret) {
            (Some(expected), Some(secret)) if self.ports.mint.digest(secret) == *expected => Ok(client),
            (None, None) => Ok(client),
            _ => Err(unknown()),
        }
    }

    /// The token endpoint: an authorization code or a refresh token
    /// exchanged for an access token and an ID token (and, with
    /// `offline_access`, the next refresh token).
    pub async fn exchange(
        &self,
        credentials: &ClientCredentials,
        form: &CodeExchange,
    ) -> Result<TokenAnswer, TokenRefusal> {
        let client = self.authenticate(credentials)?;
        match form.grant_type.as_deref() {
            Some("authorization_code") => self.redeem_code(client, form).await,
            Some("refresh_token") => self.refresh(client, form).await,
            None => Err(TokenRefusal::new("invalid_request", "grant_type is required")),
            Some(_) => Err(TokenRefusal::new(
                "unsupported_grant_type",
                "authorization_code and refresh_token are offered",
            )),
        }
    }

    /// Spends a single-use code or refresh token of `client` (`field` of the
    /// form, named `what` in refusals): consumed at once, so that of two
    /// requests with it one wins; one presented again after it was spent
    /// ends every token of its family. The login it stands for.
    async fn spend(
        &self,
        client: &ProviderClient,
        presented: Option<&str>,
        kind: TokenKind,
        (field, what): (&str, &str),
    ) -> Result<(TokenRecord, CodeContext), TokenRefusal> {
        let presented =
            presented.ok_or_else(|| TokenRefusal::new("invalid_request", format!("{field} is required")))?;
        let invalid = |why: String| TokenRefusal::new("invalid_grant", why);
        let record = match self.ports.sessions.consume(presented, kind).await {
            Ok(record) => record,
            Err(DomainError::InvalidToken) => {
                self.end_family_of_replayed(presented, kind).await;
                return Err(invalid(format!("the {what} is unknown, expired or used")));
            }
            Err(err) => return Err(server_error(err)),
        };
        let context = context_of(&record)?;
        if context.request.client_id != client.client_id {
            return Err(invalid(format!("the {what} was issued to another client")));
        }
        Ok((record, context))
    }

    /// An authorization code: spent, then its redirect URI and PKCE verifier
    /// must match the request's (RFC 6749 §4.1.3, RFC 7636 §4.6).
    async fn redeem_code(
        &self,
        client: &ProviderClient,
        form: &CodeExchange,
    ) -> Result<TokenAnswer, TokenRefusal> {
        let (record, context) = self
            .spend(
                client,
                form.code.as_deref(),
                TokenKind::AuthorizationCode,
                ("code", "code"),
            )
            .await?;
        let invalid = |why: &str| TokenRefusal::new("invalid_grant", why);
        let request = &context.request;
        if form.redirect_uri.as_deref() != Some(request.redirect_uri.as_str()) {
            return Err(invalid("redirect_uri differs from the authorization request's"));
        }
        match (&request.code_challenge, &form.code_verifier) {
            (Some(challenge), Some(verifier)) if s256(verifier) == *challenge => {}
            (Some(_), _) => return Err(invalid("the code_verifier does not match the code_challenge")),
            (None, Some(_)) => return Err(invalid("a code_verifier for a request without a code_challenge")),
            (None, None) => {}
        }
        self.issue_from(client, form.code.as_deref().unwrap_or_default(), &record, context)
            .await
    }

    /// A refresh token: spent (rotation), then the next of its family is
    /// issued (RFC 9700 §4.14.2).
    async fn refresh(
        &self,
        client: &ProviderClient,
        form: &CodeExchange,
    ) -> Result<TokenAnswer, TokenRefusal> {
        let (record, mut context) = self
            .spend(
                client,
                form.refresh_token.as_deref(),
                TokenKind::ProviderRefresh,
                ("refresh_token", "refresh token"),
            )
            .await?;
        if let Some(scope) = &form.scope {
            let asked: Vec<String> = scope
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if let Some(extra) = asked.iter().find(|scope| !context.request.scopes.contains(scope)) {
                return Err(TokenRefusal::new(
                    "invalid_scope",
                    format!("{extra} was not granted"),
                ));
            }
            context.request.scopes = asked;
        }
        self.issue_from(
            client,
            form.refresh_token.as_deref().unwrap_or_default(),
            &record,
            context,
        )
        .await
    }

    /// The tokens a spent code or refresh token (`presented`, whose record
    /// `spent` is) gives: of its family, which is the code's digest for every
    /// token of one login. If a replay of it ended the family while they were
    /// being issued, they end too: the replay's sweep may have run before
    /// they existed, and the mark it left is read after they do.
    async fn issue_from(
        &self,
        client: &ProviderClient,
        presented: &str,
        spent: &TokenRecord,
        context: CodeContext,
    ) -> Result<TokenAnswer, TokenRefusal> {
        let family = spent.attributes.origin.clone().unwrap_or(spent.hash.clone());
        let answer = self
            .answer(client, spent.user_id, context, family.clone())
            .await?;
        if let Ok(Some(now)) = self.ports.sessions.find_any(presented).await
            && !now.enabled
        {
            let ended = self.end_family(spent.user_id, &family).await;
            tracing::warn!(user_id = %spent.user_id, ended, "tokens issued while a replay ended their family were ended too");
        }
        Ok(answer)
    }

    /// The tokens of a login: an access token, the ID token and, with
    /// `offline_access`, a refresh token, all of `family`.
    async fn answer(
        &self,
        client: &ProviderClient,
        user: UserId,
        context: CodeContext,
        family: TokenHash,
    ) -> Result<TokenAnswer, TokenRefusal> {
        let user = match self.ports.users.by_id(user).await {
            Ok(Some(user)) if user.enabled => user,
            Ok(_) => {
                return Err(TokenRefusal::new(
                    "invalid_grant",
                    "the user can no longer log in",
                ));
            }
            Err(err) => return Err(server_error(err)),
        };
        let request = &context.request;
        let scope = request.scopes.join(" ");
        let attributes = |payload: String, what: &str| TokenAttributes {
            client_id: Some(client.client_id.clone()),
            note: Some(format!("OpenID client {}, {what}", client.client_id)),
            origin: Some(family.clone()),
            payload: Some(payload),
            ..TokenAttributes::default()
        };
        let sessions = &self.ports.sessions;
        let access_token = match self.settings.access_token_format {
            AccessTokenFormat::Opaque => {
                sessions
                    .issue_with(
                        user.id,
                        TokenKind::Access,
                        self.settings.access_token_ttl,
                        attributes(scope.clone(), "access token"),
                    )
                    .await
                    .map_err(server_error)?
                    .plaintext
            }
            AccessTokenFormat::Jwt => self.jwt_access_token(client, &user, &context, &scope)?,
        };
        let refresh_token = if request.scopes.iter().any(|scope| scope == "offline_access") {
            let payload = serde_json::to_string(&context)
                .map_err(|err| server_error(DomainError::Internal(err.to_string())))?;
            let refresh = sessions
                .issue_with(
                    user.id,
                    TokenKind::ProviderRefresh,
                    self.settings.refresh_token_ttl,
                    attributes(payload, "refresh token"),
                )
                .await
                .map_err(server_error)?;
            Some(refresh.plaintext)
        } else {
            None
        };
        let id_token = self.id_token(
            client,
            &user,
            request,
            &context.methods,
            context.auth_time,
            &access_token,
        )?;
        Ok(TokenAnswer {
            access_token,
            expires_in: self.settings.access_token_ttl.num_seconds(),
            id_token,
            refresh_token,
            scope,
        })
    }

    /// An access token as a JWT (RFC 9068 §2): signed with the default
    /// algorithm's key, `typ` `at+jwt`, the client as its audience (no
    /// resource indicators are taken), and the login's `auth_time`, `amr`, `acr`.
    fn jwt_access_token(
        &self,
        client: &ProviderClient,
        user: &User,
        context: &CodeContext,
        scope: &str,
    ) -> Result<String, TokenRefusal> {
        let alg = &self.settings.default_alg;
        let signer = self
            .ports
            .signers
            .get(alg)
            .ok_or_else(|| server_error(DomainError::Internal(format!("no {alg} signing key"))))?;
        let now = self.ports.clock.now().timestamp();
        let (jti, _) = self.ports.mint.mint();
        let mut claims = json!({
            "iss": self.settings.issuer,
            "sub": user.id.0.to_string(),
            "aud": client.client_id,
            "client_id": client.client_id,
            "iat": now,
            "exp": now + self.settings.access_token_ttl.num_seconds(),
            "jti": jti,
            "scope": scope,
            "auth_time": context.auth_time,
            "amr": context.methods,
        });
        if let Some(acr) = acr_of(&context.methods) {
            claims["acr"] = json!(acr);
        }
        Ok(signer.sign_typed(JWT_ACCESS_TOKEN, claims.to_string().as_bytes()))
    }

    /// The claims of a JWT access token of Limen's that is live now: its
    /// signature one of the provider's keys', its `typ` an access token's,
    /// its issuer this one and its client configured.
    fn jwt_claims(&self, token: &str) -> Option<Value> {
        if token.matches('.').count() != 2 {
            return None;
        }
        let payload = self
            .ports
            .signers
            .values()
            .chain(&self.ports.retired)
            .find_map(|signer| signer.verify_typed(JWT_ACCESS_TOKEN, token))?;
        let claims: Value = serde_json::from_slice(&payload).ok()?;
        let live = claims["exp"]
            .as_i64()
            .is_some_and(|exp| exp > self.ports.clock.now().timestamp());
        let known_client = claims["client_id"]
            .as_str()
            .is_some_and(|id| self.client(id).is_some());
        (live && known_client && claims["iss"] == self.settings.issuer.as_str()).then_some(claims)
    }

    /// After a spent code or refresh token came back: every token of its
    /// family ends (the thief's and the owner's alike; the owner logs in again).
    async fn end_family_of_replayed(&self, presented: &str, kind: TokenKind) {
        let Ok(Some(record)) = self.ports.sessions.find_any(presented).await else {
            return;
        };
        if record.kind != kind || record.revoked_at.is_none() {
            return;
        }
        // The mark the exchange that spent it reads once its tokens exist.
        if let Err(err) = self.ports.catalog.set_enabled(record.id, false).await {
            tracing::warn!(error = %err, "could not mark a replayed token");
        }
        let family = record.attributes.origin.clone().unwrap_or(record.hash.clone());
        let ended = self.end_family(record.user_id, &family).await;
        tracing::warn!(user_id = %record.user_id, kind = kind.as_str(), ended, "a spent token was presented again; its family ended");
    }

    /// Revokes every live token of `family`; how many.
    async fn end_family(&self, user: UserId, family: &TokenHash) -> usize {
        let mut ended = 0;
        for kind in [TokenKind::Access, TokenKind::ProviderRefresh] {
            let Ok(tokens) = self.ports.catalog.list_for_user(user, kind).await else {
                continue;
            };
            for token in tokens {
                if token.attributes.origin.as_ref() == Some(family)
                    && token.revoked_at.is_none()
                    && self.ports.sessions.revoke(&token.hash).await.unwrap_or(false)
                {
                    ended += 1;
                }
            }
        }
        ended
    }

    /// A live access or refresh token of this client (RFC 7662): `active`
    /// with its owner, scope and lifetime; anything else (unknown, expired,
    /// revoked, another client's) just `{"active": false}`.
    pub async fn introspect(
        &self,
        credentials: &ClientCredentials,
        token: &str,
    ) -> Result<Value, TokenRefusal> {
        let client = self.authenticate(credentials)?;
        let inactive = json!({ "active": false });
        if let Some(claims) = self.jwt_claims(token) {
            let user = claims["sub"]
                .as_str()
                .and_then(|sub| sub.parse().ok())
                .map(UserId);
            let enabled = match user {
                Some(user) => matches!(self.ports.users.by_id(user).await, Ok(Some(user)) if user.enabled),
                None => false,
            };
            if !enabled || claims["client_id"] != client.client_id.as_str() {
                return Ok(inactive);
            }
            return Ok(json!({
                "active": true,
                "client_id": client.client_id,
                "sub": claims["sub"],
                "scope": claims["scope"],
                "token_type": "Bearer",
                "iat": claims["iat"],
                "exp": claims["exp"],
                "iss": self.settings.issuer,
            }));
        }
        // An access token through the validation path (its cache, and a
        // user disabled since makes it inactive); anything else from the store.
        let record = match self.ports.sessions.authenticate(token).await {
            Ok(session) => session.token,
            Err(_) => match self.ports.sessions.find_any(token).await {
                Ok(Some(record)) if record.kind == TokenKind::ProviderRefresh => record,
                _ => return Ok(inactive),
            },
        };
        let now = self.ports.clock.now();
        let mine = record.attributes.client_id.as_deref() == Some(client.client_id.as_str());
        let scope = match record.kind {
            TokenKind::Access => record.attributes.payload.clone().unwrap_or_default(),
            TokenKind::ProviderRefresh => context_of(&record)
                .map(|context| context.request.scopes.join(" "))
                .unwrap_or_default(),
            _ => return Ok(inactive),
        };
        if !mine || !record.is_live_at(now) {
            return Ok(inactive);
        }
        Ok(json!({
            "active": true,
            "client_id": client.client_id,
            "sub": record.user_id.0.to_string(),
            "scope": scope,
            "token_type": if record.kind == TokenKind::Access { "Bearer" } else { "refresh_token" },
            "iat": record.created_at.timestamp(),
            "exp": record.expires_at.timestamp(),
            "iss": self.settings.issuer,
        }))
    }

    /// Revokes a token of this client (RFC 7009); a refresh token ends its
    /// whole family. An unknown token is no error; another client's is refused.
    pub async fn revoke(&self, credentials: &ClientCredentials, token: &str) -> Result<(), TokenRefusal> {
        let client = self.authenticate(credentials)?;
        if self.jwt_claims(token).is_some() {
            // RFC 7009 §2.2.1: the type it cannot revoke.
            return Err(TokenRefusal::new(
                "unsupported_token_type",
                "a JWT access token cannot be revoked before it expires; revoke its refresh token",
            ));
        }
        let Ok(Some(record)) = self.ports.sessions.find_any(token).await else {
            return Ok(());
        };
        if !matches!(record.kind, TokenKind::Access | TokenKind::ProviderRefresh) {
            return Ok(());
        }
        if record.attributes.client_id.as_deref() != Some(client.client_id.as_str()) {
            return Err(TokenRefusal::new(
                "unauthorized_client",
                "the token was issued to another client",
            ));
        }
        self.ports
            .sessions
            .revoke(&record.hash)
            .await
            .map_err(server_error)?;
        if record.kind == TokenKind::ProviderRefresh {
            let family = record.attributes.origin.clone().unwrap_or(record.hash.clone());
            self.end_family(record.user_id, &family).await;
        }
        Ok(())
    }

    fn id_token(
        &self,
        client: &ProviderClient,
        user: &User,
        request: &AuthorizationRequest,
        methods: &[String],
        auth_time: i64,
        access_token: &str,
    ) -> Result<String, TokenRefusal> {
        let alg = client
            .id_token_alg
            .as_deref()
            .unwrap_or(&self.settings.default_alg);
        let signer = self
            .ports
            .signers
            .get(alg)
            .ok_or_else(|| server_error(DomainError::Internal(format!("no {alg} signing key"))))?;
        let now = self.ports.clock.now().timestamp();
        let mut claims = json!({
            "iss": self.settings.issuer,
            "sub": user.id.0.to_string(),
            "aud": client.client_id,
            "iat": now,
            "exp": now + self.settings.id_token_ttl.num_seconds(),
            "auth_time": auth_time,
            "amr": methods,
        });
        if let Some(nonce) = &request.nonce {
            claims["nonce"] = json!(nonce);
        }
        if let Some(acr) = acr_of(methods) {
            claims["acr"] = json!(acr);
        }
        if alg != "EdDSA" {
            // The left half of the SHA-256 digest (ES256, RS256); for
            // Ed25519 the hash is disputed (SHA-512), so none is sent.
            let digest = Sha256::digest(access_token.as_bytes());
            claims["at_hash"] = json!(URL_SAFE_NO_PAD.encode(&digest[..16]));
        }
        add_user_claims(&mut claims, user, &request.scopes);
        Ok(signer.sign(claims.to_string().as_bytes()))
    }

    /// The claims of the access token's user the token's scopes allow.
    pub async fn userinfo(&self, access_token: &str) -> Result<Value, DomainError> {
        let (user, scope) = if let Some(claims) = self.jwt_claims(access_token) {
            let user = claims["sub"]
                .as_str()
                .and_then(|sub| sub.parse().ok())
                .map(UserId)
                .ok_or(DomainError::InvalidToken)?;
            match self.ports.users.by_id(user).await? {
                Some(user) if user.enabled => (user, claims["scope"].as_str().unwrap_or_default().to_owned()),
                _ => return Err(DomainError::InvalidToken),
            }
        } else {
            let session = self.ports.sessions.authenticate(access_token).await?;
            let client = session
                .token
                .attributes
                .client_id
                .as_deref()
                .and_then(|id| self.client(id));
            if client.is_none() {
                // A dialect's session is not an OpenID access token.
                return Err(DomainError::InvalidToken);
            }
            let scope = session.token.attributes.payload.clone().unwrap_or_default();
            (session.user, scope)
        };
        let scopes: Vec<String> = scope.split(' ').map(str::to_owned).collect();
        let mut claims = json!({ "sub": user.id.0.to_string() });
        add_user_claims(&mut claims, &user, &scopes);
        Ok(claims)
    }
}

/// The `typ` of a JWT access token (RFC 9068 §2.1).
const JWT_ACCESS_TOKEN: &str = "at+jwt";

/// `mfa` when the login took two factors: something known and something
/// held (a password and a code), or BankID's possession and PIN.
fn acr_of(methods: &[String]) -> Option<&'static str> {
    methods
        .iter()
        .any(|method| matches!(method.as_str(), "otp" | "bankid" | "hwk"))
        .then_some("mfa")
}

/// The login a code or refresh token stands for.
fn context_of(record: &TokenRecord) -> Result<CodeContext, TokenRefusal> {
    record
        .attributes
        .payload
        .as_deref()
        .and_then(|payload| serde_json::from_str(payload).ok())
        .ok_or_else(|| {
            server_error(DomainError::Internal(
                "a code or refresh token without its login".into(),
            ))
        })
}

/// `email` and `profile` claims (OpenID Connect Core §5.4).
fn add_user_claims(claims: &mut Value, user: &User, scopes: &[String]) {
    let has = |scope: &str| scopes.iter().any(|granted| granted == scope);
    if has("email") && !user.email.is_empty() {
        claims["email"] = json!(user.email);
        claims["email_verified"] = json!(user.email_verified_at.is_some());
    }
    if has("profile") {
        claims["preferred_username"] = json!(user.username);
        let name: Vec<&str> = [user.first_name.as_deref(), user.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        if !name.is_empty() {
            claims["name"] = json!(name.join(" "));
        }
        if let Some(given) = &user.first_name {
            claims["given_name"] = json!(given);
        }
        if let Some(family) = &user.last_name {
            claims["family_name"] = json!(family);
        }
    }
}

/// PKCE's S256: `base64url(SHA-256(verifier))` (RFC 7636 §4.2).
fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// 43 base64url characters: what S256 makes.
fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// A failure that is not the client's (RFC 6749's `server_error` is for
/// authorization answers; the token endpoint has none, so it is told as
/// `temporarily_unavailable` with a 503).
fn server_error(err: DomainError) -> TokenRefusal {
    tracing::error!(error = %err, "the token endpoint could not answer");
    TokenRefusal::new("temporarily_unavailable", "try again shortly")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ClientAddress, Password};
    use crate::services::fixtures::World;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn s256_is_rfc_7636s_example() {
        // RFC 7636, appendix B.
        assert_eq!(s256(VERIFIER), CHALLENGE);
        assert!(is_s256_challenge(CHALLENGE));
        assert!(!is_s256_challenge(&CHALLENGE[1..]));
        assert!(!is_s256_challenge(&format!("{}+", &CHALLENGE[1..])));
    }

    fn params(client: &str, redirect: &str) -> AuthorizationParams {
        AuthorizationParams {
            client_id: Some(client.into()),
            redirect_uri: Some(redirect.into()),
            response_type: Some("code".into()),
            scope: Some("openid email profile".into()),
            state: Some("xyz".into()),
            nonce: Some("n-0S6_WzA2Mj".into()),
            code_challenge: Some(CHALLENGE.into()),
            code_challenge_method: Some("S256".into()),
            prompt: None,
            max_age: None,
            request_object: false,
            request_uri: false,
        }
    }

    fn wiki() -> ClientCredentials {
        ClientCredentials {
            client_id: Some("wiki".into()),
            client_secret: Some("wiki-secret".into()),
            basic: true,
        }
    }

    fn exchange(code: &str) -> CodeExchange {
        CodeExchange {
            grant_type: Some("authorization_code".into()),
            code: Some(code.into()),
            redirect_uri: Some("https://wiki.example/cb".into()),
            code_verifier: Some(VERIFIER.into()),
            ..CodeExchange::default()
        }
    }

    /// A password login of `ann` for `request`, ending in a code.
    async fn code_for(world: &World, request: AuthorizationRequest) -> String {
        let services = world.services();
        let provider = services.oidc_provider.clone().unwrap();
        let grant = provider.code_grant(request, &["pwd"]);
        let client = ClientAddress::new("192.0.2.9".parse().unwrap());
        services
            .password_login
            .login("ann", &Password::new("pw-ann"), &client, grant)
            .await
            .unwrap()
            .granted
            .code
    }

    fn claims(id_token: &str) -> (String, Value) {
        let (alg, claims) = id_token.split_once(':').unwrap();
        (alg.to_owned(), serde_json::from_str(claims).unwrap())
    }

    #[tokio::test]
    async fn a_code_is_exchanged_once_for_an_access_token_and_an_id_token_that_userinfo_agrees_with() {
        let world = World::with_provider();
        let ann = world.add_user("ann");
        let provider = world.services().oidc_provider.unwrap();
        let request = provider
            .authorize(&params("wiki", "https://wiki.example/cb"))
            .unwrap();
        let code = code_for(&world, request).await;
        let answer = provider.exchange(&wiki(), &exchange(&code)).await.unwrap();
        let (alg, id) = claims(&answer.id_token);
        assert_eq!(alg, "ES256");
        assert_eq!(id["iss"], "https://login.example/oidc");
        assert_eq!(id["sub"], ann.id.0.to_string());
        assert_eq!(id["aud"], "wiki");
        assert_eq!(id["nonce"], "n-0S6_WzA2Mj");
        assert_eq!(id["amr"], json!(["pwd"]));
        assert_eq!(id["email"], "ann@example.com");
        assert_eq!(id["auth_time"], world.now().timestamp());
        assert_eq!(id["exp"], world.now().timestamp() + 300);
        assert_eq!(answer.expires_in, 600);
        assert_eq!(answer.scope, "openid email profile");
        let info = provider.userinfo(&answer.access_token).await.unwrap();
        assert_eq!(info["sub"], id["sub"]);
        assert_eq!(info["preferred_username"], "ann");
        // The code was spent by the exchange.
        let again = provider.exchange(&wiki(), &exchange(&code)).await.unwrap_err();
        assert_eq!(again.error, "invalid_grant");
    }

    #[tokio::test]
    async fn a_jwt_access_token_is_verified_by_itself_and_cannot_be_revoked() {
        let world = World::with_provider_settings(|settings| {
            settings.access_token_format = AccessTokenFormat::Jwt;
        });
        let ann = world.add_user("ann");
        let provider = world.services().oidc_provider.unwrap();
        let request = provider
            .authorize(&params("wiki", "https://wiki.example/cb"))
            .unwrap();
        let code = code_for(&world, request).await;
        let answer = provider.exchange(&wiki(), &exchange(&code)).await.unwrap();
        let encoded = answer
            .access_token
            .strip_prefix("ES256+at+jwt.")
            .and_then(|rest| rest.strip_suffix('.'))
            .expect("an ES256 JWT typed at+jwt");
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(encoded).unwrap()).unwrap();
        assert_eq!(claims["iss"], "https://login.example/oidc");
        assert_eq!(claims["sub"], ann.id.0.to_string());
        assert_eq!(
            (&claims["aud"], &claims["client_id"]),
            (&json!("wiki"), &json!("wiki"))
        );
        assert_eq!(claims["exp"], world.now().timestamp() + 600);
        assert_eq!(claims["scope"], "openid email profile");
        assert_eq!(claims["amr"], json!(["pwd"]));
        assert!(claims["jti"].is_string());
        let info = provider.userinfo(&answer.access_token).await.unwrap();
        assert_eq!(info["email"], "ann@example.com");
        let introspected = provider.introspect(&wiki(), &answer.access_token).await.unwrap();
        assert_eq!(introspected["active"], true);
        assert_eq!(introspected["sub"], ann.id.0.to_string());
        let refused = provider.revoke(&wiki(), &answer.access_token).await.unwrap_err();
        assert_eq!(refused.error, "unsupported_token_type");
        // An ID token is no access token.
        assert!(provider.userinfo(&answer.id_token).await.is_err());
        // Disabled users' tokens are inactive; expired ones too.
        world.set_disabled(ann.id, true);
        assert_eq!(
            provider.introspect(&wiki(), &answer.access_token).await.unwrap()["active"],
            false
        );
        assert!(provider.userinfo(&answer.access_token).await.is_err());
        world.advance(Duration::minutes(11));
        assert!(provider.jwt_claims(&answer.access_token).is_none());
    }

    #[tokio::test]
    async fn an_exchange_needs_the_right_client_secret_redirect_and_verifier() {
        let world = World::with_provider();
        world.add_user("ann");
        let provider = world.services().oidc_provider.unwrap();
        let request = provider
            .authorize(&params("wiki", "https://wiki.example/cb"))
            .unwrap();
        let wrong_secret = ClientCredentials {
            client_secret: Some("guess".into()),
            ..wiki()
        };
        let cases: Vec<(ClientCredentials, CodeExchange, &str)> = vec![
            (wrong_secret, exchange("x"), "invalid_client"),
            (
                ClientCredentials {
                    client_secret: None,
                    ..wiki()
                },
                exchange("x"),
                "invalid_client",
            ),
            (
                wiki(),
                CodeExchange {
                    grant_type: Some("password".into()),
                    ..exchange("x")
                },
                "unsupported_grant_type",
            ),
        ];
        for (credentials, form, error) in cases {
            assert_eq!(
                provider.exchange(&credentials, &form).await.unwrap_err().error,
                error
            );
        }
        for form in [
            CodeExchange {
                code_verifier: Some("another-verifier-another-verifier-another-v".into()),
                ..exchange("")
            },
            CodeExchange {
                code_verifier: None,
                ..exchange("")
            },
            CodeExchange {
                redirect_uri: Some("https://wiki.example/other".into()),
                ..exchange("")
            },
        ] {
            let code = code_for(&world, request.clone()).await;
            let form = CodeExchange {
                code: Some(code.clone()),
                ..form
            };
            assert_eq!(
                provider.exchange(&wiki(), &form).await.unwrap_err().error,
                "invalid_grant"
            );
            // Refused after it was spent: a second try with the right values fails too.
            assert_eq!(
                provider
                    .exchange(&wiki(), &exchange(&code))
                    .await
                    .unwrap_err()
                    .error,
                "invalid_grant"
            );
        }
    }

    #[tokio::test]
    async fn a_public_client_sends_no_secret_and_gets_its_own_algorithm() {
        let world = World::with_provider();
        world.add_user("ann");
        let provider = world.services().oidc_provider.unwrap();
        let request = provider
            .authorize(&params("cli", "http://127.0.0.1:49152/cb"))
            .unwrap();
        let code = code_for(&world, request).await;
        let public = ClientCredentials {
            client_id: Some("cli".into()),
            client_secret: None,
            basic: false,
        };
        let form = CodeExchange {
            redirect_uri: Some("http://127.0.0.1:49152/cb".into()),
            ..exchange(&code)
        };
        let answer = provider.exchange(&public, &form).await.unwrap();
        assert_eq!(claims(&answer.id_token).0, "RS256");
        // Another client cannot spend the code.
        let request = provider
            .authorize(&params("cli", "http://127.0.0.1:49152/cb"))
            .unwrap();
        let code = code_for(&world, request).await;
        let stolen = provider
            .exchange(
                &wiki(),
                &CodeExchange {
                    redirect_uri: Some("http://127.0.0.1:49152/cb".into()),
                    ..exchange(&code)
                },
            )
            .await;
        assert_eq!(stolen.unwrap_err().error, "invalid_grant");
    }

    #[test]
    fn authorization_requests_that_cannot_be_trusted_are_shown_and_the_others_sent_back() {
        let world = World::with_provider();
        let provider = world.services().oidc_provider.unwrap();
        let shown = |params: AuthorizationParams| match provider.authorize(&params) {
            Err(AuthorizationRefusal::Shown(why)) => Some(why),
            _ => None,
        };
        assert_eq!(
            shown(params("nobody", "https://wiki.example/cb")),
            Some(Untrusted::UnknownClient)
        );
        assert_eq!(
            shown(params("wiki", "https://evil.example/cb")),
            Some(Untrusted::UnregisteredRedirect)
        );
        assert_eq!(
            shown(AuthorizationParams {
                redirect_uri: None,
                ..params("wiki", "")
            }),
            Some(Untrusted::UnregisteredRedirect)
        );
        let sent = |params: AuthorizationParams| match provider.authorize(&params) {
            Err(AuthorizationRefusal::Redirected {
                error,
                redirect_uri,
                state,
                ..
            }) => {
                assert_eq!(redirect_uri, "https://wiki.example/cb");
                assert_eq!(state.as_deref(), Some("xyz"));
                error
            }
            other => panic!("{other:?}"),
        };
        let base = || params("wiki", "https://wiki.example/cb");
        assert_eq!(
            sent(AuthorizationParams {
                response_type: Some("token".into()),
                ..base()
            }),
            "unsupported_response_type"
        );
        assert_eq!(
            sent(AuthorizationParams {
                response_type: None,
                ..base()
            }),
            "invalid_request"
        );
        assert_eq!(
            sent(AuthorizationParams {
                scope: Some("email".into()),
                ..base()
            }),
            "invalid_scope"
        );
        assert_eq!(
            sent(AuthorizationParams {
                scope: Some("openid admin".into()),
                ..base()
            }),
            "invalid_scope"
        );
        assert_eq!(
            sent(AuthorizationParams {
                code_challenge_method: Some("plain".into()),
                ..base()
            }),
            "invalid_request"
        );
        assert_eq!(
            sent(AuthorizationParams {
                code_challenge_method: None,
                ..base()
            }),
            "invalid_request"
        );
        assert_eq!(
            sent(AuthorizationParams {
                code_challenge: None,
                code_challenge_method: None,
                ..base()
            }),
            "invalid_request",
            "PKCE is required"
        );
        let none = provider
            .authorize(&AuthorizationParams {
                prompt: Some("none".into()),
                ..base()
            })
            .unwrap();
        assert!(none.prompt_none && !none.prompt_login);
        assert_eq!(
            sent(AuthorizationParams {
                prompt: Some("none login".into()),
                ..base()
            }),
            "invalid_request"
        );
        assert_eq!(
            sent(AuthorizationParams {
                max_age: Some("soon".into()),
                ..base()
            }),
            "invalid_request"
        );
        assert_eq!(
            sent(AuthorizationParams {
                nonce: Some("n".repeat(600)),
                ..base()
            }),
            "invalid_request"
        );
        assert_eq!(
            sent(AuthorizationParams {
                request_object: true,
                ..base()
            }),
            "request_not_supported"
        );
        assert_eq!(
            sent(AuthorizationParams {
                request_uri: true,
                ..base()
            }),
            "request_uri_not_supported"
        );
        let ok = provider.authorize(&base()).unwrap();
        assert_eq!(ok.scopes, vec!["openid", "email", "profile"]);
    }

    #[tokio::test]
    async fn a_dialect_session_is_no_openid_access_token() {
        let world = World::with_provider();
        let ann = world.add_user("ann");
        let services = world.services();
        let session = services
            .sessions
            .issue(ann.id, TokenKind::Access, Duration::minutes(5))
            .await
            .unwrap();
        let provider = services.oidc_provider.unwrap();
        assert!(matches!(
            provider.userinfo(&session.plaintext).await,
            Err(DomainError::InvalidToken)
        ));
    }

    fn refresh_with(token: &str) -> CodeExchange {
        CodeExchange {
            grant_type: Some("refresh_token".into()),
            refresh_token: Some(token.into()),
            ..CodeExchange::default()
        }
    }

    async fn offline_answer(world: &World, provider: &OidcProvider) -> TokenAnswer {
        let request = provider
            .authorize(&AuthorizationParams {
                scope: Some("openid email offline_access".into()),
                ..params("wiki", "https://wiki.example/cb")
            })
            .unwrap();
        let code = code_for(world, request).await;
        provider.exchange(&wiki(), &exchange(&code)).await.unwrap()
    }

    #[tokio::test]
    async fn refresh_tokens_rotate_and_a_spent_one_presented_again_ends_the_family() {
        let world = World::with_provider();
        world.add_user("ann");
        let provider = world.services().oidc_provider.unwrap();
        let first = offline_answer(&world, &provider).await;
        assert!(provider.exchange(&wiki(), &exchange("x")).await.is_err());
        let old = first
            .refresh_token
            .clone()
            .expect("offline_access gives a refresh token");
        world.advance(Duration::minutes(1));
        let second = provider.exchange(&wiki(), &refresh_with(&old)).await.unwrap();
        let next = second.refresh_token.clone().unwrap();
        assert_ne!(next, old, "rotated");
        let (_, first_claims) = claims(&first.id_token);
        let (_, second_claims) = claims(&second.id_token);
        assert_eq!(
            second_claims["auth_time"], first_claims["auth_time"],
            "the login's time is kept"
        );
        assert_ne!(second_claims["iat"], first_claims["iat"]);
        assert_eq!(second_claims["sub"], first_claims["sub"]);
        assert!(provider.userinfo(&second.access_token).await.is_ok());
        // The spent one again: refused, and the family ends, access tokens too.
        let reused = provider.exchange(&wiki(), &refresh_with(&old)).await.unwrap_err();
        assert_eq!(reused.error, "invalid_grant");
        assert!(provider.exchange(&wiki(), &refresh_with(&next)).await.is_err());
        assert!(provider.userinfo(&second.access_token).await.is_err());
        assert!(provider.userinfo(&first.access_token).await.is_err());
        // A narrower scope is granted; a wider one is not.
        let third = offline_answer(&world, &provider).await;
        let narrowed = provider
            .exchange(
                &wiki(),
                &CodeExchange {
                    scope: Some("openid offline_access".into()),
                    ..refresh_with(third.refresh_token.as_deref().unwrap())
                },
            )
            .await
            .unwrap();
        assert_eq!(narrowed.scope, "openid offline_access");
        let wider = provider
            .exchange(
                &wiki(),
                &CodeExchange {
                    scope: Some("openid profile offline_access".into()),
                    ..refresh_with(narrowed.refresh_token.as_deref().unwrap())
                },
            )
            .await
            .unwrap_err();
        assert_eq!(wider.error, "invalid_scope");
    }

    #[tokio::test]
    async fn a_code_presented_again_ends_what_it_gave() {
        let world = World::with_provider();
        world.add_user("ann");
        let provider = world.services().oidc_provider.unwrap();
        let request = provider
            .authorize(&AuthorizationParams {
                scope: Some("openid offline_access".into()),
                ..params("wiki", "https://wiki.example/cb")
            })
            .unwrap();
        let code = code_for(&world, request).await;
        let answer = provider.exchange(&wiki(), &exchange(&code)).await.unwrap();
        assert!(provider.userinfo(&answer.access_token).await.is_ok());
        assert!(provider.exchange(&wiki(), &exchange(&code)).await.is_err());
        assert!(
            provider.userinfo(&answer.access_token).await.is_err(),
            "the access token ended"
        );
        let refresh = answer.refresh_token.unwrap();
        assert!(provider.exchange(&wiki(), &refresh_with(&refresh)).await.is_err());
    }

    #[tokio::test]
    async fn introspection_and_revocation_answer_only_the_client_its_own_tokens() {
        let world = World::with_provider();
        world.add_user("ann");
        let provider = world.services().oidc_provider.unwrap();
        let answer = offline_answer(&world, &provider).await;
        let active = provider.introspect(&wiki(), &answer.access_token).await.unwrap();
        assert_eq!(active["active"], true);
        assert_eq!(active["client_id"], "wiki");
        assert_eq!(active["scope"], "openid email offline_access");
        let refresh = answer.refresh_token.clone().unwrap();
        let refresh_active = provider.introspect(&wiki(), &refresh).await.unwrap();
        assert_eq!(refresh_active["token_type"], "refresh_token");
        let cli = ClientCredentials {
            client_id: Some("cli".into()),
            client_secret: None,
            basic: false,
        };
        assert_eq!(
            provider.introspect(&cli, &answer.access_token).await.unwrap(),
            json!({"active": false})
        );
        assert_eq!(
            provider.introspect(&wiki(), "nonsense").await.unwrap(),
            json!({"active": false})
        );
        let wrong_secret = ClientCredentials {
            client_secret: Some("guess".into()),
            ..wiki()
        };
        assert_eq!(
            provider
                .introspect(&wrong_secret, &refresh)
                .await
                .unwrap_err()
                .error,
            "invalid_client"
        );
        assert_eq!(
            provider.revoke(&cli, &refresh).await.unwrap_err().error,
            "unauthorized_client"
        );
        provider.revoke(&wiki(), "nonsense").await.unwrap();
        // Revoking the refresh token ends its access tokens too.
        provider.revoke(&wiki(), &refresh).await.unwrap();
        assert_eq!(
            provider.introspect(&wiki(), &refresh).await.unwrap()["active"],
            false
        );
        assert_eq!(
            provider.introspect(&wiki(), &answer.access_token).await.unwrap()["active"],
            false
        );
    }

    /// A login through the page for `request`: the code and the browser session.
    async fn authorized(world: &World, request: AuthorizationRequest) -> ProviderLogin {
        let services = world.services();
        let grant = services
            .oidc_provider
            .clone()
            .unwrap()
            .code_grant(request, &["pwd"]);
        let client = ClientAddress::new("192.0.2.9".parse().unwrap());
        services
            .password_login
            .login("ann", &Password::new("pw-ann"), &client, grant)
            .await
            .unwrap()
            .granted
    }

    #[tokio::test]
    async fn a_browser_session_answers_the_next_client_unless_a_new_login_is_asked_for() {
        let world = World::with_provider();
        let ann = world.add_user("ann");
        let provider = world.services().oidc_provider.unwrap();
        let request = provider
            .authorize(&params("wiki", "https://wiki.example/cb"))
            .unwrap();
        let first = authorized(&world, request).await;
        world.advance(Duration::minutes(10));
        let cli = provider
            .authorize(&params("cli", "http://127.0.0.1:5000/cb"))
            .unwrap();
        let code = provider
            .resume(&first.session, &cli)
            .await
            .unwrap()
            .expect("single sign-on");
        let public = ClientCredentials {
            client_id: Some("cli".into()),
            client_secret: None,
            basic: false,
        };
        let answer = provider
            .exchange(
                &public,
                &CodeExchange {
                    redirect_uri: Some("http://127.0.0.1:5000/cb".into()),
                    ..exchange(&code)
                },
            )
            .await
            .unwrap();
        let (_, claims) = claims(&answer.id_token);
        assert_eq!(
            claims["auth_time"],
            (world.now() - Duration::minutes(10)).timestamp(),
            "the login's time"
        );
        assert_eq!(claims["amr"], json!(["pwd"]));
        let ask = |change: fn(&mut AuthorizationParams)| {
            let mut asked = params("cli", "http://127.0.0.1:5000/cb");
            change(&mut asked);
            provider.authorize(&asked).unwrap()
        };
        let login = ask(|params| params.prompt = Some("login".into()));
        assert_eq!(provider.resume(&first.session, &login).await.unwrap(), None);
        let fresh = ask(|params| params.max_age = Some("300".into()));
        assert_eq!(
            provider.resume(&first.session, &fresh).await.unwrap(),
            None,
            "older than max_age"
        );
        let lenient = ask(|params| params.max_age = Some("3600".into()));
        assert!(provider.resume(&first.session, &lenient).await.unwrap().is_some());
        assert_eq!(provider.resume("no-such-session", &cli).await.unwrap(), None);
        world.set_disabled(ann.id, true);
        assert_eq!(
            provider.resume(&first.session, &cli).await.unwrap(),
            None,
            "disabled since"
        );
        world.set_disabled(ann.id, false);
        provider.end_session(&first.session).await.unwrap();
        assert_eq!(
            provider.resume(&first.session, &cli).await.unwrap(),
            None,
            "logged out"
        );
    }

    #[tokio::test]
    async fn logout_goes_back_only_to_a_registered_address_of_the_hints_client() {
        let world = World::with_provider();
        world.add_user("ann");
        let provider = world.services().oidc_provider.unwrap();
        let request = provider
            .authorize(&params("wiki", "https://wiki.example/cb"))
            .unwrap();
        let code = authorized(&world, request).await.code;
        let hint = provider
            .exchange(&wiki(), &exchange(&code))
            .await
            .unwrap()
            .id_token;
        let bye = Some("https://wiki.example/bye");
        assert_eq!(provider.logout_target(Some(&hint), bye, None).as_deref(), bye);
        assert_eq!(
            provider.logout_target(Some(&hint), bye, Some("wiki")).as_deref(),
            bye
        );
        assert_eq!(
            provider.logout_target(Some(&hint), bye, Some("cli")),
            None,
            "another client"
        );
        assert_eq!(
            provider.logout_target(Some(&hint), Some("https://wiki.example/bye?x=1"), None),
            None
        );
        assert_eq!(
            provider.logout_target(Some(&hint), Some("https://cli.example/bye"), None),
            None
        );
        assert_eq!(provider.logout_target(None, bye, None), None, "no hint");
        assert_eq!(
            provider.logout_target(Some("EdDSA:{}"), bye, None),
            None,
            "no key of ours signed it"
        );
        let foreign = hint.replace("https://login.example/oidc", "https://evil.example");
        assert_eq!(
            provider.logout_target(Some(&foreign), bye, None),
            None,
            "another issuer's"
        );
    }
}
