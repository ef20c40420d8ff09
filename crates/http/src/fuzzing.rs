//! Entry points for the cargo-fuzz targets under `fuzz/`: each takes a target's
//! raw input, feeds it to the real parser of some client input, and asserts what
//! that parser documents. Built with the `fuzzing` feature for `fuzz/`, and in
//! tests, which replay every committed seed (`fuzz/seeds/<target>/`) through the
//! same entry point so that the targets cannot rot between fuzzing runs.

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

/// A target's entry point: one input, which it may panic on only for a bug.
pub type Target = fn(&[u8]);

/// Every target: its name (the file under `fuzz/fuzz_targets/` and the folder of
/// its seeds) and its entry point.
pub const TARGETS: [(&str, Target); 8] = [
    ("accept_header", accept_header),
    ("bimplus_body", bimplus_body),
    ("credentials", credentials),
    ("flow_body", flow_body),
    ("gradido_body", gradido_body),
    ("lenient_json", lenient_json),
    ("personal_number", personal_number),
    ("tokens_body", tokens_body),
];

/// Splits input into `Content-Type` and body: byte 0 mod 4 is none, JSON, form, or the text up to `\n`.
fn content_type_and_body(data: &[u8]) -> (Option<&[u8]>, &[u8]) {
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

/// `Authorization`, `X-Auth-Token`, `Cookie` and the query string, one per line in
/// that order (header values cannot hold a `\n`; an empty or missing line is an
/// absent header), through the three credential parsers.
pub fn credentials(data: &[u8]) {
    let mut lines = data.splitn(4, |&b| b == b'\n');
    let mut header = || lines.next().filter(|line| !line.is_empty());
    let authorization = header();
    let auth_token = header();
    let cookie = header();
    let query = lines.next().unwrap_or_default();
    credential_headers(authorization, auth_token, cookie, query);
}

/// The three credential parsers on a request with these headers and query (invalid ones are skipped).
fn credential_headers(
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

/// A body decoded into each `flow` request (login, logout, 2FA enable and
/// validate); the first byte picks the `Content-Type` (`content_type_and_body`).
pub fn flow_body(data: &[u8]) {
    let (content_type, body) = content_type_and_body(data);
    let Some(request) = request_with_type(content_type) else {
        return;
    };
    let _ = decode::<FlowLogin>(&request, body);
    let _ = decode::<FlowLogout>(&request, body);
    let _ = decode::<EnableRequest>(&request, body);
    let _ = decode::<ValidateRequest>(&request, body);
}

/// A body parsed as the `tokens` dialect's optional login body; the first byte
/// picks the `Content-Type`.
pub fn tokens_body(data: &[u8]) {
    let (content_type, body) = content_type_and_body(data);
    let Some(request) = request_with_type(content_type) else {
        return;
    };
    let _ = TokensLogin::parse(&request, body);
}

/// A JSON body parsed as `POST /v2/authorize` of the `bimplus` dialect does.
pub fn bimplus_body(data: &[u8]) {
    let _ = crate::bimplus::authorize::parse(data);
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

/// UTF-8 text through the trailing-comma stripper; text that already parses as
/// JSON must parse to the same value after.
pub fn lenient_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let stripped = strip_trailing_commas(text);
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        assert_eq!(
            serde_json::from_str::<Value>(&stripped).ok(),
            Some(value),
            "{stripped:?}"
        );
    }
}

/// UTF-8 text as a personal number; what is accepted is twelve digits and
/// parses to itself.
pub fn personal_number(data: &[u8]) {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    // A fixed day, so that a failure replays the same way whenever it runs.
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default();
    if let Some(number) = limen_domain::model::parse_personal_number(input, today) {
        assert_eq!(number.len(), 12, "{number:?}");
        assert!(number.bytes().all(|b| b.is_ascii_digit()), "{number:?}");
        assert_eq!(
            limen_domain::model::parse_personal_number(&number, today).as_deref(),
            Some(number.as_str())
        );
    }
}

/// `Accept` header values, one per line (no input is no header), through
/// `accepts_json`; with no header it must accept JSON.
pub fn accept_header(data: &[u8]) {
    let mut request = TestRequest::default();
    let mut any = false;
    for value in data.split(|&b| b == b'\n').filter(|_| !data.is_empty()) {
        if let Ok(value) = HeaderValue::from_bytes(value) {
            request = request.append_header((header::ACCEPT, value));
            any = true;
        }
    }
    let accepted = accepts_json(&request.to_http_request());
    assert!(any || accepted, "no Accept header must accept JSON");
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::TARGETS;

    #[test]
    fn every_committed_seed_passes_its_target() {
        let seeds = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds");
        for (target, run) in TARGETS {
            let folder = seeds.join(target);
            let mut count = 0;
            for entry in
                std::fs::read_dir(&folder).unwrap_or_else(|err| panic!("{}: {err}", folder.display()))
            {
                let path = entry.unwrap().path();
                run(&std::fs::read(&path).unwrap());
                count += 1;
            }
            assert!(count > 0, "{target} has no seeds in {}", folder.display());
        }
    }

    #[test]
    fn every_target_has_a_fuzz_target_file() {
        let targets = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/fuzz_targets");
        let mut files: Vec<String> = std::fs::read_dir(&targets)
            .unwrap()
            .map(|entry| {
                entry
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_owned()
            })
            .collect();
        files.sort();
        let names: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
        assert_eq!(files, names);
    }
}
