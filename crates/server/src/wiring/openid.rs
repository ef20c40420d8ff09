//! OpenID login from `[oidc]`: a relying party per provider, the domain's
//! policies, and the signer of consumers' payloads.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use limen_crypto::{EdDsaSigner, Hs256Signer};
use limen_domain::ports::{OpenIdProvider, PayloadSigner};
use limen_domain::services::{IdentityMatch, OpenIdProviderPolicy, OpenIdSettings};
use limen_oidc::{OidcConfig, OidcProvider};

use super::read_file;
use crate::config::{Config, MatchField, PayloadSigning};
use crate::error::CliError;

/// The redirect URI every provider knows Limen by.
pub fn redirect_uri(config: &Config) -> String {
    format!("{}/oauth2/authorize/", config.public_base_url())
}

/// A relying party for each configured provider, by id.
pub fn providers(config: &Config) -> Result<BTreeMap<String, Arc<dyn OpenIdProvider>>, CliError> {
    let section = &config.oidc;
    let ca_pem = match &section.ca_file {
        Some(path) => Some(read_file("oidc.ca_file", path)?),
        None => None,
    };
    let mut providers: BTreeMap<String, Arc<dyn OpenIdProvider>> = BTreeMap::new();
    for provider in &section.providers {
        let relying_party = OidcProvider::new(OidcConfig {
            issuer: provider.issuer.clone(),
            client_id: provider.client_id.clone(),
            client_secret: provider.client_secret.clone(),
            redirect_uri: redirect_uri(config),
            scopes: provider.scopes.clone(),
            userinfo: provider.userinfo,
            timeout: Duration::from_secs(section.timeout_secs),
            ca_pem: ca_pem.clone(),
        })
        .map_err(|err| CliError::Usage(format!("oidc.providers[{}]: {err}", provider.id)))?;
        providers.insert(provider.id.clone(), Arc::new(relying_party));
    }
    Ok(providers)
}

/// The domain's view: each provider's policy (the default first) and the
/// allowed consumers.
pub fn settings(config: &Config) -> OpenIdSettings {
    OpenIdSettings {
        providers: config
            .oidc
            .providers_default_first()
            .into_iter()
            .map(|provider| OpenIdProviderPolicy {
                id: provider.id.clone(),
                issuer: provider.issuer.clone(),
                claim: provider.claim.clone(),
                match_by: match provider.match_field() {
                    MatchField::Email => IdentityMatch::Email,
                    MatchField::Username => IdentityMatch::Username,
                },
                require_verified_email: provider.require_verified_email,
                create_users: provider.create_users,
                second_factor: provider.second_factor,
            })
            .collect(),
        consumer_urls: config.oidc.consumer_urls.clone(),
    }
}

/// The payload signer, when OpenID login is on.
pub fn payload_signer(config: &Config) -> Result<Option<Arc<dyn PayloadSigner>>, CliError> {
    let section = &config.oidc;
    if section.providers.is_empty() {
        return Ok(None);
    }
    let signer: Arc<dyn PayloadSigner> = match section.payload_signing {
        PayloadSigning::Hs256 => {
            let key = section
                .payload_key
                .as_deref()
                .ok_or_else(|| CliError::Usage("oidc.payload_key is required".into()))?;
            Arc::new(
                Hs256Signer::new(key.as_bytes())
                    .map_err(|err| CliError::Usage(format!("oidc.payload_key: {err}")))?,
            )
        }
        PayloadSigning::Eddsa => {
            let path = section
                .payload_ed25519_key_file
                .as_deref()
                .ok_or_else(|| CliError::Usage("oidc.payload_ed25519_key_file is required".into()))?;
            let pem = String::from_utf8(read_file("oidc.payload_ed25519_key_file", path)?)
                .map_err(|_| CliError::Usage("oidc.payload_ed25519_key_file is not PEM text".into()))?;
            Arc::new(
                EdDsaSigner::from_pem(&pem)
                    .map_err(|err| CliError::Usage(format!("oidc.payload_ed25519_key_file: {err}")))?,
            )
        }
    };
    Ok(Some(signer))
}
