//! Runs the built binary in a scratch directory of its own.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A scratch directory with its own SQLite database.
pub struct Scratch {
    pub dir: PathBuf,
}

impl Scratch {
    /// A directory with a migrated SQLite database, as an installation has
    /// once `limen migrate` (or `serve`) ran: administration commands never migrate.
    pub fn new() -> Self {
        let scratch = Self::empty();
        scratch.ok(&["migrate"], "");
        scratch
    }

    /// A directory whose database does not exist yet.
    pub fn empty() -> Self {
        let dir = std::env::temp_dir().join(format!("limen-cli-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir }
    }

    pub fn database_url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.dir.join("test.db").display())
    }

    /// `limen` with cheap argon2 parameters and this directory's database, and
    /// no configuration inherited from the calling environment.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_limen"));
        for (name, _) in std::env::vars() {
            if name.starts_with("LIMEN_") {
                command.env_remove(name);
            }
        }
        command
            .current_dir(&self.dir)
            .env("LIMEN_DATABASE_URL", self.database_url())
            .env("LIMEN_PASSWORD__MEMORY_KIB", "64")
            .env("LIMEN_PASSWORD__ITERATIONS", "1")
            .env("RUST_LOG", "warn");
        command
    }

    /// Runs `limen ARGS` with `stdin` as standard input.
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        run_with(self.command(), args, stdin)
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str], stdin: &str) -> String {
        let output = self.run(args, stdin);
        assert!(
            output.status.success(),
            "limen {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs with extra environment variables and expects success; returns stdout.
    pub fn ok_with(&self, env: &[(&str, &str)], args: &[&str], stdin: &str) -> String {
        let mut command = self.command();
        for (name, value) in env {
            command.env(name, value);
        }
        let output = run_with(command, args, stdin);
        assert!(
            output.status.success(),
            "limen {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// `limen user add` of `username` at `email` with `password`.
    pub fn add_user(&self, username: &str, email: &str, password: &str) {
        self.ok(
            &[
                "user",
                "add",
                "--username",
                username,
                "--email",
                email,
                "--password-stdin",
            ],
            &format!("{password}\n"),
        );
    }

    /// `add_user` with a Swedish personal number (a BankID user).
    pub fn add_bankid_user(&self, username: &str, email: &str, personal_number: &str, password: &str) {
        self.ok(
            &[
                "user",
                "add",
                "--username",
                username,
                "--email",
                email,
                "--personal-number",
                personal_number,
                "--password-stdin",
            ],
            &format!("{password}\n"),
        );
    }

    /// Runs and expects failure; returns stderr.
    pub fn fails(&self, args: &[&str], stdin: &str) -> String {
        let output = self.run(args, stdin);
        assert!(!output.status.success(), "limen {args:?} succeeded");
        String::from_utf8(output.stderr).unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn run_with(mut command: Command, args: &[&str], stdin: &str) -> Output {
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// Whether the test Python imports `modules` (`import a, b`); a notice
/// without them, and a failure under `CI=true` (scripts/services.sh installs
/// what the tests need).
pub fn python_has(modules: &str, what: &str) -> bool {
    let available = python()
        .args(["-c", &format!("import {modules}")])
        .status()
        .is_ok_and(|status| status.success());
    if !available {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "{what} is required when CI=true (scripts/services.sh installs it)"
        );
        eprintln!("NOTICE: {what} is missing (scripts/services.sh installs it); test skipped");
    }
    available
}

/// The Python with the test tools: `LIMEN_PYTHON` (the virtual environment
/// `scripts/services.sh` makes under target/), or `python3`.
pub fn python() -> Command {
    Command::new(std::env::var_os("LIMEN_PYTHON").unwrap_or_else(|| "python3".into()))
}

/// A running `limen serve`.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// The management listener's base URL (metrics, health).
    pub management: String,
    pub log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    /// Starts `command` with a management listener on a port of its own
    /// (unless the command names one) and waits for both to be announced.
    pub fn start(mut command: Command) -> Self {
        let names_management = command
            .get_envs()
            .any(|(name, _)| name == "LIMEN_MANAGEMENT__LISTEN");
        if !names_management {
            command.env("LIMEN_MANAGEMENT__LISTEN", "127.0.0.1:0");
        }
        let mut child = command
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                for (marker, main) in [("listening on ", true), ("management listener at ", false)] {
                    if let Some(rest) = line.split(marker).nth(1) {
                        let address: String = rest
                            .chars()
                            .take_while(|c| !c.is_whitespace() && *c != '"')
                            .collect();
                        let _ = sender.send((main, address));
                    }
                }
                sink.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        let mut base = None;
        let mut management = None;
        // The management listener is announced first, when there is one.
        while base.is_none() {
            let (main, address) = receiver
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("server did not start: {}", log.lock().unwrap()));
            if main {
                base = Some(address);
            } else {
                management = Some(address);
            }
        }
        Self {
            child,
            base: base.unwrap(),
            management: management.unwrap_or_default(),
            log,
        }
    }

    /// Sends SIGTERM and waits for the exit; returns whether it exited 0.
    pub fn terminate(mut self) -> bool {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.success();
            }
            assert!(Instant::now() < deadline, "server did not stop after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

pub fn exists(path: &Path) -> bool {
    path.exists()
}

/// POSTs `body` as JSON and returns the JSON answer, whatever its status.
pub async fn post_json(url: &str, body: &serde_json::Value) -> serde_json::Value {
    reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A free port on 127.0.0.1 (free when asked; the caller binds it next).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A real SMTP server (`scripts/smtp_sink.py`) keeping what it receives in a
/// folder; `None`, with a notice, where Python's aiosmtpd is missing (never
/// under `CI=true`).
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl SmtpSink {
    pub fn start() -> Option<Self> {
        let available = python()
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !available {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "aiosmtpd is required when CI=true (scripts/test installs it)"
            );
            eprintln!("notice: Python's aiosmtpd is missing; skipping this e-mail test");
            return None;
        }
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("limen-cli-smtp-{}", uuid::Uuid::new_v4().simple()));
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/smtp_sink.py");
        let mut child = python()
            .arg(script)
            .args(["--port", &port.to_string()])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready");
        Some(Self { child, port, dir })
    }

    /// The messages received so far, decoded as a mail client shows them.
    pub fn messages(&self) -> Vec<String> {
        std::fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .map(|entry| entry.unwrap().path())
                    .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
                    .map(|path| std::fs::read_to_string(path).unwrap())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A throw-away database on the PostgreSQL server `LIMEN_TEST_POSTGRES_URL`
/// names; `None`, with a notice, without one (never under `CI=true`).
pub struct Postgres {
    pub url: String,
    admin: String,
    name: String,
}

impl Postgres {
    pub async fn create() -> Option<Self> {
        let admin = match std::env::var("LIMEN_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "LIMEN_TEST_POSTGRES_URL must be set when CI=true"
                );
                eprintln!("notice: LIMEN_TEST_POSTGRES_URL is not set; skipping this PostgreSQL test");
                return None;
            }
        };
        let name = format!("limen_test_{}", uuid::Uuid::new_v4().simple());
        let connection = sea_orm::Database::connect(admin.as_str()).await.unwrap();
        sea_orm::ConnectionTrait::execute_unprepared(&connection, &format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        connection.close().await.unwrap();
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(base, _)| base);
        let url = format!("{base}/{name}");
        // Migrated, as `limen migrate` leaves it: administration commands never migrate.
        let database = limen_store_sql::Database::connect(&limen_store_sql::DatabaseConfig::new(url.clone()))
            .await
            .unwrap();
        database.migrate().await.unwrap();
        database.close().await.unwrap();
        Some(Self { url, admin, name })
    }

    pub async fn drop_database(self) {
        if let Ok(connection) = sea_orm::Database::connect(self.admin.as_str()).await {
            let _ = sea_orm::ConnectionTrait::execute_unprepared(
                &connection,
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            )
            .await;
            let _ = connection.close().await;
        }
    }
}
