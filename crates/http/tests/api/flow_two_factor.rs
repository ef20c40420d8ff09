//! Two-factor authentication in the `flow` dialect, as a client enrols and logs in.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::test::TestRequest;
use base64::Engine;
use chrono::Duration;
use limen_domain::model::Role;
use serde_json::{Value, json};

use crate::helpers::{Answer, PASSWORD, TestApp, base32_decode};

fn bearer(request: TestRequest, token: &str) -> TestRequest {
    request.insert_header((header::AUTHORIZATION, format!("Bearer {token}")))
}

async fn enable(app: &TestApp, token: &str, id: i64, body: Value) -> Answer {
    app.send(bearer(TestRequest::post().uri(&format!("/user/{id}/enable2fa")), token).set_json(body))
        .await
}

async fn login_answer(app: &TestApp, username: &str) -> Value {
    let answer = app
        .send(
            TestRequest::post()
                .uri("/authentication/login")
                .set_json(json!({"username": username, "password": PASSWORD})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    answer.json()
}

async fn validate(app: &TestApp, pending: &str, body: Value) -> Answer {
    app.send(bearer(TestRequest::post().uri("/authentication/2fa/validate"), pending).set_json(body))
        .await
}

fn assert_error(answer: &Answer, status: u16, kind: &str) {
    assert_eq!(
        answer.status.as_u16(),
        status,
        "{:?}",
        String::from_utf8_lossy(&answer.body)
    );
    let body = answer.json();
    assert_eq!(body["type"], kind);
    assert_eq!(body["code"], status);
    assert_eq!(body["errorNumber"], 0);
    assert_eq!(body["data"], Value::Null);
}

/// Enrols `username` and returns (base32 key, recovery codes). The clock is then
/// moved one step on, so the confirming code cannot be replayed by the caller.
pub async fn enrol(app: &TestApp, username: &str) -> (String, Vec<String>) {
    let user = app.services.accounts.find(username).await.unwrap();
    let token = app.login(username).await;
    let started = enable(
        app,
        &token,
        user.id.0,
        json!({"password": PASSWORD, "type": "TWO_FA_AUTHENTICATOR"}),
    )
    .await;
    assert_eq!(started.status, StatusCode::OK, "{:?}", started.body);
    let key = started.json()["key"].as_str().unwrap().to_owned();
    let code = app.totp_code(&key);
    let confirmed = enable(
        app,
        &token,
        user.id.0,
        json!({"type": "TWO_FA_AUTHENTICATOR_ENABLING", "token": code}),
    )
    .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{:?}", confirmed.body);
    let codes = confirmed.json()["recoveryCodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code.as_str().unwrap().to_owned())
        .collect();
    app.clock.advance(30);
    (key, codes)
}

#[actix_web::test]
async fn enrolment_answers_the_documented_response_and_is_inactive_until_confirmed() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    let token = app.login("ann").await;
    let answer = enable(
        &app,
        &token,
        ann.id.0,
        json!({"password": PASSWORD, "type": "TWO_FA_AUTHENTICATOR"}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(answer.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let body = answer.json();
    assert_eq!(body["hashingAlgorithm"], "SHA1");
    assert_eq!(body["digits"], 6);
    assert_eq!(body["period"], 30);
    let key = body["key"].as_str().unwrap();
    assert_eq!(base32_decode(key).len(), 20, "160-bit secret");
    let qr = body["qr"]
        .as_str()
        .unwrap()
        .strip_prefix("data:image/png;base64,")
        .unwrap();
    let png = base64::engine::general_purpose::STANDARD.decode(qr).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // Not confirmed yet: a login still needs no second token.
    assert_eq!(login_answer(&app, "ann").await["needsSecondToken"], false);
}

#[actix_web::test]
async fn a_confirmed_second_factor_is_asked_for_and_exchanged_for_the_final_token() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    let (key, codes) = enrol(&app, "ann").await;
    assert_eq!(codes.len(), 10);
    let login = login_answer(&app, "ann").await;
    assert_eq!(login["needsSecondToken"], true);
    assert_eq!(login["status"], 200);
    let pending = login["token"].as_str().unwrap().to_owned();
    // The temporary token is good for validation only.
    let who = app
        .send(bearer(TestRequest::get().uri("/authentication/user"), &pending))
        .await;
    assert_error(&who, 401, "UnauthorizedError");
    let answer = validate(
        &app,
        &pending,
        json!({"token": app.totp_code(&key), "rememberMe": true}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    let body = answer.json();
    assert_eq!(body["needsSecondToken"], false);
    assert_eq!(body["status"], 200);
    let final_token = body["token"].as_str().unwrap();
    let record = app.token_record(final_token).await;
    assert_eq!(record.expires_at - record.created_at, Duration::weeks(1));
    let who = app
        .send(bearer(
            TestRequest::get().uri("/authentication/user"),
            final_token,
        ))
        .await;
    assert_eq!(who.status, StatusCode::OK);
    // The temporary token is spent.
    let again = validate(&app, &pending, json!({"token": app.totp_code(&key)})).await;
    assert_error(&again, 401, "UnauthorizedError");
}

#[actix_web::test]
async fn the_temporary_token_works_as_a_query_parameter_and_expires_after_five_minutes() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    let (key, _) = enrol(&app, "ann").await;
    let pending = login_answer(&app, "ann").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = app
        .send(
            TestRequest::post()
                .uri(&format!("/authentication/2fa/validate?access_token={pending}"))
                .set_json(json!({"token": app.totp_code(&key)})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    app.clock.advance(30);
    let late = login_answer(&app, "ann").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock.advance(301);
    let answer = validate(&app, &late, json!({"token": app.totp_code(&key)})).await;
    assert_error(&answer, 401, "UnauthorizedError");
}

#[actix_web::test]
async fn a_code_is_accepted_once() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    let (key, _) = enrol(&app, "ann").await;
    let code = app.totp_code(&key);
    let first = login_answer(&app, "ann").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        validate(&app, &first, json!({"token": code})).await.status,
        StatusCode::OK
    );
    let second = login_answer(&app, "ann").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let replay = validate(&app, &second, json!({"token": code})).await;
    assert_error(&replay, 401, "UnauthorizedError");
}

#[actix_web::test]
async fn five_wrong_codes_kill_the_temporary_token() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    let (key, _) = enrol(&app, "ann").await;
    let pending = login_answer(&app, "ann").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let right = app.totp_code(&key);
    let wrong = if right == "000000" { "111111" } else { "000000" };
    for _ in 0..4 {
        assert_error(
            &validate(&app, &pending, json!({"token": wrong})).await,
            401,
            "UnauthorizedError",
        );
    }
    // The fifth wrong code also reaches the account's lockout threshold.
    assert_error(
        &validate(&app, &pending, json!({"token": wrong})).await,
        403,
        "ForbiddenError",
    );
    assert_error(
        &validate(&app, &pending, json!({"token": right})).await,
        401,
        "UnauthorizedError",
    );
}

#[actix_web::test]
async fn a_recovery_code_works_once_in_place_of_a_code() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    let (_, codes) = enrol(&app, "ann").await;
    let pending = login_answer(&app, "ann").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = validate(&app, &pending, json!({"token": codes[3]})).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    let pending = login_answer(&app, "ann").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_error(
        &validate(&app, &pending, json!({"token": codes[3]})).await,
        401,
        "UnauthorizedError",
    );
    let lower = codes[4].to_lowercase().replace('-', "");
    assert_eq!(
        validate(&app, &pending, json!({"token": lower})).await.status,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn a_wrong_confirmation_code_leaves_two_factor_off() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    let token = app.login("ann").await;
    let started = enable(
        &app,
        &token,
        ann.id.0,
        json!({"password": PASSWORD, "type": "TWO_FA_AUTHENTICATOR"}),
    )
    .await;
    let key = started.json()["key"].as_str().unwrap().to_owned();
    let right = app.totp_code(&key);
    let wrong = if right == "123456" { "654321" } else { "123456" };
    let answer = enable(
        &app,
        &token,
        ann.id.0,
        json!({"type": "TWO_FA_AUTHENTICATOR_ENABLING", "token": wrong}),
    )
    .await;
    assert_error(&answer, 401, "UnauthorizedError");
    assert_eq!(login_answer(&app, "ann").await["needsSecondToken"], false);
    let answer = enable(
        &app,
        &token,
        ann.id.0,
        json!({"password": "wrong", "type": "TWO_FA_AUTHENTICATOR"}),
    )
    .await;
    assert_error(&answer, 401, "UnauthorizedError");
}

#[actix_web::test]
async fn disabling_with_a_code_turns_the_second_step_off() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    let (key, _) = enrol(&app, "ann").await;
    let pending = login_answer(&app, "ann").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = validate(&app, &pending, json!({"token": app.totp_code(&key)}))
        .await
        .json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let again = enable(
        &app,
        &token,
        ann.id.0,
        json!({"password": PASSWORD, "type": "TWO_FA_AUTHENTICATOR"}),
    )
    .await;
    assert_error(&again, 409, "ConflictError");
    app.clock.advance(30);
    let answer = enable(
        &app,
        &token,
        ann.id.0,
        json!({"type": "TWO_FA_AUTHENTICATOR_DISABLING", "token": app.totp_code(&key)}),
    )
    .await;
    assert_error(&answer, 400, "BadRequestError");
    let answer = enable(
        &app,
        &token,
        ann.id.0,
        json!({"type": "TWO_FA_AUTHENTICATOR_DISABLING", "password": "wrong password", "token": app.totp_code(&key)}),
    )
    .await;
    assert_error(&answer, 401, "UnauthorizedError");
    let answer = enable(
        &app,
        &token,
        ann.id.0,
        json!({"type": "TWO_FA_AUTHENTICATOR_DISABLING", "password": PASSWORD, "token": "000000"}),
    )
    .await;
    assert_error(&answer, 401, "UnauthorizedError");
    let answer = enable(
        &app,
        &token,
        ann.id.0,
        json!({"type": "TWO_FA_AUTHENTICATOR_DISABLING", "password": PASSWORD, "token": app.totp_code(&key)}),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(login_answer(&app, "ann").await["needsSecondToken"], false);
}

#[actix_web::test]
async fn other_users_are_forbidden_and_support_staff_may_reset() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    app.add_user("bob").await;
    let sue = app.add_user("sue").await;
    app.services.accounts.set_role(&sue, Role::Support).await.unwrap();
    enrol(&app, "ann").await;
    let bob = app.login("bob").await;
    let sue = app.login("sue").await;
    for id in [ann.id.0, 9999] {
        let answer = enable(&app, &bob, id, json!({"type": "TWO_FA_AUTHENTICATOR_DISABLING"})).await;
        assert_error(&answer, 403, "ForbiddenError");
    }
    assert_error(
        &enable(
            &app,
            &sue,
            9999,
            json!({"type": "TWO_FA_AUTHENTICATOR_DISABLING"}),
        )
        .await,
        404,
        "NotFoundError",
    );
    assert_error(
        &enable(
            &app,
            &sue,
            ann.id.0,
            json!({"password": PASSWORD, "type": "TWO_FA_AUTHENTICATOR"}),
        )
        .await,
        403,
        "ForbiddenError",
    );
    let reset = enable(
        &app,
        &sue,
        ann.id.0,
        json!({"type": "TWO_FA_AUTHENTICATOR_DISABLING"}),
    )
    .await;
    assert_eq!(reset.status, StatusCode::OK, "{:?}", reset.body);
    assert_eq!(login_answer(&app, "ann").await["needsSecondToken"], false);
    let not_a_number = app
        .send(
            bearer(TestRequest::post().uri("/user/abc/enable2fa"), &bob)
                .set_json(json!({"type": "TWO_FA_AUTHENTICATOR"})),
        )
        .await;
    assert_error(&not_a_number, 404, "NotFoundError");
    let anonymous = app
        .send(
            TestRequest::post()
                .uri(&format!("/user/{}/enable2fa", ann.id.0))
                .set_json(json!({})),
        )
        .await;
    assert_error(&anonymous, 401, "UnauthorizedError");
}

#[actix_web::test]
async fn bad_second_factor_input_is_refused_in_the_documented_shape() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    let token = app.login("ann").await;
    // A valid token's first use is recorded (and coalesced after); let that
    // happen before the comparisons, which are about the refused input.
    app.send(bearer(TestRequest::get().uri("/authentication/user"), &token))
        .await;
    for (body, status, kind) in [
        (json!({"password": PASSWORD}), 400, "BadRequestError"),
        (
            json!({"password": PASSWORD, "type": "TWO_FA_BOGUS"}),
            400,
            "BadRequestError",
        ),
        (
            json!({"password": PASSWORD, "type": "TWO_FA_EMAIL"}),
            400,
            "BadRequestError",
        ),
        (json!({"type": "TWO_FA_AUTHENTICATOR"}), 400, "BadRequestError"),
        (
            json!({"type": "TWO_FA_AUTHENTICATOR_ENABLING"}),
            400,
            "BadRequestError",
        ),
        (json!({"type": 5}), 400, "BadRequestError"),
        (
            json!({"type": "TWO_FA_AUTHENTICATOR_DISABLING", "token": "123456"}),
            400,
            "BadRequestError",
        ),
    ] {
        let before = app.fingerprint().await;
        let answer = enable(&app, &token, ann.id.0, body.clone()).await;
        assert_error(&answer, status, kind);
        assert_eq!(app.fingerprint().await, before, "{body} changed a row");
    }
    let (_, _) = enrol(&app, "ann").await;
    let pending = login_answer(&app, "ann").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_error(&validate(&app, &pending, json!({})).await, 400, "BadRequestError");
    assert_error(
        &validate(&app, &pending, json!({"token": 123456})).await,
        400,
        "BadRequestError",
    );
    assert_error(
        &validate(&app, &pending, json!({"token": "abcdef"})).await,
        401,
        "UnauthorizedError",
    );
    assert_error(
        &validate(&app, &pending, json!({"token": "1234567"})).await,
        401,
        "UnauthorizedError",
    );
    let no_token = app
        .send(
            TestRequest::post()
                .uri("/authentication/2fa/validate")
                .set_json(json!({"token": "123456"})),
        )
        .await;
    assert_error(&no_token, 401, "UnauthorizedError");
    let access = app.issue(&ann, Duration::hours(1)).await;
    assert_error(
        &validate(&app, &access, json!({"token": "123456"})).await,
        401,
        "UnauthorizedError",
    );
}
