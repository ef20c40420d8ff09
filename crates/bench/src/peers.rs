//! `--peers`: a reference peer on the same machine, driven by the same load
//! generator, so that the report shows Limen ÷ peer for validation and login
//! from one run. The peer is fastapi-users (`scripts/bench-peers`): SQLite,
//! the database token strategy, argon2id at Limen's parameters, two uvicorn
//! workers (one per core, as Limen uses both).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::Method;
use tokio::process::{Child, Command};

use crate::error::BenchError;
use crate::limen_process::free_port;
use crate::load::{Call, CallSource, Client, Load};
use crate::report::Row;
use crate::scenarios::{CHEAP_CONNECTIONS, LOGIN_CONNECTIONS, measure_on, ratio, row};
use crate::seed::{HashParams, PASSWORD};

/// Users registered at the peer: each costs it an argon2id hash.
const PEER_USERS: usize = 40;

/// The peer's name in the report's store column.
const PEER: &str = "fastapi-users";

/// A running peer: uvicorn and its workers.
pub struct Peer {
    child: Child,
    address: SocketAddr,
}

impl Peer {
    /// Starts fastapi-users from `apps` (`scripts/bench-peers`) with
    /// `python`, its database in `dir`, hashing with `hash`.
    pub async fn start(python: &Path, apps: &Path, dir: &Path, hash: HashParams) -> Result<Self, BenchError> {
        let address = free_port()?;
        let database = dir.join("peer-fastapi-users.db");
        let _ = std::fs::remove_file(&database);
        let child = Command::new(python)
            .args(["-m", "uvicorn", "fastapi_users_app:app", "--app-dir"])
            .arg(apps)
            .args(["--host", "127.0.0.1", "--port", &address.port().to_string()])
            .args(["--workers", "2", "--log-level", "warning", "--no-access-log"])
            .env("PEER_DATABASE", &database)
            .env("PEER_ARGON2_MEMORY_KIB", hash.memory_kib.to_string())
            .env("PEER_ARGON2_ITERATIONS", hash.iterations.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(BenchError::io(
                "cannot start the fastapi-users peer (scripts/bench --peers installs it)",
            ))?;
        let mut peer = Self { child, address };
        peer.wait_ready().await?;
        Ok(peer)
    }

    async fn wait_ready(&mut self) -> Result<(), BenchError> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut client = Client::new(self.address);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(BenchError::Setup(format!(
                    "the peer exited during start-up: {status}"
                )));
            }
            // Unauthenticated: 401 once the app serves.
            if let Ok((401, _)) = client.call(Call::get("/users/me")).await {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(BenchError::Setup("the peer did not serve within 60 s".into()));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Stops uvicorn, which stops its workers.
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
            let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
        }
        let _ = self.child.kill().await;
    }

    /// Registers `count` users and logs each in once: their e-mail
    /// addresses and bearer tokens.
    async fn seed(&self, count: usize) -> Result<Vec<(String, String)>, BenchError> {
        let mut client = Client::new(self.address);
        let mut users = Vec::with_capacity(count);
        for n in 0..count {
            let email = format!("peer{n}@example.com");
            let register = Call::post_json(
                "/auth/register",
                &serde_json::json!({"email": email, "password": PASSWORD}),
            );
            let (status, body) = client.call(register).await?;
            if status != 201 {
                return Err(BenchError::Setup(format!(
                    "the peer refused a registration: {status} {}",
                    String::from_utf8_lossy(&body)
                )));
            }
            let (status, body) = client.call(login(&email)).await?;
            let token = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|answer| answer["access_token"].as_str().map(str::to_owned))
                .filter(|_| status == 200)
                .ok_or_else(|| BenchError::Setup(format!("the peer refused a login: {status}")))?;
            users.push((email, token));
        }
        Ok(users)
    }
}

/// fastapi-users' login: a form post of `username` and `password`.
fn login(email: &str) -> Call {
    Call {
        method: Method::POST,
        path: "/auth/login".into(),
        headers: vec![("content-type", "application/x-www-form-urlencoded".into())],
        body: Bytes::from(
            serde_urlencoded::to_string([("username", email), ("password", PASSWORD)]).unwrap_or_default(),
        ),
    }
}

/// Limen's rate in `rows` for `request` of `scenario` on SQLite at `connections`.
fn limen_rate(rows: &[Row], scenario: &str, request: &str, connections: usize) -> f64 {
    rows.iter()
        .find(|row| {
            row.scenario == scenario
                && row.request == request
                && row.store == "sqlite"
                && row.connections == connections
        })
        .map_or(0.0, |row| row.summary.requests_per_sec)
}

/// Validation and login at the peer, each row with Limen (on SQLite, as
/// the peer) ÷ peer from `limen_rows` of the same run.
pub async fn rows(
    python: &Path,
    apps: &Path,
    dir: &Path,
    hash: HashParams,
    cheap: (u64, Duration),
    logins: (u64, Duration),
    limen_rows: &[Row],
) -> Result<Vec<Row>, BenchError> {
    let peer = Peer::start(python, apps, dir, hash).await?;
    let outcome = measure(&peer, cheap, logins, limen_rows).await;
    peer.stop().await;
    outcome
}

async fn measure(
    peer: &Peer,
    cheap: (u64, Duration),
    logins: (u64, Duration),
    limen_rows: &[Row],
) -> Result<Vec<Row>, BenchError> {
    crate::progress(&format!("peer {PEER}: registering {PEER_USERS} users"));
    let users = Arc::new(peer.seed(PEER_USERS).await?);
    let mut rows = Vec::new();
    for connections in CHEAP_CONNECTIONS {
        crate::progress(&format!("peer {PEER}: validation at {connections} connections"));
        let tokens = users.clone();
        let calls: CallSource = Arc::new(move |n| {
            let (_, token) = &tokens[n as usize % tokens.len()];
            Call::get("/users/me").header("authorization", format!("Bearer {token}"))
        });
        let load = Load {
            connections,
            requests: cheap.0,
            time_bound: cheap.1,
        };
        let summary = measure_on(&[peer.address], load, calls, &[200], "peer validation").await?;
        let mut row = row("13 peer validation", "GET /users/me", PEER, connections, summary);
        let limen = limen_rate(
            limen_rows,
            "1 validation",
            "GET /authentication/user",
            connections,
        );
        row.ratio = ratio(limen, row.summary.requests_per_sec, "Limen (sqlite) ÷ peer req/s");
        rows.push(row);
    }
    for connections in LOGIN_CONNECTIONS {
        crate::progress(&format!("peer {PEER}: logins at {connections} connections"));
        let emails = users.clone();
        let calls: CallSource = Arc::new(move |n| login(&emails[n as usize % emails.len()].0));
        let load = Load {
            connections,
            requests: logins.0,
            time_bound: logins.1,
        };
        let summary = measure_on(&[peer.address], load, calls, &[200], "peer login").await?;
        let mut row = row("13 peer login", "POST /auth/login", PEER, connections, summary);
        let limen = limen_rate(limen_rows, "3 login", "POST /authentication/login", connections);
        row.ratio = ratio(limen, row.summary.requests_per_sec, "Limen (sqlite) ÷ peer req/s");
        rows.push(row);
    }
    Ok(rows)
}
