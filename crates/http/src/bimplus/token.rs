//! `GET /v2/authorize` (what a token is) and `DELETE /v2/authorize` (end it), as
//! the original service offers them next to `POST`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use limen_domain::services::Session;
use serde_json::json;

use super::error::BimplusError;
use crate::AppState;
use crate::credentials::request_token;

/// The session of the request's `Authorization: BimPlus` (or `Bearer`) token.
async fn session(req: &HttpRequest, state: &AppState) -> Result<Session, BimplusError> {
    let token = request_token(req).map_err(|_| BimplusError::invalid_access_token())?;
    state
        .services
        .sessions
        .authenticate(&token)
        .await
        .map_err(|err| match err {
            limen_domain::DomainError::InvalidToken => BimplusError::invalid_access_token(),
            other => other.into(),
        })
}

/// Who the token belongs to and how long it has left.
pub async fn info(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, BimplusError> {
    let session = session(&req, &state).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"user_id": session.user.email, "expires_in": session.seconds_left()})))
}

/// Revokes the token at once.
pub async fn revoke(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, BimplusError> {
    let session = session(&req, &state).await?;
    state.services.sessions.logout(&session).await?;
    Ok(HttpResponse::NoContent().finish())
}
