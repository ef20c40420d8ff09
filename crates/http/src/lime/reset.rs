//! `POST /reset/request/` and `POST /reset/`: password reset by e-mail.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use limen_domain::model::Password;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ErrorBody;
use super::{LimeError, api_key};
use crate::AppState;
use crate::body::{decode, read_limited};

/// The documented parameter.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = LimeResetRequest)]
pub(crate) struct ResetRequest {
    /// The username: something besides spaces, no control characters, at
    /// most 254 characters.
    #[schema(value_type = String, required = true, max_length = 254, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
    username: Option<String>,
}

/// The documented answer: the same whether or not the username exists.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LimeResetRequested)]
pub(crate) struct ResetRequested {
    /// `Reset token set`.
    msg: &'static str,
    /// The token (a UUID), only for callers with a valid API key and only
    /// when one was set.
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

/// Asks for a password reset: a single-use token is e-mailed to the user.
#[utoipa::path(
    post,
    path = "/reset/request/",
    operation_id = "lime_reset_request",
    tag = "lime",
    security((), ("limeApiKey" = [])),
    request_body(content(
        (ResetRequest = "application/json", example = json!({"username": "john.doe"})),
        (ResetRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Done, or nothing to do: the same answer", body = ResetRequested),
        (status = 400, description = "`username` missing", body = ErrorBody),
        (status = 401, description = "A missing or wrong API key", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "Neither JSON nor form parameters", body = ErrorBody),
        (status = 429, description = "Too many requests for this username or from this address", body = ErrorBody),
    ),
)]
pub async fn request(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, LimeError> {
    let trusted = api_key::verified(&req, &state)?;
    let body = read_limited(&req, payload, state.settings.max_body_bytes).await?;
    let request: ResetRequest = decode(&req, &body)?;
    let username = request
        .username
        .filter(|name| !name.trim().is_empty())
        .ok_or_else(|| LimeError::bad_request("username is required."))?;
    let service = state.services.password_reset.clone();
    service.admit_request(&username, &state.client(&req)).await?;
    let token = if trusted {
        service.request(&username).await?
    } else {
        // The rest runs after the answer: its duration (a lookup, an e-mail)
        // would tell a known username from an unknown one.
        state.background.spawn(async move {
            if let Err(err) = service.request(&username).await {
                tracing::error!(error = %err, "a password reset request failed");
            }
        });
        None
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ResetRequested {
            msg: "Reset token set",
            token,
        }))
}

/// The documented parameters.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = LimeResetPassword)]
pub(crate) struct ResetPassword {
    /// The token from the e-mail.
    #[schema(value_type = String, required = true)]
    token: Option<String>,
    /// The username it was issued for.
    #[schema(value_type = String, required = true, max_length = 254, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
    username: Option<String>,
    /// The new password: 8 to 1024 characters.
    #[schema(value_type = String, required = true, min_length = 8, max_length = 1024)]
    new_password: Option<String>,
}

/// The documented answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LimePasswordUpdated)]
pub(crate) struct PasswordUpdated {
    /// `Password updated`.
    msg: &'static str,
}

/// Sets a new password with a reset token; every session of the user ends.
#[utoipa::path(
    post,
    path = "/reset/",
    operation_id = "lime_reset",
    tag = "lime",
    security((), ("limeApiKey" = [])),
    request_body(content(
        (ResetPassword = "application/json",
            example = json!({"token": "0b3b8a5e-6f4c-4a3e-9b1d-2f7d6c1e8a90", "username": "test", "new_password": "a new secret"})),
        (ResetPassword = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "The password is changed", body = PasswordUpdated),
        (status = 400, description = "A field missing, or the new password outside the policy", body = ErrorBody),
        (status = 401, description = "A missing or wrong API key", body = ErrorBody),
        (status = 403, description = "The user directory does not allow changing passwords", body = ErrorBody),
        (status = 404, description = "The token is unknown, used, expired, or another user's", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "Neither JSON nor form parameters", body = ErrorBody),
        (status = 503, description = "Too busy; retry after `Retry-After`", body = ErrorBody),
    ),
)]
pub async fn reset(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, LimeError> {
    api_key::verified(&req, &state)?;
    let body = read_limited(&req, payload, state.settings.max_body_bytes).await?;
    let request: ResetPassword = decode(&req, &body)?;
    let (Some(token), Some(username), Some(new_password)) =
        (request.token, request.username, request.new_password)
    else {
        return Err(LimeError::bad_request(
            "token, username and new_password are required.",
        ));
    };
    state
        .services
        .password_reset
        .reset(
            token.trim(),
            &username,
            &Password::new(new_password),
            &state.client(&req),
        )
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(PasswordUpdated {
            msg: "Password updated",
        }))
}
