//! The audit trail as clients cause it: every event names the client's
//! address, the dialect, the method and the request's id, and the logins
//! metric counts by dialect, method and outcome.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::test::TestRequest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use limen_domain::model::{AuditEvent, AuditKind, AuditQuery};
use limen_domain::ports::AuditLog;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp};

async fn events(app: &TestApp) -> Vec<AuditEvent> {
    let mut events = app
        .db
        .audit_log()
        .list(&AuditQuery {
            limit: 100,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    events.reverse();
    events
}

fn flow_login(password: &str, request_id: &str) -> TestRequest {
    TestRequest::post()
        .uri("/authentication/login")
        .peer_addr("192.0.2.9:40000".parse().unwrap())
        .insert_header(("X-Request-Id", request_id))
        .set_json(json!({"username": "ann", "password": password}))
}

#[actix_web::test]
async fn logins_are_recorded_with_the_client_the_dialect_and_the_request() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    assert_eq!(
        app.send(flow_login("wrong", "req-wrong")).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.send(flow_login(PASSWORD, "req-right")).await.status,
        StatusCode::OK
    );
    let tokens_login = TestRequest::post()
        .uri("/auth/login")
        .peer_addr("[2001:db8::5]:40000".parse().unwrap())
        .insert_header((header::ACCEPT, "application/json"))
        .insert_header((
            header::AUTHORIZATION,
            format!("Basic {}", STANDARD.encode("nobody:guess")),
        ));
    assert_eq!(app.send(tokens_login).await.status, StatusCode::UNAUTHORIZED);

    let events = events(&app).await;
    let logins: Vec<_> = events
        .iter()
        .filter(|event| matches!(event.kind, AuditKind::LoginFailed | AuditKind::LoginSucceeded))
        .collect();
    assert_eq!(logins.len(), 3, "{events:#?}");
    let (failed, succeeded, unknown) = (logins[0], logins[1], logins[2]);

    assert_eq!(failed.kind, AuditKind::LoginFailed);
    assert_eq!(failed.user_id, Some(ann.id));
    assert_eq!(failed.username.as_deref(), Some("ann"));
    assert_eq!(failed.actor, "request");
    assert_eq!(failed.client.as_deref(), Some("192.0.2.9"));
    assert_eq!(failed.dialect.as_deref(), Some("flow"));
    assert_eq!(failed.method.as_deref(), Some("password"));
    assert_eq!(failed.detail.as_deref(), Some("wrong_credentials"));
    assert_eq!(failed.request_id.as_deref(), Some("req-wrong"));

    assert_eq!(succeeded.kind, AuditKind::LoginSucceeded);
    assert_eq!(succeeded.user_id, Some(ann.id));
    assert_eq!(succeeded.request_id.as_deref(), Some("req-right"));

    assert_eq!(unknown.user_id, None);
    assert_eq!(unknown.username.as_deref(), Some("nobody"));
    assert_eq!(unknown.dialect.as_deref(), Some("tokens"));
    assert_eq!(unknown.client.as_deref(), Some("2001:db8::5"));

    let metrics = app
        .send_management(TestRequest::get().uri("/metrics"))
        .await
        .text();
    for (series, wanted) in [
        (
            "limen_logins_total{dialect=\"flow\",method=\"password\",outcome=\"wrong_credentials\"}",
            1,
        ),
        (
            "limen_logins_total{dialect=\"flow\",method=\"password\",outcome=\"success\"}",
            1,
        ),
        (
            "limen_logins_total{dialect=\"tokens\",method=\"password\",outcome=\"wrong_credentials\"}",
            1,
        ),
        ("limen_audit_events_total{kind=\"login.failed\"}", 2),
        ("limen_audit_events_total{kind=\"account.locked\"}", 0),
    ] {
        assert!(
            metrics.contains(&format!("{series} {wanted}\n")),
            "{series} {wanted} in {metrics}"
        );
    }
}

#[actix_web::test]
async fn logging_out_everywhere_is_recorded_as_a_revocation() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    let token = app.login("ann").await;
    let answer = app
        .send(
            TestRequest::post()
                .uri("/authentication/logout")
                .insert_header((header::AUTHORIZATION, format!("Bearer {token}")))
                .set_json(json!({"allSessions": true})),
        )
        .await;
    assert!(answer.status.is_success(), "{:?}", answer.body);
    let events = events(&app).await;
    let revoked = events
        .iter()
        .find(|event| event.kind == AuditKind::TokenRevoked)
        .unwrap_or_else(|| panic!("{events:#?}"));
    assert_eq!(revoked.user_id, Some(ann.id));
    assert_eq!(revoked.dialect.as_deref(), Some("flow"));
}

/// A reset request is answered before it is handled (its duration would tell
/// a known name from an unknown one): the work left running after the answer
/// still records under the request's context.
#[actix_web::test]
async fn work_left_running_after_the_answer_records_under_its_request() {
    let app = TestApp::new().await;
    let ann = app.add_user("ann").await;
    let answer = app
        .send(
            TestRequest::post()
                .uri("/reset/request/")
                .peer_addr("192.0.2.44:40000".parse().unwrap())
                .insert_header(("X-Request-Id", "reset-1"))
                .set_json(json!({"username": "ann"})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let requested = loop {
        let found = events(&app)
            .await
            .into_iter()
            .find(|event| event.kind == AuditKind::PasswordResetRequested);
        if let Some(event) = found {
            break event;
        }
        assert!(std::time::Instant::now() < deadline, "no reset request recorded");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(requested.user_id, Some(ann.id));
    assert_eq!(requested.dialect.as_deref(), Some("lime"));
    assert_eq!(requested.client.as_deref(), Some("192.0.2.44"));
    assert_eq!(requested.request_id.as_deref(), Some("reset-1"));
    assert_eq!(requested.detail.as_deref(), Some("mailed"));
}
