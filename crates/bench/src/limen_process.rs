//! A Limen server under test: a child process on a free loopback port.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::error::BenchError;
use crate::load::Call;

/// A running `limen serve`, stopped (SIGTERM, then SIGKILL) by `stop` or on drop.
pub struct LimenProcess {
    child: Child,
    /// Where it listens.
    pub address: SocketAddr,
}

impl LimenProcess {
    /// Starts `binary serve` on `database_url` with `settings` as `LIMEN_*`
    /// variables, and waits until `/readyz` answers 200.
    pub async fn start(
        binary: &Path,
        database_url: &str,
        settings: &[(&str, String)],
    ) -> Result<Self, BenchError> {
        Self::start_at(binary, database_url, settings, free_port()?).await
    }

    /// `start`, listening on `address` (a scenario whose settings name it).
    pub async fn start_at(
        binary: &Path,
        database_url: &str,
        settings: &[(&str, String)],
        address: std::net::SocketAddr,
    ) -> Result<Self, BenchError> {
        let mut command = Command::new(binary);
        command
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("LIMEN_LISTEN", address.to_string())
            .env("LIMEN_DATABASE_URL", database_url)
            // Shed logins are logged at warn, one line each: a storm would bury the report.
            .env("LIMEN_LOG_LEVEL", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (key, value) in settings {
            command.env(key, value);
        }
        let child = command
            .spawn()
            .map_err(BenchError::io(format!("cannot start {}", binary.display())))?;
        let mut process = Self { child, address };
        process.wait_ready().await?;
        Ok(process)
    }

    async fn wait_ready(&mut self) -> Result<(), BenchError> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(BenchError::Setup(format!(
                    "limen exited during start-up: {status}"
                )));
            }
            let probe = crate::load::drive(
                self.address,
                crate::load::Load {
                    connections: 1,
                    requests: 1,
                    time_bound: Duration::from_secs(2),
                },
                std::sync::Arc::new(|_| Call::get("/readyz")),
            )
            .await;
            if probe.count(200) == 1 {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(BenchError::Setup("limen did not become ready within 60 s".into()));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The process's resident memory, MiB (Linux `/proc`).
    pub fn resident_mib(&self) -> Result<f64, BenchError> {
        let pid = self
            .child
            .id()
            .ok_or_else(|| BenchError::Setup("limen has exited".into()))?;
        resident_mib(pid)
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Asks for a graceful shutdown and waits for it (at most 30 s).
    pub async fn stop(mut self) -> Result<(), BenchError> {
        if let Some(pid) = self.child.id() {
            // No signal API without unsafe code in this workspace; kill(1) will do.
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(Ok(_)) => Ok(()),
            _ => {
                let _ = self.child.kill().await;
                Err(BenchError::Setup(
                    "limen did not shut down within 30 s of SIGTERM".into(),
                ))
            }
        }
    }
}

/// Resident set size of process `pid`, MiB.
pub fn resident_mib(pid: u32) -> Result<f64, BenchError> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(BenchError::io(format!("cannot read /proc/{pid}/status")))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kib| kib / 1024.0)
        .ok_or_else(|| BenchError::Setup(format!("no VmRSS in /proc/{pid}/status")))
}

/// A loopback address nobody listens on right now.
/// A port nothing listens on now.
pub fn free_port() -> Result<SocketAddr, BenchError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(BenchError::io("cannot find a free port"))?;
    listener
        .local_addr()
        .map_err(BenchError::io("cannot find a free port"))
}

/// The `limen` binary next to this one (both are built into the same target directory).
pub fn sibling_binary() -> Option<PathBuf> {
    let here = std::env::current_exe().ok()?;
    let candidate = here.parent()?.join("limen");
    candidate.exists().then_some(candidate)
}
