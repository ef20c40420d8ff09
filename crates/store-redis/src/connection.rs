//! The connection: one multiplexed connection per process that reconnects by
//! itself, with a timeout on every command so that a Redis that stops
//! answering costs a request a bounded wait, not a hang.

use std::time::{Duration, Instant};

use limen_domain::StoreError;
use limen_domain::ports::CallObserver;
use redis::RedisFuture;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};

use crate::{RedisRateLimiter, RedisTokenStore};

/// How to reach Redis.
#[derive(Clone)]
pub struct RedisConfig {
    /// `redis://[:password@]host:port/db`; this build has no TLS (`rediss://`).
    pub url: String,
    /// Put before every key, so that several Limen deployments (or tests)
    /// can share one Redis.
    pub prefix: String,
    /// The longest a command may take before it fails.
    pub timeout: Duration,
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &limen_domain::redact_url(&self.url))
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The connection manager, telling an observer how long each command took.
#[derive(Clone)]
pub(crate) struct TimedConnection {
    inner: ConnectionManager,
    observer: Option<CallObserver>,
}

impl TimedConnection {
    fn report<T>(&self, started: Instant, outcome: &redis::RedisResult<T>) {
        if let Some(observer) = &self.observer {
            // A script's first call on a Redis that does not know it yet is
            // answered NOSCRIPT and sent again whole: no failure.
            let failed = outcome
                .as_ref()
                .is_err_and(|err| err.kind() != redis::ErrorKind::NoScriptError);
            observer(started.elapsed(), failed);
        }
    }
}

impl ConnectionLike for TimedConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> RedisFuture<'a, redis::Value> {
        Box::pin(async move {
            let started = Instant::now();
            let outcome = self.inner.req_packed_command(cmd).await;
            self.report(started, &outcome);
            outcome
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<redis::Value>> {
        Box::pin(async move {
            let started = Instant::now();
            let outcome = self.inner.req_packed_commands(pipeline, offset, count).await;
            self.report(started, &outcome);
            outcome
        })
    }

    fn get_db(&self) -> i64 {
        self.inner.get_db()
    }
}

/// A connection to Redis, and the stores over it.
#[derive(Clone)]
pub struct RedisStore {
    pub(crate) client: redis::Client,
    pub(crate) connection: TimedConnection,
    pub(crate) prefix: String,
    pub(crate) timeout: Duration,
}

pub(crate) fn unavailable(context: &str, err: &redis::RedisError) -> StoreError {
    StoreError::Unavailable(format!("Redis, {context}: {err}"))
}

impl RedisStore {
    /// Connects; fails when Redis does not answer within the timeout.
    pub async fn connect(config: &RedisConfig) -> Result<Self, StoreError> {
        let client = redis::Client::open(config.url.as_str()).map_err(|err| {
            StoreError::Unavailable(format!(
                "Redis URL {}: {err}",
                limen_domain::redact_url(&config.url)
            ))
        })?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(config.timeout)
            .set_response_timeout(config.timeout)
            .set_number_of_retries(1)
            .set_max_delay(1_000);
        let connection = tokio::time::timeout(
            config.timeout + Duration::from_secs(1),
            ConnectionManager::new_with_config(client.clone(), manager_config),
        )
        .await
        .map_err(|_| {
            StoreError::Unavailable(format!(
                "cannot reach Redis at {}: timed out",
                limen_domain::redact_url(&config.url)
            ))
        })?
        .map_err(|err| {
            StoreError::Unavailable(format!(
                "cannot reach Redis at {}: {err}",
                limen_domain::redact_url(&config.url)
            ))
        })?;
        Ok(Self {
            client,
            connection: TimedConnection {
                inner: connection,
                observer: None,
            },
            prefix: config.prefix.clone(),
            timeout: config.timeout,
        })
    }

    /// Tells `observer` how long each command took and whether it failed.
    /// Call it before handing out stores: they keep the connection as it was.
    pub fn observe(&mut self, observer: CallObserver) {
        self.connection.observer = Some(observer);
    }

    /// Checks that Redis answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
            .map(|_| ())
            .map_err(|err| unavailable("ping", &err))
    }

    /// Tokens on this connection.
    pub fn tokens(&self) -> RedisTokenStore {
        RedisTokenStore::new(self.clone())
    }

    /// The invalidation channel over this Redis (pub/sub).
    pub fn invalidations(&self) -> crate::RedisInvalidations {
        crate::RedisInvalidations::start(self.clone())
    }

    /// Counted attempts on this connection.
    pub fn rate_limiter(&self) -> RedisRateLimiter {
        RedisRateLimiter::new(self.clone())
    }

    pub(crate) fn key(&self, rest: &str) -> String {
        format!("{}{rest}", self.prefix)
    }
}
