//! The `accept_header` target: see `limen_http::fuzzing::accept_header` for what the input holds.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| limen_http::fuzzing::accept_header(data));
