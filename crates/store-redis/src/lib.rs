//! Limen's tokens (`SessionTokens`, `TokenCatalog`) and counted attempts
//! (`RateLimiter`) on Redis, for deployments of several nodes that want them
//! out of the database. Every step that must be atomic is one Lua script; the
//! hot path is one `HGETALL` by digest. A standalone Redis or one behind
//! Sentinel: the scripts touch keys they derive from the prefix, which Redis
//! Cluster does not allow.

mod connection;
mod rate_limiter;
mod tokens;

pub use connection::{RedisConfig, RedisStore};
pub use rate_limiter::RedisRateLimiter;
pub use tokens::RedisTokenStore;
