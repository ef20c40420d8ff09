//! Every dialect logs its users in from a directory Limen may only read: the
//! directory double panics at any write, so a passing test proves that logins,
//! lockouts, second factors and remember-me tokens live in Limen's own tables.

use actix_web::http::{StatusCode, header};
use actix_web::test::TestRequest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use limen_crypto::{Argon2Config, Argon2Hasher};
use limen_domain::model::{NewDirectoryEntry, Password};
use limen_domain::ports::{PasswordHasher, UserDirectory};
use limen_http::{GradidoSettings, HttpSettings};
use serde_json::json;

use crate::flow_two_factor::enrol;
use crate::helpers::{PASSWORD, TestApp};

async fn app() -> TestApp {
    TestApp::over_read_only_directory(HttpSettings {
        gradido: GradidoSettings {
            allow_password_via_json_request: true,
            ..GradidoSettings::default()
        },
        ..HttpSettings::default()
    })
    .await
}

fn flow_login(username: &str, password: &str) -> TestRequest {
    TestRequest::post()
        .uri("/authentication/login")
        .set_json(json!({"username": username, "password": password}))
}

#[actix_web::test]
async fn flow_logs_in_validates_and_locks_without_writing_to_the_directory() {
    let app = app().await;
    app.add_user("ann").await;
    let token = app.login("ann").await;
    let user = app
        .send(
            TestRequest::get()
                .uri("/authentication/user")
                .insert_header((header::AUTHORIZATION, format!("Bearer {token}"))),
        )
        .await;
    assert_eq!(user.status, StatusCode::OK, "{}", user.text());
    assert_eq!(user.json()["username"], "ann");
    for _ in 0..5 {
        app.send(flow_login("ann", "wrong password")).await;
    }
    let locked = app.send(flow_login("ann", PASSWORD)).await;
    assert_eq!(locked.status, StatusCode::FORBIDDEN, "{}", locked.text());
}

#[actix_web::test]
async fn an_outdated_hash_is_verified_and_left_as_it_is() {
    let app = app().await;
    // A hash made with other argon2 parameters than the server's: a writable
    // directory would get a fresh one at this login.
    let older = Argon2Hasher::new(Argon2Config {
        memory_kib: 128,
        iterations: 1,
        parallelism: 1,
        max_concurrent: 1,
        max_queue: 1,
        niceness: 0,
        ..Argon2Config::default()
    })
    .unwrap();
    let outdated = older.hash(&Password::new("password")).await.unwrap();
    let entry = app
        .db
        .directory()
        .create(NewDirectoryEntry {
            username: "old".into(),
            email: "old@example.com".into(),
            first_name: None,
            last_name: None,
            personal_number: None,
            password_hash: Some(outdated.clone()),
            created_at: app.clock_now(),
        })
        .await
        .unwrap();
    let answer = app.send(flow_login("old", "password")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let stored = app
        .db
        .directory()
        .find_by_id(&entry.external_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.password_hash, Some(outdated));
}

#[actix_web::test]
async fn a_second_factor_works_for_a_directory_user() {
    let app = app().await;
    app.add_user("ann").await;
    let (key, _) = enrol(&app, "ann").await;
    let pending = app.send(flow_login("ann", PASSWORD)).await.json();
    assert_eq!(pending["needsSecondToken"], true);
    let answer = app
        .send(
            TestRequest::post()
                .uri("/authentication/2fa/validate")
                .insert_header((
                    header::AUTHORIZATION,
                    format!("Bearer {}", pending["token"].as_str().unwrap()),
                ))
                .set_json(json!({"token": app.totp_code(&key)})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
}

#[actix_web::test]
async fn tokens_logs_in_and_bumps() {
    let app = app().await;
    app.add_user("ann").await;
    let basic = STANDARD.encode(format!("ann:{PASSWORD}"));
    let answer = app
        .send(
            TestRequest::post()
                .uri("/auth/login")
                .insert_header((header::AUTHORIZATION, format!("Basic {basic}"))),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let token = answer.json()["token"].as_str().unwrap().to_owned();
    let pair = STANDARD.encode(format!("ann:{token}"));
    let bumped = app
        .send(
            TestRequest::post()
                .uri("/auth/bump")
                .insert_header(("X-Auth-Token", pair)),
        )
        .await;
    assert_eq!(bumped.status, StatusCode::OK, "{}", bumped.text());
}

#[actix_web::test]
async fn bimplus_issues_and_exchanges_a_remember_me_token() {
    let app = app().await;
    app.add_user("ann").await;
    let client = "0864b512-1776-4a55-8ee5-2b19d7d9b7ea";
    let answer = app
        .send(TestRequest::post().uri("/v2/authorize").set_json(json!({
            "user_id": "ann@example.com", "password": PASSWORD, "remember_me": true, "client_id": client
        })))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let remember = answer.json()["remember_me_token"].as_str().unwrap().to_owned();
    let exchanged = app
        .send(TestRequest::post().uri("/v2/authorize").set_json(json!({
            "remember_me": "true", "remember_me_token": remember, "client_id": client
        })))
        .await;
    assert_eq!(exchanged.status, StatusCode::OK, "{}", exchanged.text());
}

#[actix_web::test]
async fn gradido_logs_in_and_refuses_registration_into_a_read_only_directory() {
    let app = app().await;
    app.add_user("ann").await;
    let answer = app
        .send(
            TestRequest::post()
                .uri("/login_api/unsecureLogin")
                .set_json(json!({"email": "ann@example.com", "password": PASSWORD})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["state"], "success");
    let before = app.fingerprint().await;
    let refused = app
        .send(TestRequest::post().uri("/login_api/createUser").set_json(json!({
            "email": "new@example.com", "password": "123abcDE&", "emailType": 2
        })))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    assert_eq!(refused.json()["msg"], "registration disabled");
    assert_eq!(app.fingerprint().await, before);
    assert!(app.mails().is_empty());
}
