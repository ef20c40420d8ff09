//! The dialect's error answer. The document shows none; Limen answers
//! `{"error": "<code>", "message": "<text>"}` (see docs/api/bimplus.md).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use limen_domain::{DomainError, ErrorClass};
use serde::Serialize;
use utoipa::ToSchema;

use crate::body::BodyError;
use crate::refusal::{Refusal, Row, Text};

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
pub struct BimplusError(Refusal);

/// The dialect's answer to each class of domain error.
fn table(class: ErrorClass) -> Row {
    match class {
        ErrorClass::WrongCredentials | ErrorClass::Disabled => {
            Row::fixed(401, "invalid_credentials", "The user id or password is wrong.")
        }
        ErrorClass::InvalidToken => Row::fixed(
            401,
            "invalid_remember_me_token",
            "The remember-me token is unknown, expired, revoked, or was issued to another client.",
        ),
        ErrorClass::SecondFactorRequired => Row::fixed(
            401,
            "second_factor_required",
            "This account requires a second factor, which this API cannot take.",
        ),
        ErrorClass::Locked(until) => Row::new(
            403,
            "account_locked",
            Text::Owned(format!(
                "The account is locked after too many failed attempts until {until}."
            )),
        ),
        ErrorClass::EmailNotVerified => Row::fixed(
            403,
            "email_not_verified",
            "The e-mail address of this account is not verified yet.",
        ),
        ErrorClass::Throttled(until) => Row::new(
            429,
            "too_many_attempts",
            Text::Owned(format!(
                "Too many failed logins from this address; retry after {until}."
            )),
        ),
        ErrorClass::Busy => Row::fixed(503, "busy", "Too busy; retry shortly."),
        ErrorClass::InvalidInput => Row::new(400, "invalid_request", Text::OfError),
        ErrorClass::Unavailable => Row::fixed(
            503,
            "temporarily_unavailable",
            "A service this server depends on is unavailable; retry shortly.",
        ),
        ErrorClass::WrongCode
        | ErrorClass::NotFound
        | ErrorClass::Conflict
        | ErrorClass::Forbidden
        | ErrorClass::NotEnabled
        | ErrorClass::IdentityRefused
        | ErrorClass::Internal => Row::fixed(500, "internal_error", "An internal error occurred."),
    }
}

impl BimplusError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self(Refusal::new(status, code, message))
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
        Self(Refusal::of(&err, table))
    }
}

impl std::fmt::Display for BimplusError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for BimplusError {
    fn status_code(&self) -> StatusCode {
        self.0.status
    }

    fn error_response(&self) -> HttpResponse {
        self.0.response().json(ErrorBody {
            error: self.0.code,
            message: &self.0.text,
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
