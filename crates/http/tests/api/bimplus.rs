//! The `bimplus` dialect, replaying the document's requests as a Bimplus client sends them.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::test::TestRequest;
use limen_domain::model::Password;
use serde_json::{Value, json};

use crate::flow_two_factor::enrol;
use crate::helpers::{Answer, PASSWORD, TestApp};

const APPLICATION: &str = "0106c8baad467c08e26f026852cb7525";
const CLIENT: &str = "0864b512-1776-4a55-8ee5-2b19d7d9b7ea";

fn authorize(body: &str) -> TestRequest {
    TestRequest::post()
        .uri("/v2/authorize")
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload(body.to_owned())
}

/// The document's first request, for the user `email`.
fn password_request(email: &str, remember_me: &str) -> String {
    format!(
        r#"{{
    "user_id" : "{email}",
    "password" : "{PASSWORD}",
    "remember_me" : {remember_me},
    "application_id": "{APPLICATION}",
    "client_id": "{CLIENT}"
}}"#
    )
}

/// The document's second request, byte for byte but for the token: the
/// misspelled key and the trailing comma included.
fn remember_request(token: &str, client: &str) -> String {
    format!(
        r#"{{
    "remember_me" : "true",
    "remeber_me_token": "{token}",
    "application_id": "{APPLICATION}",
    "client_id": "{client}",
}}"#
    )
}

fn keys(body: &Value) -> Vec<String> {
    let mut keys: Vec<String> = body.as_object().unwrap().keys().cloned().collect();
    keys.sort_unstable();
    keys
}

fn assert_error(answer: &Answer, status: StatusCode, code: &str) {
    assert_eq!(answer.status, status, "{}", answer.text());
    let body = answer.json();
    assert_eq!(body["error"], code, "{body}");
    assert!(body["message"].is_string());
    assert_eq!(body.as_object().unwrap().len(), 2);
}

/// Logs `user` in with remember-me and returns (access token, remember-me token).
async fn remembered(app: &TestApp, email: &str) -> (String, String) {
    let answer = app.send(authorize(&password_request(email, "\"true\""))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let body = answer.json();
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["remember_me_token"].as_str().unwrap().to_owned(),
    )
}

#[actix_web::test]
async fn the_documented_password_request_answers_both_tokens() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    let answer = app
        .send(authorize(&password_request(&ann.email, "\"true\"")))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let body = answer.json();
    assert_eq!(
        keys(&body),
        [
            "access_token",
            "application_id",
            "client_id",
            "expires_in",
            "remember_me",
            "remember_me_expires_in",
            "remember_me_token"
        ]
    );
    assert_eq!(body["expires_in"], 28_799);
    assert_eq!(body["application_id"], APPLICATION);
    assert_eq!(body["client_id"], CLIENT);
    assert_eq!(body["remember_me"], true);
    assert_eq!(body["remember_me_expires_in"], 2_591_999);
    let access = body["access_token"].as_str().unwrap();
    let remember = body["remember_me_token"].as_str().unwrap();
    assert_ne!(access, remember);
    // The access token lives 28799 s and the remember-me token 2591999 s, bound to the client.
    let record = app.token_record(access).await;
    assert_eq!((record.expires_at - record.created_at).num_seconds(), 28_799);
    let record = app.token_record(remember).await;
    assert_eq!((record.expires_at - record.created_at).num_seconds(), 2_591_999);
    assert_eq!(record.attributes.client_id.as_deref(), Some(CLIENT));
    // Stored hashed only.
    let rows = app.fingerprint().await;
    assert!(!rows.contains(remember) && !rows.contains(access));
}

#[actix_web::test]
async fn remember_me_as_a_boolean_and_without_it() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    let answer = app.send(authorize(&password_request(&ann.email, "true"))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.json()["remember_me_token"].is_string());
    for off in ["false", "\"false\""] {
        let answer = app.send(authorize(&password_request(&ann.email, off))).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        let body = answer.json();
        assert_eq!(
            keys(&body),
            [
                "access_token",
                "application_id",
                "client_id",
                "expires_in",
                "remember_me"
            ]
        );
        assert_eq!(body["remember_me"], false);
    }
    // Without the optional ids, they are answered as null.
    let answer = app
        .send(authorize(&format!(
            r#"{{"user_id": "{}", "password": "{PASSWORD}"}}"#,
            ann.email
        )))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let body = answer.json();
    assert_eq!(body["client_id"], Value::Null);
    assert_eq!(body["application_id"], Value::Null);
}

#[actix_web::test]
async fn the_documented_remember_me_request_answers_a_new_access_token() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    let (first_access, remember) = remembered(&app, &ann.email).await;
    let answer = app.send(authorize(&remember_request(&remember, CLIENT))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let body = answer.json();
    assert_eq!(
        keys(&body),
        [
            "access_token",
            "application_id",
            "client_id",
            "expires_in",
            "token_type"
        ]
    );
    assert_eq!(body["token_type"], "BimPlus");
    assert_eq!(body["expires_in"], 28_799);
    assert_eq!(body["application_id"], APPLICATION);
    assert_eq!(body["client_id"], CLIENT);
    let access = body["access_token"].as_str().unwrap();
    assert_ne!(access, first_access);
    // The correctly spelled key, with a boolean, works as well, and again.
    let correct = json!({"remember_me": true, "remember_me_token": remember, "client_id": CLIENT});
    let answer = app.send(authorize(&correct.to_string())).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
}

#[actix_web::test]
async fn access_tokens_work_with_the_bimplus_scheme_and_bearer() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    let (access, _) = remembered(&app, &ann.email).await;
    for scheme in ["BimPlus", "Bearer", "bimplus"] {
        let answer = app
            .send(
                TestRequest::get()
                    .uri("/authentication/user")
                    .insert_header((header::AUTHORIZATION, format!("{scheme} {access}"))),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{scheme}: {}", answer.text());
        assert_eq!(answer.json()["username"], "ann");
    }
    let answer = app
        .send(
            TestRequest::get()
                .uri("/v2/authorize")
                .insert_header((header::AUTHORIZATION, format!("BimPlus {access}"))),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let body = answer.json();
    assert_eq!(body["user_id"], ann.email);
    assert_eq!(body["expires_in"], 28_799);
}

#[actix_web::test]
async fn delete_revokes_the_access_token_and_the_remember_me_token_it_came_with() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    let (access, remember) = remembered(&app, &ann.email).await;
    let delete = || {
        TestRequest::delete()
            .uri("/v2/authorize")
            .insert_header((header::AUTHORIZATION, format!("BimPlus {access}")))
    };
    assert_eq!(app.send(delete()).await.status, StatusCode::NO_CONTENT);
    assert_error(
        &app.send(delete()).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );
    // Logging out of the client ends its "remember me" too.
    assert_error(
        &app.send(authorize(&remember_request(&remember, CLIENT))).await,
        StatusCode::UNAUTHORIZED,
        "invalid_remember_me_token",
    );
    assert_error(
        &app.send(TestRequest::get().uri("/v2/authorize")).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );
}

#[actix_web::test]
async fn a_remember_me_token_works_only_for_its_client_and_kind() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    let (access, remember) = remembered(&app, &ann.email).await;
    let before = app.fingerprint().await;
    for (name, body) in [
        ("another client", remember_request(&remember, "another-client")),
        ("an access token", remember_request(&access, CLIENT)),
        (
            "an unknown token",
            remember_request("b930e0179baf4f919caeab28328190a3", CLIENT),
        ),
    ] {
        let answer = app.send(authorize(&body)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{name}");
        assert_error(&answer, StatusCode::UNAUTHORIZED, "invalid_remember_me_token");
    }
    let without_client = json!({"remember_me": "true", "remember_me_token": remember});
    assert_error(
        &app.send(authorize(&without_client.to_string())).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    assert_eq!(app.fingerprint().await, before, "refusals change no row");
}

#[actix_web::test]
async fn a_remember_me_token_dies_with_logout_everywhere_a_password_change_and_time() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    // Log out of all sessions, with the flow dialect's endpoint.
    let (access, remember) = remembered(&app, &ann.email).await;
    let answer = app
        .send(
            TestRequest::post()
                .uri("/authentication/logout")
                .insert_header((header::AUTHORIZATION, format!("BimPlus {access}")))
                .set_json(json!({"allSessions": true})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let gone = app.send(authorize(&remember_request(&remember, CLIENT))).await;
    assert_error(&gone, StatusCode::UNAUTHORIZED, "invalid_remember_me_token");
    // A password change.
    let (_, remember) = remembered(&app, &ann.email).await;
    app.services
        .accounts
        .set_password("ann", &Password::new("a new password"))
        .await
        .unwrap();
    let gone = app.send(authorize(&remember_request(&remember, CLIENT))).await;
    assert_error(&gone, StatusCode::UNAUTHORIZED, "invalid_remember_me_token");
    app.services
        .accounts
        .set_password("ann", &Password::new(PASSWORD))
        .await
        .unwrap();
    // Thirty days less a second later.
    let (_, remember) = remembered(&app, &ann.email).await;
    app.clock.advance(2_591_998);
    let answer = app.send(authorize(&remember_request(&remember, CLIENT))).await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "still good a second before the end"
    );
    app.clock.advance(1);
    let gone = app.send(authorize(&remember_request(&remember, CLIENT))).await;
    assert_error(&gone, StatusCode::UNAUTHORIZED, "invalid_remember_me_token");
}

#[actix_web::test]
async fn a_disabled_user_cannot_use_a_remember_me_token() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    let (_, remember) = remembered(&app, &ann.email).await;
    app.services
        .accounts
        .set_enabled(&app.services.accounts.find("ann").await.unwrap(), false)
        .await
        .unwrap();
    app.services
        .accounts
        .set_enabled(&app.services.accounts.find("ann").await.unwrap(), true)
        .await
        .unwrap();
    // Disabling revoked every token; enabling again does not bring them back.
    let gone = app.send(authorize(&remember_request(&remember, CLIENT))).await;
    assert_error(&gone, StatusCode::UNAUTHORIZED, "invalid_remember_me_token");
}

#[actix_web::test]
async fn wrong_credentials_and_second_factor_users_are_refused() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    let before = app.fingerprint().await;
    let wrong = json!({"user_id": ann.email, "password": "wrong", "remember_me": true, "client_id": CLIENT});
    assert_error(
        &app.send(authorize(&wrong.to_string())).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    let ghost = json!({"user_id": "ghost@example.com", "password": PASSWORD});
    assert_error(
        &app.send(authorize(&ghost.to_string())).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    assert_eq!(app.fingerprint().await, before, "nothing but counts changed");
    assert_eq!(app.failures(&ann).await, 1, "the wrong password was counted");
    enrol(&app, "ann").await;
    let answer = app.send(authorize(&password_request(&ann.email, "true"))).await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "second_factor_required");
}

#[actix_web::test]
async fn bad_input_is_a_4xx_in_the_dialects_shape_and_changes_no_row() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    let before = app.fingerprint().await;
    let cases: Vec<(&str, TestRequest, StatusCode)> = vec![
        ("empty body", authorize(""), StatusCode::BAD_REQUEST),
        ("no credentials", authorize("{}"), StatusCode::BAD_REQUEST),
        (
            "malformed JSON",
            authorize("{\"user_id\":"),
            StatusCode::BAD_REQUEST,
        ),
        ("a JSON array", authorize("[]"), StatusCode::BAD_REQUEST),
        ("only commas", authorize("{,}"), StatusCode::BAD_REQUEST),
        (
            "password without user_id",
            authorize(&json!({"password": PASSWORD}).to_string()),
            StatusCode::BAD_REQUEST,
        ),
        (
            "remember_me without client_id",
            authorize(&json!({"user_id": ann.email, "password": PASSWORD, "remember_me": true}).to_string()),
            StatusCode::BAD_REQUEST,
        ),
        (
            "remember_me not a boolean",
            authorize(
                &json!({"user_id": ann.email, "password": PASSWORD, "remember_me": "maybe"}).to_string(),
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            "user_id a number",
            authorize(&json!({"user_id": 5, "password": PASSWORD}).to_string()),
            StatusCode::BAD_REQUEST,
        ),
        (
            "null password",
            authorize(&json!({"user_id": ann.email, "password": null}).to_string()),
            StatusCode::BAD_REQUEST,
        ),
        (
            "duplicate keys",
            authorize(&format!(
                r#"{{"user_id":"{}","user_id":"x","password":"p"}}"#,
                ann.email
            )),
            StatusCode::BAD_REQUEST,
        ),
        (
            "invalid UTF-8",
            TestRequest::post()
                .uri("/v2/authorize")
                .insert_header((header::CONTENT_TYPE, "application/json"))
                .set_payload(vec![b'{', 0xff, b'}']),
            StatusCode::BAD_REQUEST,
        ),
        (
            "form parameters",
            TestRequest::post()
                .uri("/v2/authorize")
                .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
                .set_payload("user_id=a&password=b"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "a body over the limit",
            authorize(&format!(r#"{{"user_id": "{}"}}"#, "x".repeat(70 * 1024))),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "PUT",
            TestRequest::put().uri("/v2/authorize"),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
    ];
    for (name, request, status) in cases {
        let answer = app.send(request).await;
        assert_eq!(answer.status, status, "{name}: {}", answer.text());
        let body = answer.json();
        assert!(
            body["error"].is_string() && body["message"].is_string(),
            "{name}: {body}"
        );
        assert_eq!(app.fingerprint().await, before, "{name} changed a row");
    }
}
