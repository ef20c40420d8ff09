//! The dialect's error answer: `{"message": "..."}`, as a Flask API answers.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use limen_domain::DomainError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::body::BodyError;
use crate::credentials::TokenError;

/// The dialect's error body.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TokensError)]
pub(crate) struct ErrorBody<'a> {
    /// What went wrong, for a person.
    message: &'a str,
}

/// An error answer of the `tokens` dialect.
#[derive(Debug)]
pub struct TokensError {
    status: StatusCode,
    message: String,
    challenge: bool,
    retry_after: Option<u64>,
}

impl TokensError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            challenge: false,
            retry_after: None,
        }
    }

    /// 401 for a failed `/auth/login`, with a Basic challenge.
    pub fn login_failed(message: impl Into<String>) -> Self {
        Self {
            challenge: true,
            ..Self::new(StatusCode::UNAUTHORIZED, message)
        }
    }

    /// 406: the client accepts nothing Limen can produce.
    pub fn not_acceptable() -> Self {
        Self::new(
            StatusCode::NOT_ACCEPTABLE,
            "This server answers application/json only.",
        )
    }

    /// 400: the body is unusable.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 415: a body that is not JSON.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "The body must be application/json.",
        )
    }

    fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Authorization failed.")
    }
}

impl From<TokenError> for TokensError {
    fn from(_: TokenError) -> Self {
        Self::unauthorized()
    }
}

impl From<BodyError> for TokensError {
    fn from(err: BodyError) -> Self {
        match err {
            BodyError::TooLarge => Self::new(StatusCode::PAYLOAD_TOO_LARGE, "The request body is too large."),
            BodyError::Unreadable => Self::bad_request("The request body could not be read."),
        }
    }
}

impl From<DomainError> for TokensError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::InvalidCredentials | DomainError::InvalidToken | DomainError::AccountDisabled => {
                Self::unauthorized()
            }
            DomainError::SecondFactorRequired => Self::new(
                StatusCode::UNAUTHORIZED,
                "This account requires a second factor; log in through an API that supports it.",
            ),
            // The document lists only 401 for a failed authorization; a lock is one,
            // with the time it lifts in the message and in `Retry-After`.
            DomainError::AccountLocked { until } => Self {
                retry_after: u64::try_from((until - chrono::Utc::now()).num_seconds().max(1)).ok(),
                ..Self::new(
                    StatusCode::UNAUTHORIZED,
                    format!(
                        "The account is locked after too many failed attempts until {}.",
                        until.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
                    ),
                )
            },
            DomainError::EmailNotVerified => Self::new(
                StatusCode::UNAUTHORIZED,
                "The e-mail address of this account is not verified yet.",
            ),
            DomainError::TooManyAttempts { until } => Self {
                retry_after: u64::try_from((until - chrono::Utc::now()).num_seconds().max(1)).ok(),
                ..Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many failed attempts from this address; retry later.",
                )
            },
            DomainError::Busy => Self {
                retry_after: Some(1),
                ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "Too busy; retry shortly.")
            },
            DomainError::InvalidInput(message) => Self::bad_request(message),
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

impl std::fmt::Display for TokensError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status.as_u16(), self.message)
    }
}

impl ResponseError for TokensError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if self.challenge {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"limen\""),
            ));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(seconds)));
        }
        if self.status == StatusCode::NOT_ACCEPTABLE {
            return response
                .content_type("text/plain; charset=utf-8")
                .body(self.message.clone());
        }
        response.json(ErrorBody {
            message: &self.message,
        })
    }
}

/// 405 for other methods.
pub async fn method_not_allowed() -> HttpResponse {
    TokensError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "The method is not allowed for the requested URL.",
    )
    .error_response()
}

/// 404 under `/auth`.
pub async fn not_found() -> HttpResponse {
    TokensError::new(
        StatusCode::NOT_FOUND,
        "The requested URL was not found on the server.",
    )
    .error_response()
}
