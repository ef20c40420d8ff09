//! `limen` over a Lime CRM (`users.backend = "limecrm"`), here a local server
//! answering Lime's REST API: logins through two dialects, a person disabled
//! in the CRM refused at once at login and within the cache's lifetime for a
//! session, an outage answered with 503s and then over, and a wrong API key
//! reported by `/readyz`.

use std::time::Duration;

use limen_limecrm::testing::FakeLimeCrm;
use serde_json::{Value, json};

use crate::helpers::{Scratch, Server};

const PASSWORD: &str = "correct horse battery";
const BCRYPT: &str = "$2b$04$RFcTbAivmYtj1hol3nqyg.ujLgp7YtdtUoEH09.W7OHCbcFz2PQKq";
const KEY: &str = "lime-api-key";

fn serve(scratch: &Scratch, crm: &FakeLimeCrm, key: &str) -> Server {
    let config = scratch.dir.join("limen.toml");
    std::fs::write(
        &config,
        format!(
            "[users]\nbackend = \"limecrm\"\n[users.limecrm]\nurl = \"{}\"\napi_key = \"{key}\"\n\
             retries = 0\nbreaker_failures = 2\nbreaker_open_secs = 1\ncache_ttl_secs = 1\ntimeout_secs = 2\n\
             [users.limecrm.properties]\npassword_hash = \"passwordhash\"\n",
            crm.base
        ),
    )
    .unwrap();
    let mut command = scratch.command();
    command
        .env("LIMEN_CONFIG", &config)
        .args(["serve", "--listen", "127.0.0.1:0"]);
    Server::start(command)
}

async fn flow_login(http: &reqwest::Client, base: &str) -> (u16, Value) {
    let answer = http
        .post(format!("{base}/authentication/login"))
        .json(&json!({"username": "ann", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

async fn status_of(request: reqwest::RequestBuilder) -> u16 {
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn crm_users_log_in_and_the_crm_s_changes_and_failures_reach_limen() {
    let crm = FakeLimeCrm::start(KEY);
    let id = crm.add(
        json!({"username": "ann", "email": "ann@example.com", "firstname": "Ann", "lastname": "Andersson",
                            "passwordhash": BCRYPT, "inactive": false}),
    );
    let scratch = Scratch::new();
    let server = serve(&scratch, &crm, KEY);
    let http = reqwest::Client::new();
    assert_eq!(status_of(http.get(format!("{}/readyz", server.base))).await, 200);

    let (status, body) = flow_login(&http, &server.base).await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    let lime = http
        .post(format!("{}/login/", server.base))
        .json(&json!({"type": "limecrm", "username": "ANN", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let lime: Value = lime.json().await.unwrap();
    assert_eq!(lime["user"]["firstname"], "Ann", "{lime}");
    assert!(crate::serve::store_calls(&server.management, "limecrm").await > 0.0);

    // Disabled in the CRM: a login asks the CRM and is refused at once; a
    // session's checks use the cached user until its lifetime (1 s) is over.
    crm.change(id, json!({"inactive": true}));
    assert_eq!(flow_login(&http, &server.base).await.0, 401);
    let me = || {
        http.get(format!("{}/authentication/user", server.base))
            .bearer_auth(&token)
    };
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(status_of(me()).await, 401, "refused once the cached user expired");

    // An outage: 503 in the dialect's shape, never a wrong answer; then over.
    crm.change(id, json!({"inactive": false}));
    crm.set_outage(true);
    for _ in 0..3 {
        let (status, body) = flow_login(&http, &server.base).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["code"], 503, "flow's error shape: {body}");
    }
    assert_eq!(status_of(http.get(format!("{}/readyz", server.base))).await, 503);
    crm.set_outage(false);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(flow_login(&http, &server.base).await.0, 200, "recovered");
    assert!(server.terminate());
}

#[tokio::test]
async fn a_wrong_api_key_is_reported_by_readyz_and_logins_get_503() {
    let crm = FakeLimeCrm::start(KEY);
    crm.add(json!({"username": "ann", "passwordhash": BCRYPT}));
    let scratch = Scratch::new();
    let server = serve(&scratch, &crm, "not-the-key");
    let http = reqwest::Client::new();
    assert_eq!(status_of(http.get(format!("{}/readyz", server.base))).await, 503);
    assert_eq!(
        flow_login(&http, &server.base).await.0,
        503,
        "never a wrong password"
    );
    let log = server.log.lock().unwrap().clone();
    assert!(log.contains("api_key"), "the operator is told: {log}");
    assert!(server.terminate());
}
