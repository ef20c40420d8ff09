//! `[management]`: the operators' listener.

use serde::{Deserialize, Serialize};

/// `[management]`: a second listener for operators, never meant to be
/// public: `/metrics`, `/healthz`, `/readyz`, the administration API
/// (`/admin/v1/`) and SCIM (`/scim/v2/`). Off unless `listen` is set.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ManagementSection {
    /// Address and port of the management listener (`127.0.0.1:9000`); none:
    /// no management listener.
    pub listen: Option<String>,
    /// Also serve `/metrics` on the main listener, for a deployment whose
    /// Prometheus can reach only that one. The metrics name every route and
    /// how often it fails: keep `/metrics` off the public side of the proxy.
    pub metrics_on_main_listener: bool,
    /// Serve the administration API (`/admin/v1/`) on this listener. It
    /// answers only admin tokens (`limen token create --admin`).
    pub admin_api: bool,
    /// Serve SCIM 2.0 (`/scim/v2/`) on this listener, for admin tokens with
    /// the scope `scim`.
    pub scim: bool,
}

impl Default for ManagementSection {
    fn default() -> Self {
        Self {
            listen: None,
            metrics_on_main_listener: false,
            admin_api: true,
            scim: true,
        }
    }
}

impl ManagementSection {
    /// The listener's address, when one is set (an empty one, as an
    /// environment variable sets it to unset it, is none).
    pub fn address(&self) -> Option<&str> {
        self.listen
            .as_deref()
            .map(str::trim)
            .filter(|address| !address.is_empty())
    }
}
