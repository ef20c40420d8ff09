//! OpenID Connect for Limen: a relying party for one provider, implementing the
//! domain's `OpenIdProvider` port with the `openidconnect` crate (discovery,
//! the authorization code flow with PKCE S256, state and nonce, ID token
//! verification, userinfo).

mod claims;
mod provider;

pub use provider::{OidcConfig, OidcError, OidcProvider};
#[cfg(feature = "testing")]
pub mod testing;
