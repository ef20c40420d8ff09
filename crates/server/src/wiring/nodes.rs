//! What nodes share: the token store, the per-address counts, and the
//! invalidation channel of the validation cache, as `[tokens]`,
//! `[rate_limit]`, `[cache]` and the database choose them.

use std::sync::Arc;
use std::time::Duration;

use chrono::Duration as ChronoDuration;
use limen_domain::ports::{Invalidations, RateLimiter, SessionTokens, TokenCatalog};
use limen_domain::services::CacheSettings;
use limen_http::Metrics;
use limen_store_memory::MemoryRateLimiter;
use limen_store_redis::{RedisConfig, RedisStore};
use limen_store_sql::Database;

use crate::config::{Config, ExposeSecret, RateLimitBackend, TokensBackend};
use crate::error::CliError;

/// The shared stores of one process.
pub struct Shared {
    /// Redis, when the configuration uses it.
    pub redis: Option<RedisStore>,
    /// Tokens on the hot path.
    pub tokens: Arc<dyn SessionTokens>,
    /// Operators' view of the same tokens.
    pub catalog: Arc<dyn TokenCatalog>,
    /// Per-address counts.
    pub throttles: Arc<dyn RateLimiter>,
    /// The invalidation channel.
    pub invalidations: Arc<dyn Invalidations>,
    /// The validation cache's bounds; `None` when it is off.
    pub cache: Option<CacheSettings>,
}

/// Connects to what the configuration shares between nodes.
pub async fn shared(
    config: &Config,
    database: &Database,
    lockouts: Arc<dyn RateLimiter>,
    metrics: &Arc<Metrics>,
) -> Result<Shared, CliError> {
    let redis = match config.uses_redis() {
        true => {
            let mut redis = RedisStore::connect(&RedisConfig {
                url: config
                    .redis_url
                    .as_ref()
                    .map(|url| url.expose_secret().to_owned())
                    .unwrap_or_default(),
                prefix: config.redis.key_prefix.clone(),
                timeout: Duration::from_secs(config.redis.timeout_secs),
            })
            .await?;
            redis.observe(metrics.store_observer("redis"));
            Some(redis)
        }
        false => None,
    };
    let (tokens, catalog): (Arc<dyn SessionTokens>, Arc<dyn TokenCatalog>) =
        match (&config.tokens.backend, &redis) {
            (TokensBackend::Redis, Some(redis)) => {
                let store = Arc::new(redis.tokens());
                (store.clone(), store)
            }
            _ => {
                let store = Arc::new(database.tokens());
                (store.clone(), store)
            }
        };
    let throttles: Arc<dyn RateLimiter> = match (&config.rate_limit.backend, &redis) {
        (RateLimitBackend::Memory, _) => Arc::new(MemoryRateLimiter::new(config.rate_limit.memory_max_keys)),
        (RateLimitBackend::Redis, Some(redis)) => Arc::new(redis.rate_limiter()),
        _ => lockouts,
    };
    // Changes are heard from every process over Redis when tokens live
    // there, else through the database (NOTIFY on PostgreSQL, a table read a
    // few times a second on SQLite and MySQL).
    let invalidations: Arc<dyn Invalidations> = match (&config.tokens.backend, &redis) {
        (TokensBackend::Redis, Some(redis)) => Arc::new(redis.invalidations()),
        _ => database.invalidations(Duration::from_millis(config.cache.poll_interval_ms)),
    };
    let section = &config.cache;
    let cache = section.enabled.then(|| CacheSettings {
        max_entries: section.max_entries,
        max_staleness: ChronoDuration::seconds(i64::try_from(section.max_staleness_secs).unwrap_or(i64::MAX)),
    });
    Ok(Shared {
        redis,
        tokens,
        catalog,
        throttles,
        invalidations,
        cache,
    })
}
