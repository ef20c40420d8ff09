//! PATCH (RFC 7644 §3.5.2) of a User: each operation applied in order to
//! what SCIM sees of the user, the result then written as one change.
//! What Entra ID sends is taken: `op` in any case, `"True"`/`"False"` for
//! booleans, filtered paths (`emails[type eq "work"].value`), and an
//! operation without a path whose value holds dotted or URN-named keys.

use serde_json::Value;

use super::error::ScimError;
use super::paths::{Attribute, attribute};
use super::resource::{Merge, ScimUser};

/// The PatchOp message's URN.
pub(crate) const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Applies the PatchOp `body` to `user`.
pub(crate) fn apply(user: &mut ScimUser, body: &Value) -> Result<(), ScimError> {
    let schemas = body.get("schemas").and_then(Value::as_array);
    if !schemas.is_some_and(|schemas| schemas.iter().any(|schema| schema == PATCH_SCHEMA)) {
        return Err(ScimError::invalid_syntax(format!(
            "schemas must name {PATCH_SCHEMA}"
        )));
    }
    let operations = body
        .get("Operations")
        .or_else(|| body.get("operations"))
        .and_then(Value::as_array)
        .filter(|operations| !operations.is_empty())
        .ok_or_else(|| ScimError::invalid_syntax("Operations must be a list of at least one operation"))?;
    for operation in operations {
        apply_one(user, operation)?;
    }
    Ok(())
}

fn apply_one(user: &mut ScimUser, operation: &Value) -> Result<(), ScimError> {
    let op = operation
        .get("op")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| ScimError::invalid_syntax("every operation needs an op"))?;
    let path = operation
        .get("path")
        .and_then(Value::as_str)
        .filter(|path| !path.trim().is_empty());
    let value = operation.get("value").unwrap_or(&Value::Null);
    match (op.as_str(), path) {
        ("add" | "replace", Some(path)) => {
            let attribute = named(path)?;
            if matches!(attribute, Attribute::Emails) && value.is_null() && op == "add" {
                return Err(ScimError::invalid_value("add needs a value"));
            }
            user.set(&attribute, value, Merge::Parts)
        }
        ("add" | "replace", None) => {
            let fields = value.as_object().ok_or_else(|| {
                ScimError::invalid_value("an operation without a path needs an object value")
            })?;
            for (key, field) in fields {
                if key.starts_with("urn:") && field.is_object() {
                    continue;
                }
                user.set(&named(key)?, field, Merge::Parts)?;
            }
            Ok(())
        }
        ("remove", Some(path)) => match named(path)? {
            Attribute::UserName | Attribute::Active => {
                Err(ScimError::mutability(format!("{path} cannot be removed")))
            }
            attribute => user.set(&attribute, &Value::Null, Merge::Parts),
        },
        ("remove", None) => Err(ScimError::new(
            actix_web::http::StatusCode::BAD_REQUEST,
            Some("noTarget"),
            "remove needs a path",
        )),
        _ => Err(ScimError::invalid_syntax(format!(
            "op must be add, replace or remove, not {op:?}"
        ))),
    }
}

fn named(path: &str) -> Result<Attribute, ScimError> {
    attribute(path).map_err(|err| ScimError::invalid_path(err.to_string()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ann() -> ScimUser {
        ScimUser {
            user_name: "ann".into(),
            given_name: Some("Ann".into()),
            family_name: Some("Lind".into()),
            email: Some("ann@example.com".into()),
            active: true,
            external_id: Some("e1".into()),
            password: None,
        }
    }

    fn patched(operations: Value) -> Result<ScimUser, ScimError> {
        let mut user = ann();
        apply(
            &mut user,
            &json!({"schemas": [PATCH_SCHEMA], "Operations": operations}),
        )?;
        Ok(user)
    }

    #[test]
    fn entra_ids_operations_apply() {
        let user = patched(json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"},
            {"op": "Replace", "path": "name.familyName", "value": "Berg"},
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Add", "path": "displayName", "value": "Ann Berg"},
            {"op": "replace", "value": {"name.givenName": "Anna", "externalId": "e2",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "7"}}
        ]))
        .unwrap();
        assert_eq!(user.email.as_deref(), Some("new@example.com"));
        assert_eq!(user.family_name.as_deref(), Some("Berg"));
        assert_eq!(user.given_name.as_deref(), Some("Anna"));
        assert_eq!(user.external_id.as_deref(), Some("e2"));
        assert!(!user.active);
    }

    #[test]
    fn a_complex_replace_keeps_the_parts_it_does_not_name_and_remove_clears() {
        let user =
            patched(json!([{"op": "replace", "path": "name", "value": {"givenName": "Anna"}}])).unwrap();
        assert_eq!(
            (user.given_name.as_deref(), user.family_name.as_deref()),
            (Some("Anna"), Some("Lind"))
        );
        let user = patched(json!([{"op": "remove", "path": "name"}, {"op": "remove", "path": "externalId"}]))
            .unwrap();
        assert_eq!(
            (user.given_name, user.family_name, user.external_id),
            (None, None, None)
        );
    }

    #[test]
    fn malformed_patches_are_refused_with_their_scim_type() {
        for (body, scim_type) in [
            (
                json!({"Operations": [{"op": "add", "path": "active", "value": true}]}),
                "invalidSyntax",
            ),
            (
                json!({"schemas": [PATCH_SCHEMA], "Operations": []}),
                "invalidSyntax",
            ),
            (
                json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "move", "path": "active"}]}),
                "invalidSyntax",
            ),
            (
                json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "add", "path": "shoeSize", "value": 1}]}),
                "invalidPath",
            ),
            (
                json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "remove"}]}),
                "noTarget",
            ),
            (
                json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "remove", "path": "userName"}]}),
                "mutability",
            ),
            (
                json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "active", "value": "maybe"}]}),
                "invalidValue",
            ),
        ] {
            let err = apply(&mut ann(), &body).unwrap_err();
            assert_eq!(err.scim_type(), Some(scim_type), "{body}: {err}");
        }
    }
}
