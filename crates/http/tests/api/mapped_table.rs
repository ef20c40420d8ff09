//! Users in a customer's own table (SQLite, PostgreSQL, MariaDB), reached
//! through the mapped directory: they log in through two dialects, get locked
//! and use a second factor with Limen's state in Limen's database, while the
//! table changes only where Limen may write (a rehashed password).

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use limen_domain::model::Password;
use limen_domain::ports::PasswordHasher;
use limen_mapped_sql::MappedDirectory;
use limen_mapped_sql::testing::{Customer, CustomerDb};
use serde_json::{Value, json};

use crate::flow_two_factor::enrol;
use crate::helpers::{Answer, PASSWORD, TestApp};

/// The test password, hashed by Django's PBKDF2 hasher (see the crypto
/// crate's fixtures).
const DJANGO_HASH: &str =
    "pbkdf2_sha256$1000$Escy8WZgc5mSHlKXe1ZHyG$IgWbFpl97dR0Kdb37LLtLr1ZWx3w3XKjZDZOw0M9vGQ=";

async fn app_over(db: &CustomerDb, writable: bool) -> TestApp {
    let directory = MappedDirectory::connect(db.config(writable)).await.unwrap();
    TestApp::over_directory(Arc::new(directory)).await
}

async fn flow_login(app: &TestApp, username: &str, password: &str) -> Answer {
    app.send(
        TestRequest::post()
            .uri("/authentication/login")
            .set_json(json!({"username": username, "password": password})),
    )
    .await
}

async fn lime_login(app: &TestApp, username: &str, password: &str) -> Answer {
    app.send(
        TestRequest::post()
            .uri("/login/")
            .set_json(json!({"type": "limecrm", "username": username, "password": password})),
    )
    .await
}

fn customer<'a>(login: &'a str, mail: &'a str, hash: &'a str) -> Customer<'a> {
    Customer {
        login,
        mail,
        ssn: None,
        hash: Some(hash),
        active: true,
    }
}

#[actix_web::test]
async fn customers_log_in_through_two_dialects_and_lock_without_a_write_to_their_table() {
    for db in CustomerDb::all().await {
        let app = app_over(&db, false).await;
        let hash = app.hasher.hash(&Password::new(PASSWORD)).await.unwrap();
        db.insert(&customer("Ann.Andersson", "Ann@Example.com", &hash))
            .await;
        db.insert(&Customer {
            active: false,
            ..customer("closed", "closed@example.com", &hash)
        })
        .await;
        let before = db.snapshot().await;

        let flow = flow_login(&app, "ann.andersson", PASSWORD).await;
        assert_eq!(flow.status, StatusCode::OK, "{}: {}", db.engine, flow.text());
        let lime = lime_login(&app, "ANN.ANDERSSON", PASSWORD).await;
        assert_eq!(lime.status, StatusCode::OK, "{}: {}", db.engine, lime.text());
        let user: Value = lime.json()["user"].clone();
        assert_eq!(user["email"], "ann@example.com", "{}", db.engine);
        let by_mail = flow_login(&app, "ann@example.com", PASSWORD).await;
        assert_eq!(by_mail.status, StatusCode::OK, "{}: by e-mail", db.engine);

        let closed = flow_login(&app, "closed", PASSWORD).await;
        assert_eq!(
            closed.status,
            StatusCode::UNAUTHORIZED,
            "{}: inactive in the table",
            db.engine
        );

        for attempt in 1..=5 {
            let wrong = lime_login(&app, "ann.andersson", "wrong password").await;
            // The failure that fills the count locks, and says so.
            let expected = if attempt < 5 {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(wrong.status, expected, "{}: attempt {attempt}", db.engine);
        }
        let locked = flow_login(&app, "ann.andersson", PASSWORD).await;
        assert_eq!(
            locked.status,
            StatusCode::FORBIDDEN,
            "{}: {}",
            db.engine,
            locked.text()
        );
        assert_eq!(
            db.snapshot().await,
            before,
            "{}: the table was written",
            db.engine
        );
        db.drop_database().await;
    }
}

#[actix_web::test]
async fn a_second_factor_for_a_customer_lives_in_limen_s_database() {
    for db in CustomerDb::all().await {
        let app = app_over(&db, false).await;
        let hash = app.hasher.hash(&Password::new(PASSWORD)).await.unwrap();
        db.insert(&customer("bo", "bo@example.com", &hash)).await;
        let before = db.snapshot().await;
        let (key, _) = enrol(&app, "bo").await;
        let first = flow_login(&app, "bo", PASSWORD).await;
        assert_eq!(
            first.json()["needsSecondToken"],
            true,
            "{}: {}",
            db.engine,
            first.text()
        );
        let pending = first.json()["token"].as_str().unwrap().to_owned();
        let second = app
            .send(
                TestRequest::post()
                    .uri("/authentication/2fa/validate")
                    .insert_header(("Authorization", format!("Bearer {pending}")))
                    .set_json(json!({"token": app.totp_code(&key)})),
            )
            .await;
        assert_eq!(second.status, StatusCode::OK, "{}: {}", db.engine, second.text());
        let lime = lime_login(&app, "bo", PASSWORD).await;
        assert_eq!(
            lime.status,
            StatusCode::FORBIDDEN,
            "{}: no second step in lime",
            db.engine
        );
        assert_eq!(db.snapshot().await, before, "{}", db.engine);
        db.drop_database().await;
    }
}

#[actix_web::test]
async fn an_imported_hash_is_rehashed_into_a_writable_table_only() {
    for db in CustomerDb::all().await {
        let read_only = app_over(&db, false).await;
        db.insert(&customer("carl", "carl@example.com", DJANGO_HASH))
            .await;
        let answer = flow_login(&read_only, "carl", PASSWORD).await;
        assert_eq!(answer.status, StatusCode::OK, "{}: {}", db.engine, answer.text());
        let untouched = db.snapshot().await;
        assert!(untouched[0].contains(DJANGO_HASH), "{}: {untouched:?}", db.engine);

        let writable = app_over(&db, true).await;
        let answer = flow_login(&writable, "carl", PASSWORD).await;
        assert_eq!(answer.status, StatusCode::OK, "{}: {}", db.engine, answer.text());
        let rehashed = db.snapshot().await;
        assert!(rehashed[0].contains("|$argon2id$"), "{}: {rehashed:?}", db.engine);
        assert_eq!(
            rehashed[0]
                .split('|')
                .filter(|field| !field.starts_with("$argon2id$"))
                .collect::<Vec<_>>(),
            untouched[0]
                .split('|')
                .filter(|field| *field != DJANGO_HASH)
                .collect::<Vec<_>>(),
            "{}: only the hash changed",
            db.engine
        );
        let again = flow_login(&writable, "carl", PASSWORD).await;
        assert_eq!(again.status, StatusCode::OK, "{}: the new hash works", db.engine);
        db.drop_database().await;
    }
}

/// Hashes a customer's table may hold that no login may compute: one asking
/// for 4 TiB of memory (it aborted the process), one whose one-byte digest
/// matched one password in 256 (`guess-511` matched it), one that does not
/// parse. Each is a wrong password to the client, the same answer as any, and
/// an `unusable_hash` refusal with its reason in the audit trail; nothing is
/// computed and nothing answers 500.
#[actix_web::test]
async fn unusable_hashes_in_a_customer_table_refuse_like_a_wrong_password() {
    use limen_domain::model::{AuditKind, AuditQuery};
    use limen_domain::ports::AuditLog;

    for db in CustomerDb::all().await {
        let app = app_over(&db, false).await;
        let rows = [
            (
                "huge",
                "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            ),
            ("tiny", "pbkdf2_sha256$1000$salt$AA=="),
            ("broken", "$2b$99$short"),
        ];
        for (login, hash) in rows {
            db.insert(&customer(login, &format!("{login}@example.com"), hash))
                .await;
        }
        for (login, password) in [("huge", PASSWORD), ("tiny", "guess-511"), ("broken", PASSWORD)] {
            let answer = flow_login(&app, login, password).await;
            assert_eq!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{}: {login}: {}",
                db.engine,
                answer.text()
            );
            // The answer of a name no one has, the name aside.
            let wrong = flow_login(&app, "nobody-at-all", password).await;
            assert_eq!(
                answer.text().replace(login, "NAME"),
                wrong.text().replace("nobody-at-all", "NAME"),
                "{}: {login}",
                db.engine
            );
        }
        assert_eq!(
            app.hasher.pool_stats().jobs,
            3,
            "{}: only the three unknown names' dummy hashes ran",
            db.engine
        );
        let events = app
            .db
            .audit_log()
            .list(&AuditQuery {
                limit: 100,
                ..AuditQuery::default()
            })
            .await
            .unwrap();
        let refusals: Vec<_> = events
            .iter()
            .filter(|event| event.kind == AuditKind::LoginFailed)
            .filter_map(|event| event.detail.clone())
            .filter(|detail| detail.starts_with("unusable password hash: "))
            .collect();
        assert_eq!(refusals.len(), 3, "{}: {refusals:?}", db.engine);
        assert!(
            refusals
                .iter()
                .any(|detail| detail.contains("argon2 memory 4294967295 KiB")),
            "{refusals:?}"
        );
        db.drop_database().await;
    }
}
