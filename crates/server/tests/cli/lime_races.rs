//! The `lime` dialect's counters and single-use records under many requests at
//! once, against a running server on PostgreSQL: a completed BankID order
//! collected in parallel, one reset token spent in parallel, and the request
//! throttles of reset and BankID, kept in the database as several nodes would.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{Postgres, Scratch};
use crate::races::{PASSWORD, add_user_with, http, server_on};

const PERSONAL_NUMBER: &str = "199908072391";
const API_KEY: &str = "portal-backend-key";

async fn post(http: &reqwest::Client, url: &str, body: Value) -> (u16, Value) {
    let answer = http
        .post(url)
        .header("X-API-Key", API_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test]
async fn a_completed_bankid_order_collected_fifty_times_at_once_logs_in_once() {
    let Some(database) = Postgres::create().await else {
        return;
    };
    let scratch = Scratch::new();
    add_user_with(
        &scratch,
        &database,
        "ann",
        &["--personal-number", PERSONAL_NUMBER],
    );
    let server = server_on(
        &scratch,
        &database,
        &[
            ("LIMEN_BANKID__MODE", "simulator"),
            ("LIMEN_BANKID__SIMULATOR__PENDING_COLLECTS", "0"),
            ("LIMEN_DIALECTS__LIME__API_KEYS", &format!("[\"{API_KEY}\"]")),
        ],
    );
    let http = http();
    let (status, started) = post(
        &http,
        &format!("{}/login/", server.base),
        json!({"type": "bankid", "personal_number": PERSONAL_NUMBER}),
    )
    .await;
    assert_eq!(status, 200, "{started}");
    let transaction = started["transaction_id"].as_str().unwrap().to_owned();
    let url = format!("{}/bankid/collect/", server.base);
    let collects = (0..50).map(|_| {
        let (http, url) = (http.clone(), url.clone());
        let body = json!({"transaction_id": transaction});
        async move { post(&http, &url, body).await }
    });
    let answers = join_all(collects).await;
    let completed: Vec<&Value> = answers
        .iter()
        .filter(|(status, body)| *status == 200 && body["progressStatus"] == "COMPLETE")
        .map(|(_, body)| body)
        .collect();
    assert_eq!(completed.len(), 1, "{answers:?}");
    assert!(completed[0]["token"].is_string());
    // The others found the order spent (404), or BankID no longer knowing it
    // (EXPIRED_TRANSACTION): none logged anybody in.
    let tokens = answers
        .iter()
        .filter(|(_, body)| body.get("token").is_some())
        .count();
    assert_eq!(tokens, 1, "{answers:?}");
    assert_eq!(
        answers.iter().filter(|(_, body)| body["success"] == true).count(),
        1,
        "{answers:?}"
    );
    let (status, _) = post(&http, &url, json!({"transaction_id": transaction})).await;
    assert_eq!(status, 404, "the order is spent");
    assert!(server.terminate());
    database.drop_database().await;
}

#[tokio::test]
async fn a_reset_token_spent_fifty_times_at_once_sets_one_password() {
    let Some(database) = Postgres::create().await else {
        return;
    };
    let scratch = Scratch::new();
    add_user_with(&scratch, &database, "ann", &[]);
    let outbox = scratch.dir.join("outbox");
    let server = server_on(
        &scratch,
        &database,
        &[
            ("LIMEN_DIALECTS__LIME__API_KEYS", &format!("[\"{API_KEY}\"]")),
            ("LIMEN_MAIL__OUTBOX_DIR", outbox.to_str().unwrap()),
        ],
    );
    let http = http();
    let (status, requested) = post(
        &http,
        &format!("{}/reset/request/", server.base),
        json!({"username": "ann"}),
    )
    .await;
    assert_eq!(status, 200, "{requested}");
    let token = requested["token"].as_str().unwrap().to_owned();
    let url = format!("{}/reset/", server.base);
    let resets = (0..50).map(|n| {
        let (http, url) = (http.clone(), url.clone());
        let body = json!({"token": token, "username": "ann", "new_password": format!("new password {n:02}")});
        async move { post(&http, &url, body).await.0 }
    });
    let statuses = join_all(resets).await;
    assert_eq!(count(&statuses, 200), 1, "{statuses:?}");
    assert_eq!(count(&statuses, 404), 49, "{statuses:?}");
    let winner = statuses.iter().position(|s| *s == 200).unwrap();
    let login = format!("{}/login/", server.base);
    let (status, _) = post(
        &http,
        &login,
        json!({"type": "limecrm", "username": "ann", "password": format!("new password {winner:02}")}),
    )
    .await;
    assert_eq!(status, 200, "the winning request's password is the one set");
    let (status, _) = post(
        &http,
        &login,
        json!({"type": "limecrm", "username": "ann", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 401);
    assert!(server.terminate());
    database.drop_database().await;
}

#[tokio::test]
async fn forty_reset_requests_at_once_for_one_name_send_three_mails() {
    let Some(database) = Postgres::create().await else {
        return;
    };
    let scratch = Scratch::new();
    add_user_with(&scratch, &database, "ann", &[]);
    let outbox = scratch.dir.join("outbox");
    let server = server_on(
        &scratch,
        &database,
        &[
            // The counts every node shares.
            ("LIMEN_RATE_LIMIT__BACKEND", "sql"),
            ("LIMEN_MAIL__OUTBOX_DIR", outbox.to_str().unwrap()),
        ],
    );
    let http = http();
    let url = format!("{}/reset/request/", server.base);
    let requests = (0..40).map(|_| {
        let (http, url) = (http.clone(), url.clone());
        async move { post(&http, &url, json!({"username": "ann"})).await.0 }
    });
    let statuses = join_all(requests).await;
    assert_eq!(count(&statuses, 200), 3, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 37, "{statuses:?}");
    let log = server.log.clone();
    assert!(server.terminate());
    let mails = std::fs::read_dir(&outbox).map_or(0, |entries| entries.count());
    assert_eq!(
        mails,
        3,
        "one e-mail per admitted request: {}",
        log.lock().unwrap()
    );
    database.drop_database().await;
}

#[tokio::test]
async fn thirty_bankid_starts_at_once_from_one_address_reach_bankid_five_times() {
    let Some(database) = Postgres::create().await else {
        return;
    };
    let scratch = Scratch::new();
    let server = server_on(
        &scratch,
        &database,
        &[
            ("LIMEN_RATE_LIMIT__BACKEND", "sql"),
            ("LIMEN_RATE_LIMIT__BANKID_STARTS_PER_ADDRESS", "5"),
            ("LIMEN_BANKID__MODE", "simulator"),
        ],
    );
    let http = http();
    let url = format!("{}/login/", server.base);
    let starts = (0..30).map(|_| {
        let (http, url) = (http.clone(), url.clone());
        let body = json!({"type": "bankid", "personal_number": PERSONAL_NUMBER});
        async move { post(&http, &url, body).await.0 }
    });
    let statuses = join_all(starts).await;
    // One person's parallel starts: BankID accepts the first and answers the
    // others "already in progress" (409); every one of them was a request to
    // BankID, and only five were made.
    assert_eq!(count(&statuses, 429), 25, "{statuses:?}");
    assert_eq!(count(&statuses, 200) + count(&statuses, 409), 5, "{statuses:?}");
    assert!(server.terminate());
    database.drop_database().await;
}
