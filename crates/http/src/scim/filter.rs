//! The part of SCIM's filter language (RFC 7644 §3.4.2.2) that provisioning
//! clients use: `eq` comparisons joined by `and`. Entra ID and Okta look
//! users up by `userName`, `externalId` and `emails[type eq "work"].value`,
//! and Entra sometimes leaves a value unquoted (`externalId eq jyoung`).

use super::error::ScimError;
use super::paths::{Attribute, attribute};

/// A comparison's right-hand side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// A string (quoted or bare).
    Text(String),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// `attribute eq value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Equals {
    /// What is compared.
    pub attribute: Attribute,
    /// With what.
    pub value: Value,
}

/// Every comparison must hold.
pub(crate) type Filter = Vec<Equals>;

/// Parses `text`; anything beyond `eq` and `and` is `invalidFilter`.
pub(crate) fn parse(text: &str) -> Result<Filter, ScimError> {
    let tokens = tokenize(text)?;
    let mut filter = Vec::new();
    let mut rest = tokens.as_slice();
    loop {
        let [Token::Word(path), Token::Word(op), value, tail @ ..] = rest else {
            return Err(ScimError::invalid_filter(
                "a filter is `attribute eq value`, joined by `and`",
            ));
        };
        if !op.eq_ignore_ascii_case("eq") {
            return Err(ScimError::invalid_filter(format!(
                "only the operator eq is supported, not {op:?}"
            )));
        }
        let attribute = attribute(path).map_err(|err| ScimError::invalid_filter(err.to_string()))?;
        if !matches!(
            attribute,
            Attribute::Id
                | Attribute::UserName
                | Attribute::Email
                | Attribute::Emails
                | Attribute::ExternalId
                | Attribute::Active
                | Attribute::GivenName
                | Attribute::FamilyName
        ) {
            return Err(ScimError::invalid_filter(format!(
                "Limen cannot filter by {path:?}"
            )));
        }
        let value = match value {
            Token::Quoted(text) => Value::Text(text.clone()),
            Token::Word(word) if word.eq_ignore_ascii_case("true") => Value::Bool(true),
            Token::Word(word) if word.eq_ignore_ascii_case("false") => Value::Bool(false),
            Token::Word(word) if word.eq_ignore_ascii_case("null") => Value::Null,
            Token::Word(word) => Value::Text(word.clone()),
        };
        filter.push(Equals { attribute, value });
        match tail {
            [] => return Ok(filter),
            [Token::Word(and), more @ ..] if and.eq_ignore_ascii_case("and") => rest = more,
            _ => {
                return Err(ScimError::invalid_filter(
                    "comparisons can only be joined by `and` (no `or`, `not` or parentheses)",
                ));
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
}

/// Words (an attribute path may hold `[type eq "work"]`, kept whole) and
/// JSON strings.
fn tokenize(text: &str) -> Result<Vec<Token>, ScimError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut value = String::new();
            loop {
                match chars.next() {
                    None => return Err(ScimError::invalid_filter("a string is not closed")),
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some(escaped @ ('"' | '\\' | '/')) => value.push(escaped),
                        Some('n') => value.push('\n'),
                        Some('t') => value.push('\t'),
                        _ => return Err(ScimError::invalid_filter("an unknown escape in a string")),
                    },
                    Some(other) => value.push(other),
                }
            }
            tokens.push(Token::Quoted(value));
        } else if c == '(' || c == ')' {
            return Err(ScimError::invalid_filter("parentheses are not supported"));
        } else {
            let mut word = String::new();
            let mut depth = 0usize;
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() && depth == 0 {
                    break;
                }
                match c {
                    '[' => depth += 1,
                    ']' => depth = depth.saturating_sub(1),
                    _ => {}
                }
                word.push(c);
                chars.next();
            }
            tokens.push(Token::Word(word));
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_provisioning_clients_send_parses() {
        assert_eq!(
            parse(r#"userName eq "Test_User_00aa""#).unwrap(),
            vec![Equals {
                attribute: Attribute::UserName,
                value: Value::Text("Test_User_00aa".into())
            }]
        );
        assert_eq!(
            parse("externalId eq jyoung").unwrap(),
            vec![Equals {
                attribute: Attribute::ExternalId,
                value: Value::Text("jyoung".into())
            }]
        );
        assert_eq!(
            parse(r#"emails[type eq "work"].value eq "a@example.com" and active eq true"#).unwrap(),
            vec![
                Equals {
                    attribute: Attribute::Email,
                    value: Value::Text("a@example.com".into())
                },
                Equals {
                    attribute: Attribute::Active,
                    value: Value::Bool(true)
                }
            ]
        );
        assert_eq!(
            parse(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName EQ "a\"b""#).unwrap()[0].value,
            Value::Text("a\"b".into())
        );
    }

    #[test]
    fn what_is_not_supported_is_an_invalid_filter() {
        for text in [
            "",
            "userName",
            r#"userName co "a""#,
            r#"userName eq "a" or userName eq "b""#,
            r#"(userName eq "a")"#,
            r#"userName eq "open"#,
            r#"nickName eq "a""#,
            r#"userName eq "a" and"#,
        ] {
            let err = parse(text).unwrap_err();
            assert_eq!(err.scim_type(), Some("invalidFilter"), "{text}: {err}");
        }
    }
}
