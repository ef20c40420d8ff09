//! SCIM's error answer (RFC 7644 §3.12): the Error schema, the status as a
//! string, and `scimType` for a 400 or a 409.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use limen_domain::{DomainError, ErrorClass};
use serde::Serialize;

use super::SCIM_JSON;
use crate::admin::Problem;

/// The Error schema's URN.
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// An error answer of the SCIM API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScimError {
    status: StatusCode,
    scim_type: Option<&'static str>,
    detail: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody<'a> {
    schemas: [&'static str; 1],
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    scim_type: Option<&'static str>,
    detail: &'a str,
}

impl ScimError {
    /// An error with this status, `scimType` and detail.
    pub fn new(status: StatusCode, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    /// 400 `invalidValue`.
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidValue"), detail)
    }

    /// 400 `invalidSyntax`.
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidSyntax"), detail)
    }

    /// 400 `invalidFilter`.
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidFilter"), detail)
    }

    /// 400 `invalidPath`.
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("invalidPath"), detail)
    }

    /// 400 `mutability`: the attribute cannot be changed.
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some("mutability"), detail)
    }

    /// 404 for what `detail` names.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, None, detail)
    }

    /// The `scimType`, for the 400s and 409s that have one.
    #[cfg(test)]
    pub fn scim_type(&self) -> Option<&'static str> {
        self.scim_type
    }

    /// The answer.
    pub fn response(&self) -> HttpResponse {
        HttpResponse::build(self.status)
            .content_type(SCIM_JSON)
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(ErrorBody {
                schemas: [ERROR_SCHEMA],
                status: self.status.as_u16().to_string(),
                scim_type: self.scim_type,
                detail: &self.detail,
            })
    }
}

impl From<DomainError> for ScimError {
    fn from(err: DomainError) -> Self {
        match &err {
            DomainError::StaleVersion => {
                return Self::new(
                    StatusCode::PRECONDITION_FAILED,
                    None,
                    "the user changed since the version in If-Match",
                );
            }
            DomainError::ReadOnlyDirectory => {
                return Self::new(
                    StatusCode::CONFLICT,
                    None,
                    "the user directory is read-only: Limen keeps only the user's active state and externalId",
                );
            }
            DomainError::UsernameTaken | DomainError::EmailTaken | DomainError::PersonalNumberTaken => {
                return Self::new(StatusCode::CONFLICT, Some("uniqueness"), err.to_string());
            }
            _ => {}
        }
        match err.class() {
            ErrorClass::InvalidInput => Self::invalid_value(err.to_string()),
            ErrorClass::NotFound => Self::not_found(err.to_string()),
            ErrorClass::Conflict | ErrorClass::Forbidden => {
                Self::new(StatusCode::CONFLICT, None, err.to_string())
            }
            ErrorClass::Busy | ErrorClass::Unavailable => {
                tracing::warn!(%err, "a SCIM call failed on a backend");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    None,
                    "a backend Limen depends on did not answer; retry later",
                )
            }
            _ => {
                tracing::error!(%err, "a SCIM call failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    None,
                    "Limen failed; the cause is in its log",
                )
            }
        }
    }
}

impl From<Problem> for ScimError {
    /// A body that could not be read or decoded.
    fn from(problem: Problem) -> Self {
        let status = problem.status();
        let scim_type = (status == StatusCode::BAD_REQUEST).then_some("invalidSyntax");
        Self::new(status, scim_type, problem.detail())
    }
}

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.detail)
    }
}

impl ResponseError for ScimError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        self.response()
    }
}
