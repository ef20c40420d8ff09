//! `GET /admin/v1/config` and `GET /admin/v1/readiness`: what this node runs
//! with, and whether each backend answers.

use actix_web::{HttpRequest, HttpResponse, web};
use limen_domain::model::AdminScope;
use serde::Serialize;
use utoipa::ToSchema;

use super::admin;
use crate::AppState;

/// The running configuration, as the configuration file would spell it,
/// with every secret (database URL password, keys, client secrets, API
/// keys) replaced by `"********"`.
#[utoipa::path(
    get,
    path = "/admin/v1/config",
    operation_id = "admin_config",
    tag = "admin",
    security(("adminToken" = ["config:read"])),
    responses((status = 200, description = "The configuration, secrets masked", body = Object)),
)]
pub(crate) async fn config(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    admin(&req, &state, AdminScope::ConfigRead, async {
        Ok(HttpResponse::Ok().json(state.configuration.as_ref()))
    })
    .await
}

/// Every backend's answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Readiness {
    /// `ready` when every backend answers, else `unavailable`.
    status: &'static str,
    /// Each backend: `database`, `redis` (when used), `directory`.
    dependencies: Vec<DependencyView>,
}

/// One backend's answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DependencyView {
    /// Its name.
    name: &'static str,
    /// Whether it answered.
    ready: bool,
    /// Why not.
    error: Option<String>,
}

/// Whether each backend answers now (the `/readyz` check, in detail).
#[utoipa::path(
    get,
    path = "/admin/v1/readiness",
    operation_id = "admin_readiness",
    tag = "admin",
    security(("adminToken" = ["config:read"])),
    responses(
        (status = 200, description = "Every backend answers", body = Readiness),
        (status = 503, description = "A backend does not answer", body = Readiness),
    ),
)]
pub(crate) async fn readiness(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    admin(&req, &state, AdminScope::ConfigRead, async {
        let dependencies: Vec<DependencyView> = (state.readiness)()
            .await
            .into_iter()
            .map(|dependency| DependencyView {
                name: dependency.name,
                ready: dependency.error.is_none(),
                error: dependency.error,
            })
            .collect();
        let ready = dependencies.iter().all(|dependency| dependency.ready);
        let answer = Readiness {
            status: if ready { "ready" } else { "unavailable" },
            dependencies,
        };
        Ok(if ready {
            HttpResponse::Ok().json(answer)
        } else {
            HttpResponse::ServiceUnavailable().json(answer)
        })
    })
    .await
}
