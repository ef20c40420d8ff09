//! The dialect's error answer, `{"state": "error", "msg": "...", "details": "..."}`,
//! with the original's texts where it has them (see docs/api/gradido.md).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use limen_domain::{DomainError, ErrorClass};
use serde::Serialize;
use utoipa::ToSchema;

use crate::body::BodyError;
use crate::refusal::{Refusal, Row, Text};

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
pub struct GradidoError(Refusal);

impl GradidoError {
    fn new(status: StatusCode, state: &'static str, msg: &'static str) -> Self {
        Self(Refusal::new(status, state, msg))
    }

    fn with_details(self, details: impl Into<String>) -> Self {
        Self(self.0.with_detail(details))
    }

    /// 400 with `msg` and, when given, `details`.
    pub fn bad_request(msg: &'static str, details: Option<String>) -> Self {
        let error = Self::new(StatusCode::BAD_REQUEST, "error", msg);
        match details {
            Some(details) => error.with_details(details),
            None => error,
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

/// The dialect's answer to each class of domain error: the original's
/// `state` and `msg` where it has them, Limen's `details`.
fn table(class: ErrorClass) -> Row {
    let error = |status, msg| Row::fixed(status, "error", msg);
    let details = Text::Fixed;
    match class {
        // One answer for an unknown address and a wrong password.
        ErrorClass::WrongCredentials => error(401, "password incorrect"),
        ErrorClass::Disabled => Row::fixed(403, "disabled", "user is disabled"),
        ErrorClass::Locked(until) => error(403, "account locked").detail(Text::Owned(format!(
            "too many failed attempts; try again after {until}"
        ))),
        ErrorClass::SecondFactorRequired => error(403, "second factor required").detail(details(
            "this account has two-factor authentication, which this API cannot take",
        )),
        ErrorClass::InvalidToken => error(401, "session not found"),
        ErrorClass::Throttled(_) => error(429, "too many attempts")
            .detail(details("too many failed attempts from this address; retry later")),
        ErrorClass::EmailNotVerified => error(403, "email not checked").detail(details(
            "confirm the e-mail address with the link in the verification e-mail first",
        )),
        ErrorClass::Forbidden => error(403, "registration disabled")
            .detail(details("this server's user directory does not take new users")),
        ErrorClass::Conflict => Row::fixed(409, "exist", "user already exist"),
        ErrorClass::InvalidInput => error(400, "invalid input").detail(Text::OfError),
        ErrorClass::Busy => error(503, "server busy"),
        ErrorClass::Unavailable => error(503, "service unavailable").detail(details(
            "a service this server depends on is unavailable; retry shortly",
        )),
        ErrorClass::NotEnabled
        | ErrorClass::WrongCode
        | ErrorClass::NotFound
        | ErrorClass::IdentityRefused
        | ErrorClass::Internal => error(500, "internal error"),
    }
}

impl From<DomainError> for GradidoError {
    fn from(err: DomainError) -> Self {
        let mut refusal = Refusal::of(&err, table);
        // The one unavailable service the original names: its mail.
        if let DomainError::MailUndeliverable(_) = err {
            refusal.text = "email could not be sent".to_owned();
            refusal.detail = Some("nothing was stored; retry later".to_owned());
        }
        Self(refusal)
    }
}

impl std::fmt::Display for GradidoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for GradidoError {
    fn status_code(&self) -> StatusCode {
        self.0.status
    }

    fn error_response(&self) -> HttpResponse {
        self.0.response().json(ErrorBody {
            state: self.0.code,
            msg: &self.0.text,
            details: self.0.detail.as_deref(),
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
