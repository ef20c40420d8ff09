//! Swedish BankID for Limen: `BankIdClient`, the domain's `BankIdProvider` over
//! the Relying Party API v6 (reqwest over rustls, mutual TLS, BankID's CA
//! pinned, passing failures retried), and `simulator`, a server of the same
//! API for development and tests.

mod client;
mod identity;
mod qr;
pub mod simulator;
mod wire;

pub use client::{BankIdClient, BankIdClientConfig, PRODUCTION_ENDPOINT, TEST_ENDPOINT};
pub use identity::ClientIdentity;
pub use qr::animated_qr;

/// Why a BankID client or simulator could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum BankIdConfigError {
    /// The client certificate (or the simulator's own) is unusable.
    #[error("{0}")]
    Identity(String),
    /// The CA certificate is unusable.
    #[error("{0}")]
    Ca(String),
    /// The endpoint or listening address is unusable.
    #[error("{0}")]
    Endpoint(String),
}
