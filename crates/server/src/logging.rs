//! Log output on stderr: text or JSON lines, filtered by `log_level` or
//! `RUST_LOG`; and, while serving, the audit trail's lines, always JSON and
//! never filtered away. In both forms a value that came from a client cannot
//! start a line of its own: JSON escapes it, and the text form's fields are
//! written by `EscapedFields`.

use std::fmt::Write as _;
use std::io::IsTerminal;

use limen_domain::services::AUDIT_TARGET;
use tracing::Level;
use tracing::field::{Field, Visit};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::filter::{Targets, filter_fn};
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::Writer;
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
        LogFormat::Text => lines.fmt_fields(EscapedFields).boxed(),
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

/// The text form's fields, as `tracing-subscriber` writes them (`message
/// name=value ...`, strings quoted), but with every control character of a
/// value shown escaped: a client's `%0A` in a query string, or an escape
/// sequence meant for a terminal, never reaches the log raw.
struct EscapedFields;

impl<'writer> FormatFields<'writer> for EscapedFields {
    fn format_fields<R: RecordFields>(&self, mut writer: Writer<'writer>, fields: R) -> std::fmt::Result {
        let mut visitor = Escaping {
            writer: &mut writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

/// Writes each field of one event or span, escaped.
struct Escaping<'a, 'writer> {
    writer: &'a mut Writer<'writer>,
    first: bool,
    result: std::fmt::Result,
}

impl Visit for Escaping<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.record_debug(field, &format_args!("{value}"));
        } else {
            self.record_debug(field, &value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if self.result.is_err() {
            return;
        }
        let mut text = String::new();
        if !self.first {
            text.push(' ');
        }
        self.first = false;
        if field.name() != "message" {
            text.push_str(field.name().trim_start_matches("r#"));
            text.push('=');
        }
        let value = format!("{value:?}");
        escape_into(&mut text, &value);
        self.result = self.writer.write_str(&text);
    }
}

/// `value` with line breaks, tabs and every other control character (escape
/// sequences included) written as `\n`, `\r`, `\t` or `\u{..}`.
fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Lines written through a text layer with `EscapedFields`.
    fn logged(emit: impl FnOnce()) -> String {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let layer = fmt::layer()
            .with_ansi(false)
            .fmt_fields(EscapedFields)
            .with_writer(move || Sink(sink.clone()));
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, emit);
        let bytes = buffer.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_client_s_line_break_never_starts_a_line_of_its_own() {
        let forged = "access_denied\n2026-12-07T03:00:00.000000Z  INFO limen: admin logged in\r\x1b[2J";
        let text = logged(|| {
            let span = tracing::info_span!("request", route = %forged);
            let _inside = span.enter();
            tracing::info!(error = %forged, description = forged, "provider said {forged}");
        });
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains("error=access_denied\\n2026-12-07"), "{text}");
        assert!(text.contains("\\r\\u{1b}[2J"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(
            text.contains("description=\"access_denied\\n"),
            "strings stay quoted: {text}"
        );
    }

    #[test]
    fn ordinary_fields_read_as_before() {
        let text = logged(|| tracing::info!(user_id = 7, ok = true, name = "ann", "login"));
        assert!(
            text.trim_end().ends_with("login user_id=7 ok=true name=\"ann\""),
            "{text}"
        );
    }
}
