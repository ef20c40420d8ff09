//! `POST /authentication/logout`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::FlowError;
use super::error::ErrorBody;
use super::session::FlowSession;
use crate::AppState;
use crate::body::{LenientBool, decode, read_limited};

/// The documented `LogoutRequest`; the redirect fields are accepted and ignored
/// (an API client follows no redirect, and an open redirect is a risk).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = FlowLogoutRequest)]
pub(crate) struct LogoutRequest {
    /// End every session of the user, not only this one.
    #[serde(rename = "allSessions", default)]
    all_sessions: LenientBool,
}

/// Revokes the presented token, or with `allSessions` every token of its user.
#[utoipa::path(
    post,
    path = "/authentication/logout",
    operation_id = "flow_logout",
    tag = "flow",
    security(("flowBearer" = []), ("flowQueryToken" = []), ("flowCookie" = [])),
    request_body(content(
        (LogoutRequest = "application/json"),
        (LogoutRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Logged out; the body is empty"),
        (status = 400, description = "The body is unusable", body = ErrorBody),
        (status = 401, description = "The token is missing, unknown, expired or revoked", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "Neither JSON nor form parameters", body = ErrorBody),
    ),
)]
pub async fn logout(
    FlowSession(session): FlowSession,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, FlowError> {
    let body = read_limited(&req, payload, state.settings.max_body_bytes).await?;
    let request: LogoutRequest = decode(&req, &body)?;
    if request.all_sessions.0 {
        let revoked = state.services.sessions.logout_everywhere(session.user.id).await?;
        tracing::info!(user_id = %session.user.id, revoked, "logged out of all sessions");
    } else {
        state.services.sessions.logout(&session).await?;
        tracing::info!(user_id = %session.user.id, "logged out");
    }
    Ok(HttpResponse::Ok().finish())
}
