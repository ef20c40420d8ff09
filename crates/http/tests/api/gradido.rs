//! The `gradido` dialect, replaying the document's requests as the Gradido
//! frontend sends them.

use std::net::SocketAddr;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::test::TestRequest;
use limen_http::{GradidoSettings, HttpSettings};
use serde_json::{Value, json};

use crate::flow_two_factor::enrol;
use crate::helpers::{Answer, PASSWORD, TestApp};

const CLIENT: &str = "52.68.96.58:40000";
const EMAIL: &str = "max.musterman@gmail.de";
const STRONG: &str = "123abcDE&";

fn settings(allow: bool, cors: bool) -> HttpSettings {
    HttpSettings {
        trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
        gradido: GradidoSettings {
            allow_password_via_json_request: allow,
            allow_cors_all: cors,
            group_alias: "gdd1".into(),
            ..GradidoSettings::default()
        },
        ..HttpSettings::default()
    }
}

async fn app() -> TestApp {
    TestApp::with_settings(settings(true, false)).await
}

fn call(path: &str, body: impl Into<actix_web::web::Bytes>) -> TestRequest {
    TestRequest::post()
        .uri(&format!("/login_api/{path}"))
        .peer_addr(CLIENT.parse::<SocketAddr>().unwrap())
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload(body.into())
}

fn json_call(path: &str, body: Value) -> TestRequest {
    call(path, body.to_string())
}

/// The document's registration request.
fn create_user(email_type: i64) -> TestRequest {
    json_call(
        "createUser",
        json!({"email": EMAIL, "first_name": "Max", "last_name": "Musterman", "emailType": email_type, "password": STRONG}),
    )
}

fn login() -> TestRequest {
    json_call("unsecureLogin", json!({"email": EMAIL, "password": STRONG}))
}

fn assert_state(answer: &Answer, status: StatusCode, state: &str, msg: &str) {
    assert_eq!(answer.status, status, "{}", answer.text());
    let body = answer.json();
    assert_eq!(body["state"], state, "{body}");
    assert_eq!(body["msg"], msg, "{body}");
    let extra: Vec<&String> = body
        .as_object()
        .unwrap()
        .keys()
        .filter(|key| !["state", "msg", "details"].contains(&key.as_str()))
        .collect();
    assert!(extra.is_empty(), "{body}");
}

/// The verification link of the newest e-mail.
fn link(app: &TestApp) -> String {
    let mail = app.mails().pop().expect("a verification e-mail");
    let start = mail.find("http://").expect("a link");
    mail[start..].split_whitespace().next().unwrap().to_owned()
}

async fn registered(app: &TestApp) {
    let answer = app.send(create_user(2)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
}

#[actix_web::test]
async fn the_documented_registration_creates_the_user_with_keys_and_mails_the_link() {
    let app = app().await;
    let answer = app.send(create_user(2)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json(), json!({"state": "success"}));
    let user = app.services.accounts.find(EMAIL).await.unwrap();
    assert_eq!(user.email, EMAIL);
    assert_eq!(user.first_name.as_deref(), Some("Max"));
    assert_eq!(user.last_name.as_deref(), Some("Musterman"));
    assert_eq!(user.email_verified_at, None);
    let public = user.public_key.as_deref().unwrap();
    assert_eq!(public.len(), 64);
    assert!(
        public
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let rows = app.fingerprint().await;
    assert!(
        rows.contains("|xc2:"),
        "the private key is sealed at rest: {rows}"
    );
    let mails = app.mails();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert!(mail.contains(&format!("To: {EMAIL}")), "{mail}");
    assert!(
        mail.contains("Subject: Limen: please confirm your e-mail address"),
        "{mail}"
    );
    assert!(mail.contains("Hello Max Musterman,"), "{mail}");
    assert!(mail.contains("you (or someone else) just registered"), "{mail}");
    assert!(link(&app).starts_with("http://127.0.0.1:8080/account/checkEmail/"));
}

#[actix_web::test]
async fn an_admin_registration_says_so_in_the_email() {
    let app = app().await;
    let answer = app.send(create_user(5)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let mail = app.mails().pop().unwrap();
    assert!(
        mail.contains("an administrator of Limen just registered an account for you"),
        "{mail}"
    );
}

#[actix_web::test]
async fn the_link_checks_the_email_once() {
    let app = app().await;
    registered(&app).await;
    let path = link(&app).trim_start_matches("http://127.0.0.1:8080").to_owned();
    let answer = app.send(TestRequest::get().uri(&path)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert!(answer.text().contains("max.musterman@gmail.de is confirmed"));
    assert_eq!(
        answer.headers.get(header::REFERRER_POLICY).unwrap(),
        "no-referrer"
    );
    assert!(
        app.services
            .accounts
            .find(EMAIL)
            .await
            .unwrap()
            .email_verified_at
            .is_some()
    );
    let again = app.send(TestRequest::get().uri(&path)).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert!(again.text().contains("already used"));
    let bogus = app
        .send(TestRequest::get().uri("/account/checkEmail/%3Cscript%3E"))
        .await;
    assert_eq!(bogus.status, StatusCode::NOT_FOUND);
    assert!(!bogus.text().contains("<script>"));
}

#[actix_web::test]
async fn the_documented_login_answers_the_session_and_every_user_field() {
    let app = app().await;
    registered(&app).await;
    let path = link(&app).trim_start_matches("http://127.0.0.1:8080").to_owned();
    app.send(TestRequest::get().uri(&path)).await;
    let user = app.services.accounts.find(EMAIL).await.unwrap();
    let answer = app.send(login()).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let body = answer.json();
    let mut keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["clientIP", "session_id", "state", "user"]);
    assert_eq!(body["state"], "success");
    assert_eq!(body["clientIP"], "52.68.96.58");
    let session = body["session_id"].as_i64().unwrap();
    assert!(session != 0 && i32::try_from(session).is_ok(), "{session}");
    let expected = json!({
        "created": user.created_at.timestamp(),
        "disabled": false,
        "email": EMAIL,
        "email_checked": true,
        "first_name": "Max",
        "group_alias": "gdd1",
        "ident_hash": 3_354_208_457_u32,
        "public_hex": user.public_key.unwrap(),
        "last_name": "Musterman",
        "role": "none",
        "username": "",
        "balance": 0,
        "id": user.id.0,
        "errorCount": 0,
    });
    assert_eq!(body["user"], expected);
    // Before the link is opened, the same login says so.
    let app = self::app().await;
    registered(&app).await;
    let answer = app.send(login()).await;
    assert_eq!(answer.json()["user"]["email_checked"], false);
}

#[actix_web::test]
async fn a_user_without_a_key_pair_has_no_public_hex_and_username_logs_in_too() {
    let app = app().await;
    app.add_user("ann").await;
    let answer = app
        .send(json_call(
            "unsecureLogin",
            json!({"username": "ann", "password": PASSWORD}),
        ))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let user = &answer.json()["user"];
    assert!(user.get("public_hex").is_none(), "{user}");
    assert_eq!(user["first_name"], "Ann");
}

#[actix_web::test]
async fn client_ip_believes_x_forwarded_for_only_from_trusted_proxies() {
    let app = app().await;
    registered(&app).await;
    let via_proxy = login()
        .peer_addr("10.0.0.2:1234".parse().unwrap())
        .insert_header(("X-Forwarded-For", "6.6.6.6, 198.51.100.23"));
    let answer = app.send(via_proxy).await;
    assert_eq!(answer.json()["clientIP"], "198.51.100.23");
    let spoofed = login().insert_header(("X-Forwarded-For", "198.51.100.23"));
    let answer = app.send(spoofed).await;
    assert_eq!(answer.json()["clientIP"], "52.68.96.58");
}

#[actix_web::test]
async fn logout_ends_the_session_only_from_its_address() {
    let app = app().await;
    registered(&app).await;
    let session = app.send(login()).await.json()["session_id"].as_i64().unwrap();
    let elsewhere =
        json_call("logout", json!({"session_id": session})).peer_addr("203.0.113.9:1".parse().unwrap());
    assert_state(
        &app.send(elsewhere).await,
        StatusCode::UNAUTHORIZED,
        "error",
        "session not found",
    );
    let answer = app
        .send(json_call("logout", json!({"session_id": session})))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json(), json!({"state": "success"}));
    let again = app
        .send(json_call("logout", json!({"session_id": session})))
        .await;
    assert_state(&again, StatusCode::UNAUTHORIZED, "error", "session not found");
}

#[actix_web::test]
async fn a_session_expires_after_fifteen_minutes() {
    let app = app().await;
    registered(&app).await;
    let session = app.send(login()).await.json()["session_id"].as_i64().unwrap();
    app.clock.advance(15 * 60);
    let answer = app
        .send(json_call("logout", json!({"session_id": session})))
        .await;
    assert_state(&answer, StatusCode::UNAUTHORIZED, "error", "session not found");
}

#[actix_web::test]
async fn guessing_session_ids_is_throttled_per_address() {
    let app = app().await;
    registered(&app).await;
    let session = app.send(login()).await.json()["session_id"].as_i64().unwrap();
    let wrong = if session == 1 { 2 } else { 1 };
    for _ in 0..10 {
        let answer = app.send(json_call("logout", json!({"session_id": wrong}))).await;
        assert_state(&answer, StatusCode::UNAUTHORIZED, "error", "session not found");
    }
    let answer = app
        .send(json_call("logout", json!({"session_id": session})))
        .await;
    assert_state(
        &answer,
        StatusCode::TOO_MANY_REQUESTS,
        "error",
        "too many attempts",
    );
    assert!(answer.headers.get(header::RETRY_AFTER).is_some());
    // Another address is not affected, but the session is bound to the first.
    let other = json_call("logout", json!({"session_id": wrong})).peer_addr("203.0.113.9:1".parse().unwrap());
    assert_state(
        &app.send(other).await,
        StatusCode::UNAUTHORIZED,
        "error",
        "session not found",
    );
}

#[actix_web::test]
async fn wrong_credentials_disabled_and_second_factor_users_are_refused() {
    let app = app().await;
    registered(&app).await;
    for body in [
        json!({"email": EMAIL, "password": "wrong"}),
        json!({"email": "nobody@example.com", "password": STRONG}),
    ] {
        let answer = app.send(json_call("unsecureLogin", body)).await;
        assert_state(&answer, StatusCode::UNAUTHORIZED, "error", "password incorrect");
    }
    app.services
        .accounts
        .set_enabled(&app.services.accounts.find(EMAIL).await.unwrap(), false)
        .await
        .unwrap();
    assert_state(
        &app.send(login()).await,
        StatusCode::FORBIDDEN,
        "disabled",
        "user is disabled",
    );
    app.services
        .accounts
        .set_enabled(&app.services.accounts.find(EMAIL).await.unwrap(), true)
        .await
        .unwrap();
    app.add_user("ann").await;
    enrol(&app, "ann").await;
    let answer = app
        .send(json_call(
            "unsecureLogin",
            json!({"email": "ann@example.com", "password": PASSWORD}),
        ))
        .await;
    assert_state(&answer, StatusCode::FORBIDDEN, "error", "second factor required");
}

#[actix_web::test]
async fn refused_registrations_write_nothing_and_send_nothing() {
    let app = app().await;
    registered(&app).await;
    let before = app.fingerprint().await;
    let cases = [
        (
            create_user(2),
            StatusCode::CONFLICT,
            "exist",
            "user already exist",
        ),
        (
            json_call(
                "createUser",
                json!({"email": "MAX.Musterman@gmail.de", "password": STRONG}),
            ),
            StatusCode::CONFLICT,
            "exist",
            "user already exist",
        ),
        (
            json_call(
                "createUser",
                json!({"email": "new@example.com", "password": "password1"}),
            ),
            StatusCode::BAD_REQUEST,
            "error",
            "invalid input",
        ),
        (
            json_call(
                "createUser",
                json!({"email": "not-an-address", "password": STRONG}),
            ),
            StatusCode::BAD_REQUEST,
            "error",
            "invalid input",
        ),
        (
            json_call(
                "createUser",
                json!({"email": "new@example.com", "password": STRONG, "emailType": 3}),
            ),
            StatusCode::BAD_REQUEST,
            "error",
            "email type is invalid",
        ),
        (
            json_call(
                "createUser",
                json!({"email": "new@example.com", "password": STRONG, "first_name": "x".repeat(256)}),
            ),
            StatusCode::BAD_REQUEST,
            "error",
            "invalid input",
        ),
        (
            json_call("createUser", json!({"password": STRONG})),
            StatusCode::BAD_REQUEST,
            "error",
            "no email given",
        ),
        (
            json_call("createUser", json!({"email": "new@example.com"})),
            StatusCode::BAD_REQUEST,
            "error",
            "no password given",
        ),
    ];
    for (request, status, state, msg) in cases {
        assert_state(&app.send(request).await, status, state, msg);
        assert_eq!(app.fingerprint().await, before, "{msg}");
    }
    assert_eq!(app.mails().len(), 1, "only the first registration's e-mail");
}

#[actix_web::test]
async fn an_undeliverable_email_keeps_nothing_so_the_address_can_register_later() {
    let app = app().await;
    let before = app.fingerprint().await;
    // A file where the outbox folder should be: the mailer fails.
    std::fs::write(&app.outbox, "in the way").unwrap();
    let answer = app.send(create_user(2)).await;
    assert_state(
        &answer,
        StatusCode::SERVICE_UNAVAILABLE,
        "error",
        "email could not be sent",
    );
    assert_eq!(app.fingerprint().await, before);
    std::fs::remove_file(&app.outbox).unwrap();
    let answer = app.send(create_user(2)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
}

#[actix_web::test]
async fn passwords_in_json_need_the_operators_switch() {
    let app = TestApp::with_settings(settings(false, false)).await;
    app.add_user("ann").await;
    let before = app.fingerprint().await;
    for request in [create_user(2), login()] {
        let answer = app.send(request).await;
        assert_state(
            &answer,
            StatusCode::FORBIDDEN,
            "error",
            "password via JSON request is not allowed",
        );
    }
    assert_eq!(app.fingerprint().await, before);
    assert!(app.mails().is_empty());
}

#[actix_web::test]
async fn cors_all_allows_any_origin_and_answers_preflights() {
    let app = TestApp::with_settings(settings(true, true)).await;
    registered(&app).await;
    let preflight = TestRequest::default()
        .method(actix_web::http::Method::OPTIONS)
        .uri("/login_api/unsecureLogin")
        .insert_header((header::ORIGIN, "https://wallet.example"))
        .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "POST"));
    let answer = app.send(preflight).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    assert_eq!(
        answer.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(),
        "*"
    );
    assert!(
        answer
            .headers
            .get(header::ACCESS_CONTROL_ALLOW_METHODS)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("POST")
    );
    let headers = answer
        .headers
        .get(header::ACCESS_CONTROL_ALLOW_HEADERS)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(headers.contains("Content-Type"), "{headers}");
    for request in [
        login(),
        json_call("unsecureLogin", json!({"email": EMAIL, "password": "wrong"})),
        json_call("nothing", json!({})),
    ] {
        let answer = app.send(request).await;
        assert_eq!(
            answer.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(),
            "*",
            "{}",
            answer.text()
        );
    }
    // Without the switch: no CORS headers, and no preflight.
    let app = self::app().await;
    let answer = app.send(login()).await;
    assert!(answer.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    let preflight = TestRequest::default()
        .method(actix_web::http::Method::OPTIONS)
        .uri("/login_api/unsecureLogin");
    assert_eq!(app.send(preflight).await.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[actix_web::test]
async fn bad_input_is_a_4xx_error_state_and_changes_no_row() {
    let app = app().await;
    registered(&app).await;
    let before = app.fingerprint().await;
    let cases: Vec<(&str, TestRequest, StatusCode, &str)> = vec![
        (
            "empty body",
            call("unsecureLogin", ""),
            StatusCode::BAD_REQUEST,
            "empty body",
        ),
        (
            "an array",
            call("unsecureLogin", "[]"),
            StatusCode::BAD_REQUEST,
            "parameter format unknown",
        ),
        (
            "malformed",
            call("unsecureLogin", "{\"email\":"),
            StatusCode::BAD_REQUEST,
            "parameter format unknown",
        ),
        (
            "a string",
            call("logout", "\"x\""),
            StatusCode::BAD_REQUEST,
            "parameter format unknown",
        ),
        (
            "email a number",
            json_call("unsecureLogin", json!({"email": 5, "password": "x"})),
            StatusCode::BAD_REQUEST,
            "json exception",
        ),
        (
            "null email",
            json_call("unsecureLogin", json!({"email": null, "password": "x"})),
            StatusCode::BAD_REQUEST,
            "no email or username given",
        ),
        (
            "no password",
            json_call("unsecureLogin", json!({"email": EMAIL})),
            StatusCode::BAD_REQUEST,
            "no password given",
        ),
        (
            "session id a string",
            json_call("logout", json!({"session_id": "-127182"})),
            StatusCode::BAD_REQUEST,
            "json exception",
        ),
        (
            "session id beyond 32 bits",
            json_call("logout", json!({"session_id": 4_294_967_296_i64})),
            StatusCode::BAD_REQUEST,
            "json exception",
        ),
        (
            "no session id",
            json_call("logout", json!({})),
            StatusCode::BAD_REQUEST,
            "no session_id given",
        ),
        (
            "emailType a string",
            json_call(
                "createUser",
                json!({"email": "a@b.de", "password": STRONG, "emailType": "2"}),
            ),
            StatusCode::BAD_REQUEST,
            "json exception",
        ),
        (
            "invalid UTF-8",
            call("unsecureLogin", vec![b'{', 0xff, b'}']),
            StatusCode::BAD_REQUEST,
            "parameter format unknown",
        ),
        (
            "duplicate keys",
            call(
                "unsecureLogin",
                format!(r#"{{"email":"{EMAIL}","email":"x@y.de","password":"p"}}"#),
            ),
            StatusCode::BAD_REQUEST,
            "json exception",
        ),
        (
            "a body over the limit",
            call(
                "createUser",
                format!(r#"{{"email": "{}"}}"#, "x".repeat(70 * 1024)),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body too large",
        ),
        (
            "SQL in the address",
            json_call("unsecureLogin", json!({"email": "' OR 1=1 --", "password": "x"})),
            StatusCode::UNAUTHORIZED,
            "password incorrect",
        ),
        (
            "unknown call",
            json_call("deleteUser", json!({})),
            StatusCode::NOT_FOUND,
            "unknown call",
        ),
        (
            "GET",
            TestRequest::get().uri("/login_api/unsecureLogin"),
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed",
        ),
    ];
    for (name, request, status, msg) in cases {
        let answer = app.send(request).await;
        assert_eq!(answer.status, status, "{name}: {}", answer.text());
        assert_eq!(answer.json()["state"], "error", "{name}");
        assert_eq!(answer.json()["msg"], msg, "{name}");
    }
    // The SQL case is a wrong password for no one; nothing else may change.
    assert_eq!(app.fingerprint().await, before);
}
