//! Counters and single-use tokens tried as an attacker would: many requests at
//! once against a running server on PostgreSQL, not one after another.

use std::time::Duration;

use futures_util::future::join_all;
use limen_crypto::RfcTotp;
use limen_domain::model::TotpParams;
use limen_domain::ports::TotpGenerator;
use serde_json::{Value, json};

use crate::helpers::{Postgres, Scratch, Server};

pub const PASSWORD: &str = "correct horse battery";
const SECRETS_KEY: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

/// A server on `database` that lets a hundred parallel requests of one
/// address reach the account rules: the per-address throttle and the
/// per-address share of the hash queue are opened wide, so that what the test
/// sees is the account's lockout alone.
pub fn server_on(scratch: &Scratch, database: &Postgres, extra: &[(&str, &str)]) -> Server {
    let mut command = scratch.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LIMEN_DATABASE_URL", &database.url)
        .env("LIMEN_SECRETS_KEY", SECRETS_KEY)
        .env("LIMEN_LOG_FORMAT", "json")
        .env("LIMEN_PASSWORD__MAX_QUEUE", "512")
        .env("LIMEN_PASSWORD__MAX_QUEUE_PER_ADDRESS", "0")
        .env("LIMEN_RATE_LIMIT__LOGIN_FAILURES_PER_ADDRESS", "100000")
        .env("LIMEN_DATABASE__MAX_CONNECTIONS", "32");
    for (name, value) in extra {
        command.env(name, value);
    }
    Server::start(command)
}

fn add_user(scratch: &Scratch, database: &Postgres, name: &str) {
    add_user_with(scratch, database, name, &[]);
}

/// Adds `name` with the test password and `extra` arguments of `limen user add`.
pub fn add_user_with(scratch: &Scratch, database: &Postgres, name: &str, extra: &[&str]) {
    let mut command = scratch.command();
    command
        .env("LIMEN_DATABASE_URL", &database.url)
        .env("LIMEN_SECRETS_KEY", SECRETS_KEY);
    let email = format!("{name}@example.com");
    let mut args = vec![
        "user",
        "add",
        "--username",
        name,
        "--email",
        &email,
        "--password-stdin",
    ];
    args.extend_from_slice(extra);
    let output = crate::helpers::run_with(command, &args, &format!("{PASSWORD}\n"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(256)
        .build()
        .unwrap()
}

pub async fn login(http: &reqwest::Client, base: &str, name: &str, password: &str) -> (u16, Value) {
    let answer = http
        .post(format!("{base}/authentication/login"))
        .json(&json!({"username": name, "password": password}))
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

/// Log lines whose message is exactly `message`.
fn logged(server: &Server, message: &str) -> usize {
    let needle = format!("\"message\":\"{message}\"");
    server
        .log
        .lock()
        .unwrap()
        .lines()
        .filter(|line| line.contains(&needle))
        .count()
}

#[tokio::test]
async fn a_hundred_parallel_wrong_passwords_get_exactly_the_allowed_checks_and_lock_the_account() {
    let Some(database) = Postgres::create().await else {
        return;
    };
    let scratch = Scratch::new();
    add_user(&scratch, &database, "ann");
    let server = server_on(&scratch, &database, &[]);
    let http = http();
    let guesses = (0..100).map(|n| {
        let http = http.clone();
        let base = server.base.clone();
        async move { login(&http, &base, "ann", &format!("guess {n}")).await.0 }
    });
    let statuses = join_all(guesses).await;
    // Five guesses are admitted; which answer each gets depends on how they
    // interleave (the first to fail may find the count full and lock). The rest
    // find five guesses being checked (503, retry shortly) or the lock (403).
    assert!(
        statuses.iter().all(|status| matches!(status, 401 | 403 | 503)),
        "{statuses:?}"
    );
    assert!(
        statuses.iter().filter(|status| **status == 401).count() <= 4,
        "{statuses:?}"
    );
    let (status, body) = login(&http, &server.base, "ann", PASSWORD).await;
    assert_eq!(
        status, 403,
        "the right password after the storm is refused: {body}"
    );
    assert_eq!(
        logged(&server, "password rejected"),
        5,
        "exactly max_failures guesses reached the hasher"
    );
    assert_eq!(logged(&server, "account locked after repeated failures"), 1);
    // Every attempt is counted once, by how it ended; every refusal but the
    // busy ones is a row, and the lock is one event.
    let count = |status: u16| statuses.iter().filter(|each| **each == status).count() as f64;
    let metrics = crate::serve::scrape(&server.management).await;
    let logins = |outcome: &str| {
        crate::serve::metric(
            &metrics,
            &format!("limen_logins_total{{dialect=\"flow\",method=\"password\",outcome=\"{outcome}\"}}"),
        )
    };
    assert_eq!(logins("wrong_credentials"), count(401), "{metrics}");
    assert_eq!(logins("locked"), count(403) + 1.0, "{metrics}");
    assert_eq!(logins("busy"), count(503), "{metrics}");
    assert!(server.terminate());
    let trail = {
        let mut command = scratch.command();
        command.env("LIMEN_DATABASE_URL", &database.url);
        crate::helpers::run_with(command, &["audit", "--json", "--limit", "1000"], "")
    };
    let trail = String::from_utf8(trail.stdout).unwrap();
    let rows = |kind: &str| trail.matches(&format!("\"kind\":\"{kind}\"")).count() as f64;
    assert_eq!(rows("login.failed"), count(401) + count(403) + 1.0, "{trail}");
    assert_eq!(rows("account.locked"), 1.0, "{trail}");
    let listed = {
        let mut command = scratch.command();
        command.env("LIMEN_DATABASE_URL", &database.url);
        crate::helpers::run_with(command, &["user", "list"], "")
    };
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(listed.contains("ann@example.com\tlocked"), "{listed}");
    database.drop_database().await;
}

#[tokio::test]
async fn parallel_guesses_at_unknown_names_lock_like_an_account() {
    let Some(database) = Postgres::create().await else {
        return;
    };
    let scratch = Scratch::new();
    let server = server_on(&scratch, &database, &[]);
    let http = http();
    let guesses = (0..40).map(|n| {
        let http = http.clone();
        let base = server.base.clone();
        async move { login(&http, &base, "nobody", &format!("guess {n}")).await.0 }
    });
    let statuses = join_all(guesses).await;
    assert!(
        statuses.iter().all(|status| matches!(status, 401 | 403 | 503)),
        "{statuses:?}"
    );
    assert_eq!(logged(&server, "password rejected: unknown user"), 5);
    let (status, _) = login(&http, &server.base, "nobody", "another guess").await;
    assert_eq!(status, 403, "the name is locked like an account");
    assert!(server.terminate());
    database.drop_database().await;
}

fn code(key: &str, step_offset: i64) -> String {
    let secret = limen_crypto::base32::decode(key).unwrap();
    let step = (chrono::Utc::now().timestamp() / 30 + step_offset) as u64;
    RfcTotp.code(&secret, TotpParams::default(), step).unwrap()
}

#[tokio::test]
async fn two_hundred_parallel_codes_on_one_pending_login_get_at_most_five_checks() {
    let Some(database) = Postgres::create().await else {
        return;
    };
    let scratch = Scratch::new();
    add_user(&scratch, &database, "ann");
    let server = server_on(&scratch, &database, &[]);
    let http = http();
    let (_, body) = login(&http, &server.base, "ann", PASSWORD).await;
    let token = body["token"].as_str().unwrap().to_owned();
    let enrol = |body: Value| {
        http.post(format!("{}/user/1/enable2fa", server.base))
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
    let (_, body) = login(&http, &server.base, "ann", PASSWORD).await;
    assert_eq!(body["needsSecondToken"], true, "{body}");
    let pending = body["token"].as_str().unwrap().to_owned();
    let current: Vec<String> = (-1..=1).map(|offset| code(&key, offset)).collect();
    let wrong_codes = (0..200u32)
        .map(|n| format!("{:06}", (n * 4_999 + 17) % 1_000_000))
        .filter(|candidate| !current.contains(candidate));
    let attempts = wrong_codes.map(|candidate| {
        let http = http.clone();
        let url = format!("{}/authentication/2fa/validate", server.base);
        let pending = pending.clone();
        async move {
            let answer = http
                .post(url)
                .bearer_auth(pending)
                .json(&json!({"token": candidate}))
                .send()
                .await
                .unwrap();
            let status = answer.status().as_u16();
            let body: Value = answer.json().await.unwrap_or(Value::Null);
            (status, body["message"].as_str().unwrap_or_default().to_owned())
        }
    });
    let answers = join_all(attempts).await;
    let judged = answers
        .iter()
        .filter(|(_, message)| message.contains("two-factor code is invalid"))
        .count();
    assert!(judged <= 5, "{judged} codes were judged: {answers:?}");
    let checked = logged(&server, "second-factor code checked");
    assert!((1..=5).contains(&checked), "{checked} codes reached the check");
    assert!(
        answers
            .iter()
            .all(|(status, _)| matches!(status, 401 | 403 | 503)),
        "every guess is refused: {answers:?}"
    );
    // The pending login is spent: not even the right code completes it now.
    let answer = http
        .post(format!("{}/authentication/2fa/validate", server.base))
        .bearer_auth(&pending)
        .json(&json!({"token": code(&key, 0)}))
        .send()
        .await
        .unwrap();
    assert!(matches!(answer.status().as_u16(), 401 | 403));
    assert!(server.terminate());
    database.drop_database().await;
}

#[tokio::test]
async fn a_verification_link_opened_fifty_times_at_once_works_once() {
    let Some(database) = Postgres::create().await else {
        return;
    };
    let scratch = Scratch::new();
    let outbox = scratch.dir.join("outbox");
    let server = server_on(
        &scratch,
        &database,
        &[
            ("LIMEN_DIALECTS__GRADIDO__ALLOW_PASSWORD_VIA_JSON_REQUEST", "true"),
            ("LIMEN_MAIL__OUTBOX_DIR", outbox.to_str().unwrap()),
        ],
    );
    let http = http();
    let answer = http
        .post(format!("{}/login_api/createUser", server.base))
        .json(&json!({"email": "max@example.com", "password": "123abcDE&", "emailType": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let mail = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .next()
        .unwrap()
        .replace("=\r\n", "")
        .replace("=\n", "");
    let path = mail
        .split_whitespace()
        .find_map(|word| {
            word.split_once("/account/checkEmail/")
                .map(|(_, code)| code.to_owned())
        })
        .unwrap();
    let link = format!("{}/account/checkEmail/{path}", server.base);
    let opened = (0..50).map(|_| {
        let http = http.clone();
        let link = link.clone();
        async move { http.get(link).send().await.unwrap().status().as_u16() }
    });
    let statuses = join_all(opened).await;
    assert_eq!(
        statuses.iter().filter(|status| **status == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|status| **status == 404).count(),
        49,
        "{statuses:?}"
    );
    assert!(server.terminate());
    database.drop_database().await;
}

/// Sixty logins of one client at once against five places (one hashing
/// thread, a queue of four): each is admitted or shed with 503, never
/// anything else, and the shed counter counts exactly the 503s.
#[tokio::test]
async fn a_burst_of_parallel_logins_is_admitted_or_shed_and_every_shed_is_counted() {
    let Some(database) = Postgres::create().await else {
        return;
    };
    let scratch = Scratch::new();
    add_user(&scratch, &database, "ann");
    let server = server_on(
        &scratch,
        &database,
        &[
            // Hashing slow enough that the burst overlaps it.
            ("LIMEN_PASSWORD__MEMORY_KIB", "4096"),
            ("LIMEN_PASSWORD__MAX_CONCURRENT", "1"),
            ("LIMEN_PASSWORD__MAX_QUEUE", "4"),
        ],
    );
    let http = reqwest::Client::new();
    let statuses: Vec<u16> = join_all((0..60).map(|_| {
        http.post(format!("{}/authentication/login", server.base))
            .json(&json!({"username": "ann", "password": PASSWORD}))
            .send()
    }))
    .await
    .into_iter()
    .map(|answer| answer.unwrap().status().as_u16())
    .collect();
    let admitted = statuses.iter().filter(|status| **status == 200).count();
    let shed = statuses.iter().filter(|status| **status == 503).count();
    assert_eq!(admitted + shed, 60, "only 200 or 503: {statuses:?}");
    assert!(admitted >= 1 && shed >= 1, "{admitted} admitted, {shed} shed");
    let metrics = crate::serve::scrape(&server.management).await;
    let counted = crate::serve::metric(&metrics, "limen_logins_shed_total{dialect=\"flow\"}");
    assert_eq!(counted, shed as f64, "{metrics}");
    assert_eq!(
        crate::serve::metric(&metrics, "limen_logins_in_flight"),
        0.0,
        "{metrics}"
    );
    assert!(server.terminate());
    database.drop_database().await;
}

/// Four keep-alive clients logging in, each sending its next login only
/// after its answer, for `seconds`: every answer of `names` (one account for
/// all four, or one each) is a 200. At most four attempts are ever in flight,
/// fewer than the account's five, so a 503 would mean an attempt still
/// counted after its answer went out.
async fn keep_alive_logins(server: &Server, names: [&str; 4], seconds: u64) -> Vec<u16> {
    let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
    let clients = names.map(|name| {
        let base = server.base.clone();
        async move {
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            let mut statuses = Vec::new();
            while std::time::Instant::now() < deadline {
                statuses.push(login(&http, &base, name, PASSWORD).await.0);
            }
            statuses
        }
    });
    join_all(clients).await.into_iter().flatten().collect()
}

/// Logs in through four keep-alive clients, first all as one account, then
/// one account each, and expects nothing but 200s.
async fn never_busy(server: &Server, engine: &str) {
    for names in [["ann"; 4], ["ann", "bob", "cid", "dan"]] {
        let statuses = keep_alive_logins(server, names, 3).await;
        let refused: Vec<_> = statuses.iter().filter(|status| **status != 200).collect();
        eprintln!(
            "{engine}, {names:?}: {} logins, {} refused",
            statuses.len(),
            refused.len()
        );
        assert!(
            refused.is_empty(),
            "{engine}, {names:?}: {refused:?} of {}",
            statuses.len()
        );
    }
}

#[tokio::test]
async fn concurrent_logins_of_one_account_are_never_refused_as_busy() {
    // Default settings but the database: what an operator runs.
    let scratch = Scratch::new();
    for name in ["ann", "bob", "cid", "dan"] {
        scratch.add_user(name, &format!("{name}@example.com"), PASSWORD);
    }
    let mut command = scratch.command();
    command.args(["serve", "--listen", "127.0.0.1:0"]);
    let server = Server::start(command);
    never_busy(&server, "sqlite").await;
    assert!(server.terminate());

    let Some(database) = Postgres::create().await else {
        return;
    };
    for name in ["ann", "bob", "cid", "dan"] {
        add_user(&scratch, &database, name);
    }
    let mut command = scratch.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LIMEN_DATABASE_URL", &database.url)
        .env("LIMEN_SECRETS_KEY", SECRETS_KEY);
    let server = Server::start(command);
    never_busy(&server, "postgresql").await;
    assert!(server.terminate());
    database.drop_database().await;
}
