//! The run's figures: a Markdown table on stdout, raw JSON and a PNG chart of
//! latency percentiles under the output directory.

use std::path::Path;

use plotters::prelude::*;
use serde::Serialize;

use crate::error::BenchError;
use crate::seed::HashParams;
use crate::stats::{PERCENTILES, Summary};

/// One measured run.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Scenario number and name, as in docs/performance.md.
    pub scenario: String,
    /// The request measured.
    pub request: String,
    /// `sqlite`, `postgres`, or `-` where no store is involved.
    pub store: String,
    /// Concurrent connections.
    pub connections: usize,
    /// What came back.
    pub summary: Summary,
    /// A figure relative to a reference measured in the same run, and what it is.
    pub ratio: Option<Ratio>,
    /// Anything a reader needs to interpret the row.
    pub note: String,
    /// Whether the chart shows this row.
    pub charted: bool,
}

/// A ratio with its meaning ("of baseline req/s").
#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    /// The value.
    pub value: f64,
    /// What was divided by what.
    pub meaning: String,
}

/// A resident-memory reading of the server.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryReading {
    /// When it was taken.
    pub when: String,
    /// Resident set size, MiB.
    pub resident_mib: f64,
}

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Start of the run, RFC 3339.
    pub started_at: String,
    /// Cores the machine offers.
    pub cores: usize,
    /// Whether this was the short smoke run (`--quick`).
    pub quick: bool,
    /// argon2id parameters of the server and of the raw rate.
    pub hash_params: HashParams,
    /// Raw argon2id verifications per second on all cores.
    pub argon2_verifications_per_sec: f64,
    /// Measured runs, in order.
    pub rows: Vec<Row>,
    /// Memory readings.
    pub memory: Vec<MemoryReading>,
    /// Scenarios left out, and why.
    pub skipped: Vec<String>,
    /// Extra environment of every server (`--server-env`), as NAME=VALUE.
    pub server_env: Vec<String>,
}

impl Report {
    /// The Markdown rendering printed at the end of a run.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "Limen benchmark, {} ({} cores{}); argon2id m={} KiB t={} p={}: raw rate {:.1} verifications/s on all cores\n\n",
            self.started_at,
            self.cores,
            if self.quick {
                ", quick smoke run: figures are not meaningful"
            } else {
                ""
            },
            self.hash_params.memory_kib,
            self.hash_params.iterations,
            self.hash_params.parallelism,
            self.argon2_verifications_per_sec,
        );
        if !self.server_env.is_empty() {
            out.push_str(&format!("Server environment: {}\n\n", self.server_env.join(" ")));
        }
        out.push_str("| scenario | request | store | conns | answers | req/s | p50 ms | p95 ms | p99 ms | ratio | notes |\n");
        out.push_str("|---|---|---|---:|---:|---:|---:|---:|---:|---|---|\n");
        for row in &self.rows {
            let s = &row.summary;
            let ratio = row
                .ratio
                .as_ref()
                .map_or(String::new(), |r| format!("{:.2} {}", r.value, r.meaning));
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {} |\n",
                row.scenario,
                row.request,
                row.store,
                row.connections,
                statuses(s),
                s.requests_per_sec,
                s.ms(50.0),
                s.ms(95.0),
                s.ms(99.0),
                ratio,
                row.note
            ));
        }
        out.push_str("\n| memory | resident MiB |\n|---|---:|\n");
        for reading in &self.memory {
            out.push_str(&format!("| {} | {:.1} |\n", reading.when, reading.resident_mib));
        }
        for skipped in &self.skipped {
            out.push_str(&format!("\nskipped: {skipped}\n"));
        }
        out
    }

    /// Writes `report.json`, `report.md` and `latency.png` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), BenchError> {
        std::fs::create_dir_all(dir).map_err(BenchError::io(format!("cannot create {}", dir.display())))?;
        let json = serde_json::to_string_pretty(self)
            .map_err(|err| BenchError::Setup(format!("cannot render the report: {err}")))?;
        let write = |name: &str, content: &str| {
            let path = dir.join(name);
            std::fs::write(&path, content).map_err(BenchError::io(format!("cannot write {}", path.display())))
        };
        write("report.json", &json)?;
        write("report.md", &self.markdown())?;
        self.chart(&dir.join("latency.png"))
    }

    fn chart(&self, path: &Path) -> Result<(), BenchError> {
        register_font()?;
        let rows: Vec<&Row> = self.rows.iter().filter(|row| row.charted).collect();
        let values = rows
            .iter()
            .flat_map(|row| row.summary.percentiles_ms.iter().map(|(_, ms)| *ms));
        let (low, high) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let (low, high) = if low <= high {
            (low.max(0.01) / 1.5, high * 1.5)
        } else {
            (0.01, 1.0)
        };
        let failed =
            |err: &dyn std::fmt::Display| BenchError::Setup(format!("cannot draw {}: {err}", path.display()));
        let root = BitMapBackend::new(path, (1100, 700)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| failed(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Limen latency percentiles (log scale)", ("sans-serif", 24))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.2f64..(PERCENTILES.len() as f64 - 0.8), (low..high).log_scale())
            .map_err(|e| failed(&e))?;
        chart
            .configure_mesh()
            .x_labels(PERCENTILES.len())
            .x_label_formatter(&|x| {
                let index = x.round() as usize;
                PERCENTILES.get(index).map_or(String::new(), |p| format!("p{p}"))
            })
            .y_desc("milliseconds")
            .y_label_formatter(&|ms| format!("{ms:.2}"))
            .draw()
            .map_err(|e| failed(&e))?;
        for (index, row) in rows.iter().enumerate() {
            let color = Palette99::pick(index).to_rgba();
            let points: Vec<(f64, f64)> = row
                .summary
                .percentiles_ms
                .iter()
                .enumerate()
                .map(|(i, (_, ms))| (i as f64, ms.max(low)))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(|e| failed(&e))?
                .label(format!(
                    "{}: {} {} ({} conns)",
                    row.scenario, row.request, row.store, row.connections
                ))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
            chart
                .draw_series(
                    points
                        .into_iter()
                        .map(|point| Circle::new(point, 3, color.filled())),
                )
                .map_err(|e| failed(&e))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| failed(&e))?;
        root.present().map_err(|e| failed(&e))
    }
}

/// `200×1000` or `200×900 503×100`, plus broken connections.
fn statuses(summary: &Summary) -> String {
    let mut parts: Vec<String> = summary
        .statuses
        .iter()
        .map(|(status, count)| format!("{status}×{count}"))
        .collect();
    if summary.transport_errors > 0 {
        parts.push(format!("broken×{}", summary.transport_errors));
    }
    parts.join(" ")
}

/// plotters draws text with a font it is given; DejaVu Sans is on most Linux machines.
fn register_font() -> Result<(), BenchError> {
    const CANDIDATES: [&str; 3] = [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    ];
    let bytes = CANDIDATES
        .iter()
        .find_map(|path| std::fs::read(path).ok())
        .ok_or_else(|| {
            BenchError::Setup(format!(
                "no DejaVu Sans font for the chart (looked at {}); install fonts-dejavu-core",
                CANDIDATES.join(", ")
            ))
        })?;
    plotters::style::register_font(
        "sans-serif",
        FontStyle::Normal,
        Box::leak(bytes.into_boxed_slice()),
    )
    .map_err(|_| BenchError::Setup("the DejaVu Sans font file is not a usable font".into()))
}
