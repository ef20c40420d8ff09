//! Tokens in Redis for the Redis scenarios: the server is pointed at a key
//! prefix of the run's own, seeded through Limen's Redis adapter, and the
//! prefix's keys are removed afterwards.

use std::time::Duration;

use limen_store_redis::{RedisConfig, RedisStore};

use crate::error::BenchError;

/// A Redis server and the prefix this run's keys live under.
#[derive(Debug, Clone)]
pub struct RedisTarget {
    /// `redis://host:port`.
    pub url: String,
    /// Put before every key of this run.
    pub prefix: String,
}

impl RedisTarget {
    /// A prefix of this process's own on the Redis at `url`.
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            prefix: format!("limen-bench-{}:", std::process::id()),
        }
    }

    /// The connection Limen's adapter uses.
    pub async fn connect(&self) -> Result<RedisStore, BenchError> {
        RedisStore::connect(&RedisConfig {
            url: self.url.clone(),
            prefix: self.prefix.clone(),
            timeout: Duration::from_secs(5),
        })
        .await
        .map_err(BenchError::store("connecting to Redis"))
    }

    /// The server's settings that put tokens and per-address counts in Redis.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("LIMEN_REDIS_URL", self.url.clone()),
            ("LIMEN_REDIS__KEY_PREFIX", self.prefix.clone()),
            ("LIMEN_TOKENS__BACKEND", "redis".into()),
            ("LIMEN_RATE_LIMIT__BACKEND", "redis".into()),
        ]
    }

    /// Removes every key of this run (a bench run owns its prefix).
    pub async fn clean(&self) -> Result<(), BenchError> {
        let failed = |err: redis::RedisError| BenchError::Setup(format!("cleaning Redis: {err}"));
        let client = redis::Client::open(self.url.as_str()).map_err(failed)?;
        let mut connection = client.get_multiplexed_async_connection().await.map_err(failed)?;
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{}*", self.prefix))
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut connection)
                .await
                .map_err(failed)?;
            if !keys.is_empty() {
                redis::cmd("DEL")
                    .arg(keys)
                    .query_async::<i64>(&mut connection)
                    .await
                    .map_err(failed)?;
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }
}
