//! `GET /v2/authorize` (what a token is) and `DELETE /v2/authorize` (end it), as
//! the original service offers them next to `POST`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use limen_domain::services::Session;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{BimplusError, ErrorBody};
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

/// What `GET /v2/authorize` answers.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenInfo<'a> {
    /// The e-mail address of the token's user.
    user_id: &'a str,
    /// Seconds the token has left.
    expires_in: i64,
}

/// Who the token belongs to and how long it has left.
#[utoipa::path(
    get,
    path = "/v2/authorize",
    operation_id = "bimplus_token_info",
    tag = "bimplus",
    security(("bimplusToken" = [])),
    responses(
        (status = 200, description = "The token's user and remaining lifetime", body = TokenInfo),
        (status = 401, description = "The token is missing, unknown, expired or revoked", body = ErrorBody),
    ),
)]
pub async fn info(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, BimplusError> {
    let session = session(&req, &state).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(TokenInfo {
            user_id: &session.user.email,
            expires_in: session.seconds_left(),
        }))
}

/// Revokes the token at once.
#[utoipa::path(
    delete,
    path = "/v2/authorize",
    operation_id = "bimplus_revoke",
    tag = "bimplus",
    security(("bimplusToken" = [])),
    responses(
        (status = 204, description = "The token is revoked"),
        (status = 401, description = "The token is missing, unknown, expired or revoked", body = ErrorBody),
    ),
)]
pub async fn revoke(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, BimplusError> {
    let session = session(&req, &state).await?;
    state.services.sessions.logout(&session).await?;
    Ok(HttpResponse::NoContent().finish())
}
