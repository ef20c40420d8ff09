//! `Accept` header values, one per line; no line at all is no header.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let values = data.split(|&b| b == b'\n').filter(|_| !data.is_empty());
    limen_http::fuzzing::accept_header(values);
});
