//! `limen audit`, the trail administration commands leave, and the JSON audit
//! lines and retention of `serve`.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Scratch, Server};
use crate::serve::{metric, scrape};

/// `limen audit --json ARGS`, oldest first.
fn trail(scratch: &Scratch, args: &[&str]) -> Vec<Value> {
    let mut command = vec!["audit", "--json"];
    command.extend_from_slice(args);
    let mut events: Vec<Value> = scratch
        .ok(&command, "")
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {line}")))
        .collect();
    events.reverse();
    events
}

fn operator() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    format!("cli:{}", String::from_utf8(out.stdout).unwrap().trim())
}

#[test]
fn administration_commands_and_what_they_change_are_in_the_trail() {
    let scratch = Scratch::new();
    scratch.add_user("ann", "ann@example.com", "correct horse battery");
    scratch.ok(&["user", "unlock", "ann"], "");
    scratch.ok(
        &["user", "passwd", "ann", "--password-stdin"],
        "another long passphrase\n",
    );
    scratch.ok(&["token", "create", "--user", "ann", "--note", "ci"], "");
    scratch.fails(&["user", "unlock", "nobody"], "");

    let events = trail(&scratch, &[]);
    let kinds: Vec<&str> = events
        .iter()
        .map(|event| event["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "admin.command",    // migrate
            "admin.command",    // user add
            "account.unlocked", // user unlock
            "admin.command",
            "password.changed", // user passwd
            "token.revoked",
            "admin.command",
            "token.created", // token create
            "admin.command",
            "admin.command", // user unlock nobody
        ],
        "{events:#?}"
    );
    let operator = operator();
    assert!(
        events.iter().all(|event| event["actor"] == operator),
        "{events:#?}"
    );
    assert_eq!(events[0]["detail"], "migrate -> ok");
    assert_eq!(events[3]["detail"], "user unlock ann -> ok");
    assert_eq!(events[3]["username"], "ann");
    assert_eq!(events[2]["username"], "ann");
    assert!(events[2]["user_id"].is_i64(), "{:?}", events[2]);
    // The password is read from stdin and never reaches the trail.
    assert!(
        !serde_json::to_string(&events)
            .unwrap()
            .contains("another long passphrase")
    );
    let failed = events[9]["detail"].as_str().unwrap();
    assert!(failed.starts_with("user unlock nobody -> failed: "), "{failed}");
    assert!(
        events
            .iter()
            .all(|event| event["client"].is_null() && event["dialect"].is_null())
    );

    // By user: ann's events and the commands about her; not the migration.
    let anns = trail(&scratch, &["--user", "ANN"]);
    assert_eq!(anns.len(), 8, "{anns:#?}");
    assert!(
        anns.iter()
            .all(|event| event["username"] == "ann" || event["user_id"] == events[2]["user_id"])
    );
    // The newest few, and by age.
    assert_eq!(trail(&scratch, &["--limit", "2"]), events[8..].to_vec());
    assert_eq!(trail(&scratch, &["--since", "1h"]).len(), events.len());

    let text = scratch.ok(&["audit", "--user", "ann"], "");
    let first = text.lines().next().unwrap();
    assert!(
        first.contains("admin.command") && first.contains(&operator),
        "{text}"
    );
    assert!(
        text.contains("account.unlocked") && text.contains("ann#"),
        "{text}"
    );
}

#[test]
fn reading_the_trail_needs_a_current_schema_and_a_valid_duration() {
    let scratch = Scratch::empty();
    let err = scratch.fails(&["audit"], "");
    assert!(err.contains("limen migrate"), "{err}");
    let err = Scratch::new().fails(&["audit", "--since", "yesterday"], "");
    assert!(err.contains("--since"), "{err}");
}

#[tokio::test]
async fn serve_writes_each_event_as_a_json_line_and_purges_past_its_retention() {
    let scratch = Scratch::new();
    scratch.add_user("ann", "ann@example.com", "correct horse battery");
    // An event from long ago, and one within the retention.
    let db = sea_orm::Database::connect(scratch.database_url()).await.unwrap();
    let micros = |days: i64| (chrono::Utc::now() - chrono::Duration::days(days)).timestamp_micros();
    for (days, kind) in [(400, "login.failed"), (10, "login.succeeded")] {
        sea_orm::ConnectionTrait::execute_unprepared(
            &db,
            &format!(
                "INSERT INTO audit_events (at, kind, actor) VALUES ({}, '{kind}', 'request')",
                micros(days)
            ),
        )
        .await
        .unwrap();
    }
    db.close().await.unwrap();

    let mut command = scratch.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LIMEN_AUDIT__RETENTION_DAYS", "30");
    let server = Server::start(command);
    let http = reqwest::Client::new();
    let answer = http
        .post(format!("{}/authentication/login", server.base))
        .header("X-Request-Id", "audit-line-1")
        .json(&json!({"username": "ann", "password": "wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);

    // The log is text, the audit line JSON, under its own target.
    let line = wait_for(|| {
        server
            .log
            .lock()
            .unwrap()
            .lines()
            .find(|line| line.contains("audit-line-1") && line.starts_with('{'))
            .map(str::to_owned)
    });
    let line: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(line["target"], "limen::audit", "{line}");
    assert_eq!(line["kind"], "login.failed", "{line}");
    assert_eq!(line["username"], "ann", "{line}");
    assert_eq!(line["client"], "127.0.0.1", "{line}");
    assert_eq!(line["dialect"], "flow", "{line}");
    assert_eq!(line["method"], "password", "{line}");
    assert_eq!(line["detail"], "wrong_credentials", "{line}");

    // The purge at start removed the old event only.
    let deadline = Instant::now() + Duration::from_secs(10);
    let metrics = loop {
        let metrics = scrape(&server.management).await;
        if metric(&metrics, "limen_audit_events_purged_total") >= 1.0 {
            break metrics;
        }
        assert!(Instant::now() < deadline, "nothing purged: {metrics}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        metric(&metrics, "limen_audit_events_purged_total"),
        1.0,
        "{metrics}"
    );
    let events = trail(&scratch, &[]);
    let failed: Vec<&Value> = events
        .iter()
        .filter(|event| event["kind"] == "login.failed")
        .collect();
    assert_eq!(failed.len(), 1, "{events:#?}");
    assert_eq!(failed[0]["username"], "ann", "{events:#?}");
    assert!(
        events.iter().any(|event| event["kind"] == "login.succeeded"),
        "{events:#?}"
    );
    assert_eq!(
        metric(
            &metrics,
            "limen_logins_total{dialect=\"flow\",method=\"password\",outcome=\"wrong_credentials\"}"
        ),
        1.0,
        "{metrics}"
    );
    assert!(server.terminate());
}

/// Polls `probe` for up to ten seconds.
fn wait_for<T>(mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(50));
    }
}
