//! Any UTF-8 text through the `bimplus` trailing-comma stripper.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        limen_http::fuzzing::lenient_json(text);
    }
});
