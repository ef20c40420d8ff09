//! What can stop a benchmark run.

use limen_domain::error::StoreError;

/// A failure that ends the run; each carries what was being done.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// An operating-system call failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The database used for seeding refused something.
    #[error("{context}: {source}")]
    Store {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: StoreError,
    },
    /// Limen or the harness did not behave as the scenario requires.
    #[error("{0}")]
    Setup(String),
}

impl BenchError {
    /// Wraps an I/O error with what was being done.
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let context = context.into();
        move |source| Self::Io { context, source }
    }

    /// Wraps a store error with what was being done.
    pub fn store(context: impl Into<String>) -> impl FnOnce(StoreError) -> Self {
        let context = context.into();
        move |source| Self::Store { context, source }
    }
}
