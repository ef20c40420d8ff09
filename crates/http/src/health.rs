//! Liveness, readiness, and the answer for unknown routes.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::AppState;

/// Registers `/healthz` and `/readyz`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

/// The process is up and serving.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The backends answer; 503 while they do not, so a load balancer routes around this node.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match (state.readiness)().await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ready"})),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            HttpResponse::ServiceUnavailable().json(json!({"status": "unavailable"}))
        }
    }
}

/// No dialect has this route.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(json!({"code": 404, "message": "no such endpoint"}))
}
