//! `POST /auth/login`, `/auth/bump`, `/auth/logout`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, SecondsFormat, Utc};
use limen_domain::model::{Password, TokenRecord};
use serde_json::{Value, json};

use super::error::TokensError;
use super::negotiation::accepts_json;
use crate::AppState;
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

/// Logs in with HTTP Basic and answers a new `UserToken`.
pub async fn login(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, TokensError> {
    negotiate(&req)?;
    let (username, password) =
        basic_credentials(&req).map_err(|_| TokensError::login_failed("Basic authorization is required."))?;
    let issued = state
        .api_tokens
        .login(&username, &Password::new(password), state.settings.tokens.token_ttl)
        .await
        .map_err(|err| match err {
            limen_domain::DomainError::InvalidCredentials | limen_domain::DomainError::AccountDisabled => {
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
    let (username, token) = x_auth_token(&req)?;
    let session = state.api_tokens.authenticate(&username, &token).await?;
    let when = state.api_tokens.bump(&session).await?;
    Ok(HttpResponse::Ok().json(json!({"lastLoginTime": time(when)})))
}

/// Revokes the `X-Auth-Token`'s token.
pub async fn logout(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, TokensError> {
    negotiate(&req)?;
    let (username, token) = x_auth_token(&req)?;
    let session = state.api_tokens.authenticate(&username, &token).await?;
    state.sessions.logout(&session).await?;
    Ok(HttpResponse::Ok().json(json!({"success": true})))
}
