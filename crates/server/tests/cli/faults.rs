//! Faults survived: the test starts its own throw-away PostgreSQL cluster
//! (`initdb`/`pg_ctl` in a temporary directory, on a free port) and its own
//! `redis-server`, never the machine's shared ones, and stops them under a
//! running Limen. Every dialect then answers 503 in its own error shape within
//! the configured timeout (no hang, no 500), `/readyz` turns red, the token
//! cache stops trusting itself, and once the server is back Limen recovers
//! without a restart. A database killed during a burst of registrations and
//! logins leaves no half-written user or token.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::future::join_all;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::{Scratch, Server, free_port};

const PASSWORD: &str = "correct horse battery";

/// The PostgreSQL binaries, if installed.
fn postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop()
}

fn missing(what: &str) {
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "{what} is required when CI=true (scripts/services.sh installs it)"
    );
    eprintln!("notice: {what} not installed; skipping this fault test");
}

/// A PostgreSQL cluster of the test's own.
struct ThrowawayPostgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

impl ThrowawayPostgres {
    fn start() -> Option<Self> {
        let Some(bin) = postgres_bin() else {
            missing("PostgreSQL (initdb)");
            return None;
        };
        let dir = std::env::temp_dir().join(format!("limen-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let cluster = Self {
            bin,
            dir,
            port: free_port(),
        };
        // PostgreSQL refuses to run as root: the cluster belongs to `postgres`.
        Command::new("chown")
            .args(["-R", "postgres"])
            .arg(&cluster.dir)
            .status()
            .unwrap();
        let data = cluster.data();
        let initdb = cluster
            .as_postgres(&cluster.bin.join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            initdb.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&initdb.stderr)
        );
        cluster.up();
        Some(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn as_postgres(&self, program: &Path) -> Command {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| out.stdout.starts_with(b"0\n"));
        let mut command = if root {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        command.stdout(Stdio::null()).stderr(Stdio::piped());
        command
    }

    fn pg_ctl(&self, args: &[&str]) {
        // fsync off: a stopped server's data stays in the page cache of this
        // machine, which does not crash; synchronous commits stay on, so
        // that what Limen was told is committed survives the crash.
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let output = self
            .as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.join("log"))
            .args(["-o", &options, "-w", "-t", "60"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "pg_ctl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn up(&self) {
        self.pg_ctl(&["start"]);
    }

    /// Stops the server as a crash would (no checkpoint).
    fn crash(&self) {
        self.pg_ctl(&["stop", "-m", "immediate"]);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for ThrowawayPostgres {
    fn drop(&mut self) {
        let _ = self
            .as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.data())
            .args(["stop", "-m", "immediate"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A `redis-server` of the test's own.
struct ThrowawayRedis {
    port: u16,
    child: Option<Child>,
}

impl ThrowawayRedis {
    fn start() -> Option<Self> {
        if Command::new("redis-server").arg("--version").output().is_err() {
            missing("redis-server");
            return None;
        }
        let mut redis = Self {
            port: free_port(),
            child: None,
        };
        redis.up();
        Some(redis)
    }

    fn up(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for ThrowawayRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

fn serve(scratch: &Scratch, database: &str, extra: &[(&str, String)]) -> Server {
    let mut command = scratch.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LIMEN_DATABASE_URL", database)
        .env(
            "LIMEN_SECRETS_KEY",
            "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
        )
        .env("LIMEN_DATABASE__ACQUIRE_TIMEOUT_SECS", "2")
        .env("LIMEN_DIALECTS__GRADIDO__ALLOW_PASSWORD_VIA_JSON_REQUEST", "true")
        .env(
            "LIMEN_MAIL__OUTBOX_DIR",
            scratch.dir.join("outbox").display().to_string(),
        );
    for (name, value) in extra {
        command.env(name, value);
    }
    Server::start(command)
}

/// Migrates the throw-away database (administration commands never do) and adds ann.
fn add_ann(scratch: &Scratch, database: &str, extra: &[(&str, String)]) {
    let command = || {
        let mut command = scratch.command();
        command.env("LIMEN_DATABASE_URL", database).env(
            "LIMEN_SECRETS_KEY",
            "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
        );
        for (name, value) in extra {
            command.env(name, value);
        }
        command
    };
    let migrated = crate::helpers::run_with(command(), &["migrate"], "");
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    let output = crate::helpers::run_with(
        command(),
        &[
            "user",
            "add",
            "--username",
            "ann",
            "--email",
            "ann@example.com",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Whether a body is in a dialect's error shape.
type Shape = fn(&Value) -> bool;

/// One request of each dialect, and how to recognise its error shape.
fn requests(base: &str, token: &str) -> Vec<(&'static str, reqwest::RequestBuilder, Shape)> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    vec![
        (
            "flow validation",
            http.get(format!("{base}/authentication/user")).bearer_auth(token),
            |body| body["code"] == 503 && body["type"].is_string(),
        ),
        (
            "flow login",
            http.post(format!("{base}/authentication/login"))
                .json(&json!({"username": "ann", "password": PASSWORD})),
            |body| body["code"] == 503,
        ),
        (
            "tokens login",
            http.post(format!("{base}/auth/login"))
                .header("Accept", "application/json")
                .header(
                    "Authorization",
                    format!("Basic {}", STANDARD.encode(format!("ann:{PASSWORD}"))),
                ),
            |body| body["message"].is_string(),
        ),
        (
            "bimplus login",
            http.post(format!("{base}/v2/authorize"))
                .json(&json!({"user_id": "ann", "password": PASSWORD, "client_id": "c"})),
            |body| body["error"].is_string() && body["message"].is_string(),
        ),
        (
            "gradido login",
            http.post(format!("{base}/login_api/unsecureLogin"))
                .json(&json!({"email": "ann@example.com", "password": PASSWORD})),
            |body| body["state"] == "error",
        ),
        (
            "lime login",
            http.post(format!("{base}/login/"))
                .json(&json!({"type": "limecrm", "username": "ann", "password": PASSWORD})),
            |body| body["success"] == false && body["error"].is_string(),
        ),
    ]
}

async fn ready(base: &str) -> u16 {
    reqwest::get(format!("{base}/readyz"))
        .await
        .map_or(0, |answer| answer.status().as_u16())
}

/// Every dialect answers 503 in its shape, each within `bound`.
async fn every_dialect_answers_503(base: &str, token: &str, bound: Duration) {
    for (what, request, shaped) in requests(base, token) {
        let asked = Instant::now();
        let answer = request.send().await.unwrap();
        let took = asked.elapsed();
        let status = answer.status().as_u16();
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 503, "{what}: {body}");
        assert!(shaped(&body), "{what}: not the dialect's error shape: {body}");
        assert!(took < bound, "{what} took {took:?}, no answer should hang");
    }
}

async fn until(what: &str, check: impl AsyncFn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(Instant::now() < deadline, "{what} did not happen within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn login_token(base: &str) -> Option<String> {
    let answer = reqwest::Client::new()
        .post(format!("{base}/authentication/login"))
        .json(&json!({"username": "ann", "password": PASSWORD}))
        .send()
        .await
        .ok()?;
    let body: Value = answer.json().await.ok()?;
    body["token"].as_str().map(str::to_owned)
}

async fn validates(base: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}/authentication/user"))
        .bearer_auth(token)
        .send()
        .await
        .map_or(0, |answer| answer.status().as_u16())
}

#[tokio::test]
async fn a_database_that_goes_away_is_503_everywhere_and_limen_recovers_by_itself() {
    let Some(postgres) = ThrowawayPostgres::start() else {
        return;
    };
    let scratch = Scratch::new();
    add_ann(&scratch, &postgres.url(), &[]);
    let server = serve(&scratch, &postgres.url(), &[]);
    let token = login_token(&server.base).await.unwrap();
    // Validated three times: the second is kept, the third is the node's cache.
    for _ in 0..3 {
        assert_eq!(validates(&server.base, &token).await, 200);
    }
    assert_eq!(ready(&server.base).await, 200);

    postgres.crash();
    // The cache stops trusting itself once the channel is down: the cached
    // token is refused with 503, not accepted from memory.
    until("the cache bypassed", async || {
        validates(&server.base, &token).await == 503
    })
    .await;
    every_dialect_answers_503(&server.base, &token, Duration::from_secs(10)).await;
    assert_eq!(ready(&server.base).await, 503);
    let log = server.log.lock().unwrap().clone();
    assert!(
        !log.contains("\"status\":500") && !log.contains(" 500 "),
        "no 500 was answered"
    );

    postgres.up();
    until("ready again", async || ready(&server.base).await == 200).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while login_token(&server.base).await.is_none() {
        if Instant::now() > deadline {
            let answer = reqwest::Client::new()
                .post(format!("{}/authentication/login", server.base))
                .json(&json!({"username": "ann", "password": PASSWORD}))
                .send()
                .await
                .unwrap();
            let status = answer.status();
            panic!(
                "no login after recovery: {status} {} {}",
                answer.text().await.unwrap(),
                server
                    .log
                    .lock()
                    .unwrap()
                    .lines()
                    .filter(|l| l.contains("WARN") || l.contains("ERROR") || l.contains("status="))
                    .take(80)
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(validates(&server.base, &token).await, 200, "the token survived");
    assert!(server.terminate());
}

#[tokio::test]
async fn a_redis_that_goes_away_is_503_and_limen_recovers_by_itself() {
    let Some(postgres) = ThrowawayPostgres::start() else {
        return;
    };
    let Some(mut redis) = ThrowawayRedis::start() else {
        return;
    };
    let scratch = Scratch::new();
    let extra = [
        ("LIMEN_REDIS_URL", redis.url()),
        ("LIMEN_TOKENS__BACKEND", "redis".to_owned()),
        ("LIMEN_RATE_LIMIT__BACKEND", "redis".to_owned()),
        ("LIMEN_REDIS__TIMEOUT_SECS", "1".to_owned()),
    ];
    add_ann(&scratch, &postgres.url(), &extra);
    let server = serve(&scratch, &postgres.url(), &extra);
    let token = login_token(&server.base).await.unwrap();
    assert_eq!(validates(&server.base, &token).await, 200);
    assert_eq!(validates(&server.base, &token).await, 200);

    redis.kill();
    until("the cache bypassed", async || {
        validates(&server.base, &token).await == 503
    })
    .await;
    every_dialect_answers_503(&server.base, &token, Duration::from_secs(10)).await;
    assert_eq!(ready(&server.base).await, 503);

    redis.up();
    until("ready again", async || ready(&server.base).await == 200).await;
    let fresh = login_token(&server.base).await.expect("logins again");
    assert_eq!(validates(&server.base, &fresh).await, 200);
    assert!(server.terminate());
}

#[tokio::test]
async fn a_database_killed_during_a_burst_leaves_no_half_written_rows() {
    let Some(postgres) = ThrowawayPostgres::start() else {
        return;
    };
    let scratch = Scratch::new();
    add_ann(&scratch, &postgres.url(), &[]);
    let server = serve(
        &scratch,
        &postgres.url(),
        &[("LIMEN_PASSWORD__MAX_QUEUE_PER_ADDRESS", "0".to_owned())],
    );
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let burst = (0..60).map(|n| {
        let (http, base) = (http.clone(), server.base.clone());
        async move {
            if n % 2 == 0 {
                let _ = http
                    .post(format!("{base}/login_api/createUser"))
                    .json(&json!({"email": format!("user{n}@example.com"), "password": "123abcDE&x", "emailType": 2}))
                    .send()
                    .await;
            } else {
                let _ = http
                    .post(format!("{base}/authentication/login"))
                    .json(&json!({"username": "ann", "password": PASSWORD}))
                    .send()
                    .await;
            }
        }
    });
    let crash = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        postgres.crash();
    };
    let (_, ()) = tokio::join!(join_all(burst), crash);
    postgres.up();
    until("ready again", async || ready(&server.base).await == 200).await;
    assert!(server.terminate());

    let db = sea_orm::Database::connect(postgres.url()).await.unwrap();
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
    };
    assert_eq!(
        count("SELECT count(*) FROM users u LEFT JOIN accounts a ON a.id = u.id WHERE a.id IS NULL").await,
        0,
        "users without an account"
    );
    assert_eq!(
        count("SELECT count(*) FROM accounts a LEFT JOIN users u ON u.id = a.id WHERE a.directory = 'limen' AND u.id IS NULL").await,
        0,
        "accounts of Limen's table without a user"
    );
    assert_eq!(
        count("SELECT count(*) FROM accounts WHERE external_id LIKE 'new:%'").await,
        0,
        "reserved ids left behind"
    );
    assert_eq!(
        count("SELECT count(*) FROM tokens t LEFT JOIN accounts a ON a.id = t.user_id WHERE t.user_id <> 0 AND a.id IS NULL").await,
        0,
        "tokens of nobody"
    );
    assert!(count("SELECT count(*) FROM accounts").await >= 1);
    db.close().await.ok();
}
