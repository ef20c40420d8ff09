//! The `flow` dialect, driven the way a Limecraft Flow client drives it.

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::test::TestRequest;
use chrono::Duration;
use serde_json::{Value, json};

use crate::helpers::{Answer, PASSWORD, TestApp};

fn login_json(body: Value) -> TestRequest {
    TestRequest::post().uri("/authentication/login").set_json(body)
}

fn login_raw(content_type: Option<&str>, body: impl Into<actix_web::web::Bytes>) -> TestRequest {
    let mut request = TestRequest::post().uri("/authentication/login");
    if let Some(content_type) = content_type {
        request = request.insert_header((header::CONTENT_TYPE, content_type));
    }
    request.set_payload(body.into())
}

fn who_am_i(token: &str) -> TestRequest {
    TestRequest::get()
        .uri("/authentication/user")
        .insert_header((header::AUTHORIZATION, format!("Bearer {token}")))
}

/// Asserts the documented error object, exactly.
fn assert_error(answer: &Answer, status: u16, kind: &str) -> String {
    assert_eq!(answer.status.as_u16(), status, "{:?}", answer.body);
    let body = answer.json();
    let object = body.as_object().unwrap();
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "data", "errorNumber", "message", "type"]);
    assert_eq!(body["type"], kind);
    assert_eq!(body["code"], status);
    assert_eq!(body["errorNumber"], 0);
    assert_eq!(body["data"], Value::Null);
    body["message"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn the_documented_json_login_answers_the_documented_token_object() {
    let app = TestApp::new().await;
    app.add_user("john.doe").await;
    let answer = app
        .send(login_json(json!({"username": "john.doe", "password": PASSWORD})))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let body = answer.json();
    assert_eq!(body["needsSecondToken"], false);
    assert_eq!(body["status"], 200);
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.len(), 43, "256 bits, base64url");
    assert_eq!(body.as_object().unwrap().len(), 3);
}

#[actix_web::test]
async fn form_parameters_and_the_email_address_log_in_too() {
    let app = TestApp::new().await;
    app.add_user("john.doe").await;
    let form = format!(
        "username=John.Doe%40example.com&password={}",
        PASSWORD.replace(' ', "+")
    );
    let answer = app
        .send(login_raw(Some("application/x-www-form-urlencoded"), form))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    let token = answer.json()["token"].as_str().unwrap().to_owned();
    let me = app.send(who_am_i(&token)).await;
    assert_eq!(me.json()["username"], "john.doe");
}

#[actix_web::test]
async fn remember_me_gives_a_week_and_otherwise_an_hour() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    for (remember, hours) in [(json!(true), 24 * 7), (json!(false), 1), (json!("true"), 24 * 7)] {
        let answer = app
            .send(login_json(
                json!({"username": "ann", "password": PASSWORD, "rememberMe": remember}),
            ))
            .await;
        let token = answer.json()["token"].as_str().unwrap().to_owned();
        let record = app.token_record(&token).await;
        assert_eq!(
            record.expires_at - record.created_at,
            Duration::hours(hours),
            "{remember}"
        );
    }
    let form = format!(
        "username=ann&password={}&rememberMe=true",
        PASSWORD.replace(' ', "+")
    );
    let answer = app
        .send(login_raw(Some("application/x-www-form-urlencoded"), form))
        .await;
    let record = app.token_record(answer.json()["token"].as_str().unwrap()).await;
    assert_eq!(record.expires_at - record.created_at, Duration::weeks(1));
}

#[actix_web::test]
async fn wrong_credentials_answer_the_documented_401() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    for username in ["wrongUsername", "ann"] {
        let answer = app
            .send(login_json(
                json!({"username": username, "password": "mysecret123!"}),
            ))
            .await;
        let message = assert_error(&answer, 401, "UnauthorizedError");
        assert_eq!(
            message,
            format!(
                "{username} was not authorized, the username / password combination you entered is invalid."
            )
        );
    }
}

#[actix_web::test]
async fn a_disabled_account_is_401_and_its_tokens_stop_working() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    let token = app.login("ann").await;
    app.services
        .accounts
        .set_enabled(&app.services.accounts.find("ann").await.unwrap(), false)
        .await
        .unwrap();
    let answer = app
        .send(login_json(json!({"username": "ann", "password": PASSWORD})))
        .await;
    let message = assert_error(&answer, 401, "UnauthorizedError");
    assert!(message.contains("disabled"), "{message}");
    assert_error(&app.send(who_am_i(&token)).await, 401, "UnauthorizedError");
}

#[actix_web::test]
async fn five_failures_lock_the_account_with_403_until_unlocked() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    for _ in 0..4 {
        let answer = app
            .send(login_json(json!({"username": "ann", "password": "nope"})))
            .await;
        assert_error(&answer, 401, "UnauthorizedError");
    }
    let fifth = app
        .send(login_json(json!({"username": "ann", "password": "nope"})))
        .await;
    let message = assert_error(&fifth, 403, "ForbiddenError");
    assert!(message.contains("locked"), "{message}");
    let retry: i64 = fifth
        .headers
        .get(header::RETRY_AFTER)
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    let right = app
        .send(login_json(json!({"username": "ann", "password": PASSWORD})))
        .await;
    assert_error(&right, 403, "ForbiddenError");
    app.services
        .accounts
        .unlock(&app.services.accounts.find("ann").await.unwrap())
        .await
        .unwrap();
    app.login("ann").await;
}

#[actix_web::test]
async fn the_token_works_as_bearer_query_parameter_and_cookie() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    let token = app.login("ann").await;
    let requests = [
        who_am_i(&token),
        TestRequest::get().uri(&format!("/authentication/user?access_token={token}")),
        TestRequest::get()
            .uri("/authentication/user")
            .cookie(Cookie::new("MOJITO_SESSION_ID_V2", token.clone())),
    ];
    for request in requests {
        let answer = app.send(request).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        assert_eq!(answer.json()["username"], "ann");
    }
}

#[actix_web::test]
async fn the_user_object_carries_every_field_limen_has() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    let token = app.login("ann").await;
    let user = app.send(who_am_i(&token)).await.json();
    assert_eq!(user["id"], ann.id.0);
    assert_eq!(user["username"], "ann");
    assert_eq!(user["email"], "ann@example.com");
    assert_eq!(user["firstName"], "Ann");
    assert_eq!(user["lastName"], "Andersson");
    assert_eq!(user["fullName"], "Ann Andersson");
    assert_eq!(user["objectType"], "User");
    assert_eq!(user["type"], "REGISTERED");
    assert_eq!(user["modifiedBy"], "limen");
    assert_eq!(user["createdBy"], "limen");
    assert!(user["version"].as_i64().unwrap() >= 1);
    for field in ["created", "lastUpdated", "lastSeen"] {
        let text = user[field].as_str().unwrap_or_else(|| panic!("{field} missing"));
        chrono::DateTime::parse_from_rfc3339(text).unwrap_or_else(|err| panic!("{field}: {text}: {err}"));
    }
}

#[actix_web::test]
async fn missing_unknown_expired_and_revoked_tokens_are_401() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    let expired = app.issue(&ann, Duration::seconds(-1)).await;
    let revoked = app.login("ann").await;
    app.send(
        TestRequest::post()
            .uri("/authentication/logout")
            .insert_header((header::AUTHORIZATION, format!("Bearer {revoked}"))),
    )
    .await;
    let requests = [
        TestRequest::get().uri("/authentication/user"),
        who_am_i("unknown-token"),
        who_am_i(&expired),
        who_am_i(&revoked),
        who_am_i(&"x".repeat(5000)),
        TestRequest::get()
            .uri("/authentication/user")
            .insert_header((header::AUTHORIZATION, "Bearer ")),
        TestRequest::get()
            .uri("/authentication/user")
            .insert_header((header::AUTHORIZATION, "Bearer a b")),
        TestRequest::get()
            .uri("/authentication/user")
            .insert_header((header::AUTHORIZATION, "Basic YW5uOnB3")),
        TestRequest::get().uri("/authentication/user?access_token="),
        TestRequest::get().uri("/authentication/user?access_token=%FF%FE"),
        TestRequest::get().uri("/authentication/user").insert_header((
            header::AUTHORIZATION,
            header::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
        )),
    ];
    for request in requests {
        let answer = app.send(request).await;
        assert_error(&answer, 401, "UnauthorizedError");
    }
}

#[actix_web::test]
async fn logout_revokes_only_the_presented_token() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    let first = app.login("ann").await;
    let second = app.login("ann").await;
    let answer = app
        .send(
            TestRequest::post()
                .uri("/authentication/logout")
                .insert_header((header::AUTHORIZATION, format!("Bearer {first}"))),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.is_empty());
    assert_eq!(app.send(who_am_i(&first)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.send(who_am_i(&second)).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn logout_of_all_sessions_revokes_every_token_of_the_user_only() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    app.add_user("bob").await;
    let first = app.login("ann").await;
    let second = app.login("ann").await;
    let bobs = app.login("bob").await;
    let answer = app
        .send(
            TestRequest::post()
                .uri("/authentication/logout")
                .insert_header((header::AUTHORIZATION, format!("Bearer {first}")))
                .set_json(json!({"allSessions": true})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(app.send(who_am_i(&first)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.send(who_am_i(&second)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.send(who_am_i(&bobs)).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn logout_without_a_valid_token_is_401_and_changes_nothing() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    app.login("ann").await;
    let before = app.fingerprint().await;
    let answer = app
        .send(
            TestRequest::post()
                .uri("/authentication/logout")
                .set_json(json!({"allSessions": true})),
        )
        .await;
    assert_error(&answer, 401, "UnauthorizedError");
    assert_eq!(app.fingerprint().await, before);
}

#[actix_web::test]
async fn tokens_are_stored_only_as_their_sha256() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    let token = app.login("ann").await;
    let rows = app.fingerprint().await;
    assert!(!rows.contains(&token), "the plaintext token is in the database");
    let record = app.token_record(&token).await;
    assert_eq!(record.hash.0.len(), 64);
}

#[actix_web::test]
async fn bad_login_input_is_a_4xx_in_the_documented_shape_and_changes_no_row() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    let json = Some("application/json");
    let cases: Vec<(&str, TestRequest, u16, &str)> = vec![
        (
            "malformed JSON",
            login_raw(json, r#"{"username": "ann", "password": "#),
            400,
            "BadRequestError",
        ),
        ("not an object", login_raw(json, "[1, 2]"), 400, "BadRequestError"),
        (
            "a number as username",
            login_raw(json, r#"{"username": 5, "password": "x"}"#),
            400,
            "BadRequestError",
        ),
        (
            "null password",
            login_raw(json, r#"{"username": "ann", "password": null}"#),
            400,
            "BadRequestError",
        ),
        (
            "no password",
            login_raw(json, r#"{"username": "ann"}"#),
            400,
            "BadRequestError",
        ),
        ("empty JSON body", login_raw(json, ""), 400, "BadRequestError"),
        ("empty body, no type", login_raw(None, ""), 400, "BadRequestError"),
        ("empty object", login_raw(json, "{}"), 400, "BadRequestError"),
        (
            "rememberMe not a boolean",
            login_raw(
                json,
                r#"{"username":"ann","password":"x","rememberMe":"perhaps"}"#,
            ),
            400,
            "BadRequestError",
        ),
        (
            "duplicate keys",
            login_raw(json, r#"{"username":"ann","username":"bob","password":"x"}"#),
            400,
            "BadRequestError",
        ),
        (
            "invalid UTF-8",
            login_raw(json, &b"{\"username\":\"\xff\xfe\",\"password\":\"x\"}"[..]),
            400,
            "BadRequestError",
        ),
        (
            "text/plain",
            login_raw(Some("text/plain"), "username=ann&password=x"),
            415,
            "UnsupportedMediaTypeError",
        ),
        (
            "multipart",
            login_raw(Some("multipart/form-data; boundary=x"), "--x--"),
            415,
            "UnsupportedMediaTypeError",
        ),
        (
            "over the body limit",
            login_raw(
                json,
                format!(r#"{{"username":"{}","password":"x"}}"#, "a".repeat(70_000)),
            ),
            413,
            "PayloadTooLargeError",
        ),
        (
            "10 MB",
            login_raw(json, vec![b'{'; 10 * 1024 * 1024]),
            413,
            "PayloadTooLargeError",
        ),
        (
            "GET instead of POST",
            TestRequest::get().uri("/authentication/login"),
            405,
            "MethodNotAllowedError",
        ),
        (
            "form without a password",
            login_raw(Some("application/x-www-form-urlencoded"), "username=ann"),
            400,
            "BadRequestError",
        ),
    ];
    let before = app.fingerprint().await;
    for (name, request, status, kind) in cases {
        let answer = app.send(request).await;
        assert_eq!(
            answer.status.as_u16(),
            status,
            "{name}: {:?}",
            String::from_utf8_lossy(&answer.body)
        );
        assert_error(&answer, status, kind);
        assert_eq!(app.fingerprint().await, before, "{name} changed a row");
    }
}

#[actix_web::test]
async fn hostile_strings_are_just_wrong_credentials() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    for username in [
        "ann' OR '1'='1",
        "ann\"; DROP TABLE users; --",
        "ann\u{0}",
        "ann\r\nSet-Cookie: x=y",
        &"a".repeat(10_000),
        "",
    ] {
        let answer = app
            .send(login_json(json!({"username": username, "password": PASSWORD})))
            .await;
        assert_error(&answer, 401, "UnauthorizedError");
        assert!(answer.headers.get(header::SET_COOKIE).is_none());
    }
    // The failed attempts above were for unknown users: ann's count is untouched.
    app.login("ann").await;
}

#[actix_web::test]
async fn unknown_fields_and_documented_saml_parameters_are_ignored() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    let answer = app
        .send(login_json(json!({
            "username": "ann",
            "password": PASSWORD,
            "redirectIfOk": "https://evil.example/",
            "redirectIfFailed": "https://evil.example/",
            "somethingElse": [1, 2, 3]
        })))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.headers.get(header::LOCATION).is_none());
}

#[actix_web::test]
async fn a_configured_body_limit_is_honoured() {
    let app = TestApp::with_settings(limen_http::HttpSettings {
        max_body_bytes: 64,
        ..limen_http::HttpSettings::default()
    })
    .await;
    app.add_user("ann").await;
    let answer = app
        .send(login_json(
            json!({"username": "ann", "password": PASSWORD, "padding": "x".repeat(64)}),
        ))
        .await;
    assert_error(&answer, 413, "PayloadTooLargeError");
}
