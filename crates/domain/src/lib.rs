//! Limen's domain: the model, the ports that adapters implement, and the services
//! that hold every login rule. No I/O happens here; adapters are passed in as
//! `Arc<dyn Port>` so the rules are unit-tested with mocks.

#[cfg(feature = "conformance")]
pub mod conformance;
pub mod entry_cache;
pub mod error;
pub mod error_class;
pub mod model;
pub mod ports;
pub mod services;

pub use error::{DomainError, StoreError, redact_url};
pub use error_class::{ErrorClass, RetryAt};
