//! `POST /auth/login`, `/auth/bump`, `/auth/logout`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use limen_domain::DomainError;
use limen_domain::model::{Password, TokenRecord};
use limen_domain::services::TokenRequest;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::TokensError;
use super::negotiation::accepts_json;
use crate::AppState;
use crate::body::{BodyKind, body_kind, json_text, read_limited};
use crate::credentials::{basic_credentials, x_auth_token};

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// The documented `UserToken` object.
fn user_token(token: &str, record: &TokenRecord) -> Value {
    json!({
        "creationTime": time(record.created_at),
        "enabled": record.enabled,
        "expirationTime": time(record.expires_at),
        "lastUsageTime": record.last_used_at.map(time),
        "note": record.attributes.note,
        "token": token,
        "version": record.version,
    })
}

fn negotiate(req: &HttpRequest) -> Result<(), TokensError> {
    if accepts_json(req) {
        Ok(())
    } else {
        Err(TokensError::not_acceptable())
    }
}

/// The optional body of a login: what the new token should carry. Unknown fields
/// are ignored.
#[derive(Debug, Default, Deserialize)]
struct LoginRequest {
    note: Option<String>,
    #[serde(rename = "expirationTime")]
    expiration_time: Option<String>,
}

impl LoginRequest {
    /// Reads the optional JSON body; an empty body asks for the defaults.
    fn parse(req: &HttpRequest, body: &[u8]) -> Result<TokenRequest, TokensError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(TokenRequest::default());
        }
        if !matches!(body_kind(req), BodyKind::Json | BodyKind::Unspecified) {
            return Err(TokensError::unsupported_media_type());
        }
        let text = json_text(body).map_err(TokensError::bad_request)?;
        let request: LoginRequest = serde_json::from_str(text)
            .map_err(|err| TokensError::bad_request(format!("Invalid JSON body: {err}")))?;
        let expires_at = request
            .expiration_time
            .map(|text| {
                DateTime::<FixedOffset>::parse_from_rfc3339(text.trim())
                    .map(|at| at.with_timezone(&Utc))
                    .map_err(|_| {
                        TokensError::bad_request(format!(
                            "expirationTime {text:?} is not an ISO 8601 time with an offset"
                        ))
                    })
            })
            .transpose()?;
        Ok(TokenRequest {
            note: request.note,
            expires_at,
        })
    }
}

/// Logs in with HTTP Basic and answers a new `UserToken`.
pub async fn login(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, TokensError> {
    negotiate(&req)?;
    let (username, password) =
        basic_credentials(&req).map_err(|_| TokensError::login_failed("Basic authorization is required."))?;
    let body = read_limited(&req, payload, state.settings.max_body_bytes).await?;
    let request = LoginRequest::parse(&req, &body)?;
    let issued = state
        .services
        .api_tokens
        .login(&username, &Password::new(password), request)
        .await
        .map_err(|err| match err {
            DomainError::InvalidCredentials | DomainError::AccountDisabled => {
                TokensError::login_failed("Authorization failed.")
            }
            other => other.into(),
        })?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(user_token(&issued.plaintext, &issued.record)))
}

/// Records a login now for the user of the `X-Auth-Token`.
pub async fn bump(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, TokensError> {
    negotiate(&req)?;
    let (owner, token) = x_auth_token(&req)?;
    let session = state.services.api_tokens.authenticate(&owner, &token).await?;
    let when = state.services.api_tokens.bump(&session).await?;
    Ok(HttpResponse::Ok().json(json!({"lastLoginTime": time(when)})))
}

/// Revokes the `X-Auth-Token`'s token.
pub async fn logout(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, TokensError> {
    negotiate(&req)?;
    let (owner, token) = x_auth_token(&req)?;
    let session = state.services.api_tokens.authenticate(&owner, &token).await?;
    state.services.sessions.logout(&session).await?;
    Ok(HttpResponse::Ok().json(json!({"success": true})))
}
