//! Users imported into Limen's own table, all in one transaction.

use limen_domain::StoreError;
use limen_domain::model::NewDirectoryEntry;
use sea_orm::TransactionTrait;

use crate::Database;
use crate::errors::store_error;
use crate::time::to_micros;
use crate::user_directory::insert_user;

/// One user of an import.
#[derive(Debug, Clone)]
pub struct ImportedUser {
    /// The user as Limen's table holds it (the hash in its own format).
    pub entry: NewDirectoryEntry,
    /// Whether the account is active.
    pub enabled: bool,
    /// Whether the e-mail address is known to be verified.
    pub email_verified: bool,
}

/// Why an import stopped, and at which of its users.
#[derive(Debug, thiserror::Error)]
#[error("user {index}: {error}")]
pub struct ImportError {
    /// The user's position in the import, from 0.
    pub index: usize,
    /// What the store said.
    pub error: StoreError,
}

impl Database {
    /// Inserts every user in one transaction: all of them, or none.
    pub async fn import_users(&self, users: Vec<ImportedUser>) -> Result<usize, ImportError> {
        let at_start = |error| ImportError { index: 0, error };
        let txn = self
            .connection()
            .begin()
            .await
            .map_err(|err| at_start(store_error("starting an import", err)))?;
        let count = users.len();
        for (index, user) in users.into_iter().enumerate() {
            let verified = user.email_verified.then(|| to_micros(user.entry.created_at));
            insert_user(&txn, user.entry, user.enabled, verified)
                .await
                .map_err(|error| ImportError { index, error })?;
        }
        txn.commit()
            .await
            .map_err(|err| at_start(store_error("committing an import", err)))?;
        Ok(count)
    }
}
