//! The administration API's tokens in Limen's `admin_tokens` table.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use limen_domain::StoreError;
use limen_domain::model::{AdminScope, AdminToken, NewAdminToken, TokenHash};
use limen_domain::ports::AdminTokenStore;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entity::admin_token;
use crate::errors::store_error;
use crate::time::{from_micros, to_micros};

/// `AdminTokenStore` over Limen's `admin_tokens` table.
#[derive(Clone)]
pub struct SqlAdminTokenStore {
    db: DatabaseConnection,
}

impl SqlAdminTokenStore {
    /// A store over this pool.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn token(row: admin_token::Model) -> Result<AdminToken, StoreError> {
    let scopes = AdminScope::parse_list(&row.scopes).map_err(|unknown| {
        StoreError::Unavailable(format!(
            "admin token {:?} has an unknown scope {unknown:?}",
            row.name
        ))
    })?;
    let time = |micros: Option<i64>, column: &str| micros.map(|at| from_micros(at, column)).transpose();
    Ok(AdminToken {
        id: row.id,
        name: row.name,
        hash: TokenHash(row.token_hash),
        scopes,
        created_at: from_micros(row.created_at, "admin_tokens.created_at")?,
        expires_at: time(row.expires_at, "admin_tokens.expires_at")?,
        last_used_at: time(row.last_used_at, "admin_tokens.last_used_at")?,
        revoked_at: time(row.revoked_at, "admin_tokens.revoked_at")?,
    })
}

#[async_trait]
impl AdminTokenStore for SqlAdminTokenStore {
    async fn create(&self, new: &NewAdminToken) -> Result<AdminToken, StoreError> {
        let row = admin_token::ActiveModel {
            name: Set(new.name.clone()),
            token_hash: Set(new.hash.0.clone()),
            scopes: Set(AdminScope::join(&new.scopes)),
            created_at: Set(to_micros(new.created_at)),
            expires_at: Set(new.expires_at.map(to_micros)),
            last_used_at: Set(None),
            revoked_at: Set(None),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|err| store_error("creating an admin token", err))?;
        token(row)
    }

    async fn find(&self, hash: &TokenHash) -> Result<Option<AdminToken>, StoreError> {
        admin_token::Entity::find()
            .filter(admin_token::Column::TokenHash.eq(hash.0.as_str()))
            .one(&self.db)
            .await
            .map_err(|err| store_error("finding an admin token", err))?
            .map(token)
            .transpose()
    }

    async fn list(&self) -> Result<Vec<AdminToken>, StoreError> {
        admin_token::Entity::find()
            .order_by_desc(admin_token::Column::Id)
            .all(&self.db)
            .await
            .map_err(|err| store_error("listing admin tokens", err))?
            .into_iter()
            .map(token)
            .collect()
    }

    async fn revoke(&self, name: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let result = admin_token::Entity::update_many()
            .col_expr(admin_token::Column::RevokedAt, Expr::value(to_micros(at)))
            .filter(admin_token::Column::Name.eq(name))
            .filter(admin_token::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(|err| store_error("revoking an admin token", err))?;
        Ok(result.rows_affected > 0)
    }

    async fn touch(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        admin_token::Entity::update_many()
            .col_expr(admin_token::Column::LastUsedAt, Expr::value(to_micros(at)))
            .filter(admin_token::Column::Id.eq(id))
            .exec(&self.db)
            .await
            .map_err(|err| store_error("recording an admin token's use", err))?;
        Ok(())
    }
}
