//! Prometheus metrics at `GET /metrics` (OpenMetrics text): requests by
//! dialect, route pattern, method and status with their latency, logins shed
//! at the door, logins in flight, and the token cache. Paths are recorded by
//! route pattern only, never with their values (a path may carry a token).

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::AppState;

/// The content type of the OpenMetrics text format.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The labels of a request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    dialect: &'static str,
    route: String,
    method: String,
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
        for dialect in ["flow", "tokens", "bimplus", "gradido", "lime"] {
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
        }
    }

    /// Counts tokens the periodic purge deleted.
    pub fn tokens_purged(&self, count: u64) {
        self.tokens_purged.inc_by(count);
    }

    /// Counts a login refused at the door of `route`.
    pub fn login_shed(&self, route: &str) {
        self.shed
            .get_or_create(&DialectLabels {
                dialect: dialect(route),
            })
            .inc();
    }

    /// The exposition, with the values read at scrape time brought up to date.
    fn render(&self, state: &AppState) -> Result<String, std::fmt::Error> {
        self.logins_in_flight
            .set(gauge_value(state.login_gate.in_flight()));
        if let Some(cache) = &state.services.cache {
            let stats = cache.stats();
            self.cache_entries.set(gauge_value(stats.entries));
            // The cache counts; the counters catch up with it.
            self.cache_hits
                .inc_by(stats.hits.saturating_sub(self.cache_hits.get()));
            self.cache_misses
                .inc_by(stats.misses.saturating_sub(self.cache_misses.get()));
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

fn gauge_value(count: usize) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// The dialect a route pattern belongs to.
fn dialect(route: &str) -> &'static str {
    let first = route
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    match first {
        "authentication" | "user" => "flow",
        "auth" => "tokens",
        "v2" => "bimplus",
        "login_api" | "account" => "gradido",
        "login" | "bankid" | "reset" | "oauth2" | "oidc" => "lime",
        "healthz" | "readyz" | "openapi.json" | "metrics" => "service",
        _ => "none",
    }
}

/// Middleware (`actix_web::middleware::from_fn`) counting and timing every
/// request; wrap it inside the request-id middleware.
pub async fn record(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let metrics = request
        .app_data::<web::Data<AppState>>()
        .map(|state| state.metrics.clone());
    // A path that matches no route is not recorded: it may carry a token.
    let route = request.match_pattern().unwrap_or_else(|| "(no route)".to_owned());
    let method = request.method().to_string();
    let outcome = next.call(request).await;
    if let Some(metrics) = metrics {
        let status = match &outcome {
            Ok(response) => response.status().as_u16(),
            Err(err) => err.as_response_error().status_code().as_u16(),
        };
        observe(&metrics, route, method, status, started);
    }
    outcome
}

fn observe(metrics: &Arc<Metrics>, route: String, method: String, status: u16, started: Instant) {
    let dialect = dialect(&route);
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

/// This node's metrics in the OpenMetrics text format, for Prometheus.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "service",
    responses((status = 200, description = "The metrics, OpenMetrics text", content_type = "application/openmetrics-text", body = String)),
)]
pub(crate) async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    match state.metrics.render(&state) {
        Ok(text) => HttpResponse::Ok().content_type(OPENMETRICS).body(text),
        Err(err) => {
            tracing::error!(%err, "cannot encode the metrics");
            HttpResponse::InternalServerError().finish()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_belong_to_their_dialect() {
        for (route, wanted) in [
            ("/authentication/login", "flow"),
            ("/user/{id}/enable2fa", "flow"),
            ("/auth/bump", "tokens"),
            ("/v2/authorize", "bimplus"),
            ("/login_api/unsecureLogin", "gradido"),
            ("/account/checkEmail/{code}", "gradido"),
            ("/login/", "lime"),
            ("/bankid/collect/", "lime"),
            ("/oauth2/authorize/", "lime"),
            ("/readyz", "service"),
            ("(no route)", "none"),
        ] {
            assert_eq!(dialect(route), wanted, "{route}");
        }
    }

    #[test]
    fn the_exposition_names_every_metric() {
        let metrics = Arc::new(Metrics::new());
        observe(&metrics, "/auth/login".into(), "POST".into(), 200, Instant::now());
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
        ] {
            assert!(text.contains(&format!("# TYPE {name}")), "{name} in {text}");
        }
    }
}
