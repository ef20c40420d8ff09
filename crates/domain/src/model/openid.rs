//! OpenID Connect, as the login flow sees it.

use std::collections::BTreeMap;

/// An authorization request made for one login: where to send the browser,
/// and what the callback needs to finish it (kept server side, sealed).
#[derive(Clone, PartialEq, Eq)]
pub struct OpenIdRequest {
    /// The provider's authorization endpoint with every parameter.
    pub url: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier the code exchange must present.
    pub pkce_verifier: String,
    /// The provider's discovery says its callbacks carry `iss`
    /// (`authorization_response_iss_parameter_supported`, RFC 9207), so a
    /// callback without one is refused.
    pub issuer_in_callback: bool,
}

impl std::fmt::Debug for OpenIdRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenIdRequest")
            .field("url", &self.url)
            .field("nonce", &"<redacted>")
            .field("pkce_verifier", &"<redacted>")
            .field("issuer_in_callback", &self.issuer_in_callback)
            .finish()
    }
}

/// The verified identity of a completed authorization: the ID token's
/// subject, and the string and boolean claims of the ID token and (when
/// configured) userinfo, booleans as `"true"`/`"false"`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpenIdIdentity {
    /// The provider's subject identifier (`sub`).
    pub subject: String,
    /// Claims by name; the ID token's win over userinfo's.
    pub claims: BTreeMap<String, String>,
}

impl OpenIdIdentity {
    /// A claim's value, when present and not blank.
    pub fn claim(&self, name: &str) -> Option<&str> {
        if name == "sub" {
            return Some(self.subject.as_str());
        }
        self.claims
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.trim().is_empty())
    }
}

/// An identity at an OpenID provider linked to a Limen account: after the
/// first login through the provider, the link (not a claim) names the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityLink {
    /// The account.
    pub user_id: crate::model::UserId,
    /// The provider's issuer.
    pub issuer: String,
    /// The provider's subject identifier (`sub`).
    pub subject: String,
    /// When the link was made.
    pub linked_at: chrono::DateTime<chrono::Utc>,
}

/// Why the provider gave no verified identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenIdError {
    /// The token endpoint refused the code (used, expired, another client's,
    /// a wrong PKCE verifier).
    #[error("the provider refused the authorization code: {0}")]
    CodeRefused(String),
    /// The ID token failed verification (signature, issuer, audience, expiry,
    /// nonce) or was missing.
    #[error("the ID token is not valid: {0}")]
    InvalidIdToken(String),
    /// The provider could not be reached or answered nonsense (discovery,
    /// keys, token endpoint, userinfo); the cause is for the log.
    #[error("the OpenID provider is unavailable: {0}")]
    Unavailable(String),
}
