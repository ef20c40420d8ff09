//! A `gradido` request body (the dialect reads every body as JSON).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    limen_http::fuzzing::gradido_body(data);
});
