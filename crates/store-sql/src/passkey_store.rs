//! `PasskeyStore` over Limen's database: the `passkeys` table, one engine of
//! SQLite, PostgreSQL or MySQL/MariaDB like the rest.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use limen_domain::StoreError;
use limen_domain::error::UniqueField;
use limen_domain::model::{StoredPasskey, UserId};
use limen_domain::ports::PasskeyStore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use sha2::{Digest, Sha256};

use crate::entity::passkey;
use crate::errors::{is_unique_violation, store_error};
use crate::time::{from_micros, from_micros_opt, to_micros};

/// The `passkeys` table.
pub struct SqlPasskeyStore {
    db: DatabaseConnection,
}

impl SqlPasskeyStore {
    /// The store over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

/// A credential id's key in the table: ids may be up to 1023 bytes, beyond
/// MySQL's index length.
fn digest(credential_id: &str) -> String {
    Sha256::digest(credential_id.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn passkey_of(row: passkey::Model) -> Result<StoredPasskey, StoreError> {
    Ok(StoredPasskey {
        id: row.id,
        user_id: UserId(row.user_id),
        user_handle: row.user_handle,
        credential_id: row.credential_id,
        name: row.name,
        credential: row.credential,
        aaguid: row.aaguid,
        created_at: from_micros(row.created_at, "created_at")?,
        last_used_at: from_micros_opt(row.last_used_at, "last_used_at")?,
    })
}

#[async_trait]
impl PasskeyStore for SqlPasskeyStore {
    async fn add(&self, passkey: &StoredPasskey) -> Result<StoredPasskey, StoreError> {
        let inserted = passkey::ActiveModel {
            user_id: Set(passkey.user_id.0),
            user_handle: Set(passkey.user_handle.clone()),
            credential_digest: Set(digest(&passkey.credential_id)),
            credential_id: Set(passkey.credential_id.clone()),
            name: Set(passkey.name.clone()),
            credential: Set(passkey.credential.clone()),
            aaguid: Set(passkey.aaguid.clone()),
            created_at: Set(to_micros(passkey.created_at)),
            last_used_at: Set(passkey.last_used_at.map(to_micros)),
            ..Default::default()
        }
        .insert(&self.db)
        .await;
        match inserted {
            Ok(row) => passkey_of(row),
            Err(err) if is_unique_violation(&err) => {
                // Which of the two unique keys: the credential's, or the name's.
                let taken = self.find_by_credential(&passkey.credential_id).await?.is_some();
                Err(StoreError::Duplicate(if taken {
                    UniqueField::Credential
                } else {
                    UniqueField::PasskeyName
                }))
            }
            Err(err) => Err(store_error("adding a passkey", err)),
        }
    }

    async fn list_for_user(&self, user: UserId) -> Result<Vec<StoredPasskey>, StoreError> {
        passkey::Entity::find()
            .filter(passkey::Column::UserId.eq(user.0))
            .order_by_asc(passkey::Column::Id)
            .all(&self.db)
            .await
            .map_err(|err| store_error("listing passkeys", err))?
            .into_iter()
            .map(passkey_of)
            .collect()
    }

    async fn find_by_credential(&self, credential_id: &str) -> Result<Option<StoredPasskey>, StoreError> {
        passkey::Entity::find()
            .filter(passkey::Column::CredentialDigest.eq(digest(credential_id)))
            .one(&self.db)
            .await
            .map_err(|err| store_error("finding a passkey", err))?
            // The digest names the row; the id itself must match too.
            .filter(|row| row.credential_id == credential_id)
            .map(passkey_of)
            .transpose()
    }

    async fn record_use(
        &self,
        id: i64,
        credential: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut update = passkey::Entity::update_many()
            .col_expr(passkey::Column::LastUsedAt, Expr::value(to_micros(at)))
            .filter(passkey::Column::Id.eq(id));
        if let Some(credential) = credential {
            update = update.col_expr(passkey::Column::Credential, Expr::value(credential));
        }
        update
            .exec(&self.db)
            .await
            .map_err(|err| store_error("recording a passkey's use", err))?;
        Ok(())
    }

    async fn rename(&self, user: UserId, name: &str, new_name: &str) -> Result<bool, StoreError> {
        let renamed = passkey::Entity::update_many()
            .col_expr(passkey::Column::Name, Expr::value(new_name))
            .filter(passkey::Column::UserId.eq(user.0))
            .filter(passkey::Column::Name.eq(name))
            .exec(&self.db)
            .await;
        match renamed {
            Ok(result) => Ok(result.rows_affected > 0),
            Err(err) if is_unique_violation(&err) => Err(StoreError::Duplicate(UniqueField::PasskeyName)),
            Err(err) => Err(store_error("renaming a passkey", err)),
        }
    }

    async fn remove(&self, user: UserId, name: &str) -> Result<bool, StoreError> {
        let removed = passkey::Entity::delete_many()
            .filter(passkey::Column::UserId.eq(user.0))
            .filter(passkey::Column::Name.eq(name))
            .exec(&self.db)
            .await
            .map_err(|err| store_error("removing a passkey", err))?;
        Ok(removed.rows_affected > 0)
    }

    async fn remove_all_for_user(&self, user: UserId) -> Result<u64, StoreError> {
        let removed = passkey::Entity::delete_many()
            .filter(passkey::Column::UserId.eq(user.0))
            .exec(&self.db)
            .await
            .map_err(|err| store_error("removing a user's passkeys", err))?;
        Ok(removed.rows_affected)
    }
}
