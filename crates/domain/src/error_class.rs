//! What a client can do about a refusal: the closed set of classes every
//! dialect maps, one table each, and when to retry.

use chrono::{DateTime, Utc};

use crate::error::DomainError;
use crate::model::BankIdStatus;

/// Seconds a client waits when password hashing is at capacity: slots free
/// up within one hash's time.
pub const BUSY_RETRY_SECONDS: u64 = 1;

/// Seconds a client waits when a service Limen depends on failed: long enough
/// for a database fail-over or a restarted directory, short enough for a person.
pub const UNAVAILABLE_RETRY_SECONDS: u64 = 5;

/// When a lock or a throttle lifts, and the whole seconds from the refusal to
/// it on the domain's clock (at least one): a `Retry-After` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAt {
    at: DateTime<Utc>,
    seconds: u64,
}

impl RetryAt {
    /// The refusal made at `now` lifts at `at`.
    pub fn new(at: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        let seconds = u64::try_from((at - now).num_seconds()).unwrap_or(0).max(1);
        Self { at, seconds }
    }

    /// The instant the refusal lifts.
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }

    /// Whole seconds from the refusal until then, at least one.
    pub fn seconds(&self) -> u64 {
        self.seconds
    }
}

/// The instant as shown to people: RFC 3339, whole seconds, `Z`.
impl std::fmt::Display for RetryAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    }
}

/// The class of a domain error: what the client may do about it. Each dialect
/// maps these (never the variants) to its status, code and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// A field or parameter is unusable; the request must change.
    InvalidInput,
    /// Unknown user or wrong password (deliberately one class).
    WrongCredentials,
    /// The account was disabled by an operator.
    Disabled,
    /// The account refuses logins until the lock lifts.
    Locked(RetryAt),
    /// The presented token is missing, unknown, expired, revoked or of another kind.
    InvalidToken,
    /// The second-factor or recovery code is wrong or used.
    WrongCode,
    /// The account has a second factor this route cannot take.
    SecondFactorRequired,
    /// The account's e-mail address must be verified first.
    EmailNotVerified,
    /// Too many attempts from this client; retry when it lifts.
    Throttled(RetryAt),
    /// Limen is at capacity; retry after `BUSY_RETRY_SECONDS`.
    Busy,
    /// A dependency failed; retry after `UNAVAILABLE_RETRY_SECONDS`.
    Unavailable,
    /// The named resource does not exist (or the caller may not see it).
    NotFound,
    /// The request is sound but what exists does not allow it (a taken name,
    /// an enrolment already active or not started, a running order).
    Conflict,
    /// The caller may not do this, or the directory does not allow it.
    Forbidden,
    /// The feature is switched off on this server.
    NotEnabled,
    /// An identity provider's answer does not lead to a user (refused,
    /// unverifiable, or nobody matches).
    IdentityRefused,
    /// Limen failed; the cause is in the log, never in the answer.
    Internal,
}

impl ErrorClass {
    /// Seconds the client should wait before retrying (`Retry-After`), for the
    /// classes that lift by themselves.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Locked(retry) | Self::Throttled(retry) => Some(retry.seconds()),
            Self::Busy => Some(BUSY_RETRY_SECONDS),
            Self::Unavailable => Some(UNAVAILABLE_RETRY_SECONDS),
            _ => None,
        }
    }
}

impl DomainError {
    /// This error's class.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::InvalidInput(_) => ErrorClass::InvalidInput,
            Self::InvalidCredentials | Self::AmbiguousLogin | Self::PasskeyRefused(_) => {
                ErrorClass::WrongCredentials
            }
            Self::AccountDisabled | Self::PasswordExpired => ErrorClass::Disabled,
            Self::AccountLocked { until } => ErrorClass::Locked(*until),
            Self::InvalidToken => ErrorClass::InvalidToken,
            Self::InvalidSecondFactor => ErrorClass::WrongCode,
            Self::SecondFactorRequired => ErrorClass::SecondFactorRequired,
            Self::EmailNotVerified => ErrorClass::EmailNotVerified,
            Self::TooManyAttempts { until } => ErrorClass::Throttled(*until),
            Self::Busy => ErrorClass::Busy,
            Self::Unavailable(_) | Self::BankIdUnavailable(_) | Self::MailUndeliverable(_) => {
                ErrorClass::Unavailable
            }
            Self::UnknownUser(_)
            | Self::UnknownToken(_)
            | Self::UnknownProvider
            | Self::UnknownPasskey(_) => ErrorClass::NotFound,
            Self::UsernameTaken
            | Self::EmailTaken
            | Self::PersonalNumberTaken
            | Self::SecondFactorAlreadyEnabled
            | Self::SecondFactorNotEnrolled(_)
            | Self::BankIdInProgress
            | Self::PasskeyTaken(_)
            | Self::LastWayIn
            | Self::StaleVersion
            | Self::AdminTokenNameTaken(_) => ErrorClass::Conflict,
            Self::Forbidden(_) | Self::ReadOnlyDirectory => ErrorClass::Forbidden,
            Self::NotEnabled(_) => ErrorClass::NotEnabled,
            Self::NoUserForPersonalNumber
            | Self::NoMatchingUser
            | Self::ProviderDenied(_)
            | Self::OpenIdRefused(_) => ErrorClass::IdentityRefused,
            Self::Internal(_) => ErrorClass::Internal,
        }
    }

    /// The BankID status to show for an error of BankID itself (RP API v6's
    /// recommended user messages), for answers that show one.
    pub fn bankid_status(&self) -> Option<BankIdStatus> {
        match self {
            Self::BankIdInProgress => Some(BankIdStatus::ALREADY_IN_PROGRESS),
            Self::BankIdUnavailable(_) => Some(BankIdStatus::UNAVAILABLE),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn retry_times_count_whole_seconds_from_the_refusal_and_never_zero() {
        let now = Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap();
        assert_eq!(RetryAt::new(now + Duration::minutes(15), now).seconds(), 900);
        assert_eq!(RetryAt::new(now + Duration::milliseconds(300), now).seconds(), 1);
        assert_eq!(RetryAt::new(now - Duration::seconds(3), now).seconds(), 1);
        assert_eq!(
            RetryAt::new(now + Duration::minutes(15), now).to_string(),
            "2026-12-07T12:15:00Z"
        );
    }

    #[test]
    fn the_classes_that_lift_by_themselves_say_when() {
        let now = Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap();
        let until = RetryAt::new(now + Duration::seconds(42), now);
        let cases = [
            (DomainError::AccountLocked { until }, Some(42)),
            (DomainError::TooManyAttempts { until }, Some(42)),
            (DomainError::Busy, Some(BUSY_RETRY_SECONDS)),
            (
                DomainError::MailUndeliverable("smtp".into()),
                Some(UNAVAILABLE_RETRY_SECONDS),
            ),
            (DomainError::InvalidCredentials, None),
            (DomainError::Internal("bug".into()), None),
        ];
        for (error, retry) in cases {
            assert_eq!(error.class().retry_after(), retry, "{error:?}");
        }
    }

    #[test]
    fn an_ambiguous_login_is_answered_as_wrong_credentials() {
        assert_eq!(DomainError::AmbiguousLogin.class(), ErrorClass::WrongCredentials);
        assert_eq!(
            DomainError::InvalidCredentials.class(),
            ErrorClass::WrongCredentials
        );
    }
}
