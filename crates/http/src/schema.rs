//! Request schemas written out as JSON Schema, for the requests whose rules
//! span fields (this field when that one has this value), which derived
//! schemas cannot say. utoipa's schema types have no `const`, `not` or an
//! object's own `anyOf`, so these are kept as JSON and put into the written
//! description in place of a placeholder (`openapi::openapi_json`).

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// A request schema written as JSON Schema, under its component name.
pub(crate) struct Written {
    /// The component's name, as the type's `ToSchema::name` gives it.
    pub(crate) name: &'static str,
    /// The schema.
    pub(crate) schema: fn() -> serde_json::Value,
}

/// What stands for a written schema until the description is written out.
pub(crate) fn placeholder() -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::Object).into()
}

/// A string with something in it besides spaces: what "given" means to the
/// handlers, which trim before they look.
pub(crate) const NOT_BLANK: &str = r"\S";

/// An e-mail address as registration takes it, in ASCII: a dot-atom local
/// part of at most 64 characters, `@`, and two or more labels of letters,
/// digits and inner hyphens of at most 63 characters each. (The server also
/// takes letters beyond ASCII.)
pub(crate) const EMAIL: &str = r"^(?=[^@]{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$";

/// Something besides spaces, and no control characters (a client id).
pub(crate) const VISIBLE: &str = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$";

/// No control characters, as names and notes must be.
pub(crate) const NO_CONTROLS: &str = r"^[^\x00-\x1f\x7f-\x9f]*$";

/// A boolean as `LenientBool` reads it, limited to the spellings of `value`.
pub(crate) fn lenient_bool(value: bool) -> serde_json::Value {
    let spellings: &[&str] = if value {
        &["true", "1", "on", "yes"]
    } else {
        &["false", "0", "off", "no", ""]
    };
    serde_json::json!({"oneOf": [
        {"type": "boolean", "const": value},
        {"type": "string", "enum": spellings}
    ]})
}
