use std::time::Duration;

use limen_crypto::RfcTotp;
use limen_domain::model::TotpParams;
use limen_domain::ports::TotpGenerator;
use serde_json::{Value, json};

use crate::helpers::{Scratch, Server};

const KEY_ONE: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
const KEY_TWO: &str = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";

fn code(key: &str, offset_steps: u64) -> String {
    let secret = limen_crypto::base32::decode(key).unwrap();
    let step = u64::try_from(chrono::Utc::now().timestamp()).unwrap() / 30 + offset_steps;
    RfcTotp.code(&secret, TotpParams::default(), step).unwrap()
}

async fn post(http: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> Value {
    let mut request = http.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let answer = request.send().await.unwrap();
    let status = answer.status();
    let body: Value = answer.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{status}: {body}");
    body
}

fn serve(scratch: &Scratch, keys: &[(&str, &str)]) -> Server {
    let mut command = scratch.command();
    command.args(["serve", "--listen", "127.0.0.1:0"]);
    for (name, value) in keys {
        command.env(name, value);
    }
    Server::start(command)
}

#[tokio::test]
async fn secrets_are_rotated_to_a_new_key_and_reset_by_an_operator() {
    let scratch = Scratch::new();
    scratch.add_user("ann", "ann@example.com", "correct horse");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let login = json!({"username": "ann", "password": "correct horse"});

    // Enrol while the first key seals secrets.
    let server = serve(&scratch, &[("LIMEN_SECRETS_KEY", KEY_ONE)]);
    let token = post(
        &http,
        format!("{}/authentication/login", server.base),
        None,
        login.clone(),
    )
    .await;
    let token = token["token"].as_str().unwrap().to_owned();
    let started = post(
        &http,
        format!("{}/user/1/enable2fa", server.base),
        Some(&token),
        json!({"password": "correct horse", "type": "TWO_FA_AUTHENTICATOR"}),
    )
    .await;
    let key = started["key"].as_str().unwrap().to_owned();
    post(
        &http,
        format!("{}/user/1/enable2fa", server.base),
        Some(&token),
        json!({"type": "TWO_FA_AUTHENTICATOR_ENABLING", "token": code(&key, 0)}),
    )
    .await;
    assert!(server.terminate());

    // Rotate: new key current, old key still able to open.
    let mut rotate = scratch.command();
    rotate
        .env("LIMEN_SECRETS_KEY", KEY_TWO)
        .env("LIMEN_PREVIOUS_SECRETS_KEYS", format!("[\"{KEY_ONE}\"]"));
    let output = crate::helpers::run_with(rotate, &["secrets", "rotate"], "");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("re-sealed 1 secrets"));

    // Only the new key now: the second factor still works.
    let server = serve(&scratch, &[("LIMEN_SECRETS_KEY", KEY_TWO)]);
    let pending = post(
        &http,
        format!("{}/authentication/login", server.base),
        None,
        login.clone(),
    )
    .await;
    assert_eq!(pending["needsSecondToken"], true);
    let done = post(
        &http,
        format!("{}/authentication/2fa/validate", server.base),
        pending["token"].as_str(),
        json!({"token": code(&key, 1)}),
    )
    .await;
    assert_eq!(done["needsSecondToken"], false);
    assert!(server.terminate());

    // The operator removes the second factor: the password alone logs in again.
    scratch.ok(&["user", "reset-2fa", "ann"], "");
    let server = serve(&scratch, &[("LIMEN_SECRETS_KEY", KEY_TWO)]);
    let plain = post(
        &http,
        format!("{}/authentication/login", server.base),
        None,
        login,
    )
    .await;
    assert_eq!(plain["needsSecondToken"], false);
    assert!(server.terminate());
}

#[test]
fn rotation_needs_a_key_and_roles_are_checked() {
    let scratch = Scratch::new();
    let err = scratch.fails(&["secrets", "rotate"], "");
    assert!(err.contains("secrets_key"), "{err}");
    scratch.add_user("sue", "sue@example.com", "correct horse");
    assert!(
        scratch
            .ok(&["user", "set-role", "sue", "support"], "")
            .contains("support")
    );
    let err = scratch.fails(&["user", "set-role", "sue", "admin"], "");
    assert!(err.contains("not a role"), "{err}");
    let err = scratch.fails(&["user", "reset-2fa", "ghost"], "");
    assert!(err.contains("no such user"), "{err}");
    let mut bad_key = scratch.command();
    bad_key.env("LIMEN_SECRETS_KEY", "c2hvcnQ=");
    let output = crate::helpers::run_with(bad_key, &["user", "list"], "");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("32 bytes"));
}
