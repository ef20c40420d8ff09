//! Invalidations between processes on databases without notifications
//! (SQLite, MySQL/MariaDB): a change is a row of `invalidations`, and every
//! process reads the rows newer than the last it saw, a few times a second.
//! One SQLite node hears its own administration commands this way too. While
//! reading fails the channel is down: the cache is flushed and not trusted.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use limen_domain::StoreError;
use limen_domain::model::Invalidation;
use limen_domain::ports::{ChannelListeners, InvalidationListener, Invalidations};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::entity::invalidation;
use crate::errors::store_error;
use crate::time::to_micros;

/// How long rows are kept: longer than any process pauses between reads.
const KEEP: chrono::Duration = chrono::Duration::minutes(10);

/// How far back each read looks again, for rows whose ids were handed out
/// before a later one but committed after it (MySQL's auto-increment).
const LOOK_BACK: i64 = 64;

/// `Invalidations` by reading a table; the reading task ends with it.
pub struct PolledInvalidations {
    db: DatabaseConnection,
    shared: Arc<ChannelListeners>,
    task: tokio::task::JoinHandle<()>,
}

impl PolledInvalidations {
    /// Starts reading new rows every `interval`.
    pub fn start(db: DatabaseConnection, interval: Duration) -> Self {
        let shared = Arc::new(ChannelListeners::default());
        let task = tokio::spawn(poll(db.clone(), shared.clone(), interval));
        Self { db, shared, task }
    }
}

impl Drop for PolledInvalidations {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn newest_id(db: &DatabaseConnection) -> Result<i64, sea_orm::DbErr> {
    Ok(invalidation::Entity::find()
        .order_by_desc(invalidation::Column::Id)
        .one(db)
        .await?
        .map_or(0, |row| row.id))
}

async fn poll(db: DatabaseConnection, shared: Arc<ChannelListeners>, interval: Duration) {
    // Changes from before this process started concern no cache of it.
    let mut seen_up_to = None;
    let mut recent: BTreeSet<i64> = BTreeSet::new();
    let mut reads: u64 = 0;
    loop {
        let read = async {
            let cursor = match seen_up_to {
                Some(cursor) => cursor,
                None => newest_id(&db).await?,
            };
            let rows = invalidation::Entity::find()
                .filter(invalidation::Column::Id.gt(cursor - LOOK_BACK))
                .order_by_asc(invalidation::Column::Id)
                .limit(1_000)
                .all(&db)
                .await?;
            Ok::<_, sea_orm::DbErr>((cursor, rows))
        }
        .await;
        match read {
            Ok((cursor, rows)) => {
                if !shared.is_live() {
                    // Whatever was said while reads failed is unknown: `came_back` flushes.
                    shared.came_back();
                }
                let mut newest = cursor;
                for row in rows {
                    newest = newest.max(row.id);
                    if row.id > cursor - LOOK_BACK
                        && recent.insert(row.id)
                        && (row.id > cursor || seen_up_to.is_some())
                        && let Some(change) = Invalidation::decode(&row.change)
                    {
                        shared.deliver(&change);
                    }
                }
                seen_up_to = Some(newest);
                recent = recent.split_off(&(newest - LOOK_BACK));
            }
            Err(err) => {
                if shared.went_down() {
                    tracing::warn!(error = %err, "cannot read invalidations; the token cache is not used until reads work again");
                }
            }
        }
        reads += 1;
        if reads.is_multiple_of(240) {
            let old = to_micros(chrono::Utc::now() - KEEP);
            if let Err(err) = invalidation::Entity::delete_many()
                .filter(invalidation::Column::CreatedAt.lt(old))
                .exec(&db)
                .await
            {
                tracing::debug!(error = %err, "cannot remove old invalidations");
            }
        }
        tokio::time::sleep(interval).await;
    }
}

#[async_trait]
impl Invalidations for PolledInvalidations {
    async fn publish(&self, change: Invalidation) -> Result<(), StoreError> {
        invalidation::ActiveModel {
            change: Set(change.encode()),
            created_at: Set(to_micros(chrono::Utc::now())),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map(|_| ())
        .map_err(|err| store_error("publishing an invalidation", err))
    }

    fn subscribe(&self, listener: InvalidationListener) {
        self.shared.subscribe(listener);
    }

    fn is_live(&self) -> bool {
        self.shared.is_live()
    }
}
