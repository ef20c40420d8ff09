//! `[oidc_provider]` and `[[oidc_provider.clients]]`: Limen as an OpenID
//! Provider for applications that speak the standard.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::secret::read_secret;
use super::{ConfigError, SecretString};

/// The JWS algorithms ID tokens may be signed with.
pub const SIGNING_ALGS: [&str; 3] = ["ES256", "RS256", "EdDSA"];

/// `access_token_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessTokenFormatName {
    /// A Limen session.
    Opaque,
    /// A JWT (RFC 9068).
    Jwt,
}

/// `[oidc_provider]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcProviderSection {
    /// Serve `/oidc/…` (issuer `<public_url>/oidc`).
    pub enabled: bool,
    /// `ES256`, `RS256` or `EdDSA`: ID tokens' default; RS256 is always offered too.
    pub signing_alg: String,
    /// Seconds an access token lives.
    pub access_token_ttl_secs: u64,
    /// `opaque` (a Limen session, revocable at once) or `jwt` (RFC 9068,
    /// verified without Limen, not revocable before it expires).
    pub access_token_format: AccessTokenFormatName,
    /// Seconds an ID token may be accepted.
    pub id_token_ttl_secs: u64,
    /// Seconds an authorization code waits for its exchange.
    pub code_ttl_secs: u64,
    /// Seconds a refresh token (`offline_access`) lives; each refresh issues the next.
    pub refresh_token_ttl_secs: u64,
    /// Seconds a browser's session with the provider (single sign-on) lasts.
    pub session_ttl_secs: u64,
    /// `[[oidc_provider.clients]]`.
    pub clients: Vec<ProviderClientSection>,
}

impl Default for OidcProviderSection {
    fn default() -> Self {
        Self {
            enabled: false,
            signing_alg: "ES256".into(),
            access_token_ttl_secs: 600,
            access_token_format: AccessTokenFormatName::Opaque,
            id_token_ttl_secs: 300,
            code_ttl_secs: 60,
            refresh_token_ttl_secs: 2_592_000,
            session_ttl_secs: 28_800,
            clients: Vec::new(),
        }
    }
}

/// `[[oidc_provider.clients]]`: one application.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProviderClientSection {
    /// Its `client_id`.
    pub client_id: String,
    /// Its secret (a confidential client); none for a public client.
    #[serde(skip_serializing)]
    pub client_secret: Option<SecretString>,
    /// A file holding `client_secret`.
    pub client_secret_file: Option<PathBuf>,
    /// Where answers may go, compared exactly (a loopback address in any port).
    pub redirect_uris: Vec<String>,
    /// Where a browser may go after logging out (RP-initiated logout), compared exactly.
    pub post_logout_redirect_uris: Vec<String>,
    /// The scopes it may ask for.
    pub scopes: Vec<String>,
    /// It must send a PKCE challenge (S256).
    pub require_pkce: bool,
    /// Its ID tokens' algorithm, when not the provider's default.
    pub id_token_signed_response_alg: Option<String>,
}

impl Default for ProviderClientSection {
    fn default() -> Self {
        Self {
            client_id: String::new(),
            client_secret: None,
            client_secret_file: None,
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            scopes: vec![
                "openid".into(),
                "email".into(),
                "profile".into(),
                "offline_access".into(),
            ],
            require_pkce: true,
            id_token_signed_response_alg: None,
        }
    }
}

impl OidcProviderSection {
    /// Reads each client's `client_secret_file`.
    pub(super) fn read_secret_files(&mut self) -> Result<(), ConfigError> {
        for client in &mut self.clients {
            if let Some(path) = &client.client_secret_file {
                client.client_secret = Some(read_secret("oidc_provider.clients.client_secret_file", path)?);
            }
        }
        Ok(())
    }

    /// What can be checked before serving.
    pub(super) fn validate(&self, public_url: Option<&str>) -> Result<(), ConfigError> {
        if !self.enabled {
            return Ok(());
        }
        let invalid = |message: String| Err(ConfigError::Invalid(format!("oidc_provider: {message}")));
        if public_url.is_none() {
            return invalid("public_url is required: the issuer is <public_url>/oidc".into());
        }
        if !SIGNING_ALGS.contains(&self.signing_alg.as_str()) {
            return invalid(format!(
                "signing_alg {:?} is not one of {SIGNING_ALGS:?}",
                self.signing_alg
            ));
        }
        if self.clients.is_empty() {
            return invalid("at least one [[oidc_provider.clients]] is required".into());
        }
        for (index, client) in self.clients.iter().enumerate() {
            let id = &client.client_id;
            if id.trim().is_empty() || id.contains([':', '%', '+']) || id.chars().any(char::is_control) {
                return invalid(format!(
                    "clients[{index}].client_id {id:?} is empty or holds ':', '%', '+' or a control character"
                ));
            }
            if id == limen_domain::services::ACCOUNT_CLIENT {
                return invalid(format!(
                    "clients[{index}].client_id {id:?} is the account page's own; choose another"
                ));
            }
            if self.clients[..index].iter().any(|other| other.client_id == *id) {
                return invalid(format!("client_id {id:?} is configured twice"));
            }
            if client.redirect_uris.is_empty() {
                return invalid(format!("client {id:?} has no redirect_uris"));
            }
            for uri in client
                .redirect_uris
                .iter()
                .chain(&client.post_logout_redirect_uris)
            {
                let local = ["http://localhost", "http://127.0.0.1", "http://[::1]"]
                    .iter()
                    .any(|prefix| uri.starts_with(prefix));
                if !(uri.starts_with("https://") || local) || uri.contains('#') {
                    return invalid(format!(
                        "client {id:?}: redirect URI {uri:?} must be https:// (or http:// on this machine) and carry no fragment"
                    ));
                }
            }
            if !client.scopes.iter().any(|scope| scope == "openid") {
                return invalid(format!("client {id:?}: scopes must include openid"));
            }
            if let Some(alg) = &client.id_token_signed_response_alg
                && !SIGNING_ALGS.contains(&alg.as_str())
            {
                return invalid(format!(
                    "client {id:?}: id_token_signed_response_alg {alg:?} is not one of {SIGNING_ALGS:?}"
                ));
            }
            if client.client_secret.is_none() && !client.require_pkce {
                return invalid(format!("client {id:?} is public (no secret): it must use PKCE"));
            }
        }
        Ok(())
    }

    /// Every algorithm a key is needed for: the default, RS256, and the clients'.
    pub fn algorithms(&self) -> Vec<String> {
        let mut algs = vec![self.signing_alg.clone(), "RS256".to_owned()];
        algs.extend(
            self.clients
                .iter()
                .filter_map(|client| client.id_token_signed_response_alg.clone()),
        );
        algs.sort();
        algs.dedup();
        algs
    }
}
