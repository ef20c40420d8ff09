//! The `tokens` dialect, driven the way a client of the Flask API server drives it.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::test::TestRequest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, FixedOffset, Utc};
use limen_domain::model::TokenId;
use serde_json::{Value, json};

use crate::flow_two_factor::enrol;
use crate::helpers::{Answer, PASSWORD, TestApp};

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

fn login(user: &str, password: &str) -> TestRequest {
    TestRequest::post()
        .uri("/auth/login")
        .insert_header((header::ACCEPT, "application/json"))
        .insert_header((header::AUTHORIZATION, basic(user, password)))
}

fn with_x_auth(path: &str, value: &str) -> TestRequest {
    TestRequest::post()
        .uri(path)
        .insert_header((header::ACCEPT, "application/json"))
        .insert_header(("X-Auth-Token", value))
}

fn x_auth(user: &str, token: &str) -> String {
    STANDARD.encode(format!("{user}:{token}"))
}

/// An ISO 8601 time with an explicit offset, as the document's examples show.
fn iso(value: &Value) -> DateTime<Utc> {
    let text = value.as_str().unwrap_or_else(|| panic!("not a time: {value}"));
    assert!(text.ends_with("+00:00"), "offset form expected: {text}");
    DateTime::<FixedOffset>::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// A 401 with the dialect's `{"message": ...}` body.
fn assert_unauthorized(answer: &Answer) {
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text());
    assert!(answer.json()["message"].is_string());
    assert_eq!(answer.headers.get(header::VARY).unwrap(), "Accept");
}

async fn logged_in(app: &TestApp, user: &str) -> String {
    let answer = app.send(login(user, PASSWORD)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    answer.json()["token"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn the_documented_login_answers_a_user_token() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    let answer = app.send(login("ann", PASSWORD)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.headers.get(header::VARY).unwrap(), "Accept");
    assert_eq!(
        answer.headers.get(header::CONTENT_TYPE).unwrap(),
        "application/json"
    );
    assert_eq!(answer.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let body = answer.json();
    let mut keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "creationTime",
            "enabled",
            "expirationTime",
            "lastUsageTime",
            "note",
            "token",
            "version"
        ]
    );
    assert_eq!(body["enabled"], true);
    assert_eq!(body["version"], 0);
    assert_eq!(body["note"], Value::Null);
    assert_eq!(body["lastUsageTime"], Value::Null);
    assert_eq!(body["token"].as_str().unwrap().len(), 43);
    let created = iso(&body["creationTime"]);
    assert_eq!(iso(&body["expirationTime"]) - created, Duration::days(1));
    assert!((created - app.clock_now()).num_seconds().abs() <= 1);
}

#[actix_web::test]
async fn a_login_body_names_the_note_and_the_expiration() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    let expires =
        (app.clock_now() + Duration::days(30)).with_timezone(&FixedOffset::west_opt(5 * 3600).unwrap());
    let answer = app
        .send(login("ann", PASSWORD).set_json(json!({
            "note": "Client API Access",
            "expirationTime": expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            "client": "ignored",
        })))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let body = answer.json();
    assert_eq!(body["note"], "Client API Access");
    assert_eq!(iso(&body["expirationTime"]).timestamp(), expires.timestamp());
    for (bad, why) in [
        (json!({"expirationTime": "tomorrow"}), "not a time"),
        (
            json!({"expirationTime": "2001-01-01T00:00:00+00:00"}),
            "in the past",
        ),
        (
            json!({"expirationTime": "2999-01-01T00:00:00+00:00"}),
            "beyond the limit",
        ),
        (json!({"note": 5}), "wrong type"),
        (json!({"note": "x".repeat(256)}), "too long"),
    ] {
        let before = app.fingerprint().await;
        let answer = app.send(login("ann", PASSWORD).set_json(bad)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{why}: {}", answer.text());
        assert!(answer.json()["message"].is_string());
        assert_eq!(app.fingerprint().await, before, "{why} changed a row");
    }
}

#[actix_web::test]
async fn failed_logins_are_401_with_a_basic_challenge() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    let before = app.fingerprint().await;
    let no_header = TestRequest::post().uri("/auth/login");
    let bearer = TestRequest::post()
        .uri("/auth/login")
        .insert_header((header::AUTHORIZATION, "Bearer abc"));
    let garbage = TestRequest::post()
        .uri("/auth/login")
        .insert_header((header::AUTHORIZATION, "Basic !!!not-base64"));
    let no_colon = TestRequest::post()
        .uri("/auth/login")
        .insert_header((header::AUTHORIZATION, format!("Basic {}", STANDARD.encode("ann"))));
    for request in [no_header, bearer, garbage, no_colon, login("ghost", PASSWORD)] {
        let answer = app.send(request).await;
        assert_unauthorized(&answer);
        assert_eq!(
            answer.headers.get(header::WWW_AUTHENTICATE).unwrap(),
            "Basic realm=\"limen\""
        );
    }
    assert_eq!(app.fingerprint().await, before);
    let answer = app.send(login("ann", "wrong password")).await;
    assert_unauthorized(&answer);
    assert_eq!(answer.json()["message"], "Authorization failed.");
}

#[actix_web::test]
async fn the_email_address_and_a_password_with_colons_log_in() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    app.services
        .accounts
        .set_password("ann", &limen_domain::model::Password::new("pa:ss:word"))
        .await
        .unwrap();
    let answer = app.send(login(&ann.email, "pa:ss:word")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
}

#[actix_web::test]
async fn bump_records_a_login_and_answers_its_time() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    let token = logged_in(&app, "ann").await;
    app.clock.advance(90);
    let answer = app.send(with_x_auth("/auth/bump", &x_auth("ann", &token))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.headers.get(header::VARY).unwrap(), "Accept");
    let body = answer.json();
    assert_eq!(body.as_object().unwrap().len(), 1);
    let bumped = iso(&body["lastLoginTime"]);
    assert_eq!(bumped.timestamp(), app.clock_now().timestamp());
    let stored = app.services.accounts.find("ann").await.unwrap();
    assert_eq!(stored.last_login_at.unwrap().timestamp(), bumped.timestamp());
    // The owner may be named by e-mail address too.
    let answer = app
        .send(with_x_auth("/auth/bump", &x_auth(&ann.email, &token)))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
}

#[actix_web::test]
async fn last_usage_is_written_at_most_once_a_minute() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    let token = logged_in(&app, "ann").await;
    let header = x_auth("ann", &token);
    app.send(with_x_auth("/auth/bump", &header)).await;
    let first = app.token_record(&token).await.last_used_at.unwrap();
    app.clock.advance(30);
    app.send(with_x_auth("/auth/bump", &header)).await;
    assert_eq!(
        app.token_record(&token).await.last_used_at,
        Some(first),
        "coalesced"
    );
    app.clock.advance(31);
    app.send(with_x_auth("/auth/bump", &header)).await;
    let last = app.token_record(&token).await.last_used_at.unwrap();
    assert_eq!(last.timestamp_micros(), app.clock_now().timestamp_micros());
}

#[actix_web::test]
async fn bad_x_auth_tokens_are_401_and_change_nothing() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    app.add_user("bob").await;
    let token = logged_in(&app, "ann").await;
    let bobs = logged_in(&app, "bob").await;
    let before = app.fingerprint().await;
    for (name, value) in [
        ("another user's token", x_auth("ann", &bobs)),
        ("a token under another name", x_auth("bob", &token)),
        ("bad base64", "%%%".to_owned()),
        ("no colon", STANDARD.encode(&token)),
        ("empty user", x_auth("", &token)),
        ("empty token", x_auth("ann", "")),
        ("unknown token", x_auth("ann", "x".repeat(43).as_str())),
        ("not UTF-8", STANDARD.encode([0xff, 0xfe, b':', b'a'])),
    ] {
        for path in ["/auth/bump", "/auth/logout"] {
            let answer = app.send(with_x_auth(path, &value)).await;
            assert_eq!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{name} at {path}: {}",
                answer.text()
            );
            assert!(answer.json()["message"].is_string());
        }
    }
    let answer = app.send(TestRequest::post().uri("/auth/bump")).await;
    assert_unauthorized(&answer);
    assert_eq!(app.fingerprint().await, before);
}

#[actix_web::test]
async fn disabled_and_expired_tokens_are_401() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    let token = logged_in(&app, "ann").await;
    let header = x_auth("ann", &token);
    let id = app.token_record(&token).await.id;
    app.services.api_tokens.set_enabled(id, false).await.unwrap();
    assert_unauthorized(&app.send(with_x_auth("/auth/bump", &header)).await);
    app.services.api_tokens.set_enabled(id, true).await.unwrap();
    let answer = app.send(with_x_auth("/auth/bump", &header)).await;
    assert_eq!(answer.status, StatusCode::OK);
    app.clock.advance(24 * 3600);
    assert_unauthorized(&app.send(with_x_auth("/auth/bump", &header)).await);
}

#[actix_web::test]
async fn logout_revokes_that_token_only() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    let first = logged_in(&app, "ann").await;
    let second = logged_in(&app, "ann").await;
    let answer = app
        .send(with_x_auth("/auth/logout", &x_auth("ann", &first)))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json(), json!({"success": true}));
    assert_eq!(answer.headers.get(header::VARY).unwrap(), "Accept");
    assert_unauthorized(&app.send(with_x_auth("/auth/bump", &x_auth("ann", &first))).await);
    assert_unauthorized(
        &app.send(with_x_auth("/auth/logout", &x_auth("ann", &first)))
            .await,
    );
    let answer = app.send(with_x_auth("/auth/bump", &x_auth("ann", &second))).await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[actix_web::test]
async fn the_answer_follows_accept_and_says_406_for_what_it_cannot_produce() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    for accept in [
        None,
        Some("*/*"),
        Some("application/json"),
        Some("text/html, application/json;q=0.9"),
    ] {
        let mut request = TestRequest::post()
            .uri("/auth/login")
            .insert_header((header::AUTHORIZATION, basic("ann", PASSWORD)));
        if let Some(accept) = accept {
            request = request.insert_header((header::ACCEPT, accept));
        }
        let answer = app.send(request).await;
        assert_eq!(answer.status, StatusCode::OK, "{accept:?}");
        assert_eq!(
            answer.headers.get(header::CONTENT_TYPE).unwrap(),
            "application/json"
        );
    }
    let before = app.fingerprint().await;
    for accept in ["application/xml", "text/html", "application/json;q=0"] {
        let answer = app
            .send(
                TestRequest::post()
                    .uri("/auth/login")
                    .insert_header((header::ACCEPT, accept))
                    .insert_header((header::AUTHORIZATION, basic("ann", PASSWORD))),
            )
            .await;
        assert_eq!(answer.status, StatusCode::NOT_ACCEPTABLE, "{accept}");
        assert_eq!(answer.headers.get(header::VARY).unwrap(), "Accept");
        assert!(answer.text().contains("application/json"));
    }
    assert_eq!(
        app.fingerprint().await,
        before,
        "a refused answer issues no token"
    );
}

#[actix_web::test]
async fn users_with_a_second_factor_and_locked_users_are_refused() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    enrol(&app, "ann").await;
    let answer = app.send(login("ann", PASSWORD)).await;
    assert_unauthorized(&answer);
    assert!(
        answer.json()["message"]
            .as_str()
            .unwrap()
            .contains("second factor")
    );
    app.add_user("bob").await;
    for _ in 0..5 {
        app.send(login("bob", "wrong")).await;
    }
    let answer = app.send(login("bob", PASSWORD)).await;
    assert_unauthorized(&answer);
    assert!(answer.json()["message"].as_str().unwrap().contains("locked"));
    assert!(answer.headers.get(header::RETRY_AFTER).is_some());
}

#[actix_web::test]
async fn other_methods_and_paths_answer_in_the_dialects_shape() {
    let app = TestApp::new().await;
    let answer = app.send(TestRequest::get().uri("/auth/login")).await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(answer.json()["message"].is_string());
    let answer = app.send(TestRequest::post().uri("/auth/nothing")).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(answer.json()["message"].is_string());
}

#[actix_web::test]
async fn an_operator_token_works_like_a_login_token() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    let issued = app
        .services
        .api_tokens
        .create(
            "ann",
            limen_domain::services::TokenRequest {
                note: Some("deploy".into()),
                expires_at: None,
            },
        )
        .await
        .unwrap();
    let answer = app
        .send(with_x_auth("/auth/bump", &x_auth("ann", &issued.plaintext)))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    app.services
        .api_tokens
        .revoke(TokenId(issued.record.id.0))
        .await
        .unwrap();
    assert_unauthorized(
        &app.send(with_x_auth("/auth/bump", &x_auth("ann", &issued.plaintext)))
            .await,
    );
}
