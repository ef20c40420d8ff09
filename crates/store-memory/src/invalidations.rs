//! Invalidations within one process: for a single node, where the only cache
//! to tell is its own.

use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use limen_domain::StoreError;
use limen_domain::model::Invalidation;
use limen_domain::ports::{InvalidationListener, Invalidations};

/// Delivers each change to this process's listeners at once; always live.
#[derive(Default)]
pub struct LocalInvalidations {
    listeners: Mutex<Vec<InvalidationListener>>,
}

impl LocalInvalidations {
    /// No listeners yet.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Invalidations for LocalInvalidations {
    async fn publish(&self, change: Invalidation) -> Result<(), StoreError> {
        let listeners = self
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for listener in listeners {
            listener(&change);
        }
        Ok(())
    }

    fn subscribe(&self, listener: InvalidationListener) {
        self.listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(listener);
    }

    fn is_live(&self) -> bool {
        true
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
