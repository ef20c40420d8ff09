use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::model::{AuditEvent, AuditQuery};

/// Where security events are kept: Limen's own database, whatever the user
/// directory or token store, so that one place holds every node's trail.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Keeps `event`.
    async fn append(&self, event: &AuditEvent) -> Result<(), StoreError>;

    /// The newest events matching `query`, newest first.
    async fn list(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError>;

    /// Deletes the events older than `cutoff`; returns how many.
    async fn purge_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError>;
}
