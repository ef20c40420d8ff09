//! Liveness, readiness, metrics, and the answers of the service routes (unknown
//! paths, other methods).

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::metrics::OPENMETRICS;

/// Registers `/healthz` and `/readyz` on the main listener, and `/metrics`
/// when `metrics` says so; other methods on them answer 405.
pub fn routes(cfg: &mut web::ServiceConfig, metrics: bool) {
    get_only(cfg, "/healthz", web::get().to(healthz));
    get_only(cfg, "/readyz", web::get().to(readyz));
    if metrics {
        get_only(cfg, "/metrics", web::get().to(scrape));
    }
}

/// Registers the management listener's routes: `/metrics`, `/healthz` and
/// `/readyz`.
pub fn management_routes(cfg: &mut web::ServiceConfig) {
    get_only(cfg, "/metrics", web::get().to(scrape));
    get_only(cfg, "/healthz", web::get().to(healthz));
    get_only(cfg, "/readyz", web::get().to(readyz));
}

/// Registers `route` at `path`; other methods answer 405 with `Allow: GET`.
pub(crate) fn get_only(cfg: &mut web::ServiceConfig, path: &str, route: actix_web::Route) {
    cfg.service(
        web::resource(path)
            .route(route)
            .default_service(web::to(method_not_allowed)),
    );
}

/// The answer of `/healthz` and `/readyz`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Health {
    /// `ok` (`/healthz`), `ready` or `unavailable` (`/readyz`).
    status: &'static str,
}

/// The process is up and serving.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "service",
    responses((status = 200, description = "Serving; `status` is `ok`", body = Health)),
)]
pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The backends answer; 503 while they do not, so a load balancer routes around this node.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "service",
    responses(
        (status = 200, description = "The backends answer; `status` is `ready`", body = Health),
        (status = 503, description = "A backend does not answer; `status` is `unavailable`", body = Health),
    ),
)]
pub(crate) async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let failing: Vec<_> = (state.readiness)()
        .await
        .into_iter()
        .filter_map(|dependency| Some((dependency.name, dependency.error?)))
        .collect();
    if failing.is_empty() {
        return HttpResponse::Ok().json(Health { status: "ready" });
    }
    for (dependency, reason) in failing {
        tracing::warn!(dependency, %reason, "not ready");
    }
    HttpResponse::ServiceUnavailable().json(Health {
        status: "unavailable",
    })
}

/// This node's metrics in the OpenMetrics text format, for Prometheus: on
/// the management listener (not in the public API's description).
async fn scrape(state: web::Data<AppState>) -> HttpResponse {
    match state.metrics.render(&state.services, &state.login_gate) {
        Ok(text) => HttpResponse::Ok().content_type(OPENMETRICS).body(text),
        Err(err) => {
            tracing::error!(%err, "cannot encode the metrics");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// Another method than GET on a service route.
async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((actix_web::http::header::ALLOW, "GET"))
        .json(ServiceError {
            code: 405,
            message: "only GET is allowed here",
        })
}

/// No dialect has this route.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(ServiceError {
        code: 404,
        message: "no such endpoint",
    })
}

/// The answer of the service routes (`/healthz`, `/readyz`, unknown paths).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ServiceError)]
pub(crate) struct ServiceError {
    /// The HTTP status again.
    pub code: u16,
    /// What went wrong.
    pub message: &'static str,
}
