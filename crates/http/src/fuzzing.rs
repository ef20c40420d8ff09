//! Entry points for the cargo-fuzz targets under `fuzz/`: each feeds raw bytes to
//! the real parser of some client input, answers nothing, and asserts what that
//! parser documents. Only built with the `fuzzing` feature.

use actix_web::HttpRequest;
use actix_web::http::Uri;
use actix_web::http::header::{self, HeaderValue};
use actix_web::test::TestRequest;
use serde_json::Value;

use crate::bimplus::lenient_json::strip_trailing_commas;
use crate::body::decode;
use crate::credentials::{basic_credentials, request_token, x_auth_token};
use crate::flow::login::LoginRequest as FlowLogin;
use crate::flow::logout::LogoutRequest as FlowLogout;
use crate::flow::two_factor::{EnableRequest, ValidateRequest};
use crate::gradido::create_user::CreateUserRequest;
use crate::gradido::login::LoginRequest as GradidoLogin;
use crate::gradido::logout::LogoutRequest as GradidoLogout;
use crate::gradido::request::parse_json_object;
use crate::tokens::handlers::LoginRequest as TokensLogin;
use crate::tokens::negotiation::accepts_json;

/// Splits input into `Content-Type` and body: byte 0 mod 4 is none, JSON, form, or the text up to `\n`.
pub fn content_type_and_body(data: &[u8]) -> (Option<&[u8]>, &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return (None, data);
    };
    match selector % 4 {
        0 => (None, rest),
        1 => (Some(b"application/json"), rest),
        2 => (Some(b"application/x-www-form-urlencoded"), rest),
        _ => match rest.iter().position(|&b| b == b'\n') {
            Some(end) => (rest.get(..end), rest.get(end + 1..).unwrap_or_default()),
            None => (Some(rest), &[]),
        },
    }
}

/// A test request with `content_type`; `None` when that is not a valid header value.
fn request_with_type(content_type: Option<&[u8]>) -> Option<HttpRequest> {
    let mut request = TestRequest::default();
    if let Some(bytes) = content_type {
        request = request.insert_header((header::CONTENT_TYPE, HeaderValue::from_bytes(bytes).ok()?));
    }
    Some(request.to_http_request())
}

/// The three credential parsers on a request with these headers and query (invalid ones are skipped).
pub fn credentials(
    authorization: Option<&[u8]>,
    auth_token: Option<&[u8]>,
    cookie: Option<&[u8]>,
    query: &[u8],
) {
    let Ok(query) = std::str::from_utf8(query) else {
        return;
    };
    let uri = format!("/x?{query}");
    if uri.parse::<Uri>().is_err() {
        return;
    }
    let mut request = TestRequest::default().uri(&uri);
    for (name, value) in [
        (header::AUTHORIZATION, authorization),
        (header::HeaderName::from_static("x-auth-token"), auth_token),
        (header::COOKIE, cookie),
    ] {
        if let Some(bytes) = value {
            let Ok(value) = HeaderValue::from_bytes(bytes) else {
                return;
            };
            request = request.insert_header((name, value));
        }
    }
    let request = request.to_http_request();
    let _ = request_token(&request);
    let _ = basic_credentials(&request);
    let _ = x_auth_token(&request);
}

/// Decodes `body` into each `flow` request (login, logout, 2FA enable and validate).
pub fn flow_body(content_type: Option<&[u8]>, body: &[u8]) {
    let Some(request) = request_with_type(content_type) else {
        return;
    };
    let _ = decode::<FlowLogin>(&request, body);
    let _ = decode::<FlowLogout>(&request, body);
    let _ = decode::<EnableRequest>(&request, body);
    let _ = decode::<ValidateRequest>(&request, body);
}

/// Parses `body` as the `tokens` dialect's optional login body.
pub fn tokens_body(content_type: Option<&[u8]>, body: &[u8]) {
    let Some(request) = request_with_type(content_type) else {
        return;
    };
    let _ = TokensLogin::parse(&request, body);
}

/// Parses `body` as `POST /v2/authorize` of the `bimplus` dialect does.
pub fn bimplus_body(content_type: Option<&[u8]>, body: &[u8]) {
    let Some(request) = request_with_type(content_type) else {
        return;
    };
    let _ = crate::bimplus::authorize::parse(&request, body);
}

/// Parses `body` as each `gradido` request; what any of them accepts is a JSON object.
pub fn gradido_body(body: &[u8]) {
    let accepted = [
        parse_json_object::<GradidoLogin>(body).is_ok(),
        parse_json_object::<CreateUserRequest>(body).is_ok(),
        parse_json_object::<GradidoLogout>(body).is_ok(),
    ];
    if accepted.contains(&true) {
        let value = serde_json::from_slice::<Value>(body).ok();
        assert!(
            value.is_some_and(|value| value.is_object()),
            "accepted a body that is no JSON object"
        );
    }
}

/// Strips trailing commas; text that already parses as JSON must parse to the same value after.
pub fn lenient_json(text: &str) {
    let stripped = strip_trailing_commas(text);
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        assert_eq!(
            serde_json::from_str::<Value>(&stripped).ok(),
            Some(value),
            "{stripped:?}"
        );
    }
}

/// Parses a personal number; what is accepted is twelve digits and parses to itself.
pub fn personal_number(input: &str) {
    if let Some(number) = limen_domain::model::parse_personal_number(input) {
        assert_eq!(number.len(), 12, "{number:?}");
        assert!(number.bytes().all(|b| b.is_ascii_digit()), "{number:?}");
        assert_eq!(
            limen_domain::model::parse_personal_number(&number).as_deref(),
            Some(number.as_str())
        );
    }
}

/// `accepts_json` with each valid value as an `Accept` header; with none it must accept JSON.
pub fn accept_header<'a>(values: impl IntoIterator<Item = &'a [u8]>) {
    let mut request = TestRequest::default();
    let mut any = false;
    for value in values {
        if let Ok(value) = HeaderValue::from_bytes(value) {
            request = request.append_header((header::ACCEPT, value));
            any = true;
        }
    }
    let accepted = accepts_json(&request.to_http_request());
    assert!(any || accepted, "no Accept header must accept JSON");
}
