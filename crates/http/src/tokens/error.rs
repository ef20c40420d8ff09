//! The dialect's error answer: `{"message": "..."}`, as a Flask API answers.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use limen_domain::{DomainError, ErrorClass};
use serde::Serialize;
use utoipa::ToSchema;

use crate::body::BodyError;
use crate::credentials::TokenError;
use crate::refusal::{Refusal, Row, Text};

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
    refusal: Refusal,
    challenge: bool,
}

/// The dialect's answer to each class of domain error.
fn table(class: ErrorClass) -> Row {
    let fixed = |status, text| Row::fixed(status, "", text);
    match class {
        ErrorClass::WrongCredentials | ErrorClass::Disabled | ErrorClass::InvalidToken => {
            fixed(401, AUTHORIZATION_FAILED)
        }
        ErrorClass::SecondFactorRequired => fixed(
            401,
            "This account requires a second factor; log in through an API that supports it.",
        ),
        // The document lists only 401 for a failed authorization; a lock is one,
        // with the time it lifts in the message and in `Retry-After`.
        ErrorClass::Locked(until) => Row::new(
            401,
            "",
            Text::Owned(format!(
                "The account is locked after too many failed attempts until {until}."
            )),
        ),
        ErrorClass::EmailNotVerified => fixed(401, "The e-mail address of this account is not verified yet."),
        ErrorClass::Throttled(_) => fixed(429, "Too many failed attempts from this address; retry later."),
        ErrorClass::Busy => fixed(503, "Too busy; retry shortly."),
        ErrorClass::InvalidInput => Row::new(400, "", Text::OfError),
        ErrorClass::Unavailable => fixed(
            503,
            "A service this server depends on is unavailable; retry shortly.",
        ),
        ErrorClass::WrongCode
        | ErrorClass::NotFound
        | ErrorClass::Conflict
        | ErrorClass::Forbidden
        | ErrorClass::NotEnabled
        | ErrorClass::IdentityRefused
        | ErrorClass::Internal => fixed(500, "An internal error occurred."),
    }
}

const AUTHORIZATION_FAILED: &str = "Authorization failed.";

impl TokensError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            refusal: Refusal::new(status, "", message),
            challenge: false,
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
}

impl From<TokenError> for TokensError {
    fn from(_: TokenError) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, AUTHORIZATION_FAILED)
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
        // Only a login presents credentials; its refusal asks for them again.
        let challenge = matches!(err.class(), ErrorClass::WrongCredentials | ErrorClass::Disabled);
        Self {
            refusal: Refusal::of(&err, table),
            challenge,
        }
    }
}

impl std::fmt::Display for TokensError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.refusal.fmt(f)
    }
}

impl ResponseError for TokensError {
    fn status_code(&self) -> StatusCode {
        self.refusal.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = self.refusal.response();
        if self.challenge {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"limen\""),
            ));
        }
        if self.refusal.status == StatusCode::NOT_ACCEPTABLE {
            return response
                .content_type("text/plain; charset=utf-8")
                .body(self.refusal.text.clone());
        }
        response.json(ErrorBody {
            message: &self.refusal.text,
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
