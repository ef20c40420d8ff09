//! The `personal_number` target: see `limen_http::fuzzing::personal_number` for what the input holds.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| limen_http::fuzzing::personal_number(data));
