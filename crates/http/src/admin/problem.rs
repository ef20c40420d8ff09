//! The administration API's errors: RFC 9457 problem details, with a stable
//! `code` for scripts.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use limen_domain::{DomainError, ErrorClass};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error answer of the administration API.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct Problem {
    /// Always `about:blank`: `code` says what happened.
    #[serde(rename = "type")]
    kind: &'static str,
    /// The HTTP status's text.
    title: String,
    /// The HTTP status again.
    status: u16,
    /// What went wrong, for people.
    detail: String,
    /// What went wrong, for scripts: `unauthorized`, `insufficient_scope`,
    /// `invalid_request`, `not_found`, `conflict`, `read_only_directory`,
    /// `precondition_required`, `stale_version`, `unavailable`, `busy`,
    /// `payload_too_large`, `unsupported_media_type`, `internal`.
    code: &'static str,
    /// Seconds to wait before retrying, for `unavailable` and `busy`.
    #[serde(skip)]
    retry_after: Option<u64>,
}

impl Problem {
    /// A problem with this status, code and detail.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            code,
            retry_after: None,
        }
    }

    /// 400 with the reason.
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", detail)
    }

    /// 404 for the thing `detail` names.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// What went wrong, for people.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The answer.
    pub fn response(&self) -> HttpResponse {
        let mut answer = HttpResponse::build(
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        );
        answer
            .content_type(PROBLEM_JSON)
            .insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(seconds) = self.retry_after {
            answer.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        answer.json(self)
    }
}

impl From<DomainError> for Problem {
    fn from(err: DomainError) -> Self {
        let retry_after = err.class().retry_after();
        let (status, code, detail) = match &err {
            DomainError::StaleVersion => (
                StatusCode::PRECONDITION_FAILED,
                "stale_version",
                "the user changed since the version in If-Match; read it again".to_owned(),
            ),
            DomainError::ReadOnlyDirectory => (
                StatusCode::CONFLICT,
                "read_only_directory",
                "the user directory does not take this change; Limen's own state (role, enabled, lock, \
                 second factor, sessions) can still be changed"
                    .to_owned(),
            ),
            _ => match err.class() {
                ErrorClass::InvalidInput => (StatusCode::BAD_REQUEST, "invalid_request", err.to_string()),
                ErrorClass::NotFound => (StatusCode::NOT_FOUND, "not_found", err.to_string()),
                ErrorClass::Conflict => (StatusCode::CONFLICT, "conflict", err.to_string()),
                ErrorClass::Busy => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "password hashing is at capacity".to_owned(),
                ),
                ErrorClass::Unavailable => {
                    tracing::warn!(%err, "an administration call failed on a backend");
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "a backend Limen depends on did not answer".to_owned(),
                    )
                }
                ErrorClass::Forbidden => (StatusCode::CONFLICT, "conflict", err.to_string()),
                ErrorClass::NotEnabled => (StatusCode::CONFLICT, "not_enabled", err.to_string()),
                _ => {
                    tracing::error!(%err, "an administration call failed");
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal",
                        "Limen failed; the cause is in its log".to_owned(),
                    )
                }
            },
        };
        Self {
            retry_after,
            ..Self::new(status, code, detail)
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.detail)
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        self.response()
    }
}
