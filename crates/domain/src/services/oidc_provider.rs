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
    TokenAttributes, TokenHash, TokenKind, TokenRefusal, User,
};
use crate::ports::{Clock, PayloadSigner, TokenMint};
use crate::services::{Grant, SessionService, Users};

/// The longest `state` or `nonce` kept (they travel back in URLs and tokens).
const MAX_ECHOED_CHARS: usize = 512;

/// How Limen as an OpenID Provider is set up.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    /// `<public_url>/oidc`: the `iss` of every answer and token.
    pub issuer: String,
    /// The applications that may log users in through Limen.
    pub clients: Vec<ProviderClient>,
    /// The JWS algorithm of ID tokens unless a client asks for another.
    pub default_alg: String,
    /// How long an authorization code may wait for its exchange.
    pub code_ttl: Duration,
    /// How long an access token (a Limen session) lives.
    pub access_token_ttl: Duration,
    /// How long an ID token may be accepted.
    pub id_token_ttl: Duration,
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
}

/// Ends a login with an authorization code for the checked request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCodeGrant {
    /// The request the login answers.
    pub request: AuthorizationRequest,
    /// How the user proved who they are (`pwd`, `otp`, `bankid`, `fed`).
    pub methods: Vec<String>,
    /// How long the code may wait.
    pub code_ttl: Duration,
}

/// What an authorization code stands for, kept with it.
#[derive(serde::Serialize, serde::Deserialize)]
struct CodeContext {
    request: AuthorizationRequest,
    methods: Vec<String>,
    auth_time: i64,
}

#[async_trait]
impl Grant for AuthorizationCodeGrant {
    /// The code, for the redirect.
    type Issued = String;

    async fn issue(
        self,
        sessions: &SessionService,
        user: &User,
        _origin: Option<TokenHash>,
    ) -> Result<String, DomainError> {
        let context = CodeContext {
            auth_time: sessions.now().timestamp(),
            methods: self.methods,
            request: self.request,
        };
        let payload =
            serde_json::to_string(&context).map_err(|err| DomainError::Internal(err.to_string()))?;
        let attributes = TokenAttributes {
            client_id: Some(context.request.client_id.clone()),
            payload: Some(payload),
            ..TokenAttributes::default()
        };
        let code = sessions
            .issue_with(user.id, TokenKind::AuthorizationCode, self.code_ttl, attributes)
            .await?;
        Ok(code.plaintext)
    }
}

impl OidcProvider {
    /// Wires the provider.
    pub fn new(ports: OidcProviderPorts, settings: ProviderSettings) -> Self {
        Self { ports, settings }
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
    /// the client. `prompt=none` is refused with `login_required`: the
    /// browser has no session with Limen that could answer without a login.
    pub fn authorize(
        &self,
        params: &AuthorizationParams,
    ) -> Result<AuthorizationRequest, AuthorizationRefusal> {
        let shown = |why: &str| AuthorizationRefusal::Shown(why.to_owned());
        let client_id = params.client_id.as_deref().unwrap_or_default();
        let client = self
            .client(client_id)
            .ok_or_else(|| shown("The application that sent you here is not known to this login service."))?;
        let redirect_uri = params
            .redirect_uri
            .clone()
            .filter(|uri| client.accepts_redirect(uri))
            .ok_or_else(|| shown("The application asked to send you to an address it has not registered."))?;
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
        if params
            .prompt
            .as_deref()
            .is_some_and(|prompt| prompt.split(' ').any(|value| value == "none"))
        {
            return Err(refuse("login_required", "the user must log in"));
        }
        Ok(AuthorizationRequest {
            client_id: client.client_id.clone(),
            redirect_uri,
            scopes,
            state,
            nonce: params.nonce.clone(),
            code_challenge: params.code_challenge.clone(),
        })
    }

    /// The grant a login for `request` ends with, after `methods`.
    pub fn code_grant(&self, request: AuthorizationRequest, methods: &[&str]) -> AuthorizationCodeGrant {
        AuthorizationCodeGrant {
            request,
            methods: methods.iter().map(|method| (*method).to_owned()).collect(),
            code_ttl: self.settings.code_ttl,
        }
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

    /// Exchanges an authorization code: the code is spent at once (of two
    /// exchanges one wins), then its client, redirect URI and PKCE verifier
    /// must match what the authorization request said.
    pub async fn exchange(
        &self,
        credentials: &ClientCredentials,
        form: &CodeExchange,
    ) -> Result<TokenAnswer, TokenRefusal> {
        let client = self.authenticate(credentials)?;
        match form.grant_type.as_deref() {
            Some("authorization_code") => {}
            None => return Err(TokenRefusal::new("invalid_request", "grant_type is required")),
            Some(_) => {
                return Err(TokenRefusal::new(
                    "unsupported_grant_type",
                    "only authorization_code is offered",
                ));
            }
        }
        let code = form
            .code
            .as_deref()
            .ok_or_else(|| TokenRefusal::new("invalid_request", "code is required"))?;
        let invalid = |why: &str| TokenRefusal::new("invalid_grant", why);
        let record = match self
            .ports
            .sessions
            .consume(code, TokenKind::AuthorizationCode)
            .await
        {
            Ok(record) => record,
            Err(DomainError::InvalidToken) => return Err(invalid("the code is unknown, expired or used")),
            Err(err) => return Err(server_error(err)),
        };
        let context: CodeContext = record
            .attributes
            .payload
            .as_deref()
            .and_then(|payload| serde_json::from_str(payload).ok())
            .ok_or_else(|| {
                server_error(DomainError::Internal(
                    "an authorization code without its request".into(),
                ))
            })?;
        let request = context.request;
        if request.client_id != client.client_id {
            return Err(invalid("the code was issued to another client"));
        }
        if form.redirect_uri.as_deref() != Some(request.redirect_uri.as_str()) {
            return Err(invalid("redirect_uri differs from the authorization request's"));
        }
        match (&request.code_challenge, &form.code_verifier) {
            (Some(challenge), Some(verifier)) if s256(verifier) == *challenge => {}
            (Some(_), _) => return Err(invalid("the code_verifier does not match the code_challenge")),
            (None, Some(_)) => return Err(invalid("a code_verifier for a request without a code_challenge")),
            (None, None) => {}
        }
        let user = match self.ports.users.by_id(record.user_id).await {
            Ok(Some(user)) if user.enabled => user,
            Ok(_) => return Err(invalid("the user can no longer log in")),
            Err(err) => return Err(server_error(err)),
        };
        let scope = request.scopes.join(" ");
        let access = self
            .ports
            .sessions
            .issue_with(
                user.id,
                TokenKind::Access,
                self.settings.access_token_ttl,
                TokenAttributes {
                    client_id: Some(client.client_id.clone()),
                    note: Some(format!("OpenID client {}", client.client_id)),
                    payload: Some(scope.clone()),
                    ..TokenAttributes::default()
                },
            )
            .await
            .map_err(server_error)?;
        let id_token = self.id_token(
            client,
            &user,
            &request,
            &context.methods,
            context.auth_time,
            &access.plaintext,
        )?;
        Ok(TokenAnswer {
            access_token: access.plaintext,
            expires_in: self.settings.access_token_ttl.num_seconds(),
            id_token,
            scope,
        })
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
        if methods.iter().any(|method| method == "otp") {
            // Two factors: something known and something held.
            claims["acr"] = json!("mfa");
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
        let scopes: Vec<String> = session
            .token
            .attributes
            .payload
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .map(str::to_owned)
            .collect();
        let mut claims = json!({ "sub": session.user.id.0.to_string() });
        add_user_claims(&mut claims, &session.user, &scopes);
        Ok(claims)
    }
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
        let shown = |params: AuthorizationParams| {
            matches!(provider.authorize(&params), Err(AuthorizationRefusal::Shown(_)))
        };
        assert!(shown(params("nobody", "https://wiki.example/cb")));
        assert!(shown(params("wiki", "https://evil.example/cb")));
        assert!(shown(AuthorizationParams {
            redirect_uri: None,
            ..params("wiki", "")
        }));
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
        assert_eq!(
            sent(AuthorizationParams {
                prompt: Some("none".into()),
                ..base()
            }),
            "login_required"
        );
        assert_eq!(
            sent(AuthorizationParams {
                nonce: Some("n".repeat(600)),
                ..base()
            }),
            "invalid_request"
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
}
