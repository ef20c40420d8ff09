//! Attribute paths of the User resource, as filters and PATCH operations
//! name them: case-insensitive, optionally prefixed with the schema's URN.

/// The core User schema's URN.
pub(crate) const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// The attributes of the core User schema (RFC 7643 §4.1) Limen accepts but
/// does not keep: a client may send them (Entra ID sends `displayName` and
/// `roles`), and they are dropped.
const NOT_KEPT: [&str; 19] = [
    "displayname",
    "nickname",
    "profileurl",
    "title",
    "usertype",
    "preferredlanguage",
    "locale",
    "timezone",
    "phonenumbers",
    "ims",
    "photos",
    "addresses",
    "groups",
    "entitlements",
    "roles",
    "x509certificates",
    "name.formatted",
    "name.middlename",
    "name.honorificprefix",
];

/// An attribute of the User resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Attribute {
    /// `id`: Limen's id.
    Id,
    /// `userName`.
    UserName,
    /// `externalId`: the client's id of the user.
    ExternalId,
    /// `active`.
    Active,
    /// `name`, the complex attribute.
    Name,
    /// `name.givenName`.
    GivenName,
    /// `name.familyName`.
    FamilyName,
    /// `emails`, the multi-valued attribute.
    Emails,
    /// The address: `emails.value`, `emails[type eq "work"].value`.
    Email,
    /// `password` (taken at creation only).
    Password,
    /// An attribute of the schema (or an extension) Limen does not keep.
    NotKept(String),
}

/// Why a path names no attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnknownAttribute(pub String);

impl std::fmt::Display for UnknownAttribute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the User schema has no attribute {:?}", self.0)
    }
}

/// The attribute `path` names.
pub(crate) fn attribute(path: &str) -> Result<Attribute, UnknownAttribute> {
    let lower = path.trim().to_ascii_lowercase();
    let core_prefix = format!("{}:", USER_SCHEMA.to_ascii_lowercase());
    let local = lower.strip_prefix(&core_prefix).unwrap_or(&lower);
    if local.starts_with("urn:") {
        // An extension's attribute (the enterprise User's employeeNumber, …).
        return Ok(Attribute::NotKept(local.to_owned()));
    }
    if let Some((multi, rest)) = local.split_once('[') {
        let (_, after) = rest
            .split_once(']')
            .ok_or_else(|| UnknownAttribute(path.to_owned()))?;
        return match (multi, after) {
            ("emails", ".value") => Ok(Attribute::Email),
            ("emails", "") => Ok(Attribute::Emails),
            _ if NOT_KEPT.contains(&multi) => Ok(Attribute::NotKept(local.to_owned())),
            _ => Err(UnknownAttribute(path.to_owned())),
        };
    }
    Ok(match local {
        "id" => Attribute::Id,
        "username" => Attribute::UserName,
        "externalid" => Attribute::ExternalId,
        "active" => Attribute::Active,
        "name" => Attribute::Name,
        "name.givenname" => Attribute::GivenName,
        "name.familyname" => Attribute::FamilyName,
        "emails" => Attribute::Emails,
        "emails.value" => Attribute::Email,
        "password" => Attribute::Password,
        _ if NOT_KEPT.contains(&local) || NOT_KEPT.contains(&local.split('.').next().unwrap_or_default()) => {
            Attribute::NotKept(local.to_owned())
        }
        _ => return Err(UnknownAttribute(path.to_owned())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_attributes_in_any_case_and_with_the_urn() {
        for (path, wanted) in [
            ("userName", Attribute::UserName),
            ("USERNAME", Attribute::UserName),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:userName",
                Attribute::UserName,
            ),
            ("name.givenName", Attribute::GivenName),
            (r#"emails[type eq "work"].value"#, Attribute::Email),
            ("emails.value", Attribute::Email),
            ("emails", Attribute::Emails),
            ("externalId", Attribute::ExternalId),
            ("displayName", Attribute::NotKept("displayname".into())),
            (
                "phoneNumbers[type eq \"work\"].value",
                Attribute::NotKept("phonenumbers[type eq \"work\"].value".into()),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                Attribute::NotKept(
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:employeenumber".into(),
                ),
            ),
        ] {
            assert_eq!(attribute(path), Ok(wanted), "{path}");
        }
        for path in ["nickname2", "emails[type eq \"work\"", "secret", "meta"] {
            assert!(attribute(path).is_err(), "{path}");
        }
    }
}
