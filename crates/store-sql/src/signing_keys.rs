//! The OpenID Provider's signing keys as every node reads them: kept sealed
//! in Limen's database, so that nodes sign with the same keys and publish
//! the same set.

use chrono::{DateTime, Utc};
use limen_domain::StoreError;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};

use crate::entity::signing_key;
use crate::errors::{is_unique_violation, store_error};
use crate::time::{from_micros, from_micros_opt, to_micros};

/// A signing key as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSigningKey {
    /// Its key id.
    pub kid: String,
    /// Its JWS algorithm (`ES256`, `RS256`, `EdDSA`).
    pub alg: String,
    /// Its PKCS#8 form, sealed.
    pub private_key: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When a newer key took over signing; it is still published until then
    /// plus the longest token lifetime.
    pub retired_at: Option<DateTime<Utc>>,
}

/// The `signing_keys` table.
pub struct SqlSigningKeys {
    db: DatabaseConnection,
}

impl SqlSigningKeys {
    /// The keys over `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Every key, oldest first.
    pub async fn list(&self) -> Result<Vec<StoredSigningKey>, StoreError> {
        signing_key::Entity::find()
            .order_by_asc(signing_key::Column::CreatedAt)
            .all(&self.db)
            .await
            .map_err(|err| store_error("listing signing keys", err))?
            .into_iter()
            .map(|row| {
                Ok(StoredSigningKey {
                    kid: row.kid,
                    alg: row.alg,
                    private_key: row.private_key,
                    created_at: from_micros(row.created_at, "created_at")?,
                    retired_at: from_micros_opt(row.retired_at, "retired_at")?,
                })
            })
            .collect()
    }

    /// Marks `kid` retired at `at`: a newer key of its algorithm signs.
    pub async fn retire(&self, kid: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        signing_key::Entity::update_many()
            .col_expr(
                signing_key::Column::RetiredAt,
                sea_orm::sea_query::Expr::value(to_micros(at)),
            )
            .filter(signing_key::Column::Kid.eq(kid))
            .filter(signing_key::Column::RetiredAt.is_null())
            .exec(&self.db)
            .await
            .map_err(|err| store_error("retiring a signing key", err))?;
        Ok(())
    }

    /// Deletes keys retired before `before`: nothing they signed is valid any more.
    pub async fn forget_retired_before(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let deleted = signing_key::Entity::delete_many()
            .filter(signing_key::Column::RetiredAt.lt(to_micros(before)))
            .exec(&self.db)
            .await
            .map_err(|err| store_error("forgetting retired signing keys", err))?;
        Ok(deleted.rows_affected)
    }

    /// Keeps a new key; `false` when one with its kid exists.
    pub async fn insert(&self, key: &StoredSigningKey) -> Result<bool, StoreError> {
        let inserted = signing_key::ActiveModel {
            kid: Set(key.kid.clone()),
            alg: Set(key.alg.clone()),
            private_key: Set(key.private_key.clone()),
            created_at: Set(to_micros(key.created_at)),
            retired_at: Set(key.retired_at.map(to_micros)),
        }
        .insert(&self.db)
        .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(err) if is_unique_violation(&err) => Ok(false),
            Err(err) => Err(store_error("keeping a signing key", err)),
        }
    }
}
