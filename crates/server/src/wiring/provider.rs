//! Limen as an OpenID Provider: its settings from `[oidc_provider]`, and its
//! signing keys, made on the first start and kept sealed in Limen's
//! database, so that every node signs with the same key of each algorithm.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Duration;
use limen_crypto::{ProviderKey, RandomTokenMint, SigningAlg};
use limen_domain::model::ProviderClient;
use limen_domain::ports::{Clock, PayloadSigner, SecretCipher, TokenMint};
use limen_domain::services::ProviderSettings;
use limen_store_sql::{Database, StoredSigningKey};

use crate::config::{Config, ExposeSecret};
use crate::error::CliError;

/// The context a key is sealed under: its id.
fn context(kid: &str) -> Vec<u8> {
    format!("oidc-signing-key:{kid}").into_bytes()
}

/// The provider's settings; `None` when it is off.
pub fn settings(config: &Config) -> Option<ProviderSettings> {
    let section = &config.oidc_provider;
    if !section.enabled {
        return None;
    }
    let seconds = |secs: u64| Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 1_000_000));
    Some(ProviderSettings {
        issuer: format!("{}/oidc", config.public_base_url().trim_end_matches('/')),
        site_name: config.registration.site_name.clone(),
        clients: section
            .clients
            .iter()
            .map(|client| ProviderClient {
                client_id: client.client_id.clone(),
                secret_digest: client
                    .client_secret
                    .as_ref()
                    .map(|secret| RandomTokenMint.digest(secret.expose_secret())),
                redirect_uris: client.redirect_uris.clone(),
                scopes: client.scopes.clone(),
                require_pkce: client.require_pkce,
                id_token_alg: client.id_token_signed_response_alg.clone(),
                post_logout_redirect_uris: client.post_logout_redirect_uris.clone(),
            })
            .collect(),
        default_alg: section.signing_alg.clone(),
        code_ttl: seconds(section.code_ttl_secs),
        access_token_ttl: seconds(section.access_token_ttl_secs),
        id_token_ttl: seconds(section.id_token_ttl_secs),
        refresh_token_ttl: seconds(section.refresh_token_ttl_secs),
        session_ttl: seconds(section.session_ttl_secs),
    })
}

/// A signer for every algorithm the provider needs: the oldest live key of
/// each in the database, made (and kept) when there is none. Two nodes that
/// start at once may both make one; both then sign with the older.
pub async fn signers(
    config: &Config,
    database: &Database,
    cipher: &dyn SecretCipher,
    clock: &dyn Clock,
) -> Result<BTreeMap<String, Arc<dyn PayloadSigner>>, CliError> {
    let mut signers = BTreeMap::new();
    if !config.oidc_provider.enabled {
        return Ok(signers);
    }
    let store = database.signing_keys();
    let failed = |what: &str| {
        let what = what.to_owned();
        move |err: String| CliError::Usage(format!("oidc_provider: {what}: {err}"))
    };
    for name in config.oidc_provider.algorithms() {
        let alg = SigningAlg::from_name(&name)
            .ok_or_else(|| CliError::Usage(format!("oidc_provider: unknown algorithm {name}")))?;
        let live = |keys: &[StoredSigningKey]| {
            keys.iter()
                .find(|key| key.alg == name && key.retired_at.is_none())
                .cloned()
        };
        let keys = store
            .list()
            .await
            .map_err(|err| failed("reading signing keys")(err.to_string()))?;
        let stored = match live(&keys) {
            Some(stored) => stored,
            None => {
                let key = ProviderKey::generate(alg).map_err(failed("making a signing key"))?;
                let sealed = cipher
                    .seal(key.pkcs8(), &context(key.kid()))
                    .map_err(failed("sealing a signing key"))?;
                let made = StoredSigningKey {
                    kid: key.kid().to_owned(),
                    alg: name.clone(),
                    private_key: sealed,
                    created_at: clock.now(),
                    retired_at: None,
                };
                store
                    .insert(&made)
                    .await
                    .map_err(|err| failed("keeping a signing key")(err.to_string()))?;
                tracing::info!(kid = %made.kid, alg = %name, "made an OpenID Provider signing key");
                let keys = store
                    .list()
                    .await
                    .map_err(|err| failed("reading signing keys")(err.to_string()))?;
                live(&keys).unwrap_or(made)
            }
        };
        let pkcs8 = cipher
            .open(&stored.private_key, &context(&stored.kid))
            .map_err(failed(&format!("opening signing key {}", stored.kid)))?;
        let key =
            ProviderKey::from_pkcs8(alg, &pkcs8).map_err(failed(&format!("signing key {}", stored.kid)))?;
        signers.insert(name, Arc::new(key) as Arc<dyn PayloadSigner>);
    }
    Ok(signers)
}
