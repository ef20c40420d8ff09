//! One OpenID Connect provider, as Limen's relying party.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use limen_domain::model::{OpenIdError, OpenIdIdentity, OpenIdRequest};
use limen_domain::ports::OpenIdProvider;
use openidconnect::core::{CoreAuthenticationFlow, CoreGenderClaim, CoreJwsSigningAlgorithm};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    IssuerUrl, JsonWebKeySet, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, SignatureVerificationError, TokenResponse, UserInfoClaims,
};
use tokio::sync::RwLock;

use crate::claims::{self, ExtraClaims, Metadata, RelyingParty, TokenAnswer};

/// How long discovered metadata is used before it is fetched again.
const METADATA_TTL: Duration = Duration::from_secs(3600);

/// The least time between two key-set fetches for unknown key ids (after the
/// first), so that tokens naming keys nobody has cannot make Limen hammer the
/// provider.
const MIN_KEY_REFRESH_INTERVAL: Duration = Duration::from_secs(10);

/// How Limen is registered with one provider.
#[derive(Clone)]
pub struct OidcConfig {
    /// The issuer, exactly as the provider's discovery document states it.
    pub issuer: String,
    /// Limen's client id at the provider.
    pub client_id: String,
    /// Limen's client secret; `None` for a public client (PKCE only).
    pub client_secret: Option<String>,
    /// Where the provider sends the browser back (`<public_url>/oauth2/authorize/`).
    pub redirect_uri: String,
    /// Scopes besides `openid`, which is always asked for.
    pub scopes: Vec<String>,
    /// Ask the userinfo endpoint for claims the ID token lacks.
    pub userinfo: bool,
    /// Timeout of each request to the provider.
    pub timeout: Duration,
    /// Extra CA certificates (PEM) to trust besides the public roots.
    pub ca_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("redirect_uri", &self.redirect_uri)
            .field("scopes", &self.scopes)
            .field("userinfo", &self.userinfo)
            .finish_non_exhaustive()
    }
}

/// A configuration Limen cannot use.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// A URL does not parse.
    #[error("{0}: {1}")]
    Url(&'static str, String),
    /// The HTTP client cannot be built (a bad CA file).
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// The relying party for one provider. Discovery runs on first use (so that
/// Limen starts while a provider is down) and again after an hour; the key set
/// is fetched again when a token names a key it lacks.
pub struct OidcProvider {
    config: OidcConfig,
    issuer: IssuerUrl,
    redirect: RedirectUrl,
    http: reqwest::Client,
    discovered: RwLock<Option<Discovered>>,
}

#[derive(Clone)]
struct Discovered {
    metadata: Metadata,
    fetched_at: Instant,
    /// The last fetch of the key set for an unknown key id.
    keys_refreshed_at: Option<Instant>,
}

impl OidcProvider {
    /// A relying party for `config`; nothing is fetched yet.
    pub fn new(config: OidcConfig) -> Result<Self, OidcError> {
        // Byte for byte as configured: a parsed-and-printed URL may gain a
        // trailing slash and no longer match the discovery document.
        let issuer =
            IssuerUrl::new(config.issuer.clone()).map_err(|err| OidcError::Url("issuer", err.to_string()))?;
        let redirect = RedirectUrl::new(config.redirect_uri.clone())
            .map_err(|err| OidcError::Url("redirect URI", err.to_string()))?;
        let mut builder = reqwest::Client::builder()
            // A provider's answer must not lead Limen elsewhere (SSRF).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout);
        if let Some(pem) = &config.ca_pem {
            for certificate in reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|err| OidcError::Client(err.to_string()))?
            {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let http = builder
            .build()
            .map_err(|err| OidcError::Client(err.to_string()))?;
        Ok(Self {
            config,
            issuer,
            redirect,
            http,
            discovered: RwLock::new(None),
        })
    }

    /// The provider's metadata: cached, fetched when missing or old. A failed
    /// refresh keeps using what was fetched before.
    async fn metadata(&self) -> Result<Metadata, OpenIdError> {
        if let Some(current) = self.discovered.read().await.as_ref()
            && current.fetched_at.elapsed() < METADATA_TTL
        {
            return Ok(current.metadata.clone());
        }
        let mut slot = self.discovered.write().await;
        if let Some(current) = slot.as_ref()
            && current.fetched_at.elapsed() < METADATA_TTL
        {
            return Ok(current.metadata.clone());
        }
        match Metadata::discover_async(self.issuer.clone(), &self.http).await {
            Ok(metadata) => {
                tracing::info!(issuer = %self.config.issuer, "OpenID provider discovered");
                *slot = Some(Discovered {
                    metadata: metadata.clone(),
                    fetched_at: Instant::now(),
                    keys_refreshed_at: None,
                });
                Ok(metadata)
            }
            Err(err) => {
                let cause = error_chain(&err);
                match slot.as_ref() {
                    Some(stale) => {
                        tracing::warn!(issuer = %self.config.issuer, %cause, "OpenID discovery failed; using the previous metadata");
                        Ok(stale.metadata.clone())
                    }
                    None => Err(OpenIdError::Unavailable(format!(
                        "discovery of {}: {cause}",
                        self.config.issuer
                    ))),
                }
            }
        }
    }

    /// Fetches the key set again, unless that was done moments ago; whether
    /// the cached metadata now holds a fresh one.
    async fn refresh_keys(&self) -> Result<bool, OpenIdError> {
        let mut slot = self.discovered.write().await;
        let Some(current) = slot.as_mut() else {
            return Ok(false);
        };
        if current
            .keys_refreshed_at
            .is_some_and(|at| at.elapsed() < MIN_KEY_REFRESH_INTERVAL)
        {
            return Ok(false);
        }
        let keys = JsonWebKeySet::fetch_async(current.metadata.jwks_uri(), &self.http)
            .await
            .map_err(|err| OpenIdError::Unavailable(format!("the key set: {}", error_chain(&err))))?;
        tracing::info!(issuer = %self.config.issuer, "OpenID provider's keys fetched again");
        current.metadata = current.metadata.clone().set_jwks(keys);
        current.keys_refreshed_at = Some(Instant::now());
        Ok(true)
    }

    fn client(&self, metadata: Metadata) -> RelyingParty {
        RelyingParty::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            self.config.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(self.redirect.clone())
    }

    /// Verifies the ID token of `answer`: the claims Limen reads.
    fn verify(
        &self,
        client: &RelyingParty,
        metadata: &Metadata,
        answer: &TokenAnswer,
        nonce: &str,
    ) -> Result<(String, std::collections::BTreeMap<String, String>), ClaimsVerificationError> {
        let id_token = answer
            .id_token()
            .ok_or_else(|| ClaimsVerificationError::Other("the token answer has no ID token".into()))?;
        // Only the asymmetric algorithms the provider declares: a token signed
        // with "none" or with the client secret is not accepted.
        let algorithms: Vec<CoreJwsSigningAlgorithm> = metadata
            .id_token_signing_alg_values_supported()
            .iter()
            .filter(|alg| {
                !matches!(
                    alg,
                    CoreJwsSigningAlgorithm::None
                        | CoreJwsSigningAlgorithm::HmacSha256
                        | CoreJwsSigningAlgorithm::HmacSha384
                        | CoreJwsSigningAlgorithm::HmacSha512
                )
            })
            .cloned()
            .collect();
        let verifier = client.id_token_verifier().set_allowed_algs(algorithms);
        let claims = id_token.claims(&verifier, &Nonce::new(nonce.to_owned()))?;
        if let Some(expected) = claims.access_token_hash() {
            let alg = id_token
                .signing_alg()
                .map_err(ClaimsVerificationError::SignatureVerification)?;
            let key = id_token
                .signing_key(&verifier)
                .map_err(ClaimsVerificationError::SignatureVerification)?;
            let actual = AccessTokenHash::from_token(answer.access_token(), alg, key)
                .map_err(|err| ClaimsVerificationError::Other(format!("access token hash: {err}")))?;
            if actual != *expected {
                return Err(ClaimsVerificationError::Other(
                    "the access token does not match the ID token's at_hash".into(),
                ));
            }
        }
        Ok((
            claims.subject().as_str().to_owned(),
            claims::from_id_token(claims),
        ))
    }
}

#[async_trait]
impl OpenIdProvider for OidcProvider {
    async fn authorization_request(&self, state: &str) -> Result<OpenIdRequest, OpenIdError> {
        let metadata = self.metadata().await?;
        let issuer_in_callback = metadata
            .additional_metadata()
            .authorization_response_iss_parameter_supported
            .unwrap_or(false);
        let client = self.client(metadata);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = state.to_owned();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state),
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in self
            .config
            .scopes
            .iter()
            .filter(|scope| scope.as_str() != "openid")
        {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, _, nonce) = request.url();
        Ok(OpenIdRequest {
            url: url.to_string(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            issuer_in_callback,
        })
    }

    async fn identify(
        &self,
        code: &str,
        nonce: &str,
        pkce_verifier: &str,
    ) -> Result<OpenIdIdentity, OpenIdError> {
        let metadata = self.metadata().await?;
        let client = self.client(metadata.clone());
        let answer: TokenAnswer = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|err| {
                OpenIdError::Unavailable(format!("the provider declares no token endpoint: {err}"))
            })?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|err| match err {
                RequestTokenError::ServerResponse(refusal) => {
                    OpenIdError::CodeRefused(refusal.error().as_ref().to_owned())
                }
                other => OpenIdError::Unavailable(format!("the token endpoint: {}", error_chain(&other))),
            })?;
        let verified = match self.verify(&client, &metadata, &answer, nonce) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) if self.refresh_keys().await? => {
                // The provider rotated its keys since they were fetched.
                let metadata = self.metadata().await?;
                let client = self.client(metadata.clone());
                self.verify(&client, &metadata, &answer, nonce)
            }
            other => other,
        };
        let (subject, mut claims) = verified.map_err(|err| OpenIdError::InvalidIdToken(error_chain(&err)))?;
        if self.config.userinfo {
            let request = client
                .user_info(
                    answer.access_token().clone(),
                    Some(openidconnect::SubjectIdentifier::new(subject.clone())),
                )
                .map_err(|err| {
                    OpenIdError::Unavailable(format!("the provider declares no userinfo endpoint: {err}"))
                })?;
            let info: UserInfoClaims<ExtraClaims, CoreGenderClaim> = request
                .request_async(&self.http)
                .await
                .map_err(|err| OpenIdError::Unavailable(format!("userinfo: {}", error_chain(&err))))?;
            // The ID token's claims win: they are signed.
            for (name, value) in claims::from_userinfo(&info) {
                claims.entry(name).or_insert(value);
            }
        }
        Ok(OpenIdIdentity { subject, claims })
    }
}

/// An error and its causes on one line: the crate's errors hide the useful
/// part (a parse error, a refused connection) in their sources.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
