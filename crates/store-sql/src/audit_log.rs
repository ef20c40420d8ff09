//! The audit trail in Limen's `audit_events` table.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use limen_domain::StoreError;
use limen_domain::model::{AuditEvent, AuditKind, AuditQuery, UserId};
use limen_domain::ports::AuditLog;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::entity::audit_event;
use crate::errors::store_error;
use crate::time::{from_micros, to_micros};

/// `AuditLog` over Limen's `audit_events` table.
#[derive(Clone)]
pub struct SqlAuditLog {
    db: DatabaseConnection,
}

impl SqlAuditLog {
    /// A log over this pool.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn event(row: audit_event::Model) -> Result<AuditEvent, StoreError> {
    let kind = AuditKind::parse(&row.kind).ok_or_else(|| {
        StoreError::Unavailable(format!(
            "audit event {} has an unknown kind {:?}",
            row.id, row.kind
        ))
    })?;
    Ok(AuditEvent {
        id: Some(row.id),
        at: from_micros(row.at, "audit_events.at")?,
        kind,
        user_id: row.user_id.map(UserId),
        username: row.username,
        actor: row.actor,
        client: row.client,
        dialect: row.dialect,
        method: row.method,
        detail: row.detail,
        request_id: row.request_id,
    })
}

#[async_trait]
impl AuditLog for SqlAuditLog {
    async fn append(&self, event: &AuditEvent) -> Result<(), StoreError> {
        audit_event::ActiveModel {
            at: Set(to_micros(event.at)),
            kind: Set(event.kind.as_str().to_owned()),
            user_id: Set(event.user_id.map(|id| id.0)),
            username: Set(event.username.clone()),
            actor: Set(event.actor.clone()),
            client: Set(event.client.clone()),
            dialect: Set(event.dialect.clone()),
            method: Set(event.method.clone()),
            detail: Set(event.detail.clone()),
            request_id: Set(event.request_id.clone()),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|err| store_error("recording an audit event", err))?;
        Ok(())
    }

    async fn list(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        let mut select = audit_event::Entity::find();
        if let Some((user_id, name)) = &query.user {
            // The user's own events, and refused logins under the name, which
            // may have found no user.
            let mut about = Condition::any().add(audit_event::Column::Username.eq(name.as_str()));
            if let Some(user_id) = user_id {
                about = about.add(audit_event::Column::UserId.eq(user_id.0));
            }
            select = select.filter(about);
        }
        if let Some(since) = query.since {
            select = select.filter(audit_event::Column::At.gte(to_micros(since)));
        }
        if let Some(until) = query.until {
            select = select.filter(audit_event::Column::At.lt(to_micros(until)));
        }
        if let Some(kind) = query.kind {
            select = select.filter(audit_event::Column::Kind.eq(kind.as_str()));
        }
        if let Some((at, id)) = query.before {
            // After the previous page's last event in the order below, exact
            // even when events share a time.
            let at = to_micros(at);
            select = select.filter(
                Condition::any().add(audit_event::Column::At.lt(at)).add(
                    Condition::all()
                        .add(audit_event::Column::At.eq(at))
                        .add(audit_event::Column::Id.lt(id)),
                ),
            );
        }
        select
            .order_by_desc(audit_event::Column::At)
            .order_by_desc(audit_event::Column::Id)
            .limit(query.limit)
            .all(&self.db)
            .await
            .map_err(|err| store_error("reading audit events", err))?
            .into_iter()
            .map(event)
            .collect()
    }

    async fn purge_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        let result = audit_event::Entity::delete_many()
            .filter(audit_event::Column::At.lt(to_micros(cutoff)))
            .exec(&self.db)
            .await
            .map_err(|err| store_error("purging old audit events", err))?;
        Ok(result.rows_affected)
    }
}
