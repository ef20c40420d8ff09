use async_trait::async_trait;
use chrono::{DateTime, Utc};
use limen_domain::StoreError;
use limen_domain::model::{NewToken, TokenAttributes, TokenHash, TokenId, TokenKind, TokenRecord, UserId};
use limen_domain::ports::{SessionTokens, TokenCatalog};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entity::token;
use crate::errors::store_error;
use crate::time::{from_micros, from_micros_opt, to_micros};

/// `SessionTokens` and `TokenCatalog` over Limen's `tokens` table.
#[derive(Clone)]
pub struct SqlTokenStore {
    db: DatabaseConnection,
}

impl SqlTokenStore {
    /// A store over this pool.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    async fn find_by_hash(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        token::Entity::find()
            .filter(token::Column::TokenHash.eq(hash.0.as_str()))
            .one(&self.db)
            .await
            .map_err(|err| store_error("looking a token up", err))?
            .map(to_domain)
            .transpose()
    }
}

fn to_domain(row: token::Model) -> Result<TokenRecord, StoreError> {
    let kind = TokenKind::parse(&row.kind).ok_or_else(|| {
        StoreError::Unavailable(format!("token {} has an unknown kind {:?}", row.id, row.kind))
    })?;
    Ok(TokenRecord {
        id: TokenId(row.id),
        user_id: UserId(row.user_id),
        kind,
        hash: TokenHash(row.token_hash),
        created_at: from_micros(row.created_at, "created_at")?,
        expires_at: from_micros(row.expires_at, "expires_at")?,
        last_used_at: from_micros_opt(row.last_used_at, "last_used_at")?,
        revoked_at: from_micros_opt(row.revoked_at, "revoked_at")?,
        attributes: TokenAttributes {
            note: row.note,
            client_id: row.client_id,
            bound_address: row.bound_address,
            origin: row.origin_hash.map(TokenHash),
            payload: row.payload,
        },
        enabled: row.enabled,
        version: row.version,
    })
}

#[async_trait]
impl SessionTokens for SqlTokenStore {
    async fn issue(&self, new: NewToken) -> Result<TokenRecord, StoreError> {
        let row = token::ActiveModel {
            user_id: Set(new.user_id.0),
            kind: Set(new.kind.as_str().to_owned()),
            token_hash: Set(new.hash.0),
            created_at: Set(to_micros(new.created_at)),
            expires_at: Set(to_micros(new.expires_at)),
            last_used_at: Set(None),
            revoked_at: Set(None),
            note: Set(new.attributes.note),
            enabled: Set(true),
            client_id: Set(new.attributes.client_id),
            bound_address: Set(new.attributes.bound_address),
            version: Set(0),
            origin_hash: Set(new.attributes.origin.map(|origin| origin.0)),
            payload: Set(new.attributes.payload),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|err| store_error("issuing a token", err))?;
        to_domain(row)
    }

    async fn find(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        self.find_by_hash(hash).await
    }

    async fn touch(&self, hash: &TokenHash, at: DateTime<Utc>) -> Result<(), StoreError> {
        token::Entity::update_many()
            .col_expr(token::Column::LastUsedAt, Expr::value(to_micros(at)))
            .filter(token::Column::TokenHash.eq(hash.0.as_str()))
            .exec(&self.db)
            .await
            .map_err(|err| store_error("recording token use", err))?;
        Ok(())
    }

    async fn revoke(&self, hash: &TokenHash, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let result = token::Entity::update_many()
            .col_expr(token::Column::RevokedAt, Expr::value(to_micros(at)))
            .filter(token::Column::TokenHash.eq(hash.0.as_str()))
            .filter(token::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(|err| store_error("revoking a token", err))?;
        Ok(result.rows_affected > 0)
    }

    async fn revoke_all_for_user(
        &self,
        user: UserId,
        except: Option<TokenHash>,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut update = token::Entity::update_many()
            .col_expr(token::Column::RevokedAt, Expr::value(to_micros(at)))
            .filter(token::Column::UserId.eq(user.0))
            .filter(token::Column::RevokedAt.is_null())
            .filter(token::Column::ExpiresAt.gt(to_micros(at)));
        if let Some(kept) = except {
            update = update.filter(token::Column::TokenHash.ne(kept.0));
        }
        let result = update
            .exec(&self.db)
            .await
            .map_err(|err| store_error("revoking a user's tokens", err))?;
        Ok(result.rows_affected)
    }

    async fn consume(
        &self,
        hash: &TokenHash,
        kind: TokenKind,
        at: DateTime<Utc>,
    ) -> Result<Option<TokenRecord>, StoreError> {
        let now = to_micros(at);
        // One statement decides: of concurrent consumers, one updates the row.
        let result = token::Entity::update_many()
            .col_expr(token::Column::RevokedAt, Expr::value(now))
            .filter(token::Column::TokenHash.eq(hash.0.as_str()))
            .filter(token::Column::Kind.eq(kind.as_str()))
            .filter(token::Column::RevokedAt.is_null())
            .filter(token::Column::Enabled.eq(true))
            .filter(token::Column::ExpiresAt.gt(now))
            .exec(&self.db)
            .await
            .map_err(|err| store_error("consuming a token", err))?;
        if result.rows_affected == 0 {
            return Ok(None);
        }
        self.find_by_hash(hash).await
    }

    async fn delete_all_for_user(&self, user: UserId) -> Result<u64, StoreError> {
        let result = token::Entity::delete_many()
            .filter(token::Column::UserId.eq(user.0))
            .exec(&self.db)
            .await
            .map_err(|err| store_error("deleting a user's tokens", err))?;
        Ok(result.rows_affected)
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        // One condition per retention, each on the `expires_at` index.
        let mut kept: Vec<(chrono::Duration, Vec<&str>)> = Vec::new();
        for kind in TokenKind::ALL {
            let retention = kind.kept_after_expiry();
            match kept.iter_mut().find(|(each, _)| *each == retention) {
                Some((_, kinds)) => kinds.push(kind.as_str()),
                None => kept.push((retention, vec![kind.as_str()])),
            }
        }
        let mut expired = sea_orm::Condition::any();
        for (retention, kinds) in kept {
            expired = expired.add(
                sea_orm::Condition::all()
                    .add(token::Column::ExpiresAt.lt(to_micros(now - retention)))
                    .add(token::Column::Kind.is_in(kinds)),
            );
        }
        let result = token::Entity::delete_many()
            .filter(expired)
            .exec(&self.db)
            .await
            .map_err(|err| store_error("purging expired tokens", err))?;
        Ok(result.rows_affected)
    }
}

#[async_trait]
impl TokenCatalog for SqlTokenStore {
    async fn list_for_user(&self, user: UserId, kind: TokenKind) -> Result<Vec<TokenRecord>, StoreError> {
        token::Entity::find()
            .filter(token::Column::UserId.eq(user.0))
            .filter(token::Column::Kind.eq(kind.as_str()))
            .order_by_desc(token::Column::Id)
            .all(&self.db)
            .await
            .map_err(|err| store_error("listing tokens", err))?
            .into_iter()
            .map(to_domain)
            .collect()
    }

    async fn find_by_id(&self, id: TokenId) -> Result<Option<TokenRecord>, StoreError> {
        token::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(|err| store_error("reading a token", err))?
            .map(to_domain)
            .transpose()
    }

    async fn set_enabled(&self, id: TokenId, enabled: bool) -> Result<(), StoreError> {
        let result = token::Entity::update_many()
            .col_expr(token::Column::Enabled, Expr::value(enabled))
            .col_expr(token::Column::Version, Expr::col(token::Column::Version).add(1))
            .filter(token::Column::Id.eq(id.0))
            .exec(&self.db)
            .await
            .map_err(|err| store_error("enabling or disabling a token", err))?;
        if result.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
