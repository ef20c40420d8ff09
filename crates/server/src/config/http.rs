//! `[http]` and `[http.tls]`: the public listener.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[http]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSection {
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// Seconds in-flight requests get to finish on shutdown.
    pub shutdown_timeout_secs: u64,
    /// Proxies (addresses or CIDR ranges) whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<String>,
    /// Serve HTTPS with this certificate; plain HTTP without it.
    pub tls: Option<TlsSection>,
}

/// `[http.tls]`: the certificate `serve` presents, read again on SIGHUP.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// PEM: the server's certificate first, then the intermediates.
    pub cert_file: PathBuf,
    /// PEM: its private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
}

impl Default for HttpSection {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            workers: 0,
            shutdown_timeout_secs: 30,
            trusted_proxies: Vec::new(),
            tls: None,
        }
    }
}
