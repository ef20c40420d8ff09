//! `POST /login_api/logout`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::{ErrorBody, GradidoError};
use super::request::json_object;
use super::success::Succeeded;
use crate::AppState;

/// The documented body.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = GradidoLogoutRequest)]
pub(crate) struct LogoutRequest {
    /// The number `unsecureLogin` answered.
    #[schema(required = true)]
    session_id: Option<i32>,
}

/// Ends the session, if it was created from the caller's address.
#[utoipa::path(
    post,
    path = "/login_api/logout",
    operation_id = "gradido_logout",
    tag = "gradido",
    request_body(content = LogoutRequest, content_type = "application/json",
        example = json!({"session_id": -127182})),
    responses(
        (status = 200, description = "The session is ended", body = Succeeded),
        (status = 400, description = "session_id is missing or the body is not a JSON object", body = ErrorBody),
        (status = 401, description = "No such session from this address", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 429, description = "Too many unknown session ids from this address", body = ErrorBody),
    ),
)]
pub async fn logout(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GradidoError> {
    let request: LogoutRequest = json_object(&req, payload, &state).await?;
    let number = request
        .session_id
        .ok_or_else(|| GradidoError::bad_request("no session_id given", None))?;
    state
        .services
        .numeric_sessions
        .logout(number, &state.client(&req))
        .await?;
    Ok(HttpResponse::Ok().json(Succeeded::new()))
}
