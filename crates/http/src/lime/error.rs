//! The dialect's error answer, `{"success": false, "error": "..."}`, and the one
//! mapping from domain errors to it.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use limen_domain::model::BankIdStatus;
use limen_domain::{DomainError, ErrorClass};
use serde::Serialize;
use utoipa::ToSchema;

use super::progress::Message;
use crate::body::{BodyError, DecodeError};
use crate::refusal::{Refusal, Row, Text};

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
    refusal: Refusal,
    bankid: Option<Box<BankIdStatus>>,
}

/// The dialect's answer to each class of domain error.
fn table(class: ErrorClass) -> Row {
    let fixed = |status, text| Row::fixed(status, "", text);
    match class {
        // One answer for an unknown user, a wrong password and a disabled account.
        ErrorClass::WrongCredentials | ErrorClass::Disabled => fixed(401, "Invalid username or password."),
        ErrorClass::Locked(until) => Row::new(
            403,
            "",
            Text::Owned(format!(
                "The account is locked after too many failed attempts until {until}."
            )),
        ),
        ErrorClass::SecondFactorRequired => fixed(
            403,
            "This account has two-factor authentication, which a password login here cannot take; \
             log in with BankID.",
        ),
        ErrorClass::EmailNotVerified => fixed(403, "The e-mail address of this account is not verified yet."),
        ErrorClass::Throttled(_) => fixed(429, "Too many attempts; retry later."),
        ErrorClass::InvalidInput | ErrorClass::NotEnabled => Row::new(400, "", Text::OfError),
        ErrorClass::InvalidToken => fixed(404, "Unknown, expired or finished."),
        ErrorClass::IdentityRefused => fixed(401, "No user has this personal number."),
        ErrorClass::Conflict => Row::new(409, "", Text::OfError),
        ErrorClass::Forbidden => fixed(403, "The user directory does not allow changing passwords."),
        ErrorClass::Busy => fixed(503, "Too busy; retry shortly."),
        ErrorClass::Unavailable => fixed(
            503,
            "A service this server depends on is unavailable; retry shortly.",
        ),
        ErrorClass::NotFound | ErrorClass::WrongCode | ErrorClass::Internal => {
            fixed(500, "An internal error occurred.")
        }
    }
}

impl LimeError {
    fn new(status: StatusCode, error: impl Into<String>) -> Self {
        Self {
            refusal: Refusal::new(status, "", error),
            bankid: None,
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
}

impl From<DomainError> for LimeError {
    fn from(err: DomainError) -> Self {
        let mut refusal = Refusal::of(&err, table);
        // BankID's own failures show its status and recommended message.
        let bankid = err.bankid_status();
        if let Some(status) = bankid {
            refusal.text = status.message.en.to_owned();
        }
        Self {
            refusal,
            bankid: bankid.map(Box::new),
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
        self.refusal.fmt(f)
    }
}

impl ResponseError for LimeError {
    fn status_code(&self) -> StatusCode {
        self.refusal.status
    }

    fn error_response(&self) -> HttpResponse {
        self.refusal
            .response()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(ErrorBody {
                success: false,
                error: self.refusal.text.clone(),
                progress_status: self.bankid.as_ref().map(|status| status.name),
                message: self.bankid.as_ref().map(|status| Message::from(status.message)),
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
