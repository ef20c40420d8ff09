//! The dialect's error answer, `{"success": false, "error": "..."}`, and the one
//! mapping from domain errors to it.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use limen_domain::DomainError;
use limen_domain::model::BankIdStatus;
use serde::Serialize;
use utoipa::ToSchema;

use super::progress::Message;
use crate::body::{BodyError, DecodeError};

/// The dialect's failure, as the document shows it for a login (`success`
/// false and an `error` text); BankID failures add the status and the user
/// message to show.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LimeError)]
pub(crate) struct ErrorBody {
    /// Always false.
    success: bool,
    /// What went wrong, in English.
    error: String,
    /// The BankID status that ended the login, when BankID was involved.
    #[serde(rename = "progressStatus", skip_serializing_if = "Option::is_none")]
    progress_status: Option<&'static str>,
    /// The message BankID recommends showing, in Swedish and English.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Message>,
}

/// An error answer of the `lime` dialect.
#[derive(Debug)]
pub struct LimeError {
    status: StatusCode,
    error: String,
    bankid: Option<BankIdStatus>,
    retry_after: Option<u64>,
}

impl LimeError {
    fn new(status: StatusCode, error: impl Into<String>) -> Self {
        Self {
            status,
            error: error.into(),
            bankid: None,
            retry_after: None,
        }
    }

    /// 400: the request is unusable.
    pub fn bad_request(error: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error)
    }

    /// 404 with this text.
    pub fn not_found(error: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, error)
    }

    /// 403 with this text.
    pub fn forbidden(error: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, error)
    }

    /// 401: the API key is missing or wrong.
    pub fn api_key_required() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "A valid API key is required.")
    }

    /// A failure with the BankID status and message to show.
    pub fn bankid(status: StatusCode, bankid: BankIdStatus) -> Self {
        Self {
            bankid: Some(bankid),
            ..Self::new(status, bankid.message.en)
        }
    }
}

fn seconds_until(until: chrono::DateTime<chrono::Utc>) -> Option<u64> {
    u64::try_from((until - chrono::Utc::now()).num_seconds().max(1)).ok()
}

impl From<DomainError> for LimeError {
    fn from(err: DomainError) -> Self {
        match err {
            // One answer for an unknown user and a wrong password.
            DomainError::InvalidCredentials | DomainError::AccountDisabled => {
                Self::new(StatusCode::UNAUTHORIZED, "Invalid username or password.")
            }
            DomainError::AccountLocked { until } => Self {
                retry_after: seconds_until(until),
                ..Self::new(
                    StatusCode::FORBIDDEN,
                    format!(
                        "The account is locked after too many failed attempts until {}.",
                        until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    ),
                )
            },
            DomainError::SecondFactorRequired => Self::new(
                StatusCode::FORBIDDEN,
                "This account has two-factor authentication, which a password login here cannot take; \
                 log in with BankID.",
            ),
            DomainError::EmailNotVerified => Self::new(
                StatusCode::FORBIDDEN,
                "The e-mail address of this account is not verified yet.",
            ),
            DomainError::TooManyAttempts { until } => Self {
                retry_after: seconds_until(until),
                ..Self::new(StatusCode::TOO_MANY_REQUESTS, "Too many attempts; retry later.")
            },
            DomainError::InvalidInput(message) => Self::bad_request(message),
            DomainError::InvalidToken => Self::new(StatusCode::NOT_FOUND, "Unknown, expired or finished."),
            DomainError::NoUserForPersonalNumber => {
                Self::new(StatusCode::UNAUTHORIZED, "No user has this personal number.")
            }
            DomainError::BankIdInProgress => {
                Self::bankid(StatusCode::CONFLICT, BankIdStatus::ALREADY_IN_PROGRESS)
            }
            DomainError::ReadOnlyDirectory => Self::new(
                StatusCode::FORBIDDEN,
                "The user directory does not allow changing passwords.",
            ),
            DomainError::NotEnabled(what) => {
                Self::bad_request(format!("{what} is not enabled on this server."))
            }
            DomainError::Busy => Self {
                retry_after: Some(1),
                ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "Too busy; retry shortly.")
            },
            DomainError::BankIdUnavailable(cause) => {
                tracing::warn!(%cause, "a service Limen depends on is unavailable");
                Self {
                    retry_after: Some(5),
                    ..Self::bankid(StatusCode::SERVICE_UNAVAILABLE, BankIdStatus::UNAVAILABLE)
                }
            }
            DomainError::Unavailable(cause) => {
                tracing::warn!(%cause, "a service Limen depends on is unavailable");
                Self {
                    retry_after: Some(5),
                    ..Self::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "A service this server depends on is unavailable; retry shortly.",
                    )
                }
            }
            other => {
                tracing::error!(cause = %other, "internal error");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "An internal error occurred.")
            }
        }
    }
}

impl From<BodyError> for LimeError {
    fn from(err: BodyError) -> Self {
        match err {
            BodyError::TooLarge => Self::new(StatusCode::PAYLOAD_TOO_LARGE, "The request body is too large."),
            BodyError::Unreadable => Self::bad_request("The request body could not be read."),
        }
    }
}

impl From<DecodeError> for LimeError {
    fn from(err: DecodeError) -> Self {
        match err {
            DecodeError::UnsupportedType => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "The body must be application/json or application/x-www-form-urlencoded.",
            ),
            DecodeError::Invalid(message) => Self::bad_request(message),
        }
    }
}

impl std::fmt::Display for LimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status.as_u16(), self.error)
    }
}

impl ResponseError for LimeError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(seconds)));
        }
        response
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(ErrorBody {
                success: false,
                error: self.error.clone(),
                progress_status: self.bankid.map(|status| status.name),
                message: self.bankid.map(|status| Message::from(status.message)),
            })
    }
}

/// 405 in the dialect's shape, for other methods on its routes.
pub async fn method_not_allowed() -> HttpResponse {
    LimeError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "This method is not allowed on this endpoint.",
    )
    .error_response()
}
