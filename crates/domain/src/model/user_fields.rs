//! The `user` object a consumer gets (the `lime` dialect's answers and the
//! OpenID login's payload): which user field fills each key is
//! configuration, as the Lime add-on lets each customer choose ("any
//! limetype can be used").

use serde_json::{Map, Value};

use crate::model::User;

/// A user field an answer can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserField {
    /// Limen's numeric id.
    Id,
    /// The user directory's own id, as text.
    ExternalId,
    /// The login name.
    Username,
    /// The e-mail address.
    Email,
    /// Given name.
    FirstName,
    /// Family name.
    LastName,
    /// "First Last", or the username.
    FullName,
    /// The 12-digit personal number.
    PersonalNumber,
}

impl UserField {
    /// The names configuration uses.
    pub const NAMES: [&'static str; 8] = [
        "id",
        "external_id",
        "username",
        "email",
        "first_name",
        "last_name",
        "full_name",
        "personal_number",
    ];

    /// Parses a configured field name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "id" => Self::Id,
            "external_id" => Self::ExternalId,
            "username" => Self::Username,
            "email" => Self::Email,
            "first_name" => Self::FirstName,
            "last_name" => Self::LastName,
            "full_name" => Self::FullName,
            "personal_number" => Self::PersonalNumber,
            _ => return None,
        })
    }

    fn value(self, user: &User) -> Value {
        let text = |value: Option<&String>| value.map_or(Value::Null, |value| Value::String(value.clone()));
        match self {
            Self::Id => Value::from(user.id.0),
            Self::ExternalId => Value::String(user.external_id.clone()),
            Self::Username => Value::String(user.username.clone()),
            Self::Email if user.email.is_empty() => Value::Null,
            Self::Email => Value::String(user.email.clone()),
            Self::FirstName => text(user.first_name.as_ref()),
            Self::LastName => text(user.last_name.as_ref()),
            Self::FullName => Value::String(user.full_name()),
            Self::PersonalNumber => text(user.personal_number.as_ref()),
        }
    }
}

/// Which field fills each key of the `user` object, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFields(pub Vec<(String, UserField)>);

impl Default for UserFields {
    /// The document's example: `_id`, `firstname`, `lastname`, `email`.
    fn default() -> Self {
        Self(vec![
            ("_id".into(), UserField::Id),
            ("firstname".into(), UserField::FirstName),
            ("lastname".into(), UserField::LastName),
            ("email".into(), UserField::Email),
        ])
    }
}

impl UserFields {
    /// The `user` object of `user`; a field the user has no value for is `null`.
    pub fn render(&self, user: &User) -> Map<String, Value> {
        self.0
            .iter()
            .map(|(key, field)| (key.clone(), field.value(user)))
            .collect()
    }
}
