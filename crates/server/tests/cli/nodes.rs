//! Two `limen serve` processes sharing one PostgreSQL database (and, in a
//! variant, Redis for tokens and counts), each with its token cache on: a
//! token from one works on the other; "log out everywhere" on one is refused
//! by the other (the delay from the logout's answer to the first refusal is
//! measured and printed: figures, not an assertion); failed logins spread
//! over both lock at one node's threshold; a TOTP code used on one is refused
//! by the other.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Postgres, Scratch, Server};
use crate::races::{PASSWORD, add_user_with, http};

const SECRETS_KEY: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

/// Two nodes on `database` with `extra` settings.
fn two_nodes(scratch: &Scratch, database: &Postgres, extra: &[(&str, String)]) -> (Server, Server) {
    let node = || {
        let mut command = scratch.command();
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("LIMEN_DATABASE_URL", &database.url)
            .env("LIMEN_SECRETS_KEY", SECRETS_KEY)
            .env("LIMEN_LOG_FORMAT", "json")
            .env("LIMEN_CLUSTER__NODES", "several")
            .env("LIMEN_RATE_LIMIT__BACKEND", "sql");
        for (name, value) in extra {
            command.env(name, value);
        }
        Server::start(command)
    };
    (node(), node())
}

async fn login(http: &reqwest::Client, base: &str, name: &str, password: &str) -> (u16, Value) {
    let answer = http
        .post(format!("{base}/authentication/login"))
        .json(&json!({"username": name, "password": password}))
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

async fn validate(http: &reqwest::Client, base: &str, token: &str) -> u16 {
    http.get(format!("{base}/authentication/user"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

/// `rounds` times: a token validated on both nodes (twice, and so cached, on
/// `first`), logged
/// out everywhere on `second`, then polled on `first` until refused. Every
/// round must end in a refusal; the delays are printed.
async fn revocation_reaches_the_other_node(first: &Server, second: &Server, rounds: usize, label: &str) {
    let http = http();
    let mut delays = Vec::new();
    for _ in 0..rounds {
        let (status, body) = login(&http, &first.base, "ann", PASSWORD).await;
        assert_eq!(status, 200, "{body}");
        let token = body["token"].as_str().unwrap().to_owned();
        for node in [first, second, first] {
            assert_eq!(validate(&http, &node.base, &token).await, 200);
        }
        let out = http
            .post(format!("{}/authentication/logout", second.base))
            .bearer_auth(&token)
            .json(&json!({"allSessions": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(out.status(), 200);
        let answered = Instant::now();
        loop {
            if validate(&http, &first.base, &token).await == 401 {
                delays.push(answered.elapsed());
                break;
            }
            assert!(
                answered.elapsed() < Duration::from_secs(5),
                "{label}: still valid on the other node after 5 s"
            );
        }
    }
    delays.sort();
    eprintln!(
        "{label}: logout everywhere on one node, refused on the other after p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({rounds} rounds)",
        percentile(&delays, 0.5).as_secs_f64() * 1e3,
        percentile(&delays, 0.99).as_secs_f64() * 1e3,
        delays.last().unwrap().as_secs_f64() * 1e3,
    );
}

/// Five wrong passwords, alternating between the nodes, lock the account on both.
async fn failures_on_both_nodes_lock_at_one_threshold(first: &Server, second: &Server) {
    let http = http();
    for attempt in 0..5 {
        let node = if attempt % 2 == 0 { first } else { second };
        let (status, body) = login(&http, &node.base, "bo", "wrong password").await;
        assert!(matches!(status, 401 | 403), "{body}");
    }
    for node in [first, second] {
        let (status, body) = login(&http, &node.base, "bo", PASSWORD).await;
        assert_eq!(status, 403, "locked on every node: {body}");
    }
}

fn code(key: &str, step_offset: i64) -> String {
    use limen_domain::ports::TotpGenerator;
    let secret = limen_crypto::base32::decode(key).unwrap();
    let step = (chrono::Utc::now().timestamp() / 30 + step_offset) as u64;
    limen_crypto::RfcTotp
        .code(&secret, limen_domain::model::TotpParams::default(), step)
        .unwrap()
}

/// A code used on one node is refused on the other.
async fn a_totp_code_works_once_across_nodes(first: &Server, second: &Server) {
    let http = http();
    let (_, body) = login(&http, &first.base, "carl", PASSWORD).await;
    let token = body["token"].as_str().unwrap().to_owned();
    let user_id = http
        .get(format!("{}/authentication/user", first.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["id"]
        .clone();
    let enrol = |body: Value| {
        http.post(format!("{}/user/{user_id}/enable2fa", first.base))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let started: Value = enrol(json!({"password": PASSWORD, "type": "TWO_FA_AUTHENTICATOR"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = started["key"].as_str().unwrap().to_owned();
    let confirmed = enrol(json!({"type": "TWO_FA_AUTHENTICATOR_ENABLING", "token": code(&key, 0)}))
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 200);
    let second_step = |base: String, pending: String, code: String| {
        let http = http.clone();
        async move {
            http.post(format!("{base}/authentication/2fa/validate"))
                .bearer_auth(pending)
                .json(&json!({"token": code}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // Enrolment used the current step; the next one (within the ±1 step of
    // clock skew accepted) is still fresh.
    let fresh = code(&key, 1);
    let (_, on_first) = login(&http, &first.base, "carl", PASSWORD).await;
    let (_, on_second) = login(&http, &second.base, "carl", PASSWORD).await;
    let pending_first = on_first["token"].as_str().unwrap().to_owned();
    let pending_second = on_second["token"].as_str().unwrap().to_owned();
    assert_eq!(
        second_step(first.base.clone(), pending_first, fresh.clone()).await,
        200
    );
    assert_eq!(
        second_step(second.base.clone(), pending_second, fresh).await,
        401,
        "the code was used on the other node"
    );
}

fn add_users(scratch: &Scratch, database: &Postgres) {
    for name in ["ann", "bo", "carl"] {
        add_user_with(scratch, database, name, &[]);
    }
}

#[tokio::test]
async fn two_nodes_on_postgresql_share_tokens_revocations_locks_and_codes() {
    let Some(database) = Postgres::create().await else {
        return;
    };
    let scratch = Scratch::new();
    add_users(&scratch, &database);
    let (first, second) = two_nodes(&scratch, &database, &[]);
    revocation_reaches_the_other_node(&first, &second, 50, "PostgreSQL NOTIFY").await;
    failures_on_both_nodes_lock_at_one_threshold(&first, &second).await;
    a_totp_code_works_once_across_nodes(&first, &second).await;
    assert!(first.terminate() && second.terminate());
    database.drop_database().await;
}

#[tokio::test]
async fn two_nodes_with_tokens_and_counts_on_redis_share_them_too() {
    let Some(database) = Postgres::create().await else {
        return;
    };
    let Ok(redis) = std::env::var("LIMEN_TEST_REDIS_URL") else {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "LIMEN_TEST_REDIS_URL must be set when CI=true"
        );
        eprintln!("notice: LIMEN_TEST_REDIS_URL is not set; skipping the Redis variant");
        database.drop_database().await;
        return;
    };
    let scratch = Scratch::new();
    add_users(&scratch, &database);
    let prefix = format!("limen-test-{}:", uuid::Uuid::new_v4().simple());
    let (first, second) = two_nodes(
        &scratch,
        &database,
        &[
            ("LIMEN_REDIS_URL", redis),
            ("LIMEN_REDIS__KEY_PREFIX", prefix),
            ("LIMEN_TOKENS__BACKEND", "redis".into()),
            ("LIMEN_RATE_LIMIT__BACKEND", "redis".into()),
        ],
    );
    revocation_reaches_the_other_node(&first, &second, 50, "Redis pub/sub").await;
    failures_on_both_nodes_lock_at_one_threshold(&first, &second).await;
    assert!(crate::serve::store_calls(&first.management, "redis").await > 0.0);
    assert!(first.terminate() && second.terminate());
    database.drop_database().await;
}

#[test]
fn several_nodes_refuse_per_node_state_and_say_why() {
    let scratch = Scratch::new();
    let mut command = scratch.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LIMEN_CLUSTER__NODES", "several");
    let output = command.output().unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("SQLite"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut command = scratch.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LIMEN_CLUSTER__NODES", "several")
        .env("LIMEN_DATABASE_URL", "postgres://postgres@127.0.0.1:9/none");
    let output = command.output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("rate_limit.backend") && stderr.contains("memory"),
        "{stderr}"
    );
    // The command line's database is held to the same rule as the configured one.
    let mut command = scratch.command();
    command
        .args([
            "--database-url",
            "sqlite://elsewhere.db?mode=rwc",
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .env("LIMEN_CLUSTER__NODES", "several")
        .env("LIMEN_RATE_LIMIT__BACKEND", "sql")
        .env("LIMEN_DATABASE_URL", "postgres://postgres@127.0.0.1:9/none");
    let output = command.output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SQLite"), "{stderr}");
    let mut command = scratch.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LIMEN_CACHE__MAX_STALENESS_SECS", "0");
    let output = command.output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cache.max_staleness_secs"), "{stderr}");
}
