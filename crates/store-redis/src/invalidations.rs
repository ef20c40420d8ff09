//! Invalidations between nodes over Redis pub/sub: a change is a `PUBLISH`
//! on `<prefix>invalidations`, heard by every node's subscription. While the
//! subscription is down the node's cache is flushed and not trusted; once it
//! is back, the cache is flushed again (messages said meanwhile are lost).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use limen_domain::StoreError;
use limen_domain::model::Invalidation;
use limen_domain::ports::{ChannelListeners, InvalidationListener, Invalidations};

use crate::connection::{RedisStore, unavailable};

/// `Invalidations` over Redis; the subscribing task ends with it.
pub struct RedisInvalidations {
    store: RedisStore,
    channel: String,
    shared: Arc<ChannelListeners>,
    task: tokio::task::JoinHandle<()>,
}

impl RedisInvalidations {
    pub(crate) fn start(store: RedisStore) -> Self {
        let channel = store.key("invalidations");
        let shared = Arc::new(ChannelListeners::default());
        let task = tokio::spawn(subscribe(store.clone(), channel.clone(), shared.clone()));
        Self {
            store,
            channel,
            shared,
            task,
        }
    }
}

impl Drop for RedisInvalidations {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Subscribes for as long as the node runs, resubscribing with a growing pause.
async fn subscribe(store: RedisStore, channel: String, shared: Arc<ChannelListeners>) {
    let mut pause = Duration::from_millis(100);
    loop {
        let subscribed = tokio::time::timeout(store.timeout, async {
            let mut pubsub = store.client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        match subscribed {
            Ok(Ok(pubsub)) => {
                if shared.came_back() {
                    tracing::info!("listening for invalidations on Redis");
                }
                pause = Duration::from_millis(100);
                let mut messages = pubsub.into_on_message();
                while let Some(message) = messages.next().await {
                    let Ok(text) = message.get_payload::<String>() else {
                        continue;
                    };
                    match Invalidation::decode(&text) {
                        Some(change) => shared.deliver(&change),
                        None => tracing::warn!("an invalidation that is not one was heard"),
                    }
                }
            }
            Ok(Err(err)) => tracing::debug!(error = %err, "cannot subscribe for invalidations"),
            Err(_) => tracing::debug!("subscribing for invalidations timed out"),
        }
        if shared.went_down() {
            tracing::warn!("the invalidation channel is down; the token cache is not used until it is back");
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

#[async_trait]
impl Invalidations for RedisInvalidations {
    async fn publish(&self, change: Invalidation) -> Result<(), StoreError> {
        let mut connection = self.store.connection.clone();
        redis::cmd("PUBLISH")
            .arg(&self.channel)
            .arg(change.encode())
            .query_async::<i64>(&mut connection)
            .await
            .map(|_| ())
            .map_err(|err| unavailable("publishing an invalidation", &err))
    }

    fn subscribe(&self, listener: InvalidationListener) {
        self.shared.subscribe(listener);
    }

    fn is_live(&self) -> bool {
        self.shared.is_live()
    }
}
