//! The dialect's error object, and the one mapping from domain errors to it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use limen_domain::{DomainError, ErrorClass, RetryAt};
use serde::Serialize;
use utoipa::ToSchema;

use crate::body::BodyError;
use crate::credentials::TokenError;
use crate::refusal::{Refusal, Row, Text};

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
    #[schema(schema_with = null)]
    data: (),
}

/// A schema that only `null` matches, for `data`.
fn null() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new().schema_type(Type::Null).into()
}

/// An error answer in the documented shape:
/// `{"type","code","errorNumber","message","data"}`.
#[derive(Debug)]
pub struct FlowError(Refusal);

/// The dialect's type for each status.
fn kind(status: u16) -> &'static str {
    match status {
        400 => "BadRequestError",
        401 => "UnauthorizedError",
        403 => "ForbiddenError",
        404 => "NotFoundError",
        405 => "MethodNotAllowedError",
        409 => "ConflictError",
        413 => "PayloadTooLargeError",
        415 => "UnsupportedMediaTypeError",
        429 => "TooManyRequestsError",
        503 => "ServiceUnavailableError",
        _ => "InternalServerError",
    }
}

/// The dialect's answer to each class of domain error.
fn table(class: ErrorClass) -> Row {
    let row = |status, text| Row::new(status, kind(status), text);
    let fixed = |status, text| Row::fixed(status, kind(status), text);
    match class {
        ErrorClass::InvalidInput | ErrorClass::NotEnabled => row(400, Text::OfError),
        ErrorClass::WrongCredentials | ErrorClass::Disabled | ErrorClass::InvalidToken => {
            fixed(401, INVALID_TOKEN)
        }
        ErrorClass::Locked(until) => row(403, Text::Owned(locked("the account", until))),
        ErrorClass::WrongCode => fixed(401, "The two-factor code is invalid or was already used."),
        ErrorClass::SecondFactorRequired => fixed(
            401,
            "This account requires a second factor; log in with /authentication/login.",
        ),
        ErrorClass::EmailNotVerified => fixed(
            403,
            "The e-mail address of this account is not verified yet; follow the link in the verification e-mail.",
        ),
        ErrorClass::Throttled(_) => fixed(429, "Too many failed attempts from this address; retry later."),
        ErrorClass::Busy => fixed(503, "The server is too busy to check passwords; retry shortly."),
        ErrorClass::Unavailable => fixed(
            503,
            "A service this server depends on is unavailable; retry shortly.",
        ),
        ErrorClass::NotFound => row(404, Text::OfError),
        // Identity-provider outcomes flow has no route for answer as conflicts.
        ErrorClass::Conflict | ErrorClass::IdentityRefused => row(409, Text::OfError),
        ErrorClass::Forbidden => row(403, Text::OfError),
        ErrorClass::Internal => fixed(500, "An internal error occurred."),
    }
}

const INVALID_TOKEN: &str = "The request is not authorized: the access token is missing, invalid or expired.";

fn locked(who: &str, until: RetryAt) -> String {
    format!("{who} is locked after too many failed login attempts; try again after {until}.")
}

impl FlowError {
    /// A refusal with `status` and `message`.
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self(Refusal::new(status, kind(status.as_u16()), message))
    }

    /// 400: the request body or a parameter is unusable.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 for a path naming no resource the caller may see.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 415: neither JSON nor form parameters.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "The body must be application/json or application/x-www-form-urlencoded.",
        )
    }

    /// The domain's refusal of a login attempt by `username`: as any other
    /// refusal, but naming the user.
    pub fn login_refused(username: &str, err: DomainError) -> Self {
        let mut refusal = Refusal::of(&err, table);
        refusal.text = match err.class() {
            ErrorClass::WrongCredentials => format!(
                "{username} was not authorized, the username / password combination you entered is invalid."
            ),
            ErrorClass::Disabled => format!("{username} was not authorized, the account is disabled."),
            ErrorClass::Locked(until) => locked(username, until),
            _ => refusal.text,
        };
        Self(refusal)
    }
}

impl From<DomainError> for FlowError {
    fn from(err: DomainError) -> Self {
        Self(Refusal::of(&err, table))
    }
}

impl From<TokenError> for FlowError {
    fn from(_: TokenError) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, INVALID_TOKEN)
    }
}

impl From<BodyError> for FlowError {
    fn from(err: BodyError) -> Self {
        match err {
            BodyError::TooLarge => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The request body is larger than this server accepts.",
            ),
            BodyError::Unreadable => Self::bad_request("The request body could not be read."),
        }
    }
}

impl std::fmt::Display for FlowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for FlowError {
    fn status_code(&self) -> StatusCode {
        self.0.status
    }

    fn error_response(&self) -> HttpResponse {
        self.0.response().json(ErrorBody {
            kind: self.0.code,
            code: self.0.status.as_u16(),
            error_number: 0,
            message: &self.0.text,
            data: (),
        })
    }
}

/// 405 in the dialect's shape, for other methods on its routes.
pub async fn method_not_allowed() -> HttpResponse {
    FlowError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "This method is not allowed on this endpoint.",
    )
    .error_response()
}
