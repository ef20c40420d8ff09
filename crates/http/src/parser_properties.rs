//! Property tests of every parser that reads client credentials or bodies
//! before any rule does: for any input they answer, never panic, and the
//! well-formed inputs they are for come back out exactly.

use actix_web::http::header::HeaderValue;
use actix_web::test::TestRequest;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use serde_json::Value;

use crate::bimplus::lenient_json::strip_trailing_commas;
use crate::credentials::{basic_credentials, request_token, x_auth_token};

/// Any bytes a header value may hold (visible ASCII, tab, and obs-text).
fn header_bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(prop_oneof![Just(b'\t'), 0x20u8..=0x7e, 0x80u8..=0xff], 0..300)
}

/// JSON documents of any shape, nested a few levels.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::btree_map(".{0,10}", inner, 0..8)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn credential_headers_never_panic(value in header_bytes(), query in "(access_token=)?[A-Za-z0-9%=&;_.~+-]{0,200}") {
        let header = HeaderValue::from_bytes(&value).unwrap();
        // Any query a URI can carry, broken percent-escapes included.
        let uri = format!("/x?{query}");
        let request = TestRequest::default()
            .uri(&uri)
            .insert_header(("authorization", header.clone()))
            .insert_header(("x-auth-token", header.clone()))
            .insert_header(("cookie", header))
            .to_http_request();
        let _ = request_token(&request);
        let _ = basic_credentials(&request);
        let _ = x_auth_token(&request);
    }

    #[test]
    fn basic_pairs_come_back_out(user in "[^:\\x00-\\x1f]{0,40}", password in "\\PC{0,40}") {
        let encoded = STANDARD.encode(format!("{user}:{password}"));
        let request = TestRequest::default()
            .insert_header(("authorization", format!("Basic {encoded}")))
            .to_http_request();
        prop_assert_eq!(basic_credentials(&request).unwrap(), (user, password));
    }

    #[test]
    fn x_auth_token_pairs_come_back_out(user in "[^\\x00-\\x1f]{1,40}", token in "[A-Za-z0-9_-]{1,64}") {
        let encoded = STANDARD.encode(format!("{user}:{token}"));
        let request = TestRequest::default().insert_header(("x-auth-token", encoded)).to_http_request();
        prop_assert_eq!(x_auth_token(&request).unwrap(), (user, token));
    }

    #[test]
    fn bearer_tokens_come_back_out(token in "[A-Za-z0-9_.~+/=-]{1,100}") {
        let request = TestRequest::default()
            .insert_header(("authorization", format!("Bearer {token}")))
            .to_http_request();
        prop_assert_eq!(request_token(&request).unwrap(), token);
    }

    #[test]
    fn comma_stripping_never_panics(text in "\\PC{0,300}") {
        let _ = strip_trailing_commas(&text);
    }

    #[test]
    fn comma_stripping_leaves_valid_json_alone(value in json()) {
        let text = value.to_string();
        prop_assert_eq!(strip_trailing_commas(&text), text);
    }

    #[test]
    fn a_trailing_comma_before_any_closing_bracket_is_forgiven(value in json()) {
        let text = value.to_string();
        // Add a comma after the last value of every non-empty array and object.
        let mut with_commas = String::new();
        let mut previous: Option<char> = None;
        let mut in_string = false;
        let mut escaped = false;
        for c in text.chars() {
            if in_string {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_string = false;
                }
            } else if c == '"' {
                in_string = true;
            } else if (c == '}' || c == ']') && !matches!(previous, Some('{' | '[')) {
                with_commas.push(',');
            }
            with_commas.push(c);
            previous = Some(c);
        }
        let parsed: Value = serde_json::from_str(&strip_trailing_commas(&with_commas)).unwrap();
        prop_assert_eq!(parsed, value);
    }
}
