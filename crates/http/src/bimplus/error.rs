//! The dialect's error answer. The document shows none; Limen answers
//! `{"error": "<code>", "message": "<text>"}` (see docs/api/bimplus.md).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use limen_domain::DomainError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::body::BodyError;

/// The dialect's error body.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BimplusError)]
pub(crate) struct ErrorBody<'a> {
    /// A code such as `invalid_credentials`.
    error: &'a str,
    /// What went wrong, for a person.
    message: &'a str,
}

/// An error answer of the `bimplus` dialect.
#[derive(Debug)]
pub struct BimplusError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl BimplusError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400: the request is unusable.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// 401 for a missing, unknown, expired or revoked access token.
    pub fn invalid_access_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "The access token is missing, unknown, expired or revoked.",
        )
    }

    /// 415: not JSON.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "The body must be application/json.",
        )
    }
}

impl From<BodyError> for BimplusError {
    fn from(err: BodyError) -> Self {
        match err {
            BodyError::TooLarge => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "The body is too large.",
            ),
            BodyError::Unreadable => Self::invalid_request("The body could not be read."),
        }
    }
}

impl From<DomainError> for BimplusError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::InvalidCredentials | DomainError::AccountDisabled => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "The user id or password is wrong.",
            ),
            DomainError::InvalidToken => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_remember_me_token",
                "The remember-me token is unknown, expired, revoked, or was issued to another client.",
            ),
            DomainError::SecondFactorRequired => Self::new(
                StatusCode::UNAUTHORIZED,
                "second_factor_required",
                "This account requires a second factor, which this API cannot take.",
            ),
            DomainError::AccountLocked { until } => Self::new(
                StatusCode::FORBIDDEN,
                "account_locked",
                format!(
                    "The account is locked after too many failed attempts until {}.",
                    until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
            ),
            DomainError::EmailNotVerified => Self::new(
                StatusCode::FORBIDDEN,
                "email_not_verified",
                "The e-mail address of this account is not verified yet.",
            ),
            DomainError::TooManyAttempts { until } => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                format!(
                    "Too many failed logins from this address; retry after {}.",
                    until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
            ),
            DomainError::Busy => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "Too busy; retry shortly.",
            ),
            DomainError::InvalidInput(message) => Self::invalid_request(message),
            DomainError::Unavailable(cause) => {
                tracing::warn!(%cause, "a service Limen depends on is unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "A service this server depends on is unavailable; retry shortly.",
                )
            }
            other => {
                tracing::error!(cause = %other, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "An internal error occurred.",
                )
            }
        }
    }
}

impl std::fmt::Display for BimplusError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl ResponseError for BimplusError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(1)));
        }
        response.json(ErrorBody {
            error: self.code,
            message: &self.message,
        })
    }
}

/// 405 for other methods.
pub async fn method_not_allowed() -> HttpResponse {
    BimplusError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Use POST, GET or DELETE.",
    )
    .error_response()
}
