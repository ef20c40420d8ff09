//! Limen as an OpenID Provider: its settings from `[oidc_provider]`, and its
//! signing keys, made on the first start and kept sealed in Limen's
//! database, so that every node signs with the same key of each algorithm.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Duration;
use limen_crypto::{ProviderKey, RandomTokenMint, SigningAlg};
use limen_domain::model::ProviderClient;
use limen_domain::ports::{Clock, PayloadSigner, SecretCipher, TokenMint};
use limen_domain::services::{AccessTokenFormat, ProviderSettings};
use limen_store_sql::{Database, StoredSigningKey};

use crate::config::{AccessTokenFormatName, Config, ExposeSecret};
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
        access_token_format: match section.access_token_format {
            AccessTokenFormatName::Opaque => AccessTokenFormat::Opaque,
            AccessTokenFormatName::Jwt => AccessTokenFormat::Jwt,
        },
        id_token_ttl: seconds(section.id_token_ttl_secs),
        refresh_token_ttl: seconds(section.refresh_token_ttl_secs),
        session_ttl: seconds(section.session_ttl_secs),
    })
}

/// The provider's keys as a node uses them.
#[derive(Default)]
pub struct ProviderKeys {
    /// The key each algorithm signs with.
    pub signers: BTreeMap<String, Arc<dyn PayloadSigner>>,
    /// Keys a rotation retired, published while tokens they signed may come back.
    pub retired: Vec<Arc<dyn PayloadSigner>>,
}

/// How long a retired key stays published: an ID token it signed may come
/// back until it expires (a logout's hint), and relying parties cache the
/// key set for a while.
fn retention(config: &Config) -> Duration {
    let id_token = i64::try_from(config.oidc_provider.id_token_ttl_secs).unwrap_or(i64::MAX / 1_000_000);
    Duration::seconds(id_token) + Duration::minutes(10)
}

fn open_key(cipher: &dyn SecretCipher, stored: &StoredSigningKey) -> Result<ProviderKey, CliError> {
    let alg = SigningAlg::from_name(&stored.alg).ok_or_else(|| {
        CliError::Usage(format!(
            "oidc_provider: signing key {} has an unknown algorithm {}",
            stored.kid, stored.alg
        ))
    })?;
    let pkcs8 = cipher
        .open(&stored.private_key, &context(&stored.kid))
        .map_err(|err| {
            CliError::Usage(format!(
                "oidc_provider: opening signing key {}: {err}",
                stored.kid
            ))
        })?;
    ProviderKey::from_pkcs8(alg, &pkcs8)
        .map_err(|err| CliError::Usage(format!("oidc_provider: signing key {}: {err}", stored.kid)))
}

/// Makes, seals and keeps a new key of `alg`.
async fn make_key(
    database: &Database,
    cipher: &dyn SecretCipher,
    clock: &dyn Clock,
    alg: SigningAlg,
) -> Result<StoredSigningKey, CliError> {
    let failed = |what: &str, err: String| CliError::Usage(format!("oidc_provider: {what}: {err}"));
    let key = ProviderKey::generate(alg).map_err(|err| failed("making a signing key", err))?;
    let sealed = cipher
        .seal(key.pkcs8(), &context(key.kid()))
        .map_err(|err| failed("sealing a signing key", err))?;
    let made = StoredSigningKey {
        kid: key.kid().to_owned(),
        alg: alg.name().to_owned(),
        private_key: sealed,
        created_at: clock.now(),
        retired_at: None,
    };
    database
        .signing_keys()
        .insert(&made)
        .await
        .map_err(|err| failed("keeping a signing key", err.to_string()))?;
    tracing::info!(kid = %made.kid, alg = %made.alg, "made an OpenID Provider signing key");
    Ok(made)
}

/// A signer for every algorithm the provider needs: the oldest live key of
/// each in the database, made (and kept) when there is none (two nodes that
/// start at once may both make one; both then sign with the older); and the
/// retired keys still published.
pub async fn keys(
    config: &Config,
    database: &Database,
    cipher: &dyn SecretCipher,
    clock: &dyn Clock,
) -> Result<ProviderKeys, CliError> {
    let mut keys = ProviderKeys::default();
    if !config.oidc_provider.enabled {
        return Ok(keys);
    }
    let store = database.signing_keys();
    let read = |err: limen_domain::StoreError| {
        CliError::Usage(format!("oidc_provider: reading signing keys: {err}"))
    };
    let oldest_live = |stored: &[StoredSigningKey], name: &str| {
        stored
            .iter()
            .find(|key| key.alg == name && key.retired_at.is_none())
            .cloned()
    };
    let mut stored = store.list().await.map_err(read)?;
    for name in config.oidc_provider.algorithms() {
        let alg = SigningAlg::from_name(&name)
            .ok_or_else(|| CliError::Usage(format!("oidc_provider: unknown algorithm {name}")))?;
        let live = match oldest_live(&stored, &name) {
            Some(live) => live,
            None => {
                let made = make_key(database, cipher, clock, alg).await?;
                // Read again: another node may have made one first.
                stored = store.list().await.map_err(read)?;
                oldest_live(&stored, &name).unwrap_or(made)
            }
        };
        keys.signers
            .insert(name, Arc::new(open_key(cipher, &live)?) as Arc<dyn PayloadSigner>);
    }
    let published_since = clock.now() - retention(config);
    for stored in stored {
        if stored.retired_at.is_some_and(|retired| retired > published_since) {
            keys.retired.push(Arc::new(open_key(cipher, &stored)?));
        }
    }
    Ok(keys)
}

/// `limen oidc-provider rotate-keys`: a new key for every algorithm; the
/// keys they replace are retired (published until tokens they signed
/// expire), and keys retired longer ago are deleted. Nodes sign with the new
/// keys from their next start. What was replaced: (algorithm, old kid, new kid).
pub async fn rotate(
    config: &Config,
    database: &Database,
    cipher: &dyn SecretCipher,
    clock: &dyn Clock,
) -> Result<Vec<(String, Vec<String>, String)>, CliError> {
    let store = database.signing_keys();
    let failed = |err: limen_domain::StoreError| CliError::Usage(format!("oidc_provider: {err}"));
    let mut rotated = Vec::new();
    for name in config.oidc_provider.algorithms() {
        let alg = SigningAlg::from_name(&name)
            .ok_or_else(|| CliError::Usage(format!("oidc_provider: unknown algorithm {name}")))?;
        let old: Vec<String> = store
            .list()
            .await
            .map_err(failed)?
            .into_iter()
            .filter(|key| key.alg == name && key.retired_at.is_none())
            .map(|key| key.kid)
            .collect();
        let made = make_key(database, cipher, clock, alg).await?;
        for kid in &old {
            store.retire(kid, clock.now()).await.map_err(failed)?;
        }
        rotated.push((name, old, made.kid));
    }
    store
        .forget_retired_before(clock.now() - retention(config))
        .await
        .map_err(failed)?;
    Ok(rotated)
}
