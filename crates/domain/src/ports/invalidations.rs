use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;

use crate::error::StoreError;
use crate::model::Invalidation;

/// What one node hears about the changes made by every node.
pub type InvalidationListener = Arc<dyn Fn(&Invalidation) + Send + Sync>;

/// The channel over which nodes tell each other what their caches of
/// validated tokens must forget: in process for one node, PostgreSQL
/// `LISTEN/NOTIFY` or Redis pub/sub for several.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Invalidations: Send + Sync {
    /// Tells every node, this one included.
    async fn publish(&self, change: Invalidation) -> Result<(), StoreError>;

    /// Calls `listener` with every change heard from now on, and with
    /// `Everything` whenever notifications may have been missed.
    fn subscribe(&self, listener: InvalidationListener);

    /// Whether changes are being heard right now: a cache may trust itself
    /// only while they are.
    fn is_live(&self) -> bool;
}

/// What every `Invalidations` adapter keeps, whatever carries its changes:
/// the listeners, and whether the channel is heard right now.
#[derive(Default)]
pub struct ChannelListeners {
    listeners: Mutex<Vec<InvalidationListener>>,
    live: AtomicBool,
}

impl ChannelListeners {
    /// Listeners of a channel that is heard from the start (one process's own).
    pub fn live() -> Self {
        Self {
            live: AtomicBool::new(true),
            ..Self::default()
        }
    }

    /// Adds a listener.
    pub fn subscribe(&self, listener: InvalidationListener) {
        self.listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(listener);
    }

    /// Tells every listener of `change`.
    pub fn deliver(&self, change: &Invalidation) {
        let listeners = self
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for listener in listeners {
            listener(change);
        }
    }

    /// Whether the channel is heard now.
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::SeqCst)
    }

    /// The channel is heard (again): what was said meanwhile is lost, so
    /// every cache forgets everything first, then may trust itself. Answers
    /// whether it was down before.
    pub fn came_back(&self) -> bool {
        self.deliver(&Invalidation::Everything);
        !self.live.swap(true, Ordering::SeqCst)
    }

    /// The channel is not heard: caches flush and stop trusting themselves.
    /// Answers whether it was up before.
    pub fn went_down(&self) -> bool {
        let was_up = self.live.swap(false, Ordering::SeqCst);
        self.deliver(&Invalidation::Everything);
        was_up
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    #[test]
    fn listeners_hear_changes_and_flush_on_every_transition() {
        let channel = ChannelListeners::default();
        let flushes = Arc::new(AtomicUsize::new(0));
        let counter = flushes.clone();
        channel.subscribe(Arc::new(move |change| {
            if *change == Invalidation::Everything {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        }));
        assert!(!channel.is_live());
        assert!(channel.came_back(), "down before");
        assert!(channel.is_live());
        assert!(!channel.came_back(), "already up");
        assert!(channel.went_down(), "up before");
        assert!(!channel.went_down(), "already down");
        assert!(!channel.is_live());
        assert_eq!(flushes.load(Ordering::SeqCst), 4);
        assert!(ChannelListeners::live().is_live());
    }
}
