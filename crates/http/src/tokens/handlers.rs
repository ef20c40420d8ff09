//! `POST /auth/login`, `/auth/bump`, `/auth/logout`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use limen_domain::model::{Password, TokenRecord};
use limen_domain::services::TokenRequest;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ErrorBody, TokensError};
use super::negotiation::{JsonAccept, accepts_json};
use crate::AppState;
use crate::body::{BodyKind, body_kind, json_object_text, read_limited};
use crate::credentials::{basic_credentials, x_auth_token};

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// The documented `UserToken` object.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserToken<'a> {
    /// ISO 8601 with the offset.
    creation_time: String,
    enabled: bool,
    expiration_time: String,
    last_usage_time: Option<String>,
    note: Option<&'a str>,
    /// The secret; sent with the username as `X-Auth-Token: Base64(user:token)`.
    token: &'a str,
    version: i64,
}

impl<'a> UserToken<'a> {
    fn new(token: &'a str, record: &'a TokenRecord) -> Self {
        Self {
            creation_time: time(record.created_at),
            enabled: record.enabled,
            expiration_time: time(record.expires_at),
            last_usage_time: record.last_used_at.map(time),
            note: record.attributes.note.as_deref(),
            token,
            version: record.version,
        }
    }
}

/// The answer of `/auth/bump`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Bumped {
    /// The login just recorded.
    last_login_time: String,
}

/// The answer of `/auth/logout`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LoggedOut {
    /// Always true.
    success: bool,
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
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = TokensLoginRequest)]
pub(crate) struct LoginRequest {
    /// A note kept with the token.
    #[schema(max_length = 255, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    note: Option<String>,
    /// When the token should expire: RFC 3339, in the future and within
    /// `dialects.tokens.max_token_ttl_secs` of now.
    #[serde(rename = "expirationTime")]
    #[schema(format = DateTime)]
    expiration_time: Option<String>,
}

impl LoginRequest {
    /// Reads the optional JSON body; an empty body asks for the defaults.
    pub(crate) fn parse(req: &HttpRequest, body: &[u8]) -> Result<TokenRequest, TokensError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(TokenRequest::default());
        }
        if !matches!(body_kind(req), BodyKind::Json | BodyKind::Unspecified) {
            return Err(TokensError::unsupported_media_type());
        }
        let text = json_object_text(body).map_err(TokensError::bad_request)?;
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
#[utoipa::path(
    post,
    path = "/auth/login",
    operation_id = "tokens_login",
    tag = "tokens",
    security(("basic" = [])),
    params(("Accept" = Option<JsonAccept>, Header, nullable = false, description = "Must allow application/json; absent means anything")),
    request_body(content = Option<LoginRequest>, content_type = "application/json", description = "Optional; empty for the defaults"),
    responses(
        (status = 200, description = "A new token", body = UserToken),
        (status = 400, description = "The body is unusable", body = ErrorBody),
        (status = 401, description = "Missing or wrong credentials, or a locked account", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Basic realm=\"limen\"`"))),
        (status = 406, description = "The client accepts no JSON", body = String, content_type = "text/plain"),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "A body that is not JSON", body = ErrorBody),
        (status = 429, description = "Too many failed logins from this address; retry after `Retry-After`", body = ErrorBody),
        (status = 503, description = "Too many logins at once; retry after `Retry-After`", body = ErrorBody),
    ),
)]
pub async fn login(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, TokensError> {
    negotiate(&req)?;
    let _admitted = state.admit_login(&req)?;
    let (username, password) =
        basic_credentials(&req).map_err(|_| TokensError::login_failed("Basic authorization is required."))?;
    let body = read_limited(&req, payload, state.settings.max_body_bytes).await?;
    let request = LoginRequest::parse(&req, &body)?;
    let issued = state
        .services
        .api_tokens
        .login(&username, &Password::new(password), &state.client(&req), request)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(UserToken::new(&issued.plaintext, &issued.record)))
}

/// Records a login now for the user of the `X-Auth-Token`.
#[utoipa::path(
    post,
    path = "/auth/bump",
    operation_id = "tokens_bump",
    tag = "tokens",
    security(("xAuthToken" = [])),
    params(("Accept" = Option<JsonAccept>, Header, nullable = false, description = "Must allow application/json; absent means anything")),
    responses(
        (status = 200, description = "The login was recorded", body = Bumped),
        (status = 401, description = "The token is missing, unknown, disabled, expired or not the user's", body = ErrorBody),
        (status = 406, description = "The client accepts no JSON", body = String, content_type = "text/plain"),
    ),
)]
pub async fn bump(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, TokensError> {
    negotiate(&req)?;
    let (owner, token) = x_auth_token(&req)?;
    let session = state.services.api_tokens.authenticate(&owner, &token).await?;
    let when = state.services.api_tokens.bump(&session).await?;
    Ok(HttpResponse::Ok().json(Bumped {
        last_login_time: time(when),
    }))
}

/// Revokes the `X-Auth-Token`'s token.
#[utoipa::path(
    post,
    path = "/auth/logout",
    operation_id = "tokens_logout",
    tag = "tokens",
    security(("xAuthToken" = [])),
    params(("Accept" = Option<JsonAccept>, Header, nullable = false, description = "Must allow application/json; absent means anything")),
    responses(
        (status = 200, description = "The token is revoked", body = LoggedOut),
        (status = 401, description = "The token is missing, unknown, disabled, expired or not the user's", body = ErrorBody),
        (status = 406, description = "The client accepts no JSON", body = String, content_type = "text/plain"),
    ),
)]
pub async fn logout(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, TokensError> {
    negotiate(&req)?;
    let (owner, token) = x_auth_token(&req)?;
    let session = state.services.api_tokens.authenticate(&owner, &token).await?;
    state.services.sessions.logout(&session).await?;
    Ok(HttpResponse::Ok().json(LoggedOut { success: true }))
}
