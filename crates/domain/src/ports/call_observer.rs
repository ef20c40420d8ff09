use std::sync::Arc;
use std::time::Duration;

/// Told how long each call an adapter made to its backend took, and whether
/// it failed: the metrics' store latency by adapter. A function, not a port:
/// adapters report to it, nothing asks it anything.
pub type CallObserver = Arc<dyn Fn(Duration, bool) + Send + Sync>;
