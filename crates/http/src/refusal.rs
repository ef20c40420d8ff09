//! From a domain error to a dialect's answer. The domain names the error's
//! class and when to retry; each dialect maps the classes in one table of
//! `Row`s and renders its own body around the `Refusal` that results.

use actix_web::HttpResponseBuilder;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use limen_domain::{DomainError, ErrorClass};

/// Where a row's text comes from.
pub(crate) enum Text {
    /// The dialect's own words.
    Fixed(&'static str),
    /// The dialect's words around a value (a lock's end).
    Owned(String),
    /// The domain error's own message: for classes whose message names what
    /// the client got wrong (a field, a taken name), never for internal or
    /// unavailable ones, whose causes are for the log.
    OfError,
}

/// A dialect's answer to one class of error.
pub(crate) struct Row {
    status: StatusCode,
    code: &'static str,
    text: Text,
    detail: Option<Text>,
}

impl Row {
    /// `status`, the dialect's `code` for it (empty where its body has none)
    /// and the text.
    pub(crate) fn new(status: u16, code: &'static str, text: Text) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code,
            text,
            detail: None,
        }
    }

    /// A row with the dialect's own words.
    pub(crate) fn fixed(status: u16, code: &'static str, text: &'static str) -> Self {
        Self::new(status, code, Text::Fixed(text))
    }

    /// With a second text (gradido's `details`).
    pub(crate) fn detail(mut self, detail: Text) -> Self {
        self.detail = Some(detail);
        self
    }
}

/// An error answer before a dialect's body is put around it.
#[derive(Debug)]
pub(crate) struct Refusal {
    /// The HTTP status.
    pub(crate) status: StatusCode,
    /// The dialect's code for it, or empty.
    pub(crate) code: &'static str,
    /// What went wrong, for a person.
    pub(crate) text: String,
    /// More on the cause (gradido's `details`).
    pub(crate) detail: Option<String>,
    /// `Retry-After` in seconds, for refusals that lift by themselves.
    pub(crate) retry_after: Option<u64>,
}

impl Refusal {
    /// A refusal of the dialect's own (a body it cannot parse, a route it lacks).
    pub(crate) fn new(status: StatusCode, code: &'static str, text: impl Into<String>) -> Self {
        Self {
            status,
            code,
            text: text.into(),
            detail: None,
            retry_after: None,
        }
    }

    /// With `detail` (gradido's `details`).
    pub(crate) fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// `err` answered through a dialect's `table`. The causes of internal
    /// errors and unavailable dependencies are logged here, once, since the
    /// answer never carries them.
    pub(crate) fn of(err: &DomainError, table: impl FnOnce(ErrorClass) -> Row) -> Self {
        let class = err.class();
        match class {
            ErrorClass::Internal => tracing::error!(cause = %err, "internal error"),
            ErrorClass::Unavailable => {
                tracing::warn!(cause = %err, "a service Limen depends on is unavailable")
            }
            _ => {}
        }
        let row = table(class);
        let text = |text: Text| match text {
            Text::Fixed(text) => text.to_owned(),
            Text::Owned(text) => text,
            Text::OfError => err.to_string(),
        };
        Self {
            status: row.status,
            code: row.code,
            text: text(row.text),
            detail: row.detail.map(text),
            retry_after: class.retry_after(),
        }
    }

    /// A response with the status and `Retry-After`, for the body to finish.
    pub(crate) fn response(&self) -> HttpResponseBuilder {
        let mut response = HttpResponseBuilder::new(self.status);
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(seconds)));
        }
        response
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use limen_domain::RetryAt;

    fn table(class: ErrorClass) -> Row {
        match class {
            ErrorClass::InvalidInput => Row::new(400, "bad", Text::OfError),
            ErrorClass::Locked(until) => Row::new(403, "locked", Text::Owned(format!("until {until}"))),
            _ => {
                Row::fixed(500, "internal", "An internal error occurred.").detail(Text::Fixed("see the log"))
            }
        }
    }

    #[test]
    fn a_refusal_takes_status_code_and_text_from_the_table_and_the_retry_time_from_the_domain() {
        let input = Refusal::of(&DomainError::InvalidInput("username is empty".into()), table);
        assert_eq!(input.status, StatusCode::BAD_REQUEST);
        assert_eq!(input.text, "username is empty");
        assert_eq!(input.retry_after, None);

        let now = chrono::Utc::now();
        let until = RetryAt::new(now + chrono::Duration::seconds(90), now);
        let locked = Refusal::of(&DomainError::AccountLocked { until }, table);
        assert_eq!(locked.retry_after, Some(90));
        assert_eq!(locked.text, format!("until {until}"));

        let internal = Refusal::of(&DomainError::Internal("password=hunter2".into()), table);
        assert!(!internal.text.contains("hunter2"));
        assert_eq!(internal.detail.as_deref(), Some("see the log"));
    }
}
