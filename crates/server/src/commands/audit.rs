//! `limen audit`: the trail of security events.

use chrono::{SecondsFormat, Utc};
use limen_domain::model::{AuditEvent, AuditQuery, normalize_identifier};
use limen_domain::ports::AuditLog;

use crate::cli::AuditArgs;
use crate::config::Config;
use crate::error::CliError;
use crate::output::say;
use crate::wiring::{Core, Purpose};

/// Prints the events `args` ask for, newest first.
pub async fn run(config: &Config, args: AuditArgs) -> Result<(), CliError> {
    let core = Core::start(config, Purpose::Administer).await?;
    let user = match &args.user {
        None => None,
        // A name no user has still finds the failed logins under it.
        Some(name) => {
            let found = core.services.users.by_username(name).await?;
            Some((found.map(|user| user.id), normalize_identifier(name)))
        }
    };
    let query = AuditQuery {
        user,
        since: args.since.map(|ago| Utc::now() - ago),
        limit: args.limit,
        ..AuditQuery::default()
    };
    let events = core.database.audit_log().list(&query).await?;
    for event in &events {
        if args.json {
            say!("{}", event_json(event));
        } else {
            say!("{}", event_line(event));
        }
    }
    core.database.close().await?;
    Ok(())
}

fn event_json(event: &AuditEvent) -> serde_json::Value {
    serde_json::json!({
        "at": event.at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "kind": event.kind.as_str(),
        "user_id": event.user_id.map(|id| id.0),
        "username": event.username,
        "actor": event.actor,
        "client": event.client,
        "dialect": event.dialect,
        "method": event.method,
        "detail": event.detail,
        "request_id": event.request_id,
    })
}

fn event_line(event: &AuditEvent) -> String {
    let or_dash = |value: Option<&str>| value.unwrap_or("-").to_owned();
    let user = match (&event.username, event.user_id) {
        (Some(name), Some(id)) => format!("{name}#{id}"),
        (Some(name), None) => name.clone(),
        (None, Some(id)) => format!("#{id}"),
        (None, None) => "-".into(),
    };
    format!(
        "{}  {:<28} {:<20} {:<16} {:<15} {:<8} {:<13} {}",
        event.at.to_rfc3339_opts(SecondsFormat::Secs, true),
        event.kind.as_str(),
        user,
        event.actor,
        or_dash(event.client.as_deref()),
        or_dash(event.dialect.as_deref()),
        or_dash(event.method.as_deref()),
        or_dash(event.detail.as_deref()),
    )
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use limen_domain::model::{AuditKind, UserId};

    use super::*;

    #[test]
    fn a_line_shows_every_field_and_a_dash_for_what_is_missing() {
        let event = AuditEvent {
            id: None,
            at: Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap(),
            kind: AuditKind::LoginFailed,
            user_id: Some(UserId(7)),
            username: Some("ann".into()),
            actor: "request".into(),
            client: Some("192.0.2.7".into()),
            dialect: Some("flow".into()),
            method: Some("password".into()),
            detail: Some("wrong_credentials".into()),
            request_id: None,
        };
        let line = event_line(&event);
        assert!(line.starts_with("2026-11-30T12:00:00Z  login.failed"), "{line}");
        for part in [
            "ann#7",
            "request",
            "192.0.2.7",
            "flow",
            "password",
            "wrong_credentials",
        ] {
            assert!(line.contains(part), "{part} in {line}");
        }
        let json = event_json(&AuditEvent {
            client: None,
            ..event
        });
        assert_eq!(json["client"], serde_json::Value::Null);
        assert_eq!(json["at"], "2026-11-30T12:00:00.000000Z");
    }
}
