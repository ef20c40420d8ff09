//! Invalidations within one process: for a single node, where the only cache
//! to tell is its own.

use async_trait::async_trait;
use limen_domain::StoreError;
use limen_domain::model::Invalidation;
use limen_domain::ports::{ChannelListeners, InvalidationListener, Invalidations};

/// Delivers each change to this process's listeners at once; always live.
pub struct LocalInvalidations {
    listeners: ChannelListeners,
}

impl Default for LocalInvalidations {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalInvalidations {
    /// No listeners yet.
    pub fn new() -> Self {
        Self {
            listeners: ChannelListeners::live(),
        }
    }
}

#[async_trait]
impl Invalidations for LocalInvalidations {
    async fn publish(&self, change: Invalidation) -> Result<(), StoreError> {
        self.listeners.deliver(&change);
        Ok(())
    }

    fn subscribe(&self, listener: InvalidationListener) {
        self.listeners.subscribe(listener);
    }

    fn is_live(&self) -> bool {
        self.listeners.is_live()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn every_listener_hears_every_change() {
        let channel = LocalInvalidations::new();
        let heard = Arc::new(AtomicUsize::new(0));
        for _ in 0..2 {
            let heard = heard.clone();
            channel.subscribe(Arc::new(move |_| {
                heard.fetch_add(1, Ordering::SeqCst);
            }));
        }
        channel.publish(Invalidation::Everything).await.unwrap();
        assert_eq!(heard.load(Ordering::SeqCst), 2);
        assert!(channel.is_live());
    }
}
