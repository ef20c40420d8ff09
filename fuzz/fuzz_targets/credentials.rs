//! The `credentials` target: see `limen_http::fuzzing::credentials` for what the input holds.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| limen_http::fuzzing::credentials(data));
