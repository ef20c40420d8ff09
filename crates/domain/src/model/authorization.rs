//! Limen as an OpenID Provider: its clients, an authorization request as
//! checked, and the refusals of the protocol (RFC 6749 §4.1.2.1, §5.2).

use crate::model::TokenHash;

/// An application that logs its users in through Limen (`[[oidc_provider.clients]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderClient {
    /// Its `client_id`.
    pub client_id: String,
    /// The digest of its secret; `None` for a public client (method `none`).
    pub secret_digest: Option<TokenHash>,
    /// Where authorization answers may go: exact strings (a loopback address
    /// may differ in its port, RFC 8252 §7.3).
    pub redirect_uris: Vec<String>,
    /// The scopes it may ask for.
    pub scopes: Vec<String>,
    /// Whether it must send a PKCE challenge (S256).
    pub require_pkce: bool,
    /// The JWS algorithm of its ID tokens; the provider's default when `None`.
    pub id_token_alg: Option<String>,
    /// Where a browser may be sent after logging out (exact strings).
    pub post_logout_redirect_uris: Vec<String>,
}

impl ProviderClient {
    /// Whether `uri` is one of its redirect URIs.
    pub fn accepts_redirect(&self, uri: &str) -> bool {
        self.redirect_uris
            .iter()
            .any(|registered| registered == uri || same_loopback_but_port(registered, uri))
    }
}

/// `http://127.0.0.1:<any port>/path` for a registered `http://127.0.0.1/path`
/// (and `[::1]`): native applications listen on a port of the moment.
fn same_loopback_but_port(registered: &str, uri: &str) -> bool {
    let split = |uri: &str| -> Option<(String, String)> {
        let rest = uri.strip_prefix("http://")?;
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let host = if authority.starts_with('[') {
            authority.split_inclusive(']').next()?.to_owned()
        } else {
            authority.split(':').next()?.to_owned()
        };
        Some((host, path.to_owned()))
    };
    match (split(registered), split(uri)) {
        (Some((host, path)), Some((other_host, other_path))) => {
            (host == "127.0.0.1" || host == "[::1]") && host == other_host && path == other_path
        }
        _ => false,
    }
}

/// The parameters of an authorization request, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizationParams {
    /// `client_id`.
    pub client_id: Option<String>,
    /// `redirect_uri`.
    pub redirect_uri: Option<String>,
    /// `response_type`.
    pub response_type: Option<String>,
    /// `scope`.
    pub scope: Option<String>,
    /// `state`.
    pub state: Option<String>,
    /// `nonce`.
    pub nonce: Option<String>,
    /// `code_challenge`.
    pub code_challenge: Option<String>,
    /// `code_challenge_method`.
    pub code_challenge_method: Option<String>,
    /// `prompt`.
    pub prompt: Option<String>,
    /// `max_age`.
    pub max_age: Option<String>,
    /// Whether a `request` object was sent (not supported).
    pub request_object: bool,
    /// Whether a `request_uri` was sent (not supported).
    pub request_uri: bool,
}

/// An authorization request that passed every check: the browser may log in,
/// and the code it ends with goes to `redirect_uri`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuthorizationRequest {
    /// The client.
    pub client_id: String,
    /// Where the answer goes.
    pub redirect_uri: String,
    /// The scopes granted (space-separated in the protocol).
    pub scopes: Vec<String>,
    /// The client's `state`, echoed.
    pub state: Option<String>,
    /// The client's `nonce`, put into the ID token.
    pub nonce: Option<String>,
    /// The PKCE challenge (S256), checked at the exchange.
    pub code_challenge: Option<String>,
    /// `prompt=login`: a new login even with a browser session.
    #[serde(default)]
    pub prompt_login: bool,
    /// `prompt=none`: the browser session's answer, or `login_required`.
    #[serde(default)]
    pub prompt_none: bool,
    /// `max_age`: a browser session older than this many seconds logs in again.
    #[serde(default)]
    pub max_age: Option<i64>,
}

/// What makes an authorization request impossible to answer anywhere but on
/// Limen's own page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Untrusted {
    /// No client has the `client_id`.
    UnknownClient,
    /// The `redirect_uri` is missing or not one the client registered.
    UnregisteredRedirect,
}

/// Why an authorization request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizationRefusal {
    /// The client or the redirect URI cannot be trusted: the refusal is shown
    /// on Limen's own page, never sent to an unverified address.
    Shown(Untrusted),
    /// Sent back to the client's verified redirect URI.
    Redirected {
        /// Where.
        redirect_uri: String,
        /// The client's `state`.
        state: Option<String>,
        /// The error code (`invalid_request`, `login_required`, …).
        error: &'static str,
        /// A sentence for the client's developers.
        description: String,
    },
}

/// A refusal of the token endpoint (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {description}")]
pub struct TokenRefusal {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, …
    pub error: &'static str,
    /// A sentence for the client's developers.
    pub description: String,
}

impl TokenRefusal {
    /// A refusal with `error` and `description`.
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            error,
            description: description.into(),
        }
    }
}

/// What the token endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenAnswer {
    /// The access token (a Limen session).
    pub access_token: String,
    /// Seconds it lives.
    pub expires_in: i64,
    /// The signed ID token.
    pub id_token: String,
    /// The next refresh token, when `offline_access` was granted.
    pub refresh_token: Option<String>,
    /// The scopes granted, space-separated.
    pub scope: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_match_exactly_but_for_a_loopback_port() {
        let client = ProviderClient {
            client_id: "wiki".into(),
            secret_digest: None,
            redirect_uris: vec!["https://wiki.example/cb".into(), "http://127.0.0.1/cb".into()],
            scopes: vec!["openid".into()],
            require_pkce: true,
            id_token_alg: None,
            post_logout_redirect_uris: Vec::new(),
        };
        assert!(client.accepts_redirect("https://wiki.example/cb"));
        assert!(client.accepts_redirect("http://127.0.0.1:51234/cb"));
        assert!(client.accepts_redirect("http://127.0.0.1/cb"));
        for refused in [
            "https://wiki.example/cb?x=1",
            "https://wiki.example/cb/",
            "https://WIKI.example/cb",
            "http://127.0.0.1:51234/other",
            "http://localhost:51234/cb",
            "https://wiki.example:444/cb",
            "http://127.0.0.1.evil.example/cb",
        ] {
            assert!(!client.accepts_redirect(refused), "{refused}");
        }
    }
}
