//! What every administration command shares: the database opened without
//! migrating it, and its place in the audit trail, with the operator who ran
//! it and how it ended.

use limen_domain::model::{Actor, AuditContext, AuditKind};
use limen_domain::services::{Audit, AuditEntry};

use crate::config::Config;
use crate::error::CliError;
use crate::operator;
use crate::wiring::{Core, Purpose};

/// Runs `work` over the services, as the operating-system user running this
/// process: what it records names them, and the command itself is recorded
/// (`admin.command`, about `subject` when it concerns one user) once it ends.
pub async fn administer(
    config: &Config,
    subject: Option<&str>,
    work: impl AsyncFnOnce(&Core) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let context = operator_context();
    let core = Core::start(config, Purpose::Administer).await?;
    let result = context.clone().scope(work(&core)).await;
    record_command(&core.services.audit, subject, &result).await;
    core.database.close().await?;
    result
}

/// The audit context of the operator running this process.
fn operator_context() -> AuditContext {
    AuditContext {
        actor: Actor::Operator(operator::name()),
        ..AuditContext::default()
    }
}

/// Records the command this process ran, and how it ended.
pub async fn record_command(audit: &Audit, subject: Option<&str>, result: &Result<(), CliError>) {
    let outcome = match result {
        Ok(()) => "ok".to_owned(),
        Err(err) => format!("failed: {err}"),
    };
    let mut entry =
        AuditEntry::new(AuditKind::AdminCommand).detail(format!("{} -> {outcome}", operator::command_line()));
    if let Some(subject) = subject {
        entry = entry.name(subject);
    }
    operator_context().scope(audit.record(entry)).await;
}
