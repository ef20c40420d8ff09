//! `Authorization`, `X-Auth-Token`, `Cookie` and the query string, one per line
//! in that order (header values cannot hold a `\n`); an empty or missing line is
//! an absent header.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut lines = data.splitn(4, |&b| b == b'\n');
    let mut header = || lines.next().filter(|line| !line.is_empty());
    let authorization = header();
    let auth_token = header();
    let cookie = header();
    let query = lines.next().unwrap_or_default();
    limen_http::fuzzing::credentials(authorization, auth_token, cookie, query);
});
