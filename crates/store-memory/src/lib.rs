//! Adapters that keep their state in this process's memory: correct for one
//! node only, since every node would count on its own. The server refuses them
//! when it is configured as one of several nodes.

mod invalidations;
mod rate_limiter;

pub use invalidations::LocalInvalidations;
pub use rate_limiter::MemoryRateLimiter;
