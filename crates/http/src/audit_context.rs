//! Every request runs in an audit context: what it records names the client's
//! address, the dialect and the request's id.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use limen_domain::model::{Actor, AuditContext};

use crate::AppState;
use crate::dialect::{LOGIN_APIS, dialect_of};
use crate::request_id::RequestIdentity;
use crate::route_pattern::route_pattern;

/// Middleware (`actix_web::middleware::from_fn`) that runs the request in its
/// audit context; wrap it inside the request-id middleware.
pub async fn audit_context(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let client = request
        .app_data::<web::Data<AppState>>()
        .map(|state| state.client(request.request()))
        .unwrap_or_default();
    let dialect =
        Some(dialect_of(&route_pattern(request.request()))).filter(|dialect| LOGIN_APIS.contains(dialect));
    let request_id = request
        .extensions()
        .get::<RequestIdentity>()
        .map(|id| id.0.clone());
    let context = AuditContext {
        actor: Actor::Request,
        client,
        dialect,
        request_id,
    };
    context.scope(next.call(request)).await
}
