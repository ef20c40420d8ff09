//! Any UTF-8 text as a personal number.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        limen_http::fuzzing::personal_number(text);
    }
});
