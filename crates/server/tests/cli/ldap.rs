//! `limen` over an LDAP directory (`users.backend = "ldap"`), here a real
//! OpenLDAP server of the test's own (Debian's slapd): logins through every
//! dialect with the password checked by a bind, Limen's lockout on top of the
//! directory, a read-only run that leaves the directory byte for byte as it
//! was, a reset through the lime dialect written with Password Modify (and
//! `ldapwhoami` then binds with the new password), the directory's policy
//! refusing a password, and a directory that stops and comes back.

use std::time::Duration;

use base64::Engine;
use limen_ldap::testing::{Entry, PEOPLE, SERVICE, SERVICE_PASSWORD, Slapd};
use serde_json::{Value, json};

use crate::helpers::{Scratch, Server, SmtpSink};

const PASSWORD: &str = "correct horse battery";

fn config(scratch: &Scratch, slapd: &Slapd, writable: bool) -> std::path::PathBuf {
    let path = scratch.dir.join("limen.toml");
    std::fs::write(
        &path,
        format!(
            "[users]\nbackend = \"ldap\"\n[users.ldap]\nurl = \"{}\"\nbind_dn = \"{SERVICE}\"\n\
             bind_password = \"{SERVICE_PASSWORD}\"\nbase_dn = \"{PEOPLE}\"\nwritable = {writable}\n\
             timeout_secs = 2\ncache_ttl_secs = 1\n[users.ldap.attributes]\npersonal_number = \"employeeNumber\"\n",
            slapd.url
        ),
    )
    .unwrap();
    path
}

async fn add(slapd: &Slapd, uid: &str) -> String {
    slapd
        .add_person(&Entry {
            uid,
            mail: &format!("{uid}@example.org"),
            employee_number: None,
            password: PASSWORD,
        })
        .await
}

async fn post(http: &reqwest::Client, url: String, body: Value) -> (u16, Value) {
    let answer = http.post(url).json(&body).send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

async fn flow_login(http: &reqwest::Client, base: &str, name: &str, password: &str) -> (u16, Value) {
    post(
        http,
        format!("{base}/authentication/login"),
        json!({"username": name, "password": password}),
    )
    .await
}

/// The current TOTP code of `key` (base32), `offset_steps` periods ahead.
fn totp(key: &str, offset_steps: u64) -> String {
    use limen_domain::ports::TotpGenerator;
    let secret = limen_crypto::base32::decode(key).unwrap();
    let step = u64::try_from(chrono::Utc::now().timestamp()).unwrap() / 30 + offset_steps;
    limen_crypto::RfcTotp
        .code(&secret, limen_domain::model::TotpParams::default(), step)
        .unwrap()
}

async fn status_of(request: reqwest::RequestBuilder) -> u16 {
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn directory_users_log_in_through_every_dialect_and_a_read_only_run_changes_nothing() {
    if !Slapd::available() {
        return;
    }
    let slapd = Slapd::start().await;
    add(&slapd, "ann").await;
    add(&slapd, "bob").await;
    let before = slapd.dump();
    let scratch = Scratch::new();
    let config = config(&scratch, &slapd, false);
    let mut command = scratch.command();
    command
        .env("LIMEN_CONFIG", &config)
        .env("LIMEN_DIALECTS__GRADIDO__ALLOW_PASSWORD_VIA_JSON_REQUEST", "true")
        .args(["serve", "--listen", "127.0.0.1:0"]);
    let server = Server::start(command);
    let base = &server.base;
    let http = reqwest::Client::new();
    assert_eq!(status_of(http.get(format!("{base}/readyz"))).await, 200);

    let (status, body) = flow_login(&http, base, "ann", PASSWORD).await;
    assert_eq!(status, 200, "flow: {body}");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("ann:{PASSWORD}"));
    let tokens = http
        .post(format!("{base}/auth/login"))
        .header("Authorization", format!("Basic {basic}"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(tokens.status().as_u16(), 200, "tokens");
    let (status, body) = post(
        &http,
        format!("{base}/login_api/unsecureLogin"),
        json!({"email": "ann@example.org", "password": PASSWORD}),
    )
    .await;
    assert_eq!(
        (status, &body["state"]),
        (200, &json!("success")),
        "gradido: {body}"
    );
    let (status, body) = post(
        &http,
        format!("{base}/v2/authorize"),
        json!({"user_id": "ann@example.org", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 200, "bimplus: {body}");
    let (status, body) = post(
        &http,
        format!("{base}/login/"),
        json!({"type": "limecrm", "username": "ANN", "password": PASSWORD}),
    )
    .await;
    assert_eq!((status, &body["success"]), (200, &json!(true)), "lime: {body}");
    assert_eq!(flow_login(&http, base, "ann", "not the password").await.0, 401);
    for hostile in ["*", "*)(uid=*", "admin)(|(uid=*", "ann\u{0}", "änn"] {
        assert_eq!(
            flow_login(&http, base, hostile, PASSWORD).await.0,
            401,
            "{hostile:?} is nobody's name"
        );
    }

    // Limen's lockout on top of the directory: five failures lock bob, and
    // then even his right password is refused without a bind.
    for _ in 0..5 {
        flow_login(&http, base, "bob", "wrong").await;
    }
    let (status, body) = flow_login(&http, base, "bob", PASSWORD).await;
    assert_ne!(status, 200, "locked: {body}");

    // Read-only: nothing in the directory takes a new password.
    let (status, _) = post(
        &http,
        format!("{base}/reset/"),
        json!({"token": "0b3b8a5e-6f4c-4a3e-9b1d-2f7d6c1e8a90", "username": "ann", "new_password": "a new secret"}),
    )
    .await;
    assert_eq!(status, 403, "a read-only directory takes no password");

    // The administration commands read the directory.
    let mut list = scratch.command();
    list.env("LIMEN_CONFIG", &config).args(["user", "list"]);
    let listed = list.output().unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains("\tann\tann@example.org\tenabled"), "{listed}");
    assert!(listed.contains("\tbob\tbob@example.org\t"), "{listed}");
    assert!(server.terminate());
    assert_eq!(slapd.dump(), before, "a read-only Limen wrote to the directory");
}

#[tokio::test]
async fn a_reset_writes_the_directory_and_a_directory_that_stops_answers_503_until_it_is_back() {
    if !Slapd::available() {
        return;
    }
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let mut slapd = Slapd::start().await;
    let dn = add(&slapd, "ann").await;
    let scratch = Scratch::new();
    let config = config(&scratch, &slapd, true);
    let mut command = scratch.command();
    command
        .env("LIMEN_CONFIG", &config)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LIMEN_MAIL__TRANSPORT", "smtp")
        .env("LIMEN_MAIL__SMTP__HOST", "127.0.0.1")
        .env("LIMEN_MAIL__SMTP__PORT", sink.port.to_string())
        .env("LIMEN_MAIL__SMTP__SECURITY", "none")
        .env(
            "LIMEN_DIALECTS__LIME__RESET_URL",
            "https://portal.example/reset?token={token}",
        );
    let server = Server::start(command);
    let base = &server.base;
    let http = reqwest::Client::new();

    // The token of the reset e-mail that arrives next (the sink's files come
    // in no particular order).
    let used = std::sync::Mutex::new(Vec::<String>::new());
    let reset_token = async || {
        let (status, _) = post(
            &http,
            format!("{base}/reset/request/"),
            json!({"username": "ann"}),
        )
        .await;
        assert_eq!(status, 200);
        for _ in 0..100 {
            let fresh = sink.messages().iter().find_map(|message| {
                let token = message
                    .split_whitespace()
                    .find_map(|word| word.strip_prefix("https://portal.example/reset?token="))?
                    .to_owned();
                (!used.lock().unwrap().contains(&token)).then_some(token)
            });
            if let Some(token) = fresh {
                used.lock().unwrap().push(token.clone());
                return token;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no reset e-mail arrived");
    };
    let token = reset_token().await;
    let (status, body) = post(
        &http,
        format!("{base}/reset/"),
        json!({"token": token, "username": "ann", "new_password": "a brand new secret"}),
    )
    .await;
    assert_eq!((status, body), (200, json!({"msg": "Password updated"})));
    assert!(
        slapd.binds(&dn, "a brand new secret"),
        "ldapwhoami binds with the new password"
    );
    assert!(!slapd.binds(&dn, PASSWORD));
    let (status, body) = flow_login(&http, base, "ann", "a brand new secret").await;
    assert_eq!(status, 200, "{body}");

    // A second factor on a directory user: kept in Limen's database.
    let token = body["token"].as_str().unwrap().to_owned();
    let enable = async |body: Value| {
        let answer = http
            .post(format!("{base}/user/1/enable2fa"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "{}", answer.status());
        answer.json::<Value>().await.unwrap()
    };
    let started = enable(json!({"password": "a brand new secret", "type": "TWO_FA_AUTHENTICATOR"})).await;
    let key = started["key"].as_str().unwrap().to_owned();
    enable(json!({"type": "TWO_FA_AUTHENTICATOR_ENABLING", "token": totp(&key, 0)})).await;
    let (status, pending) = flow_login(&http, base, "ann", "a brand new secret").await;
    assert_eq!(
        (status, &pending["needsSecondToken"]),
        (200, &json!(true)),
        "{pending}"
    );
    let done = http
        .post(format!("{base}/authentication/2fa/validate"))
        .bearer_auth(pending["token"].as_str().unwrap())
        .json(&json!({"token": totp(&key, 1)}))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status().as_u16(), 200);
    let done: Value = done.json().await.unwrap();
    assert_eq!(done["needsSecondToken"], false, "{done}");

    // The directory's policy keeps the last passwords: its reason reaches the user.
    let token = reset_token().await;
    let (status, body) = post(
        &http,
        format!("{base}/reset/"),
        json!({"token": token, "username": "ann", "new_password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.to_string().contains("history"),
        "the directory's reason: {body}"
    );

    // A directory that stops: 503 in each dialect's shape, /readyz red; then back.
    slapd.stop();
    let (status, body) = flow_login(&http, base, "bob", "any password").await;
    assert_eq!((status, &body["code"]), (503, &json!(503)), "flow: {body}");
    let (status, body) = post(
        &http,
        format!("{base}/login/"),
        json!({"type": "limecrm", "username": "bob", "password": "any password"}),
    )
    .await;
    assert_eq!((status, &body["success"]), (503, &json!(false)), "lime: {body}");
    let (status, body) = post(
        &http,
        format!("{base}/v2/authorize"),
        json!({"user_id": "bob", "password": "any password"}),
    )
    .await;
    assert_eq!(status, 503, "bimplus: {body}");
    let tokens = http
        .post(format!("{base}/auth/login"))
        .basic_auth("bob", Some("any password"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(tokens.status().as_u16(), 503, "tokens");
    assert_eq!(status_of(http.get(format!("{base}/readyz"))).await, 503);
    slapd.restart().await;
    let mut status = 0;
    for _ in 0..50 {
        status = flow_login(&http, base, "ann", "a brand new secret").await.0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "recovered without a restart");
    assert_eq!(status_of(http.get(format!("{base}/readyz"))).await, 200);
    assert!(server.terminate());
}

/// Samba's LDAP holds ports 389 and 636: this test is in the nextest group
/// `samba`, one at a time.
#[tokio::test]
async fn samba_active_directory_users_log_in_by_account_name_or_principal_name_and_their_state_is_told() {
    use limen_ldap::testing::{AD_ADMIN, AD_ADMIN_PASSWORD, AD_PEOPLE, AD_REALM, SambaDc};
    if !SambaDc::available() {
        return;
    }
    const AD_PASSWORD: &str = "Corr3ct-horse";
    let dc = SambaDc::start().await;
    dc.add_user("ann", "ann@example.org", AD_PASSWORD);
    dc.add_user("bob", "bob@example.org", AD_PASSWORD);
    dc.samba_tool(&["user", "disable", "bob"]);
    let scratch = Scratch::new();
    let ca = scratch.dir.join("ad-ca.pem");
    std::fs::write(&ca, &dc.ca_pem).unwrap();
    let config = scratch.dir.join("limen.toml");
    std::fs::write(
        &config,
        format!(
            "[users]\nbackend = \"ldap\"\n[users.ldap]\nurl = \"{}\"\nca_file = \"{}\"\nflavor = \"active_directory\"\n\
             bind_dn = \"{AD_ADMIN}\"\nbind_password = \"{AD_ADMIN_PASSWORD}\"\nbase_dn = \"{AD_PEOPLE}\"\n",
            dc.url,
            ca.display()
        ),
    )
    .unwrap();
    let mut command = scratch.command();
    command
        .env("LIMEN_CONFIG", &config)
        .args(["serve", "--listen", "127.0.0.1:0"]);
    let server = Server::start(command);
    let http = reqwest::Client::new();
    let base = &server.base;
    assert_eq!(status_of(http.get(format!("{base}/readyz"))).await, 200);
    for name in ["ann", &format!("ann@{AD_REALM}"), "ann@example.org"] {
        let (status, body) = flow_login(&http, base, name, AD_PASSWORD).await;
        assert_eq!(status, 200, "{name}: {body}");
    }
    assert_eq!(flow_login(&http, base, "ann", "Wr0ng-horse").await.0, 401);
    let (status, body) = flow_login(&http, base, "bob", AD_PASSWORD).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("disabled"),
        "flow's answer for a disabled account: {body}"
    );
    assert!(server.terminate());
}
