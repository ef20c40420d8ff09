//! Prometheus metrics at `GET /metrics` of the management listener
//! (OpenMetrics text): requests by
//! dialect, route pattern, method and status with their latency, logins shed
//! at the door, logins in flight, and the token cache. Paths are recorded by
//! route pattern only, never with their values (a path may carry a token).

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, web};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use limen_domain::model::AuditKind;
use limen_domain::ports::{CallObserver, HashPoolStats};
use limen_domain::services::{AuditStats, HashAdmission, Services};

use crate::route_pattern::route_pattern;

use crate::dialect::{LOGIN_APIS, dialect_of};

/// The content type of the OpenMetrics text format.
pub(crate) const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The labels of a request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    dialect: &'static str,
    route: String,
    method: &'static str,
    status: u16,
}

/// The labels of a request's duration.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    dialect: &'static str,
    route: String,
}

/// The labels of a shed login.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DialectLabels {
    dialect: &'static str,
}

/// The labels of a login attempt.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LoginLabels {
    dialect: &'static str,
    method: &'static str,
    outcome: &'static str,
}

/// The labels of an audit event.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

/// The labels of a call to a backend.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AdapterLabels {
    adapter: &'static str,
}

/// Request durations from 0.1 ms to about 3.3 s, doubling.
fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

/// Every metric of one process.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram, fn() -> Histogram>,
    shed: Family<DialectLabels, Counter>,
    logins_in_flight: Gauge,
    cache_entries: Gauge,
    cache_hits: Counter,
    cache_misses: Counter,
    tokens_purged: Counter,
    logins: Family<LoginLabels, Counter>,
    audit_events: Family<KindLabels, Counter>,
    audit_write_failures: Counter,
    audit_events_purged: Counter,
    store_calls: Family<AdapterLabels, Histogram, fn() -> Histogram>,
    store_errors: Family<AdapterLabels, Counter>,
    hash_queued: Gauge,
    hash_running: Gauge,
    hash_jobs: Counter,
    hash_wait: Counter<f64, AtomicU64>,
    hash_run: Counter<f64, AtomicU64>,
    refusal_floor: Gauge<f64, AtomicU64>,
    attempts_unsettled: Counter,
    rendering: std::sync::Mutex<()>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric under the `limen` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("limen");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by dialect, route pattern, method and status",
            requests.clone(),
        );
        let durations =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(duration_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's arrival to its answer, by dialect and route pattern",
            durations.clone(),
        );
        let shed = Family::<DialectLabels, Counter>::default();
        // Every dialect's series exists from the start at 0, so that rates and
        // alerts see a quiet dialect rather than an absent one.
        for dialect in LOGIN_APIS {
            drop(shed.get_or_create(&DialectLabels { dialect }));
        }
        registry.register(
            "logins_shed",
            "Logins refused before their body was read, for their address's share or the node's",
            shed.clone(),
        );
        let logins_in_flight = Gauge::default();
        registry.register(
            "logins_in_flight",
            "Logins admitted and not yet answered (hashing or queued for a hashing thread)",
            logins_in_flight.clone(),
        );
        let cache_entries = Gauge::default();
        registry.register(
            "token_cache_entries",
            "Validated tokens kept in this node's memory",
            cache_entries.clone(),
        );
        let cache_hits = Counter::default();
        registry.register(
            "token_cache_hits",
            "Token validations answered from this node's memory",
            cache_hits.clone(),
        );
        let cache_misses = Counter::default();
        registry.register(
            "token_cache_misses",
            "Token validations that read the store (not cached, or cached too long ago)",
            cache_misses.clone(),
        );
        let tokens_purged = Counter::default();
        registry.register(
            "tokens_purged",
            "Expired tokens deleted by this node's periodic purge",
            tokens_purged.clone(),
        );
        let logins = Family::<LoginLabels, Counter>::default();
        registry.register(
            "logins",
            "Login attempts by dialect, method and outcome (success, second_factor_required, a refusal's reason, shed, busy, error)",
            logins.clone(),
        );
        let audit_events = Family::<KindLabels, Counter>::default();
        registry.register(
            "audit_events",
            "Security events recorded by this node, by kind (account.locked counts lockouts)",
            audit_events.clone(),
        );
        for kind in AuditKind::ALL {
            drop(audit_events.get_or_create(&KindLabels { kind: kind.as_str() }));
        }
        let audit_write_failures = Counter::default();
        registry.register(
            "audit_write_failures",
            "Audit events the database could not keep (their log line was written)",
            audit_write_failures.clone(),
        );
        let audit_events_purged = Counter::default();
        registry.register(
            "audit_events_purged",
            "Audit events older than audit.retention_days deleted by this node",
            audit_events_purged.clone(),
        );
        let store_calls = Family::<AdapterLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            duration_histogram as fn() -> Histogram,
        );
        registry.register(
            "store_call_duration_seconds",
            "Calls to a backend by adapter: sql (Limen's database, per statement), mapped-sql (the customer's database, per statement), redis (per command), limecrm (per request, with its retries)",
            store_calls.clone(),
        );
        let store_errors = Family::<AdapterLabels, Counter>::default();
        registry.register(
            "store_call_errors",
            "Calls to a backend that failed, by adapter",
            store_errors.clone(),
        );
        let hash_queued = Gauge::default();
        registry.register(
            "hash_queue_depth",
            "Password hashes admitted and waiting for a hashing thread",
            hash_queued.clone(),
        );
        let hash_running = Gauge::default();
        registry.register(
            "hash_running",
            "Password hashes being computed now",
            hash_running.clone(),
        );
        let hash_jobs = Counter::default();
        registry.register(
            "hash_jobs",
            "Password hashes computed (hashed or verified)",
            hash_jobs.clone(),
        );
        let hash_wait = Counter::<f64, AtomicU64>::default();
        registry.register(
            "hash_wait_seconds",
            "Time the computed hashes waited for a hashing thread, in all (divide by limen_hash_jobs_total for the mean)",
            hash_wait.clone(),
        );
        let hash_run = Counter::<f64, AtomicU64>::default();
        registry.register(
            "hash_run_seconds",
            "Time the computed hashes took on their thread, in all",
            hash_run.clone(),
        );
        let refusal_floor = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "password_refusal_floor_seconds",
            "The least time a refused password login takes now: the slowest hash format in use, or password.refusal_floor_ms",
            refusal_floor.clone(),
        );
        let attempts_unsettled = Counter::default();
        registry.register(
            "attempts_unsettled",
            "Counted login attempts dropped without being settled (a bug whenever it is not 0; each counts as a failure)",
            attempts_unsettled.clone(),
        );
        Self {
            registry,
            requests,
            durations,
            shed,
            logins_in_flight,
            cache_entries,
            cache_hits,
            cache_misses,
            tokens_purged,
            logins,
            audit_events,
            audit_write_failures,
            audit_events_purged,
            store_calls,
            store_errors,
            hash_queued,
            hash_running,
            hash_jobs,
            hash_wait,
            hash_run,
            refusal_floor,
            attempts_unsettled,
            rendering: std::sync::Mutex::new(()),
        }
    }

    /// What an adapter reports each call to: its duration and failures under
    /// `adapter`.
    pub fn store_observer(self: &Arc<Self>, adapter: &'static str) -> CallObserver {
        // The adapter's errors exist from the start at 0, for rates and alerts.
        drop(self.store_errors.get_or_create(&AdapterLabels { adapter }));
        let metrics = self.clone();
        Arc::new(move |elapsed: Duration, failed: bool| {
            let labels = AdapterLabels { adapter };
            metrics
                .store_calls
                .get_or_create(&labels)
                .observe(elapsed.as_secs_f64());
            if failed {
                metrics.store_errors.get_or_create(&labels).inc();
            }
        })
    }

    /// Counts audit events the retention purge deleted.
    pub fn audit_events_purged(&self, count: u64) {
        self.audit_events_purged.inc_by(count);
    }

    /// Counts tokens the periodic purge deleted.
    pub fn tokens_purged(&self, count: u64) {
        self.tokens_purged.inc_by(count);
    }

    /// Counts a login refused at the door of `route`.
    pub fn login_shed(&self, route: &str) {
        let dialect = dialect_of(route);
        self.shed.get_or_create(&DialectLabels { dialect }).inc();
        // Its body was never read: how it would have logged in is unknown.
        self.logins
            .get_or_create(&LoginLabels {
                dialect,
                method: "unknown",
                outcome: "shed",
            })
            .inc();
    }

    /// The exposition, with the values read at scrape time brought up to date.
    pub(crate) fn render(
        &self,
        services: &Services,
        login_gate: &HashAdmission,
    ) -> Result<String, std::fmt::Error> {
        // Catching up reads a counter and adds the difference: two scrapes at
        // once would both add it.
        let _one_at_a_time = self
            .rendering
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.logins_in_flight.set(gauge_value(login_gate.in_flight()));
        if let Some(cache) = &services.cache {
            let stats = cache.stats();
            self.cache_entries.set(gauge_value(stats.entries));
            // The cache counts; the counters catch up with it.
            self.cache_hits
                .inc_by(stats.hits.saturating_sub(self.cache_hits.get()));
            self.cache_misses
                .inc_by(stats.misses.saturating_sub(self.cache_misses.get()));
        }
        self.catch_up_with_audit(&services.audit.stats());
        self.catch_up_with_hashing(&services.password_login.pool_stats());
        self.refusal_floor
            .set(services.password_login.refusal_floor().as_secs_f64());
        let unsettled = services.attempts.unsettled();
        self.attempts_unsettled
            .inc_by(unsettled.saturating_sub(self.attempts_unsettled.get()));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

impl Metrics {
    /// Brings the hashing pool's figures up to date.
    fn catch_up_with_hashing(&self, pool: &HashPoolStats) {
        self.hash_queued.set(gauge_value(pool.queued));
        self.hash_running.set(gauge_value(pool.running));
        self.hash_jobs
            .inc_by(pool.jobs.saturating_sub(self.hash_jobs.get()));
        self.hash_wait
            .inc_by((pool.wait_seconds - self.hash_wait.get()).max(0.0));
        self.hash_run
            .inc_by((pool.run_seconds - self.hash_run.get()).max(0.0));
    }

    /// Brings the counters fed by the audit trail up to its tallies.
    fn catch_up_with_audit(&self, stats: &AuditStats) {
        for (tally, count) in &stats.logins {
            let counter = self.logins.get_or_create(&LoginLabels {
                dialect: tally.dialect,
                method: tally.method,
                outcome: tally.outcome,
            });
            counter.inc_by(count.saturating_sub(counter.get()));
        }
        for (kind, count) in &stats.events {
            let counter = self
                .audit_events
                .get_or_create(&KindLabels { kind: kind.as_str() });
            counter.inc_by(count.saturating_sub(counter.get()));
        }
        self.audit_write_failures.inc_by(
            stats
                .store_failures
                .saturating_sub(self.audit_write_failures.get()),
        );
    }
}

fn gauge_value(count: usize) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// Middleware (`actix_web::middleware::from_fn`) counting and timing every
/// request; wrap it inside the request-id middleware.
pub async fn record(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let metrics = request.app_data::<web::Data<Metrics>>().cloned();
    // A path that matches no route is not recorded: it may carry a token.
    let route = route_pattern(request.request());
    let method = method_label(request.method());
    let outcome = next.call(request).await;
    if let Some(metrics) = metrics {
        let status = match &outcome {
            Ok(response) => response.status().as_u16(),
            Err(err) => err.as_response_error().status_code().as_u16(),
        };
        observe(&metrics, route.to_string(), method, status, started);
    }
    outcome
}

/// A request's method as a label: the standard ones by name, anything a
/// client made up as `other`, so that no client can add series.
fn method_label(method: &actix_web::http::Method) -> &'static str {
    const STANDARD: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ];
    STANDARD
        .into_iter()
        .find(|name| *name == method.as_str())
        .unwrap_or("other")
}

fn observe(metrics: &Metrics, route: String, method: &'static str, status: u16, started: Instant) {
    let dialect = dialect_of(&route);
    metrics
        .durations
        .get_or_create(&RouteLabels {
            dialect,
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            dialect,
            route,
            method,
            status,
        })
        .inc();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_methods_are_one_label() {
        use actix_web::http::Method;
        assert_eq!(method_label(&Method::POST), "POST");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let made_up = Method::from_bytes(&[b'X'; 30_000]).unwrap();
        assert_eq!(method_label(&made_up), "other");
        assert_eq!(method_label(&Method::from_bytes(b"get").unwrap()), "other");
    }

    #[test]
    fn the_exposition_names_every_metric() {
        let metrics = Arc::new(Metrics::new());
        observe(&metrics, "/auth/login".into(), "POST", 200, Instant::now());
        metrics.login_shed("/login/");
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &metrics.registry).unwrap();
        assert!(
            text.contains("limen_logins_shed_total{dialect=\"lime\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("limen_http_requests_total{dialect=\"tokens\",route=\"/auth/login\",method=\"POST\",status=\"200\"} 1"),
            "{text}"
        );
        for name in [
            "limen_http_requests",
            "limen_http_request_duration_seconds",
            "limen_logins_in_flight",
            "limen_token_cache_entries",
            "limen_token_cache_hits",
            "limen_token_cache_misses",
            "limen_tokens_purged",
            "limen_password_refusal_floor_seconds",
            "limen_attempts_unsettled",
        ] {
            assert!(text.contains(&format!("# TYPE {name}")), "{name} in {text}");
        }
    }
}
