//! Limen's tokens (`SessionTokens`, `TokenCatalog`), counted attempts
//! (`RateLimiter`) and the nodes' invalidation channel (pub/sub) on Redis, for deployments of several nodes that want them
//! out of the database. Every step that must be atomic is one Lua script; the
//! hot path is one `HGETALL` by digest. A standalone Redis or one behind
//! Sentinel: the scripts touch keys they derive from the prefix, which Redis
//! Cluster does not allow.

mod connection;
mod invalidations;
mod rate_limiter;
mod tokens;

pub use connection::{RedisConfig, RedisStore};
pub use invalidations::RedisInvalidations;
pub use rate_limiter::RedisRateLimiter;
pub use tokens::RedisTokenStore;
