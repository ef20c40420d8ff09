//! A `tokens` request body; the first byte picks the `Content-Type` (see
//! `limen_http::fuzzing::content_type_and_body`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use limen_http::fuzzing::{content_type_and_body, tokens_body};

fuzz_target!(|data: &[u8]| {
    let (content_type, body) = content_type_and_body(data);
    tokens_body(content_type, body);
});
