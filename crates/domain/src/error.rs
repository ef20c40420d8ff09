//! Errors of the domain and of the ports it calls.

use crate::error_class::RetryAt;

/// Query parameters that carry a secret in the URLs adapters are given
/// (`?password=` is how PostgreSQL and MySQL URLs may carry one).
const SECRET_PARAMETERS: [&str; 6] = ["password", "pass", "pwd", "passwd", "sslpassword", "secret"];

/// `url` with every password it carries masked, for messages and `limen
/// config check`: the userinfo's (`user:***@host`) and a secret query
/// parameter's (`?password=***`).
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    // The last `@` before the query ends the userinfo, whatever the password holds.
    let location = match before_query.rfind('@') {
        Some(at) if scheme.is_some() => {
            let (userinfo, host) = before_query.split_at(at);
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:***{host}"),
                None => before_query.to_owned(),
            }
        }
        _ => before_query.to_owned(),
    };
    let mut redacted = match scheme {
        Some(scheme) => format!("{scheme}://{location}"),
        None => location,
    };
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if SECRET_PARAMETERS.contains(&key.to_ascii_lowercase().as_str()) => {
                    format!("{key}=***")
                }
                _ => pair.to_owned(),
            })
            .collect();
        redacted.push('?');
        redacted.push_str(&pairs.join("&"));
    }
    redacted
}

/// Which unique property a store refused to duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueField {
    /// The username is taken.
    Username,
    /// The e-mail address is taken.
    Email,
    /// The personal number belongs to another user.
    PersonalNumber,
    /// A token digest collided (astronomically rare for random tokens; expected
    /// now and then for 32-bit session numbers, which are then drawn again).
    Token,
    /// The passkey's credential is registered already.
    Credential,
    /// The user has a passkey by that name already.
    PasskeyName,
    /// An admin token has that name already.
    AdminTokenName,
}

/// What a store port can fail with; adapters translate their own errors into this.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write.
    #[error("{0:?} already exists")]
    Duplicate(UniqueField),
    /// The backend does not accept this write (a read-only directory).
    #[error("the user directory is read-only")]
    ReadOnly,
    /// The record to change does not exist.
    #[error("record not found")]
    NotFound,
    /// The record changed since the version the write was conditional on.
    #[error("the record changed since it was read")]
    Stale,
    /// A lookup that must name one entry matched several (two users of a
    /// customer's table or a directory share a login name); the message says
    /// where. Refused, never guessed.
    #[error("several entries match: {0}")]
    Ambiguous(String),
    /// The backend turned a value down by its own rules (a directory's
    /// password policy: too short, used before); the message is its reason,
    /// fit to show the user.
    #[error("refused by the directory: {0}")]
    Refused(String),
    /// The backend failed; the message carries the adapter's context.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// Why the password hasher could not answer.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Every hashing slot and queue place is taken; the caller should retry later.
    #[error("password hashing is at capacity")]
    Busy,
    /// The stored hash may not be used: it does not parse in full, is in no
    /// format Limen verifies, or asks for more than the configured bounds.
    /// A login treats it as a wrong password.
    #[error("the stored password hash is unusable: {0}")]
    Unusable(String),
    /// The hashing library failed.
    #[error("password hashing failed: {0}")]
    Internal(String),
}

/// Every way a domain service can refuse or fail. Each dialect maps this once to
/// its own documented error body.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// Unknown user or wrong password; deliberately indistinguishable.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The account exists but was disabled by an operator.
    #[error("account is disabled")]
    AccountDisabled,
    /// The directory says the password has expired or must be changed first
    /// (Active Directory); the user sets a new one where the directory is
    /// managed. Answered as a disabled account, which the dialects have.
    #[error("the password has expired and must be changed in the user directory")]
    PasswordExpired,
    /// Too many failed attempts; the account refuses logins until `until`.
    #[error("account is locked until {until}")]
    AccountLocked {
        /// When the lock lifts.
        until: RetryAt,
    },
    /// The presented token is missing, unknown, expired, revoked or of the wrong kind.
    #[error("token is invalid")]
    InvalidToken,
    /// The second-factor code (or recovery code) is wrong, or was already used.
    #[error("the second-factor code is invalid")]
    InvalidSecondFactor,
    /// Two-factor authentication is already active; it must be disabled first.
    #[error("two-factor authentication is already enabled")]
    SecondFactorAlreadyEnabled,
    /// The operation needs an enrolment that does not exist (none started, or not confirmed).
    #[error("{0}")]
    SecondFactorNotEnrolled(&'static str),
    /// The caller may not act on this resource.
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    /// A request field failed validation; the message names the field and the rule.
    #[error("{0}")]
    InvalidInput(String),
    /// A login name matches two users (one's username is the other's e-mail
    /// address, or the directory holds it twice): refused, never guessed. A
    /// login answers it as a wrong password.
    #[error("the login name matches more than one user")]
    AmbiguousLogin,
    /// The named user does not exist (administrative operations only).
    #[error("no such user: {0}")]
    UnknownUser(String),
    /// The username is already taken.
    #[error("username is already taken")]
    UsernameTaken,
    /// The e-mail address is already registered.
    #[error("e-mail address is already registered")]
    EmailTaken,
    /// The personal number is already registered to another user.
    #[error("personal number is already registered")]
    PersonalNumberTaken,
    /// This login path cannot complete a second factor, and the user has one.
    #[error("this account requires a second factor, which this API cannot take")]
    SecondFactorRequired,
    /// The named token does not exist (administrative operations only).
    #[error("no such token: {0}")]
    UnknownToken(i64),
    /// Too many failed attempts from this client; retry after `until`.
    #[error("too many attempts, retry after {until}")]
    TooManyAttempts {
        /// When the client may try again.
        until: RetryAt,
    },
    /// The user's directory does not accept this change (it is read-only).
    #[error("the user directory does not allow this change")]
    ReadOnlyDirectory,
    /// The account's e-mail address must be verified before it can log in.
    #[error("the e-mail address is not verified yet")]
    EmailNotVerified,
    /// BankID could not be reached or failed; the message is for logs.
    #[error("BankID is unavailable: {0}")]
    BankIdUnavailable(String),
    /// BankID refused a new order: one for the person is already running.
    #[error("a BankID identification for this personal number is already in progress")]
    BankIdInProgress,
    /// BankID identified a person no user has the personal number of.
    #[error("no user has this personal number")]
    NoUserForPersonalNumber,
    /// An identity provider vouched for someone no user matches (and none may
    /// be created).
    #[error("no user matches the identity")]
    NoMatchingUser,
    /// No OpenID provider has the requested id.
    #[error("no such OpenID provider")]
    UnknownProvider,
    /// The OpenID provider answered the login with this error code
    /// (`access_denied`, …).
    #[error("the identity provider refused: {0}")]
    ProviderDenied(String),
    /// The OpenID provider's answer did not hold: a refused code or an ID
    /// token that failed verification.
    #[error("{0}")]
    OpenIdRefused(crate::model::OpenIdError),
    /// The feature is switched off in this server's configuration.
    #[error("{0} is not enabled on this server")]
    NotEnabled(&'static str),
    /// A service Limen depends on (BankID, an identity provider, a directory)
    /// could not be reached or failed; the message is for logs.
    #[error("a service Limen depends on is unavailable: {0}")]
    Unavailable(String),
    /// The verification e-mail could not be sent; nothing was kept.
    #[error("the e-mail could not be sent: {0}")]
    MailUndeliverable(String),
    /// Password hashing is saturated; retry shortly.
    #[error("too busy to check passwords, retry shortly")]
    Busy,
    /// A passkey's assertion or registration does not hold (another
    /// challenge, origin or relying party, a bad signature, a user handle
    /// that is not the owner's, a sign counter that went back).
    #[error("the passkey was refused: {0}")]
    PasskeyRefused(String),
    /// The passkey, or a passkey by that name, is registered already.
    #[error("{0}")]
    PasskeyTaken(&'static str),
    /// The user has no passkey by this name.
    #[error("no passkey named {0:?}")]
    UnknownPasskey(String),
    /// Removing it would leave the user no way to log in (no password, no
    /// other passkey); an operator may force it.
    #[error("this is the user's last way to log in")]
    LastWayIn,
    /// The user changed since the version the change was made against (an
    /// `If-Match` that no longer matches); read again and retry.
    #[error("the user changed since it was read")]
    StaleVersion,
    /// An admin token has this name already.
    #[error("an admin token named {0:?} exists")]
    AdminTokenNameTaken(String),
    /// A dependency failed; the message is for logs, never for clients.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for DomainError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Duplicate(UniqueField::Username) => DomainError::UsernameTaken,
            StoreError::Duplicate(UniqueField::Email) => DomainError::EmailTaken,
            StoreError::Duplicate(UniqueField::PersonalNumber) => DomainError::PersonalNumberTaken,
            StoreError::ReadOnly => DomainError::ReadOnlyDirectory,
            StoreError::Stale => DomainError::StaleVersion,
            StoreError::Refused(reason) => {
                DomainError::InvalidInput(format!("the user directory refused the password: {reason}"))
            }
            StoreError::Ambiguous(cause) => {
                tracing::warn!(%cause, "a lookup matched several users; refused");
                DomainError::AmbiguousLogin
            }
            // A database or a remote directory that does not answer: the
            // client may retry (503), the operator reads the cause in the log.
            StoreError::Unavailable(cause) => DomainError::Unavailable(cause),
            other => DomainError::Internal(other.to_string()),
        }
    }
}

impl From<HashError> for DomainError {
    fn from(err: HashError) -> Self {
        match err {
            HashError::Busy => DomainError::Busy,
            other => DomainError::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn every_password_a_url_carries_is_masked() {
        let cases = [
            (
                "postgres://limen:s3cret@db:5432/limen",
                "postgres://limen:***@db:5432/limen",
            ),
            ("mysql://root@localhost/test", "mysql://root@localhost/test"),
            ("sqlite://limen.db?mode=rwc", "sqlite://limen.db?mode=rwc"),
            (
                "postgres://limen@db/limen?password=s3cret&sslmode=require",
                "postgres://limen@db/limen?password=***&sslmode=require",
            ),
            (
                "mysql://db/limen?user=root&Password=s3cret",
                "mysql://db/limen?user=root&Password=***",
            ),
            ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
            ("postgres://u:p/ss@w@rd@db/x", "postgres://u:***@db/x"),
            ("ldaps://dc1.example.org", "ldaps://dc1.example.org"),
        ];
        for (url, shown) in cases {
            assert_eq!(redact_url(url), shown, "{url}");
            assert!(!redact_url(url).contains("s3cret"));
        }
    }
}
