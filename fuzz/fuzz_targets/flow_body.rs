//! The `flow_body` target: see `limen_http::fuzzing::flow_body` for what the input holds.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| limen_http::fuzzing::flow_body(data));
