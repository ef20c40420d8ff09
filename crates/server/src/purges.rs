//! What `serve` deletes now and then: counted attempts that no longer matter,
//! expired tokens (`TokenKind::kept_after_expiry`), audit events past their retention.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use actix_web::rt::task::JoinHandle;
use limen_domain::StoreError;
use limen_domain::ports::{AuditLog, RateLimiter, SessionTokens};
use limen_http::Metrics;

use crate::config::Config;
use crate::wiring::Core;

/// How often counted attempts whose window closed and whose block ended are forgotten.
const ATTEMPTS_INTERVAL: Duration = Duration::from_secs(600);

/// How often events older than the retention are deleted.
const AUDIT_INTERVAL: Duration = Duration::from_secs(3600);

/// The running purges; they stop when this is dropped.
pub struct Purges(Vec<JoinHandle<()>>);

impl Drop for Purges {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Starts every purge the configuration asks for, each at once and then at its interval.
pub fn start(core: &Core, config: &Config, metrics: &Arc<Metrics>) -> Purges {
    let mut tasks = vec![actix_web::rt::spawn(purge_expired_attempts(
        core.lockouts.clone(),
        core.throttles.clone(),
    ))];
    if config.tokens.purge_interval_secs > 0 {
        let (tokens, metrics): (Arc<dyn SessionTokens>, _) = (core.tokens.clone(), metrics.clone());
        tasks.push(actix_web::rt::spawn(every(
            Duration::from_secs(config.tokens.purge_interval_secs),
            "expired tokens",
            move || {
                let tokens = tokens.clone();
                async move { tokens.purge_expired(chrono::Utc::now()).await }
            },
            move |count| metrics.tokens_purged(count),
        )));
    }
    if config.audit.retention_days > 0 {
        let log: Arc<dyn AuditLog> = Arc::new(core.database.audit_log());
        let retention = chrono::TimeDelta::days(i64::from(config.audit.retention_days));
        let metrics = metrics.clone();
        tasks.push(actix_web::rt::spawn(every(
            AUDIT_INTERVAL,
            "audit events past their retention",
            move || {
                let log = log.clone();
                async move { log.purge_before(chrono::Utc::now() - retention).await }
            },
            move |count| metrics.audit_events_purged(count),
        )));
    }
    Purges(tasks)
}

/// Runs `purge` at once and then every `interval`; what it deleted is counted
/// by `counted` and logged under `what`. A failure is logged and tried again
/// at the next interval.
async fn every<P, F>(interval: Duration, what: &'static str, purge: P, counted: impl Fn(u64))
where
    P: Fn() -> F,
    F: Future<Output = Result<u64, StoreError>>,
{
    let mut interval = tokio::time::interval(interval);
    loop {
        interval.tick().await;
        match purge().await {
            Ok(0) => {}
            Ok(count) => {
                counted(count);
                tracing::info!(count, "purged {what}");
            }
            Err(err) => tracing::warn!(error = %err, "could not purge {what}"),
        }
    }
}

/// Forgets counted attempts that no longer matter, so that the table (or map)
/// of a busy server stays small; the lockouts and the throttles may be one
/// limiter.
async fn purge_expired_attempts(lockouts: Arc<dyn RateLimiter>, throttles: Arc<dyn RateLimiter>) {
    let mut interval = tokio::time::interval(ATTEMPTS_INTERVAL);
    loop {
        interval.tick().await;
        let now = chrono::Utc::now();
        let mut purged = 0;
        for limiter in [&lockouts, &throttles] {
            match limiter.purge_expired(now).await {
                Ok(count) => purged += count,
                Err(err) => tracing::warn!(error = %err, "could not purge expired attempt counts"),
            }
            if Arc::ptr_eq(&lockouts, &throttles) {
                break;
            }
        }
        if purged > 0 {
            tracing::debug!(purged, "expired attempt counts purged");
        }
    }
}
