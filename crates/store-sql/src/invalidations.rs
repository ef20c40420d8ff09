//! Invalidations between nodes over PostgreSQL's `LISTEN/NOTIFY`: a change is
//! a `pg_notify` on the shared database, heard by every node's listening
//! connection. While that connection is down, the node's cache is flushed
//! and not trusted; once it listens again, it flushes once more (whatever
//! was said meanwhile is lost) and trusts itself again.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use limen_domain::StoreError;
use limen_domain::model::Invalidation;
use limen_domain::ports::{ChannelListeners, InvalidationListener, Invalidations};
use sea_orm::sqlx::postgres::{PgListener, PgPool};

/// The notification channel.
pub const CHANNEL: &str = "limen_invalidations";

/// `Invalidations` over PostgreSQL; the listening task ends with it.
pub struct PgInvalidations {
    pool: PgPool,
    shared: Arc<ChannelListeners>,
    task: tokio::task::JoinHandle<()>,
}

impl PgInvalidations {
    /// Starts listening on `pool`'s database.
    pub fn start(pool: PgPool) -> Self {
        let shared = Arc::new(ChannelListeners::default());
        let task = tokio::spawn(listen(pool.clone(), shared.clone()));
        Self { pool, shared, task }
    }
}

impl Drop for PgInvalidations {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Listens for as long as the node runs, reconnecting with a growing pause.
async fn listen(pool: PgPool, shared: Arc<ChannelListeners>) {
    let mut pause = Duration::from_millis(100);
    loop {
        match PgListener::connect_with(&pool).await {
            Ok(mut listener) => match listener.listen(CHANNEL).await {
                Ok(()) => {
                    // What was said while nobody listened is lost: `came_back` flushes.
                    if shared.came_back() {
                        tracing::info!("listening for invalidations");
                    }
                    pause = Duration::from_millis(100);
                    // `try_recv` tells of a lost connection (`Ok(None)`) rather
                    // than reconnecting silently.
                    while let Ok(Some(notification)) = listener.try_recv().await {
                        match Invalidation::decode(notification.payload()) {
                            Some(change) => shared.deliver(&change),
                            None => tracing::warn!("an invalidation that is not one was heard"),
                        }
                    }
                }
                Err(err) => tracing::warn!(error = %err, "cannot listen for invalidations"),
            },
            Err(err) => tracing::debug!(error = %err, "cannot connect to listen for invalidations"),
        }
        if shared.went_down() {
            tracing::warn!("the invalidation channel is down; the token cache is not used until it is back");
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

#[async_trait]
impl Invalidations for PgInvalidations {
    async fn publish(&self, change: Invalidation) -> Result<(), StoreError> {
        sea_orm::sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(change.encode())
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(|err| StoreError::Unavailable(format!("publishing an invalidation: {err}")))
    }

    fn subscribe(&self, listener: InvalidationListener) {
        self.shared.subscribe(listener);
    }

    fn is_live(&self) -> bool {
        self.shared.is_live()
    }
}
