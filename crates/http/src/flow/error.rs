//! The dialect's error object, and the one mapping from domain errors to it.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use chrono::Utc;
use limen_domain::DomainError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::body::BodyError;
use crate::credentials::TokenError;

/// The dialect's error object, fields in the documented order.
#[derive(Serialize, ToSchema)]
#[schema(as = FlowError)]
pub(crate) struct ErrorBody<'a> {
    /// The error's class, such as `UnauthorizedError`.
    #[serde(rename = "type")]
    kind: &'a str,
    /// The HTTP status again.
    code: u16,
    /// Always 0: Limen has no error catalogue of its own.
    #[serde(rename = "errorNumber")]
    error_number: u32,
    /// What went wrong, for a person.
    message: &'a str,
    /// Always `null`.
    #[schema(schema_with = crate::openapi::null)]
    data: (),
}

/// An error answer in the documented shape:
/// `{"type","code","errorNumber","message","data"}`.
#[derive(Debug)]
pub struct FlowError {
    status: StatusCode,
    kind: &'static str,
    message: String,
    retry_after: Option<u64>,
}

impl FlowError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400: the request body or a parameter is unusable.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequestError", message)
    }

    /// 401 for a missing, unknown, expired or revoked token.
    pub fn invalid_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "UnauthorizedError",
            "The request is not authorized: the access token is missing, invalid or expired.",
        )
    }

    /// 404 for a path naming no resource the caller may see.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFoundError", message)
    }

    /// 415: neither JSON nor form parameters.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaTypeError",
            "The body must be application/json or application/x-www-form-urlencoded.",
        )
    }

    /// The domain's refusal of a login attempt by `username`.
    pub fn login_refused(username: &str, err: DomainError) -> Self {
        match err {
            DomainError::InvalidCredentials => Self::new(
                StatusCode::UNAUTHORIZED,
                "UnauthorizedError",
                format!(
                    "{username} was not authorized, the username / password combination you entered is invalid."
                ),
            ),
            DomainError::AccountDisabled => Self::new(
                StatusCode::UNAUTHORIZED,
                "UnauthorizedError",
                format!("{username} was not authorized, the account is disabled."),
            ),
            DomainError::AccountLocked { until } => Self {
                retry_after: Some(seconds_until(until)),
                ..Self::new(
                    StatusCode::FORBIDDEN,
                    "ForbiddenError",
                    format!(
                        "{username} is locked after too many failed login attempts; try again after {}.",
                        until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    ),
                )
            },
            other => other.into(),
        }
    }
}

/// Whole seconds from now until `until`, at least one: a `Retry-After` value.
pub(crate) fn seconds_until(until: chrono::DateTime<Utc>) -> u64 {
    u64::try_from((until - Utc::now()).num_seconds().max(1)).unwrap_or(1)
}

impl From<DomainError> for FlowError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::InvalidCredentials
            | DomainError::AmbiguousLogin
            | DomainError::AccountDisabled
            | DomainError::InvalidToken => Self::invalid_token(),
            DomainError::AccountLocked { .. } => Self::login_refused("the account", err),
            DomainError::InvalidInput(message) => Self::bad_request(message),
            DomainError::InvalidSecondFactor => Self::new(
                StatusCode::UNAUTHORIZED,
                "UnauthorizedError",
                "The two-factor code is invalid or was already used.",
            ),
            DomainError::SecondFactorAlreadyEnabled => Self::new(
                StatusCode::CONFLICT,
                "ConflictError",
                "Two-factor authentication is already enabled; disable it first.",
            ),
            DomainError::SecondFactorNotEnrolled(message) => Self::bad_request(message),
            DomainError::Forbidden(message) => Self::new(StatusCode::FORBIDDEN, "ForbiddenError", message),
            DomainError::UnknownUser(_) => {
                Self::new(StatusCode::NOT_FOUND, "NotFoundError", "The user was not found.")
            }
            DomainError::UnknownToken(_) => {
                Self::new(StatusCode::NOT_FOUND, "NotFoundError", "The token was not found.")
            }
            DomainError::SecondFactorRequired => Self::new(
                StatusCode::UNAUTHORIZED,
                "UnauthorizedError",
                "This account requires a second factor; log in with /authentication/login.",
            ),
            DomainError::TooManyAttempts { until } => Self {
                retry_after: Some(seconds_until(until)),
                ..Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TooManyRequestsError",
                    "Too many failed attempts from this address; retry later.",
                )
            },
            DomainError::ReadOnlyDirectory => Self::new(
                StatusCode::FORBIDDEN,
                "ForbiddenError",
                "The user directory does not allow this change.",
            ),
            DomainError::EmailNotVerified => Self::new(
                StatusCode::FORBIDDEN,
                "ForbiddenError",
                "The e-mail address of this account is not verified yet; follow the link in the verification e-mail.",
            ),
            DomainError::MailUndeliverable(cause) => {
                tracing::error!(%cause, "e-mail could not be sent");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailableError",
                    "The e-mail could not be sent; retry later.",
                )
            }
            DomainError::UsernameTaken | DomainError::EmailTaken | DomainError::PersonalNumberTaken => {
                Self::new(StatusCode::CONFLICT, "ConflictError", err.to_string())
            }
            DomainError::Busy => Self {
                retry_after: Some(1),
                ..Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailableError",
                    "The server is too busy to check passwords; retry shortly.",
                )
            },
            DomainError::Unavailable(cause) | DomainError::BankIdUnavailable(cause) => {
                tracing::warn!(%cause, "a service Limen depends on is unavailable");
                Self {
                    retry_after: Some(5),
                    ..Self::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "ServiceUnavailableError",
                        "A service this server depends on is unavailable; retry shortly.",
                    )
                }
            }
            DomainError::NotEnabled(what) => {
                Self::bad_request(format!("{what} is not enabled on this server."))
            }
            // Outcomes of identity providers flow has no route for.
            DomainError::BankIdInProgress
            | DomainError::NoUserForPersonalNumber
            | DomainError::NoMatchingUser
            | DomainError::UnknownProvider
            | DomainError::ProviderDenied(_)
            | DomainError::OpenIdRefused(_) => {
                Self::new(StatusCode::CONFLICT, "ConflictError", err.to_string())
            }
            DomainError::Internal(cause) => {
                // Logged once here with its cause; the client gets a generic message.
                tracing::error!(%cause, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalServerError",
                    "An internal error occurred.",
                )
            }
        }
    }
}

impl From<TokenError> for FlowError {
    fn from(_: TokenError) -> Self {
        Self::invalid_token()
    }
}

impl From<BodyError> for FlowError {
    fn from(err: BodyError) -> Self {
        match err {
            BodyError::TooLarge => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PayloadTooLargeError",
                "The request body is larger than this server accepts.",
            ),
            BodyError::Unreadable => Self::bad_request("The request body could not be read."),
        }
    }
}

impl std::fmt::Display for FlowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.kind, self.message)
    }
}

impl ResponseError for FlowError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(seconds)));
        }
        response.json(ErrorBody {
            kind: self.kind,
            code: self.status.as_u16(),
            error_number: 0,
            message: &self.message,
            data: (),
        })
    }
}

/// 405 in the dialect's shape, for other methods on its routes.
pub async fn method_not_allowed() -> HttpResponse {
    FlowError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowedError",
        "This method is not allowed on this endpoint.",
    )
    .error_response()
}
