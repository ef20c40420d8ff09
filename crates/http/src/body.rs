//! Reading request bodies with a size limit, and telling JSON from form bodies.

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web::{Bytes, BytesMut, Payload};
use futures_util::StreamExt;

/// Why a body could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    /// Over the configured limit.
    TooLarge,
    /// The connection failed or the encoding was broken mid-body.
    Unreadable,
}

/// Reads the whole body, refusing it as soon as it passes `limit` bytes (at once
/// when the declared `Content-Length` already does).
pub async fn read_limited(req: &HttpRequest, mut payload: Payload, limit: usize) -> Result<Bytes, BodyError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| BodyError::Unreadable)?;
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// How a body is encoded, from its `Content-Type`.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// `application/json` or any `+json` type.
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// No `Content-Type`: the body's first character decides.
    Unspecified,
    /// Anything else.
    Other,
}

/// The encoding `req` declares.
pub fn body_kind(req: &HttpRequest) -> BodyKind {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return BodyKind::Unspecified;
    };
    let Ok(value) = value.to_str() else {
        return BodyKind::Other;
    };
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json")) {
        BodyKind::Json
    } else if essence == "application/x-www-form-urlencoded" {
        BodyKind::Form
    } else {
        BodyKind::Other
    }
}

/// Why a body could not be decoded.
#[derive(Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The declared content type is neither JSON nor a form.
    UnsupportedType,
    /// The body does not parse into the expected fields; the message says why.
    Invalid(String),
}

/// Decodes a JSON or form body into `T`. A body without `Content-Type` is JSON if
/// it starts with `{`, a form otherwise; an empty body decodes as an empty form,
/// so that `T`'s own defaults and required fields decide.
pub fn decode<T: serde::de::DeserializeOwned>(req: &HttpRequest, body: &[u8]) -> Result<T, DecodeError> {
    let looks_like_json = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let json = match body_kind(req) {
        BodyKind::Json => true,
        BodyKind::Form => false,
        BodyKind::Unspecified => looks_like_json,
        BodyKind::Other => return Err(DecodeError::UnsupportedType),
    };
    if json && !body.iter().all(u8::is_ascii_whitespace) {
        serde_json::from_str(json_object_text(body).map_err(DecodeError::Invalid)?)
            .map_err(|err| DecodeError::Invalid(format!("invalid JSON body: {err}")))
    } else if json {
        serde_json::from_slice(b"{}").map_err(|err| DecodeError::Invalid(format!("invalid JSON body: {err}")))
    } else {
        serde_urlencoded::from_bytes(body)
            .map_err(|err| DecodeError::Invalid(format!("invalid form body: {err}")))
    }
}

/// The body as the text of a JSON object: UTF-8 (RFC 8259; serde_json checks
/// only the strings it keeps, so invalid bytes in a field Limen ignores would
/// pass), and an object, since serde fills a struct from an array as well
/// (`["someone"]` would be a request whose first field is `someone`).
pub fn json_object_text(body: &[u8]) -> Result<&str, String> {
    let text = std::str::from_utf8(body).map_err(|err| format!("the body is not UTF-8: {err}"))?;
    match text.trim_start().chars().next() {
        Some('{') => Ok(text),
        _ => Err("the body must be a JSON object".into()),
    }
}

/// A boolean as clients send it: JSON `true`/`false`, or the strings a form or a
/// lenient client uses (`true`, `false`, `1`, `0`, `on`, `off`, `yes`, `no`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LenientBool(pub bool);

/// The spellings the deserializer accepts, as the description lists them; case
/// and surrounding spaces do not matter.
impl utoipa::PartialSchema for LenientBool {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Boolean))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["true", "false", "1", "0", "on", "off", "yes", "no", ""])),
            )
            .description(Some("A boolean, or one of its spellings in a form."))
            .into()
    }
}

impl utoipa::ToSchema for LenientBool {}

impl<'de> serde::Deserialize<'de> for LenientBool {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Bool(bool),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Bool(value) => Ok(Self(value)),
            Raw::Text(text) => match text.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "on" | "yes" => Ok(Self(true)),
                "false" | "0" | "off" | "no" | "" => Ok(Self(false)),
                _ => Err(serde::de::Error::custom(format!("{text:?} is not a boolean"))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Sample {
        name: Option<String>,
        #[serde(default)]
        flag: LenientBool,
    }

    fn with_type(content_type: Option<&str>) -> HttpRequest {
        let mut req = TestRequest::default();
        if let Some(value) = content_type {
            req = req.insert_header((header::CONTENT_TYPE, value));
        }
        req.to_http_request()
    }

    #[test]
    fn json_and_form_bodies_decode_alike() {
        let json: Sample = decode(
            &with_type(Some("application/json; charset=utf-8")),
            br#"{"name":"a","flag":true}"#,
        )
        .unwrap();
        let form: Sample = decode(
            &with_type(Some("application/x-www-form-urlencoded")),
            b"name=a&flag=true",
        )
        .unwrap();
        assert_eq!(json, form);
        assert_eq!(json.flag, LenientBool(true));
    }

    #[test]
    fn without_content_type_the_first_character_decides() {
        let json: Sample = decode(&with_type(None), br#" {"name":"a"}"#).unwrap();
        let form: Sample = decode(&with_type(None), b"name=a").unwrap();
        assert_eq!(json, form);
    }

    #[test]
    fn empty_bodies_decode_to_defaults() {
        let empty: Sample = decode(&with_type(Some("application/json")), b"  ").unwrap();
        assert_eq!(
            empty,
            Sample {
                name: None,
                flag: LenientBool(false)
            }
        );
    }

    #[test]
    fn other_types_and_garbage_are_refused() {
        assert_eq!(
            decode::<Sample>(&with_type(Some("text/plain")), b"name=a"),
            Err(DecodeError::UnsupportedType)
        );
        assert!(matches!(
            decode::<Sample>(&with_type(Some("application/json")), b"{\"name\":"),
            Err(DecodeError::Invalid(_))
        ));
        assert!(matches!(
            decode::<Sample>(&with_type(Some("application/json")), br#"{"name":5}"#),
            Err(DecodeError::Invalid(_))
        ));
        assert!(matches!(
            decode::<Sample>(&with_type(Some("application/json")), br#"{"flag":"maybe"}"#),
            Err(DecodeError::Invalid(_))
        ));
        assert!(matches!(
            decode::<Sample>(
                &with_type(Some("application/json")),
                br#"{"name":"a","name":"b"}"#
            ),
            Err(DecodeError::Invalid(_))
        ));
        for not_an_object in [&br#"["a", true]"#[..], b"\"a\"", b"5", b"null"] {
            assert_eq!(
                decode::<Sample>(&with_type(Some("application/json")), not_an_object),
                Err(DecodeError::Invalid("the body must be a JSON object".into())),
                "{}",
                String::from_utf8_lossy(not_an_object)
            );
        }
    }

    #[test]
    fn lenient_booleans_accept_form_spellings() {
        for (text, value) in [("1", true), ("on", true), ("False", false), ("0", false)] {
            let form: Sample = decode(
                &with_type(Some("application/x-www-form-urlencoded")),
                format!("flag={text}").as_bytes(),
            )
            .unwrap();
            assert_eq!(form.flag, LenientBool(value), "{text}");
        }
    }
}
