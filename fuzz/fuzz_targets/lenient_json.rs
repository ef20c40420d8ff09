//! The `lenient_json` target: see `limen_http::fuzzing::lenient_json` for what the input holds.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| limen_http::fuzzing::lenient_json(data));
