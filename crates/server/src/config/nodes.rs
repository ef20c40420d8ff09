//! What several nodes share, and how: `[cluster]`, `[tokens]`, `[redis]`,
//! `[cache]`, and the top-level `redis_url`.

use serde::{Deserialize, Serialize};

use super::{Config, ConfigError, ExposeSecret, RateLimitBackend};

/// How many nodes serve this deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Nodes {
    /// One process: per-node state is fine.
    One,
    /// Several processes behind a load balancer: nothing that must be shared
    /// may live in one process's memory or file.
    Several,
}

/// `[cluster]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterSection {
    /// `one` or `several`.
    pub nodes: Nodes,
}

impl Default for ClusterSection {
    fn default() -> Self {
        Self { nodes: Nodes::One }
    }
}

/// Where tokens live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokensBackend {
    /// Limen's database.
    Sql,
    /// Redis (`redis_url`).
    Redis,
}

/// `[tokens]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenStoreSection {
    /// `sql` or `redis`.
    pub backend: TokensBackend,
    /// How often `serve` deletes expired tokens (the state of a login under way
    /// at once, other kinds a day after their expiry); 0: never.
    pub purge_interval_secs: u64,
}

impl Default for TokenStoreSection {
    fn default() -> Self {
        Self {
            backend: TokensBackend::Sql,
            purge_interval_secs: 600,
        }
    }
}

/// `[redis]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisSection {
    /// Put before every key Limen writes.
    pub key_prefix: String,
    /// The longest one Redis command may take.
    pub timeout_secs: u64,
}

impl Default for RedisSection {
    fn default() -> Self {
        Self {
            key_prefix: "limen:".into(),
            timeout_secs: 2,
        }
    }
}

/// `[cache]`: validated tokens kept in each node's memory.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheSection {
    /// Keep validated tokens at all.
    pub enabled: bool,
    /// The most tokens a node keeps.
    pub max_entries: usize,
    /// The longest an entry is trusted even if no change is heard (a change
    /// in a customer's directory, a lost notification).
    pub max_staleness_secs: u64,
    /// On SQLite and MySQL/MariaDB, which cannot notify: how often each
    /// process reads the changes the others wrote, in milliseconds.
    pub poll_interval_ms: u64,
}

impl Default for CacheSection {
    fn default() -> Self {
        Self {
            enabled: true,
            max_entries: 100_000,
            max_staleness_secs: 30,
            poll_interval_ms: 250,
        }
    }
}

impl Config {
    /// Whether the configuration needs Redis.
    pub fn uses_redis(&self) -> bool {
        self.tokens.backend == TokensBackend::Redis || self.rate_limit.backend == RateLimitBackend::Redis
    }

    /// The checks of what several nodes share.
    pub(super) fn validate_nodes(&self) -> Result<(), ConfigError> {
        let invalid = |message: String| Err(ConfigError::Invalid(message));
        if self.uses_redis()
            && self
                .redis_url
                .as_ref()
                .is_none_or(|url| url.expose_secret().trim().is_empty())
        {
            return invalid(
                "redis_url (or redis_url_file) is required when tokens or rate_limit use Redis".into(),
            );
        }
        if self
            .redis_url
            .as_ref()
            .is_some_and(|url| url.expose_secret().trim_start().starts_with("rediss:"))
        {
            return invalid(
                "redis_url: rediss:// (TLS) is not built into Limen; reach Redis over a private network, \
                 or through a local TLS tunnel such as stunnel with a redis:// URL"
                    .into(),
            );
        }
        if self.redis.timeout_secs == 0 {
            return invalid("redis.timeout_secs must be positive".into());
        }
        if self.cache.enabled && self.cache.max_staleness_secs == 0 {
            return invalid(
                "cache.max_staleness_secs must be positive (an entry trusted for no time is never used); \
                 to read the store on every validation set cache.enabled = false"
                    .into(),
            );
        }
        if self.cache.poll_interval_ms < 10 {
            return invalid("cache.poll_interval_ms must be at least 10".into());
        }
        if self.cluster.nodes == Nodes::Several {
            if self.database_url.expose_secret().starts_with("sqlite:") {
                return invalid(
                    "cluster.nodes = \"several\" needs a database every node reaches: SQLite is one node's file; \
                     use PostgreSQL or MySQL/MariaDB"
                        .into(),
                );
            }
            if self.rate_limit.backend == RateLimitBackend::Memory {
                return invalid(
                    "cluster.nodes = \"several\": rate_limit.backend = \"memory\" would count each address on \
                     each node apart (N nodes, N times the attempts); use \"sql\" or \"redis\""
                        .into(),
                );
            }
        }
        Ok(())
    }
}
