//! The scenarios of docs/performance.md, each a sequence of measured runs
//! against one started Limen.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::error::BenchError;
use crate::limen_process::LimenProcess;
use crate::load::{Call, CallSource, Load, drive_spread};
use crate::report::{Ratio, Row};
use crate::seed::{BulkUsers, HashParams, PASSWORD, SeededUser, bulk_token};
use crate::stats::Summary;

/// How much each scenario does; `--quick` shrinks everything to a smoke run.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Users (and tokens) seeded into each database.
    pub users: usize,
    /// Requests per cheap run (baseline, validation) and its time bound.
    pub cheap: (u64, Duration),
    /// Requests per login run and its time bound.
    pub logins: (u64, Duration),
    /// Requests per run of the provider's token endpoint (each spends a code
    /// or a refresh token made beforehand).
    pub token_requests: u64,
    /// Length of the login storm.
    pub storm: Duration,
    /// Connections hammering the login during the storm.
    pub storm_connections: usize,
    /// Requests per kind of the refused-login timing comparison.
    pub timing: u64,
    /// The imported slow hash of the timing comparison.
    pub slow_hash: HashParams,
    /// Extra users and tokens of the scale scenario.
    pub bulk: u64,
    /// How long the raw argon2id rate is measured.
    pub argon_seconds: Duration,
    /// Rounds of the two-node revocation delay.
    pub revocations: usize,
    /// How long a hashing thread keeps its workspace without a hash
    /// (`[password] workspace_idle_secs`); the memory is read again after it.
    pub workspace_idle: Duration,
    /// When, after a storm, the memory is read a last time (the target is
    /// the idle size within a minute of the last login).
    pub settle: Duration,
}

impl Plan {
    /// The full run documented in docs/performance.md.
    pub fn full() -> Self {
        Self {
            users: 1_000,
            cheap: (200_000, Duration::from_secs(8)),
            logins: (400, Duration::from_secs(12)),
            token_requests: 3_000,
            storm: Duration::from_secs(10),
            storm_connections: 128,
            timing: 200,
            // Authelia's argon2id parameters.
            slow_hash: HashParams {
                memory_kib: 65_536,
                iterations: 3,
                parallelism: 4,
            },
            bulk: 1_000_000,
            argon_seconds: Duration::from_secs(5),
            revocations: 50,
            workspace_idle: Duration::from_secs(10),
            settle: Duration::from_secs(60),
        }
    }

    /// A run of a few seconds that exercises every scenario (the test suite's).
    pub fn quick() -> Self {
        Self {
            users: 40,
            cheap: (1_000, Duration::from_secs(2)),
            logins: (20, Duration::from_secs(5)),
            token_requests: 60,
            storm: Duration::from_secs(2),
            storm_connections: 96,
            timing: 20,
            slow_hash: HashParams {
                memory_kib: 4_096,
                iterations: 2,
                parallelism: 2,
            },
            bulk: 2_000,
            argon_seconds: Duration::from_secs(1),
            revocations: 5,
            workspace_idle: Duration::from_secs(1),
            settle: Duration::from_secs(2),
        }
    }
}

/// Connection counts of the validation and baseline runs.
pub const CHEAP_CONNECTIONS: [usize; 3] = [1, 16, 64];
/// Connection counts of the login runs.
pub const LOGIN_CONNECTIONS: [usize; 4] = [1, 2, 4, 16];

/// Runs `calls` under `load` after a short unmeasured warm-up, and refuses
/// figures made of answers other than `expected`.
pub async fn measure(
    server: &LimenProcess,
    load: Load,
    calls: CallSource,
    expected: &[u16],
    what: &str,
) -> Result<Summary, BenchError> {
    measure_on(&[server.address], load, calls, expected, what).await
}

/// `measure` with the connections dealt over several servers.
pub async fn measure_on(
    addresses: &[SocketAddr],
    load: Load,
    calls: CallSource,
    expected: &[u16],
    what: &str,
) -> Result<Summary, BenchError> {
    let warm_up = Load {
        connections: load.connections,
        requests: (load.requests / 20).clamp(load.connections as u64, 2_000),
        time_bound: Duration::from_secs(1),
    };
    drive_spread(addresses, warm_up, calls.clone()).await;
    let summary = drive_spread(addresses, load, calls).await;
    check(&summary, expected, what)?;
    Ok(summary)
}

fn check(summary: &Summary, expected: &[u16], what: &str) -> Result<(), BenchError> {
    let unexpected = summary.unexpected(expected);
    if summary.requests == 0 || unexpected > 0 || summary.transport_errors > 0 {
        return Err(BenchError::Setup(format!(
            "{what}: {} answers, {unexpected} with a status other than {expected:?} ({:?}), {} broken connections; the figures would be meaningless",
            summary.requests, summary.statuses, summary.transport_errors
        )));
    }
    Ok(())
}

/// Scenario 2's constant answer: `/healthz`, the same server and middleware
/// as every other route, no store.
pub fn baseline() -> CallSource {
    Arc::new(|_| Call::get("/healthz"))
}

/// `GET /authentication/user` with the `n`-th seeded user's token.
pub fn flow_validation(users: Arc<Vec<SeededUser>>) -> CallSource {
    Arc::new(move |n| {
        let user = &users[n as usize % users.len()];
        Call::get("/authentication/user").header("authorization", format!("Bearer {}", user.token))
    })
}

/// The `tokens` dialect's `POST /auth/bump` with `X-Auth-Token`.
pub fn tokens_bump(users: Arc<Vec<SeededUser>>) -> CallSource {
    Arc::new(move |n| {
        let user = &users[n as usize % users.len()];
        let pair = STANDARD.encode(format!("{}:{}", user.username, user.token));
        Call {
            method: hyper::Method::POST,
            path: "/auth/bump".into(),
            headers: vec![("x-auth-token", pair), ("accept", "application/json".into())],
            body: bytes::Bytes::new(),
        }
    })
}

/// `POST /authentication/login` as the `n`-th seeded user with `password`.
pub fn flow_login(users: Arc<Vec<SeededUser>>, password: &'static str) -> CallSource {
    Arc::new(move |n| {
        let user = &users[n as usize % users.len()];
        Call::post_json(
            "/authentication/login",
            &json!({"username": user.username, "password": password}),
        )
    })
}

/// `POST /authentication/login` as the `n`-th of `names` with a wrong password.
pub fn wrong_password_of(names: Arc<Vec<String>>) -> CallSource {
    Arc::new(move |n| {
        Call::post_json(
            "/authentication/login",
            &json!({"username": names[n as usize % names.len()], "password": "wrong password"}),
        )
    })
}

/// Logins as users nobody created.
pub fn flow_login_unknown() -> CallSource {
    Arc::new(|n| {
        Call::post_json(
            "/authentication/login",
            &json!({"username": format!("nobody{n}"), "password": PASSWORD}),
        )
    })
}

/// Validation with tokens of users spread over the whole bulk range.
pub fn bulk_validation(bulk: BulkUsers) -> CallSource {
    Arc::new(move |n| {
        let id = bulk.first_id + (spread(n) % (bulk.last_id - bulk.first_id + 1) as u64) as i64;
        Call::get("/authentication/user").header("authorization", format!("Bearer {}", bulk_token(id)))
    })
}

/// Validations of the bulk users' tokens with the users picked by a Zipf
/// distribution (exponent `ZIPF_EXPONENT`): a few users make most requests,
/// as real traffic does. Ranks are dealt over the id range, so that the
/// popular users are not neighbours on disk.
pub fn zipf_validation(bulk: BulkUsers) -> CallSource {
    let count = usize::try_from(bulk.count.max(1)).unwrap_or(1);
    let cumulative = Arc::new(zipf_cumulative(count, ZIPF_EXPONENT));
    Arc::new(move |n| {
        // The request's own uniform number in [0, 1).
        let u = (spread(n) >> 11) as f64 / (1u64 << 53) as f64;
        let rank = cumulative.partition_point(|&p| p < u).min(count - 1) as u64;
        let id = bulk.first_id + (spread(rank ^ 0x5A17) % count as u64) as i64;
        Call::get("/authentication/user").header("authorization", format!("Bearer {}", bulk_token(id)))
    })
}

/// The exponent of the Zipf mix: the share of requests of the user ranked
/// `r` is proportional to 1/r.
pub const ZIPF_EXPONENT: f64 = 1.0;

/// The cumulative probabilities of ranks 1 to `count` under Zipf's law with
/// exponent `s`.
fn zipf_cumulative(count: usize, s: f64) -> Vec<f64> {
    let weights: Vec<f64> = (1..=count).map(|rank| 1.0 / (rank as f64).powf(s)).collect();
    let total: f64 = weights.iter().sum();
    let mut running = 0.0;
    weights
        .into_iter()
        .map(|weight| {
            running += weight / total;
            running
        })
        .collect()
}

/// Logins of users spread over the whole bulk range.
pub fn bulk_login(bulk: BulkUsers) -> CallSource {
    Arc::new(move |n| {
        let g = 1 + spread(n) % bulk.count.max(1) as u64;
        Call::post_json(
            "/authentication/login",
            &json!({"username": format!("bulk{g}"), "password": PASSWORD}),
        )
    })
}

/// splitmix64: consecutive `n` land far apart, so no two requests favour one page.
fn spread(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Builds a report row.
pub fn row(scenario: &str, request: &str, store: &str, connections: usize, summary: Summary) -> Row {
    Row {
        scenario: scenario.into(),
        request: request.into(),
        store: store.into(),
        connections,
        summary,
        ratio: None,
        note: String::new(),
        charted: false,
    }
}

/// `value` relative to `reference`, described by `meaning`.
pub fn ratio(value: f64, reference: f64, meaning: &str) -> Option<Ratio> {
    (reference > 0.0).then(|| Ratio {
        value: value / reference,
        meaning: meaning.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zipf_mix_favours_few_users_and_reaches_many() {
        let bulk = BulkUsers {
            first_id: 10,
            last_id: 10_009,
            count: 10_000,
        };
        let calls = zipf_validation(bulk);
        let mut counts = std::collections::HashMap::new();
        for n in 0..20_000 {
            let call = calls(n);
            *counts.entry(call.headers[0].1.clone()).or_insert(0u32) += 1;
        }
        let mut frequencies: Vec<u32> = counts.values().copied().collect();
        frequencies.sort_unstable_by(|a, b| b.cmp(a));
        // With s = 1 over 10,000 users the top user gets about 10 % of the
        // requests, and a few thousand users are seen at all.
        assert!(
            frequencies[0] > 1_000 && frequencies[0] < 3_000,
            "{}",
            frequencies[0]
        );
        assert!(counts.len() > 1_000 && counts.len() < 9_000, "{}", counts.len());
        let cumulative = zipf_cumulative(4, 1.0);
        assert!((cumulative[3] - 1.0).abs() < 1e-9);
        assert!((cumulative[0] - 0.48).abs() < 0.01, "{cumulative:?}");
    }

    #[test]
    fn spread_covers_a_range_without_runs() {
        let picks: std::collections::HashSet<u64> = (0..1000).map(|n| spread(n) % 1000).collect();
        // A uniform pick of 1000 from 1000 hits about 632 distinct values.
        assert!(picks.len() > 550, "{}", picks.len());
        assert_ne!(spread(1) % 1000, spread(2) % 1000);
    }

    #[test]
    fn every_answer_must_have_an_expected_status() {
        let ok = Summary::new(
            vec![Duration::from_millis(1)],
            [(200, 1)].into(),
            0,
            Duration::from_secs(1),
        );
        assert!(check(&ok, &[200], "x").is_ok());
        assert!(check(&ok, &[401], "x").is_err());
        let broken = Summary::new(
            vec![Duration::from_millis(1)],
            [(200, 1)].into(),
            1,
            Duration::from_secs(1),
        );
        assert!(check(&broken, &[200], "x").is_err());
        let empty = Summary::default();
        assert!(check(&empty, &[200], "x").is_err());
    }
}
