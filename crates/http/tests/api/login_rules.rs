//! Rules every dialect shares, seen through their APIs: the per-address
//! throttle, locks on names nobody has, what enabling a second factor ends,
//! client ids, and verified addresses.

use std::net::SocketAddr;

use actix_web::http::{StatusCode, header};
use actix_web::test::TestRequest;
use limen_domain::model::{StoredTotp, TotpParams};
use limen_domain::ports::SecondFactorStore;
use limen_domain::services::Settings;
use limen_http::{GradidoSettings, HttpSettings};
use serde_json::{Value, json};

use crate::flow_two_factor::enrol;
use crate::helpers::{PASSWORD, TestApp};

fn flow_login(username: &str, password: &str, from: &str) -> TestRequest {
    TestRequest::post()
        .uri("/authentication/login")
        .peer_addr(from.parse::<SocketAddr>().unwrap())
        .set_json(json!({"username": username, "password": password}))
}

async fn throttled_app(limit: u32) -> TestApp {
    let mut settings = Settings::default();
    settings.attempts.login_address.limit = limit;
    TestApp::configured(HttpSettings::default(), settings).await
}

#[actix_web::test]
async fn an_address_with_too_many_failed_logins_gets_429_in_every_dialect() {
    let app = throttled_app(3).await;
    app.add_user("ann").await;
    for name in ["a", "b", "c"] {
        let answer = app.send(flow_login(name, "x", "192.0.2.7:4000")).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let refused = app.send(flow_login("ann", PASSWORD, "192.0.2.7:4001")).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.text()
    );
    assert_eq!(refused.json()["type"], "TooManyRequestsError");
    let retry: u64 = refused
        .headers
        .get(header::RETRY_AFTER)
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    let bimplus = app
        .send(
            TestRequest::post()
                .uri("/v2/authorize")
                .peer_addr("192.0.2.7:4002".parse().unwrap())
                .set_json(json!({"user_id": "ann@example.com", "password": PASSWORD})),
        )
        .await;
    assert_eq!(bimplus.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(bimplus.json()["error"], "too_many_attempts");
    // Another address is not affected; the right password is not counted.
    for _ in 0..5 {
        let answer = app.send(flow_login("ann", PASSWORD, "192.0.2.8:4000")).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    }
}

#[actix_web::test]
async fn an_ipv6_client_is_counted_per_64() {
    let app = throttled_app(2).await;
    app.add_user("ann").await;
    app.send(flow_login("a", "x", "[2001:db8:1:2::1]:4000")).await;
    app.send(flow_login("b", "x", "[2001:db8:1:2:ffff::9]:4000"))
        .await;
    let refused = app
        .send(flow_login("ann", PASSWORD, "[2001:db8:1:2::77]:4000"))
        .await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    let other = app
        .send(flow_login("ann", PASSWORD, "[2001:db8:1:3::1]:4000"))
        .await;
    assert_eq!(other.status, StatusCode::OK);
}

#[actix_web::test]
async fn a_name_nobody_has_locks_like_an_account_so_the_answer_tells_nothing() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    let mut answers = Vec::new();
    for name in ["ann", "ghost"] {
        for _ in 0..4 {
            let answer = app.send(flow_login(name, "wrong", "192.0.2.9:1")).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        }
        let fifth = app.send(flow_login(name, "wrong", "192.0.2.9:1")).await;
        assert_eq!(fifth.status, StatusCode::FORBIDDEN, "{name}: {}", fifth.text());
        let after = app.send(flow_login(name, "wrong", "192.0.2.9:1")).await;
        assert_eq!(after.status, StatusCode::FORBIDDEN);
        answers.push(
            after.json()["message"]
                .as_str()
                .unwrap()
                .replacen(name, "NAME", 1),
        );
    }
    assert_eq!(answers[0], answers[1], "the lock answer is the same for both");
}

async fn bimplus_remember(app: &TestApp) -> String {
    let answer = app
        .send(TestRequest::post().uri("/v2/authorize").set_json(json!({
            "user_id": "ann@example.com", "password": PASSWORD, "remember_me": true, "client_id": "c1"
        })))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    answer.json()["remember_me_token"].as_str().unwrap().to_owned()
}

async fn exchange(app: &TestApp, remember: &str) -> StatusCode {
    app.send(TestRequest::post().uri("/v2/authorize").set_json(json!({
        "remember_me": "true", "remember_me_token": remember, "client_id": "c1"
    })))
    .await
    .status
}

async fn flow_user(app: &TestApp, token: &str) -> StatusCode {
    app.send(
        TestRequest::get()
            .uri("/authentication/user")
            .insert_header((header::AUTHORIZATION, format!("Bearer {token}"))),
    )
    .await
    .status
}

#[actix_web::test]
async fn enabling_a_second_factor_ends_every_other_session_and_remember_me_token() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    let other = app.login("ann").await;
    let remember = bimplus_remember(&app).await;
    assert_eq!(exchange(&app, &remember).await, StatusCode::OK);
    enrol(&app, "ann").await;
    assert_eq!(flow_user(&app, &other).await, StatusCode::UNAUTHORIZED);
    assert_eq!(exchange(&app, &remember).await, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn a_remember_me_token_never_stands_in_for_a_second_factor() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    let remember = bimplus_remember(&app).await;
    // A second factor that appeared without ending any session (written straight
    // to the store): the exchange itself must refuse.
    let factors = app.db.second_factors();
    factors
        .put_pending_totp(
            ann.id,
            &StoredTotp {
                sealed_secret: "plain:c2VjcmV0".into(),
                params: TotpParams::default(),
                confirmed: false,
                last_used_step: None,
                created_at: app.clock_now(),
            },
        )
        .await
        .unwrap();
    factors
        .confirm_totp(ann.id, 1, Vec::new(), app.clock_now())
        .await
        .unwrap();
    let answer = app
        .send(TestRequest::post().uri("/v2/authorize").set_json(json!({
            "remember_me": "true", "remember_me_token": remember, "client_id": "c1"
        })))
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text());
    assert_eq!(answer.json()["error"], "second_factor_required");
}

#[actix_web::test]
async fn a_new_password_ends_every_session_and_remember_me_token() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    let session = app.login("ann").await;
    let remember = bimplus_remember(&app).await;
    app.services
        .accounts
        .set_password("ann", &limen_domain::model::Password::new("a brand new one"))
        .await
        .unwrap();
    assert_eq!(flow_user(&app, &session).await, StatusCode::UNAUTHORIZED);
    assert_eq!(exchange(&app, &remember).await, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn a_client_id_longer_than_its_column_is_refused_before_anything_is_written() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    let before = app.fingerprint().await;
    let answer = app
        .send(TestRequest::post().uri("/v2/authorize").set_json(json!({
            "user_id": "ann@example.com", "password": PASSWORD, "remember_me": true,
            "client_id": "c".repeat(256)
        })))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
    assert_eq!(answer.json()["error"], "invalid_request");
    assert_eq!(app.fingerprint().await, before);
    assert_eq!(app.failures(&ann).await, 0, "not even the attempt was counted");
}

#[actix_web::test]
async fn with_verified_addresses_required_a_registered_user_logs_in_only_after_the_link() {
    let mut settings = Settings::default();
    settings.completion.require_verified_email = true;
    let app = TestApp::configured(
        HttpSettings {
            gradido: GradidoSettings {
                allow_password_via_json_request: true,
                ..GradidoSettings::default()
            },
            ..HttpSettings::default()
        },
        settings,
    )
    .await;
    let registered = app
        .send(TestRequest::post().uri("/login_api/createUser").set_json(json!({
            "email": "max@example.com", "password": "123abcDE&", "emailType": 2
        })))
        .await;
    assert_eq!(registered.status, StatusCode::OK, "{}", registered.text());
    let login = || {
        TestRequest::post()
            .uri("/authentication/login")
            .set_json(json!({"username": "max@example.com", "password": "123abcDE&"}))
    };
    let refused = app.send(login()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    let gradido: Value = app
        .send(
            TestRequest::post()
                .uri("/login_api/unsecureLogin")
                .set_json(json!({"email": "max@example.com", "password": "123abcDE&"})),
        )
        .await
        .json();
    assert_eq!(gradido["msg"], "email not checked");
    let mail = app.mails().pop().unwrap();
    let code = mail
        .split_whitespace()
        .find_map(|word| {
            word.split_once("/account/checkEmail/")
                .map(|(_, code)| code.to_owned())
        })
        .unwrap();
    let opened = app
        .send(TestRequest::get().uri(&format!("/account/checkEmail/{code}")))
        .await;
    assert_eq!(opened.status, StatusCode::OK);
    assert_eq!(app.send(login()).await.status, StatusCode::OK);
}
