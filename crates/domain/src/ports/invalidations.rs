use std::sync::Arc;

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
