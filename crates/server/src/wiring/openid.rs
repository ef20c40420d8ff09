//! OpenID login from `[oidc]`: a relying party per provider, the domain's
//! policies, and the signer of consumers' payloads.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use limen_crypto::{EdDsaSigner, Hs256Signer};
use limen_domain::ports::{OpenIdProvider, PayloadSigner};

use limen_domain::model::UserFields;
use limen_domain::services::{IdentityMatch, OpenIdProviderPolicy, OpenIdSettings, PayloadSettings};
use limen_oidc::{OidcConfig, OidcProvider};

use super::read_file;
use crate::config::{Config, ExposeSecret, MatchField, PayloadSigning};
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
            client_secret: provider
                .client_secret
                .as_ref()
                .map(|secret| secret.expose_secret().to_owned()),
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

/// The domain's view: each provider's policy (the default first), the
/// allowed consumers (the default first), and what their payloads hold.
pub fn settings(config: &Config, user_fields: UserFields) -> OpenIdSettings {
    let section = &config.oidc;
    OpenIdSettings {
        providers: section
            .providers_default_first()
            .into_iter()
            .map(|provider| OpenIdProviderPolicy {
                id: provider.id.clone(),
                name: provider.name.clone().unwrap_or_else(|| provider.id.clone()),
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
        consumer_urls: section.consumer_list().into_iter().map(str::to_owned).collect(),
        payload: PayloadSettings {
            issuer: config.public_base_url(),
            ttl: chrono::Duration::seconds(section.payload_ttl_secs),
            user_fields,
            token_ttl: section
                .include_token
                .then(|| chrono::Duration::seconds(config.dialects.lime.token_ttl_secs)),
        },
    }
}

/// Each consumer's payload signer, by consumer URL: its own HS256 key, or
/// the section's signer (HS256 with the shared key, or EdDSA), built once.
pub fn payload_signers(config: &Config) -> Result<BTreeMap<String, Arc<dyn PayloadSigner>>, CliError> {
    let section = &config.oidc;
    let mut signers: BTreeMap<String, Arc<dyn PayloadSigner>> = BTreeMap::new();
    if section.providers.is_empty() {
        return Ok(signers);
    }
    let shared = match section.uses_section_signing() {
        true => Some(section_signer(config)?),
        false => None,
    };
    for url in &section.consumer_urls {
        if let Some(shared) = &shared {
            signers.insert(url.clone(), shared.clone());
        }
    }
    for consumer in &section.consumers {
        let signer: Arc<dyn PayloadSigner> = match &consumer.payload_key {
            Some(key) => Arc::new(Hs256Signer::new(key.expose_secret().as_bytes()).map_err(|err| {
                CliError::Usage(format!("oidc.consumers[{}].payload_key: {err}", consumer.url))
            })?),
            None => shared.clone().ok_or_else(|| {
                CliError::Usage("oidc: a consumer without a key needs payload_signing".into())
            })?,
        };
        signers.insert(consumer.url.clone(), signer);
    }
    Ok(signers)
}

/// The signer `payload_signing` names.
fn section_signer(config: &Config) -> Result<Arc<dyn PayloadSigner>, CliError> {
    let section = &config.oidc;
    Ok(match section.payload_signing {
        PayloadSigning::Hs256 => {
            let key = section
                .payload_key
                .as_ref()
                .map(ExposeSecret::expose_secret)
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
    })
}
