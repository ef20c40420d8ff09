//! CPU profiles of a running Limen (`--profile`): `perf record` while one
//! phase runs, then the samples folded into stacks and drawn as a flame graph
//! with inferno (`scripts/bench --profile` installs both).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::error::BenchError;

/// Samples per second: enough for a few thousand stacks in a phase of
/// seconds, few enough that perf's own work does not change the figures much.
const FREQUENCY: &str = "499";

/// Where profiles go, and the tools that make them.
#[derive(Debug, Clone)]
pub struct Profiler {
    dir: PathBuf,
}

/// A `perf record` attached to a process, until `finish`.
pub struct Recording {
    perf: Child,
    data: PathBuf,
    name: String,
    dir: PathBuf,
}

impl Profiler {
    /// Profiles written under `out/profiles`, after checking that perf and
    /// inferno are there.
    pub fn new(out: &Path) -> Result<Self, BenchError> {
        for tool in ["perf", "inferno-collapse-perf", "inferno-flamegraph"] {
            let found = Command::new(tool)
                .arg("--help")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success());
            if !found {
                return Err(BenchError::Setup(format!(
                    "--profile needs {tool} on PATH (scripts/bench --profile installs it)"
                )));
            }
        }
        let dir = out.join("profiles");
        std::fs::create_dir_all(&dir).map_err(BenchError::io(format!("cannot create {}", dir.display())))?;
        Ok(Self { dir })
    }

    /// Starts sampling process `pid` (every thread) with call stacks; the
    /// profile is named `name`.
    pub async fn start(&self, pid: u32, name: &str) -> Result<Recording, BenchError> {
        let data = self.dir.join(format!("{name}.perf.data"));
        let perf = Command::new("perf")
            .args([
                "record",
                "--quiet",
                "-F",
                FREQUENCY,
                "--call-graph",
                "dwarf,16384",
                "-p",
            ])
            .arg(pid.to_string())
            .arg("-o")
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(BenchError::io("cannot start perf record"))?;
        // perf needs a moment to attach to every thread.
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok(Recording {
            perf,
            data,
            name: name.to_owned(),
            dir: self.dir.clone(),
        })
    }
}

impl Recording {
    /// Stops sampling and writes `<name>.folded` (one line per stack, for
    /// grep and diff) and `<name>.svg` (the flame graph); returns the SVG's path.
    pub fn finish(mut self) -> Result<PathBuf, BenchError> {
        // perf writes its file on SIGINT; kill(1) because this workspace
        // forbids the unsafe code a signal call needs.
        let _ = Command::new("kill")
            .args(["-INT", &self.perf.id().to_string()])
            .status();
        self.perf
            .wait()
            .map_err(BenchError::io("perf record did not stop"))?;
        let folded = self.dir.join(format!("{}.folded", self.name));
        let svg = self.dir.join(format!("{}.svg", self.name));
        let script = format!(
            "perf script -i '{data}' 2>/dev/null | inferno-collapse-perf > '{folded}' && inferno-flamegraph --title '{title}' < '{folded}' > '{svg}'",
            data = self.data.display(),
            folded = folded.display(),
            title = self.name,
            svg = svg.display(),
        );
        let status = Command::new("sh")
            .args(["-c", &script])
            .status()
            .map_err(BenchError::io("cannot run sh"))?;
        if !status.success() {
            return Err(BenchError::Setup(format!(
                "could not fold {} into a flame graph ({status})",
                self.data.display()
            )));
        }
        // The raw samples are hundreds of MiB with stacks; the folded file keeps what is read.
        let _ = std::fs::remove_file(&self.data);
        Ok(svg)
    }
}
