//! `[database]`, `[rate_limit]` and `[audit]`: where Limen keeps its state.

use serde::{Deserialize, Serialize};

/// `[audit]`: the trail of security events in the `audit_events` table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditSection {
    /// Days an event is kept; older ones are deleted by `serve` every hour.
    /// 0 keeps every event.
    pub retention_days: u32,
}

impl Default for AuditSection {
    fn default() -> Self {
        Self { retention_days: 365 }
    }
}

/// `[database]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSection {
    /// Largest number of pooled connections.
    pub max_connections: u32,
    /// Seconds to wait for a pooled connection.
    pub acquire_timeout_secs: u64,
}

/// Where per-address throttles count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RateLimitBackend {
    /// This process's memory: one node only.
    Memory,
    /// Limen's database, shared by every node.
    Sql,
    /// Redis (`redis_url`), shared by every node.
    Redis,
}

/// `[rate_limit]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitSection {
    /// `memory` or `sql`. Account lockouts are always in the database.
    pub backend: RateLimitBackend,
    /// Failed logins one client address (IPv6: one /64) may make per window
    /// before it is refused for a window; 0 disables the throttle.
    pub login_failures_per_address: u32,
    /// BankID identifications one client address may start per window and
    /// not complete; 0 disables the throttle.
    pub bankid_starts_per_address: u32,
    /// OpenID logins one client address may start per window and not
    /// complete (each stores a record for ten minutes); 0 disables the throttle.
    pub openid_starts_per_address: u32,
    /// The window of all three, in seconds.
    pub login_window_secs: i64,
    /// Most addresses the memory backend keeps before dropping the oldest.
    pub memory_max_keys: usize,
}

impl Default for RateLimitSection {
    fn default() -> Self {
        Self {
            backend: RateLimitBackend::Memory,
            login_failures_per_address: 100,
            bankid_starts_per_address: 50,
            openid_starts_per_address: 50,
            login_window_secs: 15 * 60,
            memory_max_keys: 100_000,
        }
    }
}

impl Default for DatabaseSection {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout_secs: 5,
        }
    }
}
