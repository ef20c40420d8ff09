//! A Limen app over a fresh SQLite database, and a client for it.

use std::path::PathBuf;
use std::sync::Arc;

use actix_web::App;
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::middleware::from_fn;
use actix_web::test::{TestRequest, call_service, init_service, read_body};
use actix_web::web::Bytes;
use chrono::Duration;
use chrono::{DateTime, Utc};
use limen_bankid::simulator::{SimulatorCertificates, SimulatorScript};
use limen_bankid::{BankIdClient, BankIdClientConfig, ClientIdentity};
use limen_crypto::{Argon2Config, Argon2Hasher, Ed25519Keys, RandomTokenMint, RfcTotp, SecretKeyring};
use limen_domain::StoreError;
use limen_domain::model::{
    DirectoryCapabilities, DirectoryEntry, NewDirectoryEntry, Password, TokenKind, TotpParams, User,
};
use limen_domain::ports::{
    Clock, PasswordHasher, RateLimiter, SessionTokens, TokenMint, TotpGenerator, UserDirectory,
};
use limen_domain::services::{NewAccount, Ports, Services, Settings};
use limen_http::{AppState, HttpSettings};
use limen_mail::FileOutbox;
use limen_store_memory::MemoryRateLimiter;
use limen_store_sql::{Database, DatabaseConfig, SqlUserDirectory};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value;

pub const PASSWORD: &str = "correct horse battery";

/// Adapters some tests swap in.
#[derive(Default)]
struct Extras {
    read_only: bool,
    bankid: Option<Arc<dyn limen_domain::ports::BankIdProvider>>,
    openid: std::collections::BTreeMap<String, Arc<dyn limen_domain::ports::OpenIdProvider>>,
    payload_signers: std::collections::BTreeMap<String, Arc<dyn limen_domain::ports::PayloadSigner>>,
    directory: Option<Arc<dyn UserDirectory>>,
}

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

/// A customer's directory Limen may only read: reads go to Limen's own table,
/// which the test fills beforehand; any write fails the test.
pub struct ReadOnlyDirectory(pub SqlUserDirectory);

#[async_trait::async_trait]
impl UserDirectory for ReadOnlyDirectory {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn capabilities(&self) -> DirectoryCapabilities {
        DirectoryCapabilities::READ_ONLY
    }

    async fn find_by_id(&self, external_id: &str) -> Result<Option<DirectoryEntry>, StoreError> {
        self.0.find_by_id(external_id).await
    }

    async fn find_by_username(&self, username: &str) -> Result<Option<DirectoryEntry>, StoreError> {
        self.0.find_by_username(username).await
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<DirectoryEntry>, StoreError> {
        self.0.find_by_email(email).await
    }

    async fn find_by_personal_number(&self, number: &str) -> Result<Option<DirectoryEntry>, StoreError> {
        self.0.find_by_personal_number(number).await
    }

    async fn create(&self, _: NewDirectoryEntry) -> Result<DirectoryEntry, StoreError> {
        panic!("Limen tried to create a user in a read-only directory")
    }

    async fn set_password_hash(&self, _: &str, _: &str) -> Result<(), StoreError> {
        panic!("Limen tried to write a password hash into a read-only directory")
    }

    async fn delete(&self, _: &str) -> Result<(), StoreError> {
        panic!("Limen tried to delete a user from a read-only directory")
    }

    async fn list(&self, after: Option<String>, limit: u32) -> Result<Vec<DirectoryEntry>, StoreError> {
        self.0.list(after, limit).await
    }
}

/// One app with its own database and its own outbox folder.
pub struct TestApp {
    pub state: AppState,
    pub db: Database,
    pub services: Services,
    pub clock: Arc<TestClock>,
    pub outbox: PathBuf,
    pub hasher: Arc<Argon2Hasher>,
    read_only: bool,
    /// Kept so that the simulator serves as long as the app.
    _bankid_simulator: Option<limen_bankid::simulator::RunningSimulator>,
    path: PathBuf,
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

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_settings(HttpSettings::default()).await
    }

    pub async fn with_settings(settings: HttpSettings) -> Self {
        Self::configured(settings, Settings::default()).await
    }

    /// An app whose user directory is read-only (its users are made by the test).
    pub async fn over_read_only_directory(settings: HttpSettings) -> Self {
        Self::build(settings, Settings::default(), true).await
    }

    /// An app with these HTTP and domain settings, over a fresh SQLite file.
    pub async fn configured(settings: HttpSettings, domain: Settings) -> Self {
        Self::build(settings, domain, false).await
    }

    /// An app whose BankID is a simulator following `script`, reached over
    /// HTTPS with mutual TLS like the real service.
    pub async fn with_bankid(settings: HttpSettings, domain: Settings, script: SimulatorScript) -> Self {
        let certificates = SimulatorCertificates::generate().unwrap();
        let running = limen_bankid::simulator::start("127.0.0.1:0", script, certificates).unwrap();
        let client = BankIdClient::new(&BankIdClientConfig {
            endpoint: running.endpoint(),
            identity: ClientIdentity::Pem(running.certificates.client_identity_pem()),
            ca_pem: running.certificates.ca_pem.clone().into_bytes(),
            timeout: std::time::Duration::from_secs(10),
            retries: 0,
        })
        .unwrap();
        let mut app = Self::assemble(
            settings,
            domain,
            Extras {
                bankid: Some(Arc::new(client)),
                ..Extras::default()
            },
        )
        .await;
        app._bankid_simulator = Some(running);
        app
    }

    async fn build(settings: HttpSettings, domain: Settings, read_only: bool) -> Self {
        Self::assemble(
            settings,
            domain,
            Extras {
                read_only,
                ..Extras::default()
            },
        )
        .await
    }

    /// An app whose users come from `directory` (a customer's table).
    pub async fn over_directory(directory: Arc<dyn UserDirectory>) -> Self {
        Self::assemble(
            HttpSettings::default(),
            Settings::default(),
            Extras {
                directory: Some(directory),
                ..Extras::default()
            },
        )
        .await
    }

    /// An app with these OpenID providers (their policies in `domain.openid`)
    /// and one payload signer for every consumer.
    pub async fn with_openid(
        settings: HttpSettings,
        domain: Settings,
        providers: std::collections::BTreeMap<String, Arc<dyn limen_domain::ports::OpenIdProvider>>,
        payload_signer: Arc<dyn limen_domain::ports::PayloadSigner>,
    ) -> Self {
        let payload_signers = domain
            .openid
            .consumer_urls
            .iter()
            .map(|url| (url.clone(), payload_signer.clone()))
            .collect();
        Self::assemble(
            settings,
            domain,
            Extras {
                openid: providers,
                payload_signers,
                ..Extras::default()
            },
        )
        .await
    }

    async fn assemble(settings: HttpSettings, domain: Settings, extras: Extras) -> Self {
        let Extras {
            read_only,
            bankid,
            openid,
            payload_signers,
            directory: custom_directory,
        } = extras;
        let id = uuid::Uuid::new_v4().simple();
        let path = std::env::temp_dir().join(format!("limen-http-{id}.db"));
        let outbox = std::env::temp_dir().join(format!("limen-http-outbox-{id}"));
        let db = Database::connect(&DatabaseConfig::new(format!(
            "sqlite://{}?mode=rwc",
            path.display()
        )))
        .await
        .unwrap();
        db.migrate().await.unwrap();
        // Whole seconds, as stored times are whole microseconds: a remaining
        // lifetime then comes out exact.
        let start = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
        let clock = Arc::new(TestClock(std::sync::Mutex::new(start)));
        // Cheap argon2 parameters: these tests are about HTTP, not about cost.
        let hasher = Arc::new(
            Argon2Hasher::new(Argon2Config {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
                max_concurrent: 2,
                max_queue: 64,
                niceness: 0,
                ..Argon2Config::default()
            })
            .unwrap(),
        );
        let directory: Arc<dyn UserDirectory> = if let Some(directory) = custom_directory {
            directory
        } else if read_only {
            Arc::new(ReadOnlyDirectory(db.directory()))
        } else {
            Arc::new(db.directory())
        };
        let ports = Ports {
            directory,
            accounts: Arc::new(db.accounts()),
            tokens: Arc::new(db.tokens()),
            catalog: Arc::new(db.tokens()),
            factors: Arc::new(db.second_factors()),
            lockouts: Arc::new(db.rate_limiter()),
            throttles: Arc::new(MemoryRateLimiter::default()),
            hasher: hasher.clone(),
            mint: Arc::new(RandomTokenMint),
            clock: clock.clone(),
            totp: Arc::new(RfcTotp),
            cipher: Arc::new(SecretKeyring::new(Some([9; 32]), &[])),
            keys: Arc::new(Ed25519Keys),
            mailer: Arc::new(FileOutbox::new(&outbox, "Limen <noreply@limen.test>").unwrap()),
            bankid,
            passkeys: Arc::new(db.passkeys()),
            passkey_ceremonies: None,
            openid,
            payload_signers,
            provider_signers: std::collections::BTreeMap::new(),
            provider_retired_keys: Vec::new(),
            invalidations: Arc::new(limen_store_memory::LocalInvalidations::new()),
            audit: Arc::new(db.audit_log()),
            admin_tokens: Arc::new(db.admin_tokens()),
        };
        let services = Services::new(ports, domain);
        let readiness_db = db.clone();
        let state = AppState {
            services: services.clone(),
            readiness: Arc::new(move || {
                let db = readiness_db.clone();
                Box::pin(async move { vec![limen_http::Dependency::checked("database", db.ping().await)] })
            }),
            configuration: Arc::new(serde_json::json!({"listen": "127.0.0.1:0"})),
            settings,
            background: limen_http::Background::new(),
            login_gate: Arc::new(limen_domain::services::HashAdmission::new(8).with_total(66)),
            metrics: Arc::new(limen_http::Metrics::new()),
        };
        Self {
            state,
            db,
            services,
            clock,
            outbox,
            hasher,
            read_only,
            _bankid_simulator: None,
            path,
        }
    }

    /// Sends one request through the full app.
    pub async fn send(&self, request: TestRequest) -> Answer {
        let app = init_service(
            App::new()
                .wrap(from_fn(limen_http::audit_context))
                .wrap(from_fn(limen_http::request_id))
                .configure(limen_http::configure(self.state.clone())),
        )
        .await;
        let response = call_service(&app, request.to_request()).await;
        Self::answer(response).await
    }

    /// Sends one request to the management listener's app.
    pub async fn send_management(&self, request: TestRequest) -> Answer {
        let app =
            init_service(App::new().configure(limen_http::configure_management(self.state.clone()))).await;
        let response = call_service(&app, request.to_request()).await;
        Self::answer(response).await
    }

    async fn answer<B: actix_web::body::MessageBody>(response: actix_web::dev::ServiceResponse<B>) -> Answer {
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
        if self.read_only {
            // The customer's data, there before Limen: written past Limen.
            let entry = self
                .db
                .directory()
                .create(NewDirectoryEntry {
                    username: username.into(),
                    email: format!("{username}@example.com"),
                    first_name: Some("Ann".into()),
                    last_name: Some("Andersson".into()),
                    personal_number: None,
                    password_hash: Some(self.hasher.hash(&Password::new(PASSWORD)).await.unwrap()),
                    created_at: self.clock.now(),
                })
                .await
                .unwrap();
            return self.services.users.resolve(entry).await.unwrap();
        }
        self.services
            .accounts
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
        self.services
            .sessions
            .issue(user.id, TokenKind::Access, ttl)
            .await
            .unwrap()
            .plaintext
    }

    /// Failed attempts counted against the user's account now.
    pub async fn failures(&self, user: &User) -> u32 {
        self.db
            .rate_limiter()
            .state(&format!("account:{}", user.id))
            .await
            .unwrap()
            .map_or(0, |state| state.hits)
    }

    /// The stored record of a token.
    pub async fn token_record(&self, plaintext: &str) -> limen_domain::model::TokenRecord {
        self.db
            .tokens()
            .find(&RandomTokenMint.digest(plaintext))
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

    /// Every column of every row of every table, as text: equal fingerprints mean
    /// nothing changed. Columns are read from the schema, so a new column is
    /// covered without changing this. Counted attempts (`rate_limits`) are left
    /// out: counting a failed login is what a refused login is meant to change;
    /// so is the audit trail (`audit_events`), which records the refusal.
    pub async fn fingerprint(&self) -> String {
        let connection = self.db.connection();
        let backend = connection.get_database_backend();
        let text = |sql: String| async move {
            connection
                .query_all_raw(Statement::from_string(backend, sql))
                .await
                .unwrap()
                .iter()
                .map(|row| row.try_get_by_index::<String>(0).unwrap())
                .collect::<Vec<String>>()
        };
        let tables = text(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name NOT IN ('limen_migrations', 'rate_limits', 'audit_events') ORDER BY name"
                .into(),
        )
        .await;
        assert!(tables.len() >= 4, "the schema has tables: {tables:?}");
        let mut out = String::new();
        for table in tables {
            let columns = text(format!(
                "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
            ))
            .await;
            let row = columns
                .iter()
                .map(|column| format!("COALESCE(CAST(\"{column}\" AS TEXT), '<null>')"))
                .collect::<Vec<_>>()
                .join(" || '|' || ");
            let rows = text(format!("SELECT {row} FROM \"{table}\" ORDER BY rowid")).await;
            out.push_str(&format!("{table} ({}):\n", columns.join("|")));
            for line in rows {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    }
}

impl TestApp {
    /// The test clock's reading.
    pub fn clock_now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The messages in the outbox, oldest first.
    pub fn mails(&self) -> Vec<String> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&self.outbox)
            .map(|entries| entries.map(|entry| entry.unwrap().path()).collect())
            .unwrap_or_default();
        paths.sort();
        paths
            .iter()
            .map(|path| decode_quoted_printable(&std::fs::read_to_string(path).unwrap()))
            .collect()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
        let _ = std::fs::remove_dir_all(&self.outbox);
    }
}

/// The secret of a base32 TOTP key, as an authenticator app reads it.
pub fn base32_decode(text: &str) -> Vec<u8> {
    limen_crypto::base32::decode(text).unwrap_or_else(|| panic!("not base32: {text}"))
}

/// A message as a mail client shows it: quoted-printable soft line breaks joined
/// and `=XX` escapes decoded (headers pass through unchanged).
pub fn decode_quoted_printable(message: &str) -> String {
    let joined = message.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = (bytes[i] == b'=' && i + 2 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escape {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}
