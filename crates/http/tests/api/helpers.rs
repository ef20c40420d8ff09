//! A Limen app over a fresh SQLite database, and a client for it.

use std::sync::Arc;

use actix_web::App;
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::test::{TestRequest, call_service, init_service, read_body};
use actix_web::web::Bytes;
use chrono::Duration;
use chrono::{DateTime, Utc};
use limen_crypto::{Argon2Config, Argon2Hasher, RandomTokenMint, RfcTotp, SecretKeyring};
use limen_domain::model::{Password, TokenKind, TotpParams, User};
use limen_domain::ports::{
    Clock, PasswordHasher, SecondFactorStore, TokenMint, TokenStore, TotpGenerator, UserStore,
};
use limen_domain::services::{
    AccountService, LoginPolicy, NewAccount, PasswordLogin, SessionService, TwoFactorPorts, TwoFactorService,
    TwoFactorSettings,
};
use limen_http::{AppState, HttpSettings};
use limen_store_sql::{Database, DatabaseConfig};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value;

pub const PASSWORD: &str = "correct horse battery";

/// A clock the test moves: TOTP steps and expiry without waiting.
pub struct TestClock(std::sync::Mutex<DateTime<Utc>>);

impl TestClock {
    pub fn advance(&self, seconds: i64) {
        let mut now = self.0.lock().unwrap();
        *now += Duration::seconds(seconds);
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// One app with its own database.
pub struct TestApp {
    pub state: AppState,
    pub db: Database,
    pub accounts: AccountService,
    pub sessions: Arc<SessionService>,
    pub clock: Arc<TestClock>,
    path: std::path::PathBuf,
}

/// A response, read.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {:?}", String::from_utf8_lossy(&self.body)))
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_settings(HttpSettings::default()).await
    }

    pub async fn with_settings(settings: HttpSettings) -> Self {
        let path = std::env::temp_dir().join(format!("limen-http-{}.db", uuid::Uuid::new_v4().simple()));
        let db = Database::connect(&DatabaseConfig::new(format!(
            "sqlite://{}?mode=rwc",
            path.display()
        )))
        .await
        .unwrap();
        db.migrate().await.unwrap();
        // Cheap argon2 parameters: these tests are about HTTP, not about cost.
        let hasher: Arc<dyn PasswordHasher> = Arc::new(
            Argon2Hasher::new(Argon2Config {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
                max_concurrent: 2,
                max_queue: 64,
            })
            .unwrap(),
        );
        let users: Arc<dyn UserStore> = Arc::new(db.users());
        let tokens: Arc<dyn TokenStore> = Arc::new(db.tokens());
        let factors: Arc<dyn SecondFactorStore> = Arc::new(db.second_factors());
        let mint: Arc<dyn TokenMint> = Arc::new(RandomTokenMint);
        let test_clock = Arc::new(TestClock(std::sync::Mutex::new(Utc::now())));
        let clock: Arc<dyn Clock> = test_clock.clone();
        let sessions = Arc::new(SessionService::new(
            users.clone(),
            tokens.clone(),
            mint.clone(),
            clock.clone(),
        ));
        let login = Arc::new(PasswordLogin::new(
            users.clone(),
            hasher.clone(),
            clock.clone(),
            sessions.clone(),
            factors.clone(),
            LoginPolicy::default(),
        ));
        let two_factor = Arc::new(TwoFactorService::new(
            TwoFactorPorts {
                users: users.clone(),
                factors,
                tokens: tokens.clone(),
                totp: Arc::new(RfcTotp),
                cipher: Arc::new(SecretKeyring::new(Some([9; 32]), &[])),
                mint,
                clock: clock.clone(),
                passwords: login.clone(),
                sessions: sessions.clone(),
            },
            TwoFactorSettings::default(),
        ));
        let readiness_db = db.clone();
        let state = AppState {
            login,
            sessions: sessions.clone(),
            two_factor,
            readiness: Arc::new(move || {
                let db = readiness_db.clone();
                Box::pin(async move { db.ping().await.map_err(|err| err.to_string()) })
            }),
            settings,
        };
        let accounts = AccountService::new(users, tokens, hasher, clock);
        Self {
            state,
            db,
            accounts,
            sessions,
            clock: test_clock,
            path,
        }
    }

    /// Sends one request through the full app.
    pub async fn send(&self, request: TestRequest) -> Answer {
        let app = init_service(App::new().configure(limen_http::configure(self.state.clone()))).await;
        let response = call_service(&app, request.to_request()).await;
        let status = response.status();
        let headers = response.headers().clone();
        let body = read_body(response).await;
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn add_user(&self, username: &str) -> User {
        self.accounts
            .create(NewAccount {
                username: username.into(),
                email: format!("{username}@example.com"),
                first_name: Some("Ann".into()),
                last_name: Some("Andersson".into()),
                personal_number: None,
                password: Some(Password::new(PASSWORD)),
            })
            .await
            .unwrap()
    }

    /// Logs in through the API and returns the token.
    pub async fn login(&self, username: &str) -> String {
        let answer = self
            .send(
                TestRequest::post()
                    .uri("/authentication/login")
                    .set_json(serde_json::json!({"username": username, "password": PASSWORD})),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        answer.json()["token"].as_str().unwrap().to_owned()
    }

    /// A token issued directly, valid for `ttl` (negative: already expired).
    pub async fn issue(&self, user: &User, ttl: Duration) -> String {
        self.sessions
            .issue(user.id, TokenKind::Access, ttl)
            .await
            .unwrap()
            .plaintext
    }

    /// The stored record of a token.
    pub async fn token_record(&self, plaintext: &str) -> limen_domain::model::TokenRecord {
        self.db
            .tokens()
            .find_by_hash(&RandomTokenMint.digest(plaintext))
            .await
            .unwrap()
            .unwrap()
    }

    /// The current code of a base32 TOTP key, by the test clock.
    pub fn totp_code(&self, key: &str) -> String {
        let step = u64::try_from(self.clock.now().timestamp()).unwrap() / 30;
        RfcTotp
            .code(&base32_decode(key), TotpParams::default(), step)
            .unwrap()
    }

    /// Every row of every table, as text: equal fingerprints mean nothing changed.
    pub async fn fingerprint(&self) -> String {
        let connection = self.db.connection();
        let mut out = String::new();
        for query in [
            "SELECT id, username, email, first_name, last_name, personal_number, password_hash, enabled, \
             failed_attempts, failure_window_started_at, locked_until, created_at, updated_at, last_login_at, \
             version FROM users ORDER BY id",
            "SELECT id, user_id, kind, token_hash, created_at, expires_at, last_used_at, revoked_at, attempts \
             FROM tokens ORDER BY id",
            "SELECT user_id, sealed_secret, confirmed, last_used_step FROM user_totp ORDER BY user_id",
            "SELECT id, user_id, code_hash, used_at FROM recovery_codes ORDER BY id",
        ] {
            let rows = connection
                .query_all_raw(Statement::from_string(connection.get_database_backend(), query))
                .await
                .unwrap();
            out.push_str(&format!("{rows:?}\n"));
        }
        out
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

/// The secret of a base32 TOTP key, as an authenticator app reads it.
pub fn base32_decode(text: &str) -> Vec<u8> {
    limen_crypto::base32::decode(text).unwrap_or_else(|| panic!("not base32: {text}"))
}
