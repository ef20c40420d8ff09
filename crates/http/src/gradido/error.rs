//! The dialect's error answer, `{"state": "error", "msg": "...", "details": "..."}`,
//! with the original's texts where it has them (see docs/api/gradido.md).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use limen_domain::DomainError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::body::BodyError;

/// The dialect's error body.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = GradidoError)]
pub(crate) struct ErrorBody<'a> {
    /// `error`, or a more specific state such as `exist` or `disabled`.
    state: &'a str,
    /// The original's message, such as `password incorrect`.
    msg: &'a str,
    /// More on the cause, when there is more.
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a str>,
}

/// An error answer of the `gradido` dialect.
#[derive(Debug)]
pub struct GradidoError {
    status: StatusCode,
    state: &'static str,
    msg: &'static str,
    details: Option<String>,
    retry_after: Option<u64>,
}

impl GradidoError {
    fn new(status: StatusCode, state: &'static str, msg: &'static str) -> Self {
        Self {
            status,
            state,
            msg,
            details: None,
            retry_after: None,
        }
    }

    fn with_details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }

    /// 400 with `msg` and, when given, `details`.
    pub fn bad_request(msg: &'static str, details: Option<String>) -> Self {
        Self {
            details,
            ..Self::new(StatusCode::BAD_REQUEST, "error", msg)
        }
    }

    /// 403: the operator has not allowed passwords in JSON requests.
    pub fn password_requests_disabled() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "error",
            "password via JSON request is not allowed",
        )
        .with_details("the server's [dialects.gradido] allow_password_via_json_request is off")
    }

    /// 404 for a path under `/login_api` that names no call.
    pub fn unknown_call() -> Self {
        Self::new(StatusCode::NOT_FOUND, "error", "unknown call")
    }

    /// 405 for another method on a call.
    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "error", "method not allowed").with_details("use POST")
    }
}

impl From<BodyError> for GradidoError {
    fn from(err: BodyError) -> Self {
        match err {
            BodyError::TooLarge => Self::new(StatusCode::PAYLOAD_TOO_LARGE, "error", "body too large"),
            BodyError::Unreadable => Self::bad_request("body unreadable", None),
        }
    }
}

impl From<DomainError> for GradidoError {
    fn from(err: DomainError) -> Self {
        match err {
            // One answer for an unknown address and a wrong password.
            DomainError::InvalidCredentials => {
                Self::new(StatusCode::UNAUTHORIZED, "error", "password incorrect")
            }
            DomainError::AccountDisabled => Self::new(StatusCode::FORBIDDEN, "disabled", "user is disabled"),
            DomainError::AccountLocked { until } => Self {
                retry_after: u64::try_from((until - chrono::Utc::now()).num_seconds().max(1)).ok(),
                ..Self::new(StatusCode::FORBIDDEN, "error", "account locked").with_details(format!(
                    "too many failed attempts; try again after {}",
                    until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ))
            },
            DomainError::SecondFactorRequired => {
                Self::new(StatusCode::FORBIDDEN, "error", "second factor required")
                    .with_details("this account has two-factor authentication, which this API cannot take")
            }
            DomainError::InvalidToken => Self::new(StatusCode::UNAUTHORIZED, "error", "session not found"),
            DomainError::TooManyAttempts { until } => Self {
                retry_after: u64::try_from((until - chrono::Utc::now()).num_seconds().max(1)).ok(),
                ..Self::new(StatusCode::TOO_MANY_REQUESTS, "error", "too many attempts")
                    .with_details("too many failed attempts from this address; retry later")
            },
            DomainError::EmailNotVerified => Self::new(StatusCode::FORBIDDEN, "error", "email not checked")
                .with_details("confirm the e-mail address with the link in the verification e-mail first"),
            DomainError::ReadOnlyDirectory => {
                Self::new(StatusCode::FORBIDDEN, "error", "registration disabled")
                    .with_details("this server's user directory does not take new users")
            }
            DomainError::EmailTaken | DomainError::UsernameTaken => {
                Self::new(StatusCode::CONFLICT, "exist", "user already exist")
            }
            DomainError::InvalidInput(details) => Self::bad_request("invalid input", Some(details)),
            DomainError::MailUndeliverable(cause) => {
                tracing::error!(%cause, "verification e-mail could not be sent");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "error",
                    "email could not be sent",
                )
                .with_details("nothing was stored; retry later")
            }
            DomainError::Busy => Self {
                retry_after: Some(1),
                ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "error", "server busy")
            },
            DomainError::Unavailable(cause) => {
                tracing::warn!(%cause, "a service Limen depends on is unavailable");
                Self {
                    retry_after: Some(5),
                    ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "error", "service unavailable")
                        .with_details("a service this server depends on is unavailable; retry shortly")
                }
            }
            other => {
                tracing::error!(cause = %other, "internal error");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "error", "internal error")
            }
        }
    }
}

impl std::fmt::Display for GradidoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.state, self.msg)
    }
}

impl ResponseError for GradidoError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(seconds)));
        }
        response.json(ErrorBody {
            state: self.state,
            msg: self.msg,
            details: self.details.as_deref(),
        })
    }
}

/// 404 under `/login_api`.
pub async fn unknown_call() -> HttpResponse {
    GradidoError::unknown_call().error_response()
}

/// 405 for other methods on a call.
pub async fn method_not_allowed() -> HttpResponse {
    GradidoError::method_not_allowed().error_response()
}
