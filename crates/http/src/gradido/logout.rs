//! `POST /login_api/logout`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::client_ip;
use super::error::GradidoError;
use super::request::json_object;
use crate::AppState;

/// The documented body.
#[derive(Debug, Deserialize)]
struct LogoutRequest {
    session_id: Option<i32>,
}

/// Ends the session, if it was created from the caller's address.
pub async fn logout(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GradidoError> {
    let request: LogoutRequest = json_object(&req, payload, &state).await?;
    let number = request
        .session_id
        .ok_or_else(|| GradidoError::bad_request("no session_id given", None))?;
    let address = client_ip(&req, &state);
    state.services.numeric_sessions.logout(number, &address).await?;
    Ok(HttpResponse::Ok().json(json!({"state": "success"})))
}
