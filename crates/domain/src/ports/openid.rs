use async_trait::async_trait;

use crate::model::{OpenIdError, OpenIdIdentity, OpenIdRequest};

/// One OpenID Connect provider, as a relying party uses it: the authorization
/// request of the code flow (with PKCE and a nonce), and the code exchange that
/// ends in a verified identity.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OpenIdProvider: Send + Sync {
    /// An authorization request carrying `state`, with a fresh nonce and PKCE
    /// challenge.
    async fn authorization_request(&self, state: &str) -> Result<OpenIdRequest, OpenIdError>;

    /// Exchanges `code` with the request's PKCE verifier and verifies the ID
    /// token (signature, issuer, audience, expiry, `nonce`).
    async fn identify(
        &self,
        code: &str,
        nonce: &str,
        pkce_verifier: &str,
    ) -> Result<OpenIdIdentity, OpenIdError>;
}
