//! The `lime` dialect: the add-on's documented requests, BankID through the
//! simulator over mutual TLS, and password reset with the e-mail it sends.

use std::collections::HashMap;

use actix_web::http::{StatusCode, header};
use actix_web::test::TestRequest;
use limen_bankid::simulator::{Outcome, SimulatorScript};
use limen_domain::model::NewDirectoryEntry;
use limen_domain::model::{UserField, UserFields};
use limen_domain::ports::UserDirectory;
use limen_domain::services::Settings;
use limen_http::{HttpSettings, LimeSettings};
use serde_json::{Value, json};

use crate::flow_two_factor::enrol;
use crate::helpers::{Answer, PASSWORD, TestApp};

const ANN_NUMBER: &str = "199908072391";
const CANCELS: &str = "200211242383";
const NOBODY: &str = "199001012385";

fn post(path: &str, body: Value) -> TestRequest {
    TestRequest::post().uri(path).set_json(body)
}

fn assert_failure(answer: &Answer, status: StatusCode) -> Value {
    assert_eq!(answer.status, status, "{}", answer.text());
    let body = answer.json();
    assert_eq!(body["success"], false, "{body}");
    assert!(body["error"].is_string(), "{body}");
    body
}

async fn with_ann_number(app: &TestApp) {
    let ann = app.add_user("ann").await;
    // The directory holds the personal number (Limen's own table here).
    app.db.directory().delete(&ann.external_id).await.unwrap();
    app.db
        .directory()
        .create(NewDirectoryEntry {
            username: "ann".into(),
            email: "ann@example.com".into(),
            first_name: Some("Ann".into()),
            last_name: Some("Andersson".into()),
            personal_number: Some(ANN_NUMBER.into()),
            password_hash: None,
            created_at: app.clock_now(),
        })
        .await
        .unwrap();
}

fn script() -> SimulatorScript {
    let mut by_personal_number = HashMap::new();
    by_personal_number.insert(CANCELS.to_owned(), Outcome::parse("user_cancel:1", 0).unwrap());
    SimulatorScript {
        by_personal_number,
        ..SimulatorScript::default()
    }
}

#[actix_web::test]
async fn the_document_s_password_login_answers_the_user_and_a_token() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    let answer = app
        .send(post(
            "/login/",
            json!({"type": "limecrm", "username": "ann", "password": PASSWORD}),
        ))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let body = answer.json();
    assert_eq!(body["success"], true);
    assert_eq!(
        body["user"],
        json!({"_id": ann.id.0, "firstname": "Ann", "lastname": "Andersson", "email": "ann@example.com"})
    );
    let token = body["token"].as_str().unwrap();
    let user = app
        .send(
            TestRequest::get()
                .uri("/authentication/user")
                .insert_header((header::AUTHORIZATION, format!("Bearer {token}"))),
        )
        .await;
    assert_eq!(user.status, StatusCode::OK);
    // Form parameters, as a Flask form post sends them, work too.
    let form = app
        .send(
            TestRequest::post()
                .uri("/login/")
                .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
                .set_payload(format!(
                    "type=limecrm&username=ann&password={}",
                    PASSWORD.replace(' ', "+")
                )),
        )
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text());
}

#[actix_web::test]
async fn a_wrong_password_and_an_unknown_user_get_one_answer_and_bad_requests_a_400() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    let wrong = app
        .send(post(
            "/login/",
            json!({"type": "limecrm", "username": "ann", "password": "nope"}),
        ))
        .await;
    let unknown = app
        .send(post(
            "/login/",
            json!({"type": "limecrm", "username": "bob", "password": "nope"}),
        ))
        .await;
    assert_eq!(
        assert_failure(&wrong, StatusCode::UNAUTHORIZED),
        assert_failure(&unknown, StatusCode::UNAUTHORIZED)
    );
    for (body, status) in [
        (
            json!({"type": "ldap", "username": "ann", "password": PASSWORD}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"username": "ann", "password": PASSWORD}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"type": "limecrm", "username": "ann"}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"type": "bankid"}), StatusCode::BAD_REQUEST),
        (
            json!({"type": "bankid", "personal_number": ANN_NUMBER}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"type": 7}), StatusCode::BAD_REQUEST),
    ] {
        assert_failure(&app.send(post("/login/", body.clone())).await, status);
    }
}

#[actix_web::test]
async fn a_user_with_a_second_factor_is_refused_a_password_login_here() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    enrol(&app, "ann").await;
    let answer = app
        .send(post(
            "/login/",
            json!({"type": "limecrm", "username": "ann", "password": PASSWORD}),
        ))
        .await;
    let body = assert_failure(&answer, StatusCode::FORBIDDEN);
    assert!(body["error"].as_str().unwrap().contains("BankID"), "{body}");
}

#[actix_web::test]
async fn the_user_object_has_the_keys_the_operator_configures() {
    let mut settings = HttpSettings::default();
    settings.lime.user_fields = UserFields(vec![
        ("id".into(), UserField::ExternalId),
        ("name".into(), UserField::FullName),
        ("login".into(), UserField::Username),
        ("ssn".into(), UserField::PersonalNumber),
    ]);
    let app = TestApp::with_settings(settings).await;
    let ann = app.add_user("ann").await;
    let body = app
        .send(post(
            "/login/",
            json!({"type": "limecrm", "username": "ann", "password": PASSWORD}),
        ))
        .await
        .json();
    assert_eq!(
        body["user"],
        json!({"id": ann.external_id, "name": "Ann Andersson", "login": "ann", "ssn": null})
    );
}

#[actix_web::test]
async fn with_api_keys_configured_every_endpoint_wants_one() {
    let settings = HttpSettings {
        lime: LimeSettings {
            api_keys: vec!["first-key".into(), "second-key".into()],
            ..LimeSettings::default()
        },
        ..HttpSettings::default()
    };
    let app = TestApp::with_settings(settings).await;
    app.add_user("ann").await;
    let login = json!({"type": "limecrm", "username": "ann", "password": PASSWORD});
    for path in ["/login/", "/bankid/collect/", "/reset/request/", "/reset/"] {
        for key in [None, Some("wrong-key"), Some("first-key-and-more")] {
            let mut request = post(path, login.clone());
            if let Some(key) = key {
                request = request.insert_header(("X-API-Key", key));
            }
            assert_failure(&app.send(request).await, StatusCode::UNAUTHORIZED);
        }
    }
    let answer = app
        .send(post("/login/", login).insert_header(("X-API-Key", "second-key")))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
}

async fn bankid_app() -> TestApp {
    TestApp::with_bankid(HttpSettings::default(), Settings::default(), script()).await
}

async fn start(app: &TestApp, number: &str) -> Answer {
    app.send(post(
        "/login/",
        json!({"type": "bankid", "personal_number": number}),
    ))
    .await
}

async fn collect(app: &TestApp, transaction: &str) -> Answer {
    app.send(post("/bankid/collect/", json!({"transaction_id": transaction})))
        .await
}

#[actix_web::test]
async fn a_bankid_login_walks_through_its_statuses_to_the_user_and_a_token() {
    let app = bankid_app().await;
    with_ann_number(&app).await;
    let started = start(&app, "990807-2391").await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text());
    let started = started.json();
    assert_eq!(started["success"], true);
    let transaction = started["transaction_id"].as_str().unwrap().to_owned();
    assert_eq!(transaction.len(), 43, "256 random bits, never BankID's orderRef");
    assert_eq!(started["autoStartToken"].as_str().unwrap().len(), 36);
    let first_qr = started["qr"].as_str().unwrap();
    assert!(
        first_qr.starts_with("bankid.") && first_qr.split('.').nth(2) == Some("0"),
        "{first_qr}"
    );
    let mut statuses = Vec::new();
    let done = loop {
        let body = collect(&app, &transaction).await.json();
        statuses.push(body["progressStatus"].as_str().unwrap().to_owned());
        if body["progressStatus"] == "COMPLETE" {
            break body;
        }
        assert_eq!(body["success"], true, "{body}");
        assert!(body["message"]["sv"].is_string() && body["message"]["en"].is_string());
        assert!(body["qr"].as_str().unwrap().starts_with("bankid."));
        app.clock.advance(1);
    };
    assert_eq!(
        statuses,
        ["OUTSTANDING_TRANSACTION", "STARTED", "USER_SIGN", "COMPLETE"]
    );
    assert_eq!(done["success"], true);
    assert_eq!(done["user"]["firstname"], "Ann");
    assert!(done["token"].is_string());
    // The order is consumed: a second collect of the same id fails.
    assert_failure(&collect(&app, &transaction).await, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn the_qr_code_moves_with_the_seconds_since_the_start() {
    let app = bankid_app().await;
    let started = start(&app, ANN_NUMBER).await.json();
    let transaction = started["transaction_id"].as_str().unwrap();
    app.clock.advance(5);
    let body = collect(&app, transaction).await.json();
    let qr = body["qr"].as_str().unwrap();
    let first = started["qr"].as_str().unwrap();
    assert_eq!(
        qr.split('.').nth(1),
        first.split('.').nth(1),
        "the same qrStartToken"
    );
    assert_eq!(qr.split('.').nth(2), Some("5"));
    assert_ne!(qr.split('.').nth(3), first.split('.').nth(3));
}

#[actix_web::test]
async fn a_cancelled_identification_is_a_failure_with_its_message_and_spends_the_order() {
    let app = bankid_app().await;
    let transaction = start(&app, CANCELS).await.json()["transaction_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        collect(&app, &transaction).await.json()["progressStatus"],
        "USER_SIGN"
    );
    let answer = collect(&app, &transaction).await;
    assert_eq!(answer.status, StatusCode::OK);
    let body = answer.json();
    assert_eq!(body["success"], false);
    assert_eq!(body["progressStatus"], "USER_CANCEL");
    assert_eq!(body["message"]["code"], "RFA6");
    assert_eq!(body["message"]["sv"], "Åtgärden avbruten.");
    assert_failure(&collect(&app, &transaction).await, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn unfinished_bankid_starts_are_limited_per_address() {
    let mut domain = Settings::default();
    domain.attempts.bankid_starts.limit = 2;
    let app = TestApp::with_bankid(HttpSettings::default(), domain, script()).await;
    with_ann_number(&app).await;
    // A completed identification gives its start back.
    let completed = start(&app, "199908072391").await;
    let transaction = completed.json()["transaction_id"].as_str().unwrap().to_owned();
    let mut finished = collect(&app, &transaction).await;
    while finished.json()["progressStatus"] != "COMPLETE" {
        assert_eq!(finished.status, StatusCode::OK, "{}", finished.text());
        finished = collect(&app, &transaction).await;
    }
    // Abandoned ones (of other people: one person's second start would be
    // refused by BankID as already in progress) use the limit up.
    for number in ["198001011231", "198001011249"] {
        assert_eq!(start(&app, number).await.status, StatusCode::OK);
    }
    let refused = start(&app, "198001011256").await;
    let body = assert_failure(&refused, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers.get(header::RETRY_AFTER).is_some(), "{body}");
}

#[actix_web::test]
async fn a_personal_number_no_user_has_logs_nobody_in() {
    let app = bankid_app().await;
    let transaction = start(&app, NOBODY).await.json()["transaction_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut answer = collect(&app, &transaction).await;
    while answer.status == StatusCode::OK {
        answer = collect(&app, &transaction).await;
    }
    let body = assert_failure(&answer, StatusCode::UNAUTHORIZED);
    assert!(body["error"].as_str().unwrap().contains("personal number"));
}

#[actix_web::test]
async fn bad_personal_numbers_and_unknown_transactions_are_refused_before_bankid() {
    let app = bankid_app().await;
    for bad in ["199908072390", "19990807239", "abc", "19991307-2391"] {
        assert_failure(&start(&app, bad).await, StatusCode::BAD_REQUEST);
    }
    assert_failure(&collect(&app, "no-such-transaction").await, StatusCode::NOT_FOUND);
    assert_failure(&collect(&app, "").await, StatusCode::BAD_REQUEST);
    // A second order for the same person while one runs.
    start(&app, ANN_NUMBER).await;
    let again = start(&app, ANN_NUMBER).await;
    let body = assert_failure(&again, StatusCode::CONFLICT);
    assert_eq!(body["progressStatus"], "ALREADY_IN_PROGRESS");
    assert_eq!(body["message"]["code"], "RFA4");
}

#[actix_web::test]
async fn the_demo_page_exists_only_with_the_simulator() {
    let app = TestApp::new().await;
    assert_failure(
        &app.send(TestRequest::get().uri("/bankid/demo/")).await,
        StatusCode::NOT_FOUND,
    );
    let mut settings = HttpSettings::default();
    settings.lime.bankid_demo = true;
    let app = TestApp::with_bankid(settings, Settings::default(), script()).await;
    let page = app.send(TestRequest::get().uri("/bankid/demo/")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("/bankid/collect/"));
    let qr = app
        .send(TestRequest::get().uri("/bankid/demo/qr.svg?data=bankid.x.0.y"))
        .await;
    assert_eq!(qr.status, StatusCode::OK);
    assert_eq!(qr.headers.get(header::CONTENT_TYPE).unwrap(), "image/svg+xml");
    assert!(qr.text().starts_with("<svg"));
    let long = "x".repeat(600);
    assert_failure(
        &app.send(TestRequest::get().uri(&format!("/bankid/demo/qr.svg?data={long}")))
            .await,
        StatusCode::BAD_REQUEST,
    );
}

/// The reset token from the newest e-mail, waiting for it to arrive (the
/// request sends it after answering).
async fn mailed_token(app: &TestApp) -> String {
    for _ in 0..100 {
        if let Some(mail) = app.mails().pop() {
            return mail
                .lines()
                .map(str::trim)
                .find(|line| line.len() == 36 && line.matches('-').count() == 4)
                .unwrap_or_else(|| panic!("no token in {mail}"))
                .to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no e-mail arrived");
}

#[actix_web::test]
async fn a_password_reset_mails_a_token_that_sets_a_new_password_once() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    let session = app.login("ann").await;
    let answer = app
        .send(post("/reset/request/", json!({"username": "ann"})))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), json!({"msg": "Reset token set"}));
    let token = mailed_token(&app).await;
    let reset = json!({"token": token, "username": "ann", "new_password": "a brand new secret"});
    let answer = app.send(post("/reset/", reset.clone())).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json(), json!({"msg": "Password updated"}));
    let login = |password: &str| {
        post(
            "/login/",
            json!({"type": "limecrm", "username": "ann", "password": password}),
        )
    };
    assert_eq!(app.send(login("a brand new secret")).await.status, StatusCode::OK);
    assert_eq!(app.send(login(PASSWORD)).await.status, StatusCode::UNAUTHORIZED);
    let old_session = app
        .send(
            TestRequest::get()
                .uri("/authentication/user")
                .insert_header((header::AUTHORIZATION, format!("Bearer {session}"))),
        )
        .await;
    assert_eq!(
        old_session.status,
        StatusCode::UNAUTHORIZED,
        "every session ended"
    );
    assert_failure(&app.send(post("/reset/", reset)).await, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn an_unknown_username_gets_the_same_answer_and_no_mail() {
    let app = TestApp::new().await;
    let answer = app
        .send(post("/reset/request/", json!({"username": "nobody"})))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), json!({"msg": "Reset token set"}));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(app.mails().is_empty());
}

#[actix_web::test]
async fn an_api_key_holder_gets_the_token_in_the_answer() {
    let settings = HttpSettings {
        lime: LimeSettings {
            api_keys: vec!["portal-key".into()],
            ..LimeSettings::default()
        },
        ..HttpSettings::default()
    };
    let app = TestApp::with_settings(settings).await;
    app.add_user("ann").await;
    let answer = app
        .send(post("/reset/request/", json!({"username": "ann"})).insert_header(("X-API-Key", "portal-key")))
        .await;
    let body = answer.json();
    assert_eq!(body["msg"], "Reset token set");
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.len(), 36);
    assert_eq!(&token[14..15], "4", "a UUID version 4, as the document shows");
    assert_eq!(mailed_token(&app).await, token);
}

#[actix_web::test]
async fn a_foreign_or_malformed_reset_changes_nothing() {
    let app = TestApp::new().await;
    app.add_user("ann").await;
    app.add_user("bob").await;
    app.send(post("/reset/request/", json!({"username": "ann"})))
        .await;
    let token = mailed_token(&app).await;
    let before = app.fingerprint().await;
    let foreign = json!({"token": token, "username": "bob", "new_password": "a brand new secret"});
    assert_failure(&app.send(post("/reset/", foreign)).await, StatusCode::NOT_FOUND);
    let short = json!({"token": token, "username": "ann", "new_password": "short"});
    assert_failure(&app.send(post("/reset/", short)).await, StatusCode::BAD_REQUEST);
    assert_failure(
        &app.send(post("/reset/", json!({"token": token, "username": "ann"})))
            .await,
        StatusCode::BAD_REQUEST,
    );
    assert_eq!(app.fingerprint().await, before);
    let right = json!({"token": token, "username": "ann", "new_password": "a brand new secret"});
    assert_eq!(app.send(post("/reset/", right)).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn reset_requests_are_throttled_per_username() {
    let app = TestApp::new().await;
    for _ in 0..3 {
        let answer = app
            .send(post("/reset/request/", json!({"username": "ann"})))
            .await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    let refused = app
        .send(post("/reset/request/", json!({"username": "ANN"})))
        .await;
    assert_failure(&refused, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers.get(header::RETRY_AFTER).is_some());
}

#[actix_web::test]
async fn a_read_only_directory_refuses_a_reset() {
    let app = TestApp::over_read_only_directory(HttpSettings::default()).await;
    app.add_user("ann").await;
    let answer = app
        .send(post(
            "/reset/",
            json!({"token": "0b3b8a5e-6f4c-4a3e-9b1d-2f7d6c1e8a90", "username": "ann", "new_password": "long enough"}),
        ))
        .await;
    assert_failure(&answer, StatusCode::FORBIDDEN);
}
