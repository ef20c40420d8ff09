//! The User resource: what Limen keeps of a SCIM user, its JSON, and the
//! change from one state to another.

use limen_domain::model::{ProfileChange, User, normalize_identifier};
use limen_domain::services::UserUpdate;
use serde_json::{Map, Value, json};

use super::error::ScimError;
use super::paths::{Attribute, USER_SCHEMA, attribute};
use crate::admin::etag;

/// The attributes of a user SCIM can see and change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScimUser {
    /// `userName` (Limen's username, lower-case).
    pub user_name: String,
    /// `name.givenName`.
    pub given_name: Option<String>,
    /// `name.familyName`.
    pub family_name: Option<String>,
    /// `emails[0].value`: Limen keeps one address.
    pub email: Option<String>,
    /// `active`: not disabled in Limen.
    pub active: bool,
    /// `externalId`.
    pub external_id: Option<String>,
    /// `password`, at creation only.
    pub password: Option<String>,
}

impl ScimUser {
    /// What SCIM sees of `user`.
    pub fn of(user: &User) -> Self {
        Self {
            user_name: user.username.clone(),
            given_name: user.first_name.clone(),
            family_name: user.last_name.clone(),
            email: Some(user.email.clone()).filter(|email| !email.is_empty()),
            active: !user.disabled_in_limen,
            external_id: user.scim_external_id.clone(),
            password: None,
        }
    }

    /// A new user: active, nothing else set.
    pub fn blank() -> Self {
        Self {
            user_name: String::new(),
            given_name: None,
            family_name: None,
            email: None,
            active: true,
            external_id: None,
            password: None,
        }
    }

    /// What a PUT starts from: the stored user with every attribute it may
    /// clear cleared; `active` stays unless the body names it.
    pub fn cleared(&self) -> Self {
        Self {
            active: self.active,
            ..Self::blank()
        }
    }

    /// A user from a POST or PUT body laid over `base`: `userName`
    /// required, the schema's attributes Limen does not keep dropped,
    /// `id` and `meta` ignored.
    pub fn from_json(base: Self, body: &Value) -> Result<Self, ScimError> {
        let object = body
            .as_object()
            .ok_or_else(|| ScimError::invalid_syntax("the body must be a JSON object"))?;
        let mut user = base;
        for (key, value) in object {
            if matches!(key.as_str(), "schemas" | "id" | "meta") {
                continue;
            }
            if key.starts_with("urn:") && value.is_object() {
                // An extension's attributes (the enterprise User).
                continue;
            }
            let attribute = attribute(key).map_err(|err| ScimError::invalid_value(err.to_string()))?;
            user.set(&attribute, value, Merge::Whole)?;
        }
        if user.user_name.is_empty() {
            return Err(ScimError::invalid_value("userName is required"));
        }
        Ok(user)
    }

    /// Sets `attribute` to `value` (`null` clears); a complex `name` merges
    /// its sub-attributes into what is there, as PATCH does.
    pub fn set(&mut self, attribute: &Attribute, value: &Value, merge: Merge) -> Result<(), ScimError> {
        match attribute {
            Attribute::UserName => self.user_name = text(value, "userName")?.unwrap_or_default(),
            Attribute::ExternalId => self.external_id = text(value, "externalId")?,
            Attribute::Active => self.active = boolean(value)?,
            Attribute::GivenName => self.given_name = text(value, "name.givenName")?,
            Attribute::FamilyName => self.family_name = text(value, "name.familyName")?,
            Attribute::Name => match value {
                Value::Null => {
                    self.given_name = None;
                    self.family_name = None;
                }
                Value::Object(parts) => {
                    if merge == Merge::Whole {
                        self.given_name = None;
                        self.family_name = None;
                    }
                    for (key, part) in parts {
                        match key.to_ascii_lowercase().as_str() {
                            "givenname" => self.given_name = text(part, "name.givenName")?,
                            "familyname" => self.family_name = text(part, "name.familyName")?,
                            _ => {}
                        }
                    }
                }
                _ => return Err(ScimError::invalid_value("name must be an object")),
            },
            Attribute::Email => self.email = text(value, "emails.value")?,
            Attribute::Emails => self.email = primary_email(value)?,
            Attribute::Password => self.password = text(value, "password")?,
            Attribute::Id => return Err(ScimError::mutability("id is assigned by Limen")),
            Attribute::NotKept(_) => {}
        }
        Ok(())
    }

    /// The change from `self` (the user as stored) to `wanted`: profile
    /// fields go to the directory, `active` and `externalId` to Limen.
    pub fn change_to(&self, wanted: &Self) -> Result<UserUpdate, ScimError> {
        if wanted.user_name.trim().is_empty() {
            return Err(ScimError::invalid_value("userName is required"));
        }
        let username = normalize_identifier(&wanted.user_name);
        if wanted.password.is_some() {
            return Err(ScimError::mutability(
                "Limen takes a password over SCIM only when it creates the user",
            ));
        }
        let changed = |from: &Option<String>, to: &Option<String>| (from != to).then(|| to.clone());
        let email = match (&self.email, &wanted.email) {
            (from, Some(to)) if from.as_deref() != Some(to.to_lowercase().as_str()) => Some(to.clone()),
            (_, Some(_)) => None,
            (Some(_), None) => return Err(ScimError::invalid_value("Limen's users need an e-mail address")),
            (None, None) => None,
        };
        Ok(UserUpdate {
            profile: ProfileChange {
                username: (username != self.user_name).then_some(username),
                email,
                first_name: changed(&self.given_name, &wanted.given_name),
                last_name: changed(&self.family_name, &wanted.family_name),
                personal_number: None,
            },
            enabled: (self.active != wanted.active).then_some(wanted.active),
            role: None,
            scim_external_id: changed(&self.external_id, &wanted.external_id),
        })
    }
}

/// How a complex value meets what is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Merge {
    /// PUT and POST: the value given is the whole value.
    Whole,
    /// PATCH `add` and `replace` (RFC 7644 §3.5.2.1, .3): the
    /// sub-attributes given are set, the others left as they are.
    Parts,
}

/// A string or `null`; an empty string is `null` too.
fn text(value: &Value, name: &str) -> Result<Option<String>, ScimError> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) if text.trim().is_empty() => Ok(None),
        Value::String(text) => Ok(Some(text.clone())),
        _ => Err(ScimError::invalid_value(format!("{name} must be a string"))),
    }
}

/// A boolean, or the strings Entra ID sends for one (`"True"`, `"False"`).
fn boolean(value: &Value) -> Result<bool, ScimError> {
    match value {
        Value::Bool(flag) => Ok(*flag),
        Value::String(text) if text.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(text) if text.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ScimError::invalid_value("active must be true or false")),
    }
}

/// The address of `emails`: the primary one, else the first; `null` or
/// an empty list is none.
fn primary_email(value: &Value) -> Result<Option<String>, ScimError> {
    let entries = match value {
        Value::Null => return Ok(None),
        Value::Array(entries) => entries.as_slice(),
        Value::Object(_) => std::slice::from_ref(value),
        _ => return Err(ScimError::invalid_value("emails must be a list of objects")),
    };
    let primary = entries
        .iter()
        .find(|entry| entry.get("primary").and_then(Value::as_bool) == Some(true))
        .or_else(|| entries.first());
    match primary {
        None => Ok(None),
        Some(entry) => text(entry.get("value").unwrap_or(&Value::Null), "emails.value"),
    }
}

/// The User resource of `user`, with `meta.location` under `base`.
pub(crate) fn user_json(user: &User, base: &str) -> Value {
    let scim = ScimUser::of(user);
    let mut object = Map::new();
    object.insert("schemas".into(), json!([USER_SCHEMA]));
    object.insert("id".into(), json!(user.id.0.to_string()));
    if let Some(external) = &scim.external_id {
        object.insert("externalId".into(), json!(external));
    }
    object.insert("userName".into(), json!(scim.user_name));
    let mut name = Map::new();
    if let Some(given) = &scim.given_name {
        name.insert("givenName".into(), json!(given));
    }
    if let Some(family) = &scim.family_name {
        name.insert("familyName".into(), json!(family));
    }
    if !name.is_empty() {
        object.insert("name".into(), Value::Object(name));
    }
    if let Some(email) = &scim.email {
        object.insert("emails".into(), json!([{ "value": email }]));
    }
    object.insert("active".into(), json!(user.enabled));
    object.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": crate::admin::time(user.created_at),
            "lastModified": crate::admin::time(user.updated_at),
            "location": format!("{base}/Users/{}", user.id.0),
            "version": etag(user),
        }),
    );
    Value::Object(object)
}

/// `resource` with only the attributes `attributes` names (plus `schemas`
/// and `id`, always returned), or without those `excluded` names.
pub(crate) fn project(resource: Value, attributes: &[String], excluded: &[String]) -> Value {
    let Value::Object(object) = resource else {
        return resource;
    };
    let local = |path: &str| {
        let lower = path.trim().to_ascii_lowercase();
        let prefix = format!("{}:", USER_SCHEMA.to_ascii_lowercase());
        lower.strip_prefix(&prefix).map(str::to_owned).unwrap_or(lower)
    };
    let attributes: Vec<String> = attributes.iter().map(|path| local(path)).collect();
    let excluded: Vec<String> = excluded.iter().map(|path| local(path)).collect();
    let mut kept = Map::new();
    for (key, value) in object {
        let lower = key.to_ascii_lowercase();
        if matches!(lower.as_str(), "schemas" | "id") {
            kept.insert(key, value);
            continue;
        }
        if !attributes.is_empty() {
            let whole = attributes.contains(&lower);
            let parts: Vec<&str> = attributes
                .iter()
                .filter_map(|path| path.strip_prefix(&format!("{lower}.")))
                .collect();
            if whole {
                kept.insert(key, value);
            } else if !parts.is_empty()
                && let Value::Object(sub) = value
            {
                let sub: Map<String, Value> = sub
                    .into_iter()
                    .filter(|(name, _)| parts.contains(&name.to_ascii_lowercase().as_str()))
                    .collect();
                kept.insert(key, Value::Object(sub));
            }
        } else if !excluded.contains(&lower) {
            kept.insert(key, value);
        }
    }
    Value::Object(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored() -> ScimUser {
        ScimUser {
            user_name: "ann".into(),
            given_name: Some("Ann".into()),
            family_name: None,
            email: Some("ann@example.com".into()),
            active: true,
            external_id: None,
            password: None,
        }
    }

    #[test]
    fn an_entra_create_body_reads_with_its_extras_dropped() {
        let body = json!({
            "schemas": [USER_SCHEMA, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "externalId": "0a21f0f2",
            "userName": "Test_User_00aa",
            "active": "True",
            "emails": [{"primary": true, "type": "work", "value": "Test@testuser.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "given family", "familyName": "family", "givenName": "given"},
            "roles": [],
            "addresses": null,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": null}
        });
        let user = ScimUser::from_json(ScimUser::blank(), &body).unwrap();
        assert_eq!(user.user_name, "Test_User_00aa");
        assert_eq!(user.email.as_deref(), Some("Test@testuser.com"));
        assert_eq!(user.given_name.as_deref(), Some("given"));
        assert_eq!(user.external_id.as_deref(), Some("0a21f0f2"));
        assert!(user.active);
        assert!(ScimUser::from_json(ScimUser::blank(), &json!({"name": {}})).is_err());
        assert!(ScimUser::from_json(ScimUser::blank(), &json!({"userName": "a", "nick": 1})).is_err());
    }

    #[test]
    fn a_change_names_only_what_differs() {
        let mut wanted = stored();
        wanted.active = false;
        wanted.external_id = Some("x1".into());
        wanted.email = Some("ANN@example.com".into());
        let update = stored().change_to(&wanted).unwrap();
        assert_eq!(update.enabled, Some(false));
        assert_eq!(update.scim_external_id, Some(Some("x1".into())));
        assert_eq!(update.profile, ProfileChange::default());
        wanted.user_name = " ANN ".into();
        assert_eq!(stored().change_to(&wanted).unwrap().profile.username, None);
        wanted.user_name = "Bob".into();
        assert_eq!(
            stored().change_to(&wanted).unwrap().profile.username.as_deref(),
            Some("bob")
        );
        let mut no_email = stored();
        no_email.email = None;
        assert!(stored().change_to(&no_email).is_err());
    }

    #[test]
    fn projections_keep_schemas_and_id_and_what_is_asked() {
        let resource = json!({"schemas": [USER_SCHEMA], "id": "1", "userName": "ann",
            "name": {"givenName": "Ann", "familyName": "Lind"}, "externalId": "e"});
        assert_eq!(
            project(resource.clone(), &["externalId".into()], &[]),
            json!({"schemas": [USER_SCHEMA], "id": "1", "externalId": "e"})
        );
        assert_eq!(
            project(resource.clone(), &["name.familyName".into()], &[]),
            json!({"schemas": [USER_SCHEMA], "id": "1", "name": {"familyName": "Lind"}})
        );
        assert_eq!(
            project(resource, &[], &["name".into(), "userName".into()]),
            json!({"schemas": [USER_SCHEMA], "id": "1", "externalId": "e"})
        );
    }
}
