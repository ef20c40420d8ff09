//! Normalisation and validation of what users type to identify themselves.

use crate::error::DomainError;

/// Longest accepted username, in characters.
pub const MAX_USERNAME_CHARS: usize = 64;
/// Longest accepted e-mail address (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;
/// Shortest password an operator or a user may set.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted anywhere; bounds the work one request can cause.
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// The form under which usernames and e-mail addresses are stored and looked up:
/// trimmed and lower-case, so `John.Doe` and `john.doe` are one account on every
/// database, whatever its collation.
pub fn normalize_identifier(input: &str) -> String {
    input.trim().to_lowercase()
}

/// Validates and normalises a new username.
pub fn validate_username(input: &str) -> Result<String, DomainError> {
    let name = normalize_identifier(input);
    if name.is_empty() {
        return Err(DomainError::InvalidInput("username must not be empty".into()));
    }
    if name.chars().count() > MAX_USERNAME_CHARS {
        return Err(DomainError::InvalidInput(format!(
            "username must be at most {MAX_USERNAME_CHARS} characters"
        )));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(DomainError::InvalidInput(
            "username must not contain spaces or control characters".into(),
        ));
    }
    Ok(name)
}

/// Longest local part of an e-mail address, in bytes (RFC 5321).
const MAX_LOCAL_PART_BYTES: usize = 64;
/// Longest label of a domain, in bytes (RFC 1035).
const MAX_LABEL_BYTES: usize = 63;
/// Longest domain, in bytes (RFC 1035).
const MAX_DOMAIN_BYTES: usize = 253;

/// Validates and normalises an e-mail address: a dot-atom local part of at
/// most 64 bytes (letters, digits and ``!#$%&'*+-/=?^_`{|}~``; no quoted forms),
/// `@`, and a domain of at least two dot-separated labels, each of letters,
/// digits and inner hyphens and at most 63 bytes. What passes is an address
/// an SMTP server can be handed; deliverability is proven by the verification
/// e-mail, not here.
pub fn validate_email(input: &str) -> Result<String, DomainError> {
    let email = normalize_identifier(input);
    let invalid = || DomainError::InvalidInput(format!("{input:?} is not a valid e-mail address"));
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Err(invalid());
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(invalid());
    };
    let atext = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let local_ok = local.len() <= MAX_LOCAL_PART_BYTES
        && local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(atext));
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= MAX_LABEL_BYTES
            && label.starts_with(char::is_alphanumeric)
            && label.ends_with(char::is_alphanumeric)
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    let domain_ok =
        domain.len() <= MAX_DOMAIN_BYTES && domain.contains('.') && domain.split('.').all(label_ok);
    if !local_ok || !domain_ok {
        return Err(invalid());
    }
    Ok(email)
}

/// Checks a new password against the length policy.
pub fn validate_new_password(password: &str) -> Result<(), DomainError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(DomainError::InvalidInput(format!(
            "password must be at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(DomainError::InvalidInput(format!(
            "password must be at most {MAX_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

/// The stricter policy of self-registration: the length policy, plus at least
/// one lower-case letter, one upper-case letter, one digit and one other character
/// (the `gradido` document's example `123abcDE&` passes).
pub fn validate_strong_password(password: &str) -> Result<(), DomainError> {
    validate_new_password(password)?;
    let has = |test: fn(char) -> bool| password.chars().any(test);
    let kinds = [
        has(char::is_lowercase),
        has(char::is_uppercase),
        has(|c| c.is_ascii_digit()),
        has(|c| !c.is_alphanumeric()),
    ];
    if kinds.contains(&false) {
        return Err(DomainError::InvalidInput(
            "password must contain a lower-case letter, an upper-case letter, a digit and another character"
                .into(),
        ));
    }
    Ok(())
}

/// Longest accepted first or last name, in characters.
pub const MAX_NAME_CHARS: usize = 255;

/// Trims an optional name (blank becomes `None`) and refuses one that is too long
/// or holds control characters.
pub fn validate_name(field: &str, input: Option<&str>) -> Result<Option<String>, DomainError> {
    let Some(name) = input.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(DomainError::InvalidInput(format!(
            "{field} must be at most {MAX_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(DomainError::InvalidInput(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(Some(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_trimmed_and_lower_cased() {
        assert_eq!(validate_username("  John.Doe ").ok().as_deref(), Some("john.doe"));
    }

    #[test]
    fn bad_usernames_are_refused() {
        for bad in ["", "   ", "john doe", "a\u{0}b", &"x".repeat(65)] {
            assert!(validate_username(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn emails_need_one_at_and_a_dotted_domain() {
        assert_eq!(
            validate_email("John@Example.COM").ok().as_deref(),
            Some("john@example.com")
        );
        for good in ["a.b+tag@sub.example.co", "o'neil@x-y.example", "åsa@exempel.se"] {
            assert!(validate_email(good).is_ok(), "{good:?}");
        }
        let label = "a".repeat(MAX_LABEL_BYTES);
        assert!(validate_email(&format!("a@{label}.se")).is_ok());
        assert!(
            validate_email(&format!("a@{label}b.se")).is_err(),
            "a label of 64 bytes"
        );
        let local = "a".repeat(MAX_LOCAL_PART_BYTES);
        assert!(validate_email(&format!("{local}@b.se")).is_ok());
        assert!(
            validate_email(&format!("{local}a@b.se")).is_err(),
            "a local part of 65 bytes"
        );
        for bad in [
            "",
            "john",
            "@example.com",
            "john@",
            "john@example",
            "a@b@c.d",
            "a b@c.d",
            "a@.c",
            "a@c.",
            "a@b..c",
            "a..b@c.d",
            ".a@c.d",
            "\"quoted\"@c.d",
            "a@-b.c",
            "a@b-.c",
            "a@b_c.d",
            "a(b)@c.d",
        ] {
            assert!(validate_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn password_length_is_bounded_both_ways() {
        assert!(validate_new_password("1234567").is_err());
        assert!(validate_new_password("12345678").is_ok());
        assert!(validate_new_password(&"x".repeat(1025)).is_err());
    }

    #[test]
    fn strong_passwords_need_four_kinds_of_character() {
        assert!(validate_strong_password("123abcDE&").is_ok());
        for weak in ["123abcDEF", "123abcde&", "123ABCDE&", "abcdefGH&", "1aB&"] {
            assert!(validate_strong_password(weak).is_err(), "{weak}");
        }
    }

    #[test]
    fn blank_names_become_none_and_bad_ones_are_refused() {
        assert_eq!(validate_name("first name", Some("  ")).unwrap(), None);
        assert_eq!(
            validate_name("first name", Some(" Ann ")).unwrap().as_deref(),
            Some("Ann")
        );
        assert_eq!(validate_name("first name", None).unwrap(), None);
        assert!(validate_name("first name", Some(&"é".repeat(255))).is_ok());
        assert!(validate_name("first name", Some(&"é".repeat(256))).is_err());
        assert!(validate_name("last name", Some("a\u{0}b")).is_err());
    }
}
