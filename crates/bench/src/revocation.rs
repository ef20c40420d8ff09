//! Scenario 6's revocation delay: how long after "log out everywhere" on one
//! node the other node, which had the token cached, first refuses it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::error::BenchError;
use crate::load::{Call, Client};
use crate::seed::{PASSWORD, SeededUser};
use crate::stats::Summary;

/// The longest a revoked token may stay valid on the other node before the
/// run is called broken rather than slow.
const GIVE_UP_AFTER: Duration = Duration::from_secs(5);

/// `rounds` times, with a different seeded user each time: a login on
/// `first`, the token validated on `first`, `second`, `first` (so both cache
/// it), "log out everywhere" on `second`, then `first` polled until it answers
/// 401. The summary's latencies are the delays from the logout's answer to
/// that 401. Ends every session of the users it takes.
pub async fn delays(
    first: SocketAddr,
    second: SocketAddr,
    users: &[SeededUser],
    rounds: usize,
) -> Result<Summary, BenchError> {
    let mut on_first = Client::new(first);
    let mut on_second = Client::new(second);
    let mut delays = Vec::with_capacity(rounds);
    let started = Instant::now();
    for user in users.iter().cycle().take(rounds) {
        let (status, body) = on_first
            .call(Call::post_json(
                "/authentication/login",
                &json!({"username": user.username, "password": PASSWORD}),
            ))
            .await?;
        expect(status, 200, "login on the first node", &body)?;
        let token = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|answer| answer["token"].as_str().map(str::to_owned))
            .ok_or_else(|| BenchError::Setup("the login's answer has no token".into()))?;
        let validation =
            || Call::get("/authentication/user").header("authorization", format!("Bearer {token}"));
        for on_second_node in [false, true, false] {
            let client = if on_second_node {
                &mut on_second
            } else {
                &mut on_first
            };
            let (status, body) = client.call(validation()).await?;
            expect(status, 200, "validation before the logout", &body)?;
        }
        let (status, body) = on_second
            .call(
                Call::post_json("/authentication/logout", &json!({"allSessions": true}))
                    .header("authorization", format!("Bearer {token}")),
            )
            .await?;
        expect(status, 200, "logout everywhere on the second node", &body)?;
        let answered = Instant::now();
        loop {
            let (status, body) = on_first.call(validation()).await?;
            if status == 401 {
                delays.push(answered.elapsed());
                break;
            }
            expect(status, 200, "validation after the logout", &body)?;
            if answered.elapsed() > GIVE_UP_AFTER {
                return Err(BenchError::Setup(format!(
                    "a token logged out everywhere on one node was still valid on the other after {GIVE_UP_AFTER:?}"
                )));
            }
        }
    }
    let refused = delays.len() as u64;
    Ok(Summary::new(
        delays,
        BTreeMap::from([(401, refused)]),
        0,
        started.elapsed(),
    ))
}

fn expect(status: u16, wanted: u16, what: &str, body: &[u8]) -> Result<(), BenchError> {
    if status == wanted {
        return Ok(());
    }
    Err(BenchError::Setup(format!(
        "{what}: {status} instead of {wanted}: {}",
        String::from_utf8_lossy(body)
    )))
}
