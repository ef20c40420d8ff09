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
    /// The number `unsecureLogin` answered. A JSON number with a zero
    /// fraction (`-127182.0`) is the same number.
    #[schema(value_type = i32, required = true)]
    #[serde(default, deserialize_with = "integral")]
    session_id: Option<i32>,
}

/// A 32-bit integer, written as JSON writes integers or with a zero fraction.
fn integral<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<i32>, D::Error> {
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let whole = number.as_i64().or_else(|| {
        number
            .as_f64()
            .filter(|value| value.fract() == 0.0 && value.abs() <= f64::from(i32::MAX) + 1.0)
            .map(|value| value as i64)
    });
    whole
        .and_then(|value| i32::try_from(value).ok())
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom(format!("session_id {number} is not a 32-bit integer")))
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
