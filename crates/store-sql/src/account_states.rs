use async_trait::async_trait;
use chrono::{DateTime, Utc};
use limen_domain::StoreError;
use limen_domain::model::{AccountPatch, AccountState, IdentityLink, Role, UserId};
use limen_domain::ports::AccountStates;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::entity::{account, identity_link};
use crate::errors::{is_unique_violation, store_error};
use crate::time::{from_micros, from_micros_opt, to_micros};

/// `AccountStates` over the `accounts` table.
#[derive(Clone)]
pub struct SqlAccountStates {
    db: DatabaseConnection,
}

impl SqlAccountStates {
    /// Account states over this pool.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    async fn find_link(
        &self,
        directory: &str,
        external_id: &str,
    ) -> Result<Option<AccountState>, StoreError> {
        account::Entity::find()
            .filter(account::Column::Directory.eq(directory))
            .filter(account::Column::ExternalId.eq(external_id))
            .one(&self.db)
            .await
            .map_err(|err| store_error("finding an account by its directory id", err))?
            .map(to_domain)
            .transpose()
    }
}

fn to_domain(row: account::Model) -> Result<AccountState, StoreError> {
    Ok(AccountState {
        user_id: UserId(row.id),
        role: Role::parse(&row.role).ok_or_else(|| {
            StoreError::Unavailable(format!("account {} has an unknown role {:?}", row.id, row.role))
        })?,
        directory: row.directory,
        external_id: row.external_id,
        disabled: row.disabled,
        email_verified_at: from_micros_opt(row.email_verified_at, "email_verified_at")?,
        last_login_at: from_micros_opt(row.last_login_at, "last_login_at")?,
        public_key: row.public_key,
        created_at: from_micros(row.created_at, "created_at")?,
        updated_at: from_micros(row.updated_at, "updated_at")?,
        version: row.version,
        scim_external_id: row.scim_external_id,
    })
}

#[async_trait]
impl AccountStates for SqlAccountStates {
    async fn link(
        &self,
        directory: &str,
        external_id: &str,
        at: DateTime<Utc>,
    ) -> Result<AccountState, StoreError> {
        if let Some(found) = self.find_link(directory, external_id).await? {
            return Ok(found);
        }
        let created = to_micros(at);
        let inserted = account::ActiveModel {
            directory: Set(directory.to_owned()),
            external_id: Set(external_id.to_owned()),
            role: Set(Role::User.as_str().to_owned()),
            disabled: Set(false),
            email_verified_at: Set(None),
            last_login_at: Set(None),
            public_key: Set(None),
            sealed_private_key: Set(None),
            created_at: Set(created),
            updated_at: Set(created),
            version: Set(1),
            ..Default::default()
        }
        .insert(&self.db)
        .await;
        match inserted {
            Ok(row) => to_domain(row),
            // Another request linked the same user first: use its account.
            Err(err) if is_unique_violation(&err) => self
                .find_link(directory, external_id)
                .await?
                .ok_or_else(|| StoreError::Unavailable("an account vanished while it was linked".into())),
            Err(err) => Err(store_error("linking a directory user to an account", err)),
        }
    }

    async fn find(&self, user: UserId) -> Result<Option<AccountState>, StoreError> {
        account::Entity::find_by_id(user.0)
            .one(&self.db)
            .await
            .map_err(|err| store_error("reading an account", err))?
            .map(to_domain)
            .transpose()
    }

    async fn find_by_scim_external_id(&self, external_id: &str) -> Result<Vec<UserId>, StoreError> {
        Ok(account::Entity::find()
            .filter(account::Column::ScimExternalId.eq(external_id))
            .order_by_asc(account::Column::Id)
            .all(&self.db)
            .await
            .map_err(|err| store_error("finding accounts by their SCIM externalId", err))?
            .into_iter()
            .map(|row| UserId(row.id))
            .collect())
    }

    async fn update(&self, user: UserId, patch: AccountPatch, at: DateTime<Utc>) -> Result<(), StoreError> {
        let mut update = account::Entity::update_many()
            .col_expr(account::Column::UpdatedAt, Expr::value(to_micros(at)))
            .col_expr(
                account::Column::Version,
                Expr::col(account::Column::Version).add(1),
            )
            .filter(account::Column::Id.eq(user.0));
        if let Some(role) = patch.role {
            update = update.col_expr(account::Column::Role, Expr::value(role.as_str()));
        }
        if let Some(disabled) = patch.disabled {
            update = update.col_expr(account::Column::Disabled, Expr::value(disabled));
        }
        if let Some(verified) = patch.email_verified_at {
            update = update.col_expr(account::Column::EmailVerifiedAt, Expr::value(to_micros(verified)));
        }
        if let Some(external) = patch.scim_external_id {
            update = update.col_expr(account::Column::ScimExternalId, Expr::value(external));
        }
        if let Some(version) = patch.expected_version {
            update = update.filter(account::Column::Version.eq(version));
        }
        if let Some(pair) = patch.key_pair {
            update = update
                .col_expr(account::Column::PublicKey, Expr::value(pair.public_hex))
                .col_expr(
                    account::Column::SealedPrivateKey,
                    Expr::value(pair.sealed_private),
                );
        }
        let result = update
            .exec(&self.db)
            .await
            .map_err(|err| store_error("updating an account", err))?;
        if result.rows_affected == 0 {
            // A conditional update that found its row changed by another.
            if patch.expected_version.is_some() && self.find(user).await?.is_some() {
                return Err(StoreError::Stale);
            }
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn record_login(&self, user: UserId, at: DateTime<Utc>) -> Result<(), StoreError> {
        account::Entity::update_many()
            .col_expr(account::Column::LastLoginAt, Expr::value(to_micros(at)))
            .col_expr(
                account::Column::Version,
                Expr::col(account::Column::Version).add(1),
            )
            .filter(account::Column::Id.eq(user.0))
            .exec(&self.db)
            .await
            .map_err(|err| store_error("recording a login", err))?;
        Ok(())
    }

    async fn delete(&self, user: UserId) -> Result<(), StoreError> {
        identity_link::Entity::delete_many()
            .filter(identity_link::Column::UserId.eq(user.0))
            .exec(&self.db)
            .await
            .map_err(|err| store_error("deleting an account's identity links", err))?;
        account::Entity::delete_by_id(user.0)
            .exec(&self.db)
            .await
            .map_err(|err| store_error("deleting an account", err))?;
        Ok(())
    }

    async fn find_identity(&self, issuer: &str, subject: &str) -> Result<Option<UserId>, StoreError> {
        Ok(identity_link::Entity::find()
            .filter(identity_link::Column::Issuer.eq(issuer))
            .filter(identity_link::Column::Subject.eq(subject))
            .one(&self.db)
            .await
            .map_err(|err| store_error("finding an identity link", err))?
            .map(|row| UserId(row.user_id)))
    }

    async fn add_identity(&self, link: &IdentityLink) -> Result<bool, StoreError> {
        let inserted = identity_link::ActiveModel {
            user_id: Set(link.user_id.0),
            issuer: Set(link.issuer.clone()),
            subject: Set(link.subject.clone()),
            linked_at: Set(to_micros(link.linked_at)),
            ..Default::default()
        }
        .insert(&self.db)
        .await;
        match inserted {
            Ok(_) => Ok(true),
            // (issuer, subject) or (account, issuer) is taken.
            Err(err) if is_unique_violation(&err) => Ok(false),
            Err(err) => Err(store_error("linking an identity", err)),
        }
    }

    async fn identities(&self, user: UserId) -> Result<Vec<IdentityLink>, StoreError> {
        identity_link::Entity::find()
            .filter(identity_link::Column::UserId.eq(user.0))
            .order_by_asc(identity_link::Column::Id)
            .all(&self.db)
            .await
            .map_err(|err| store_error("listing identity links", err))?
            .into_iter()
            .map(|row| {
                Ok(IdentityLink {
                    user_id: UserId(row.user_id),
                    issuer: row.issuer,
                    subject: row.subject,
                    linked_at: from_micros(row.linked_at, "linked_at")?,
                })
            })
            .collect()
    }

    async fn remove_identity(&self, user: UserId, issuer: &str) -> Result<bool, StoreError> {
        let result = identity_link::Entity::delete_many()
            .filter(identity_link::Column::UserId.eq(user.0))
            .filter(identity_link::Column::Issuer.eq(issuer))
            .exec(&self.db)
            .await
            .map_err(|err| store_error("removing an identity link", err))?;
        Ok(result.rows_affected > 0)
    }

    async fn list_sealed_keys(&self) -> Result<Vec<(UserId, String)>, StoreError> {
        let rows: Vec<(i64, Option<String>)> = account::Entity::find()
            .select_only()
            .column(account::Column::Id)
            .column(account::Column::SealedPrivateKey)
            .filter(account::Column::SealedPrivateKey.is_not_null())
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(|err| store_error("listing sealed private keys", err))?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, sealed)| sealed.map(|sealed| (UserId(id), sealed)))
            .collect())
    }

    async fn replace_sealed_key(&self, user: UserId, old: &str, new: &str) -> Result<bool, StoreError> {
        let result = account::Entity::update_many()
            .col_expr(account::Column::SealedPrivateKey, Expr::value(new.to_owned()))
            .filter(account::Column::Id.eq(user.0))
            .filter(account::Column::SealedPrivateKey.eq(old))
            .exec(&self.db)
            .await
            .map_err(|err| store_error("re-sealing a private key", err))?;
        Ok(result.rows_affected > 0)
    }
}
