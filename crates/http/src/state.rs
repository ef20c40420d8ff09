use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::Duration;
use limen_domain::services::{PasswordLogin, SessionService, TwoFactorService};

/// Answers whether the backends are reachable; `Err` carries the reason for logs.
pub type ReadinessCheck =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

/// The `flow` dialect's documented numbers.
#[derive(Debug, Clone, Copy)]
pub struct FlowSettings {
    /// Lifetime of a token from a login without `rememberMe` (documented: 1 hour).
    pub token_ttl: Duration,
    /// Lifetime of a token from a login with `rememberMe` (documented: 1 week).
    pub remember_me_ttl: Duration,
}

impl Default for FlowSettings {
    fn default() -> Self {
        Self {
            token_ttl: Duration::hours(1),
            remember_me_ttl: Duration::weeks(1),
        }
    }
}

/// Settings of the HTTP layer.
#[derive(Debug, Clone, Copy)]
pub struct HttpSettings {
    /// Largest accepted request body; larger ones get 413 without being read.
    pub max_body_bytes: usize,
    /// The `flow` dialect.
    pub flow: FlowSettings,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            flow: FlowSettings::default(),
        }
    }
}

/// What every handler can reach: the domain services and the settings.
#[derive(Clone)]
pub struct AppState {
    /// Password login.
    pub login: Arc<PasswordLogin>,
    /// Token validation and logout.
    pub sessions: Arc<SessionService>,
    /// TOTP enrolment and the second login step.
    pub two_factor: Arc<TwoFactorService>,
    /// Backend reachability, for `/readyz`.
    pub readiness: ReadinessCheck,
    /// HTTP settings.
    pub settings: HttpSettings,
}
