//! Why a command failed; printed on stderr before a non-zero exit.

use limen_domain::error::HashError;
use limen_domain::{DomainError, StoreError};

use crate::config::ConfigError;

/// A command's failure.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The configuration could not be loaded.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A store failed: the database, Redis or the user directory (the
    /// message names which).
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The password hasher could not be built.
    #[error("password hasher: {0}")]
    Hasher(#[from] HashError),
    /// A service refused.
    #[error("{0}")]
    Domain(#[from] DomainError),
    /// Reading standard input or binding a socket failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The failure.
        source: std::io::Error,
    },
    /// The command was used wrongly.
    #[error("{0}")]
    Usage(String),
}
