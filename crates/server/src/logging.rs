//! Log output on stderr: text or JSON lines, filtered by `log_level` or
//! `RUST_LOG`; and, while serving, the audit trail's lines, always JSON and
//! never filtered away.

use std::io::IsTerminal;

use limen_domain::services::AUDIT_TARGET;
use tracing::Level;
use tracing_subscriber::filter::{Targets, filter_fn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

use crate::config::{Config, LogFormat};

/// Installs the global subscriber. Administration commands log only warnings
/// unless `RUST_LOG` asks for more, so their output stays readable; their
/// audit events go to the database only.
pub fn init(config: &Config, serving: bool) {
    let default_level = if serving {
        config.log_level.as_str()
    } else {
        "warn"
    };
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(default_level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::stderr().is_terminal();
    let lines = fmt::layer().with_ansi(ansi).with_writer(std::io::stderr);
    let lines = match config.log_format {
        LogFormat::Text => lines.boxed(),
        LogFormat::Json => lines.json().flatten_event(true).boxed(),
    }
    .with_filter(filter)
    .with_filter(filter_fn(|metadata| metadata.target() != AUDIT_TARGET));
    // One flat JSON object per event, whatever `log_format` says, so that a
    // log shipper can pick the trail out by its target.
    let audit = serving.then(|| {
        fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_ansi(false)
            .with_writer(std::io::stderr)
            .with_filter(Targets::new().with_target(AUDIT_TARGET, Level::INFO))
    });
    let _ = tracing_subscriber::registry().with(lines).with(audit).try_init();
}
