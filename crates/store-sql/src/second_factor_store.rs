use async_trait::async_trait;
use chrono::{DateTime, Utc};
use limen_domain::StoreError;
use limen_domain::model::{StoredTotp, TotpAlgorithm, TotpParams, UserId};
use limen_domain::ports::SecondFactorStore;
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set, TransactionTrait,
};

use crate::entity::{recovery_code, user_totp};
use crate::errors::store_error;
use crate::time::{from_micros, to_micros};

/// `SecondFactorStore` over the `user_totp` and `recovery_codes` tables.
#[derive(Clone)]
pub struct SqlSecondFactorStore {
    db: DatabaseConnection,
}

impl SqlSecondFactorStore {
    /// A store over this pool.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn to_domain(row: user_totp::Model) -> Result<StoredTotp, StoreError> {
    let corrupt =
        |what: &str| StoreError::Unavailable(format!("TOTP enrolment of user {} has {what}", row.user_id));
    Ok(StoredTotp {
        params: TotpParams {
            algorithm: TotpAlgorithm::parse(&row.algorithm).ok_or_else(|| corrupt("an unknown algorithm"))?,
            digits: u32::try_from(row.digits).map_err(|_| corrupt("a negative digit count"))?,
            period: u64::try_from(row.period).map_err(|_| corrupt("a negative period"))?,
        },
        last_used_step: row
            .last_used_step
            .map(|step| u64::try_from(step).map_err(|_| corrupt("a negative step")))
            .transpose()?,
        created_at: from_micros(row.created_at, "created_at")?,
        sealed_secret: row.sealed_secret,
        confirmed: row.confirmed,
    })
}

fn step_value(step: u64) -> Result<i64, StoreError> {
    i64::try_from(step).map_err(|_| StoreError::Unavailable(format!("time step {step} is out of range")))
}

#[async_trait]
impl SecondFactorStore for SqlSecondFactorStore {
    async fn find_totp(&self, user: UserId) -> Result<Option<StoredTotp>, StoreError> {
        user_totp::Entity::find_by_id(user.0)
            .one(&self.db)
            .await
            .map_err(|err| store_error("reading a TOTP enrolment", err))?
            .map(to_domain)
            .transpose()
    }

    async fn put_pending_totp(&self, user: UserId, totp: &StoredTotp) -> Result<(), StoreError> {
        let context = "storing a TOTP enrolment";
        let txn = self.db.begin().await.map_err(|err| store_error(context, err))?;
        user_totp::Entity::delete_by_id(user.0)
            .exec(&txn)
            .await
            .map_err(|err| store_error(context, err))?;
        user_totp::ActiveModel {
            user_id: Set(user.0),
            sealed_secret: Set(totp.sealed_secret.clone()),
            algorithm: Set(totp.params.algorithm.as_str().to_owned()),
            digits: Set(i32::try_from(totp.params.digits).unwrap_or(i32::MAX)),
            period: Set(i32::try_from(totp.params.period).unwrap_or(i32::MAX)),
            confirmed: Set(totp.confirmed),
            last_used_step: Set(totp.last_used_step.map(step_value).transpose()?),
            created_at: Set(to_micros(totp.created_at)),
            confirmed_at: Set(None),
        }
        .insert(&txn)
        .await
        .map_err(|err| store_error(context, err))?;
        txn.commit().await.map_err(|err| store_error(context, err))
    }

    async fn confirm_totp(
        &self,
        user: UserId,
        step: u64,
        recovery_code_hashes: Vec<String>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let context = "confirming a TOTP enrolment";
        let txn = self.db.begin().await.map_err(|err| store_error(context, err))?;
        let updated = user_totp::Entity::update_many()
            .col_expr(user_totp::Column::Confirmed, Expr::value(true))
            .col_expr(user_totp::Column::LastUsedStep, Expr::value(step_value(step)?))
            .col_expr(user_totp::Column::ConfirmedAt, Expr::value(to_micros(at)))
            .filter(user_totp::Column::UserId.eq(user.0))
            .filter(user_totp::Column::Confirmed.eq(false))
            .exec(&txn)
            .await
            .map_err(|err| store_error(context, err))?;
        if updated.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        recovery_code::Entity::delete_many()
            .filter(recovery_code::Column::UserId.eq(user.0))
            .exec(&txn)
            .await
            .map_err(|err| store_error(context, err))?;
        for hash in recovery_code_hashes {
            recovery_code::ActiveModel {
                user_id: Set(user.0),
                code_hash: Set(hash),
                used_at: Set(None),
                ..Default::default()
            }
            .insert(&txn)
            .await
            .map_err(|err| store_error(context, err))?;
        }
        txn.commit().await.map_err(|err| store_error(context, err))
    }

    async fn claim_totp_step(&self, user: UserId, step: u64) -> Result<bool, StoreError> {
        let step = step_value(step)?;
        let result = user_totp::Entity::update_many()
            .col_expr(user_totp::Column::LastUsedStep, Expr::value(step))
            .filter(user_totp::Column::UserId.eq(user.0))
            .filter(
                Condition::any()
                    .add(user_totp::Column::LastUsedStep.is_null())
                    .add(user_totp::Column::LastUsedStep.lt(step)),
            )
            .exec(&self.db)
            .await
            .map_err(|err| store_error("claiming a TOTP step", err))?;
        Ok(result.rows_affected == 1)
    }

    async fn delete_totp(&self, user: UserId) -> Result<(), StoreError> {
        let context = "removing a TOTP enrolment";
        let txn = self.db.begin().await.map_err(|err| store_error(context, err))?;
        recovery_code::Entity::delete_many()
            .filter(recovery_code::Column::UserId.eq(user.0))
            .exec(&txn)
            .await
            .map_err(|err| store_error(context, err))?;
        user_totp::Entity::delete_by_id(user.0)
            .exec(&txn)
            .await
            .map_err(|err| store_error(context, err))?;
        txn.commit().await.map_err(|err| store_error(context, err))
    }

    async fn list_sealed_secrets(&self) -> Result<Vec<(UserId, String)>, StoreError> {
        Ok(user_totp::Entity::find()
            .all(&self.db)
            .await
            .map_err(|err| store_error("listing TOTP secrets", err))?
            .into_iter()
            .map(|row| (UserId(row.user_id), row.sealed_secret))
            .collect())
    }

    async fn replace_sealed_secret(&self, user: UserId, old: &str, new: &str) -> Result<bool, StoreError> {
        let result = user_totp::Entity::update_many()
            .col_expr(user_totp::Column::SealedSecret, Expr::value(new.to_owned()))
            .filter(user_totp::Column::UserId.eq(user.0))
            .filter(user_totp::Column::SealedSecret.eq(old))
            .exec(&self.db)
            .await
            .map_err(|err| store_error("re-sealing a TOTP secret", err))?;
        Ok(result.rows_affected == 1)
    }

    async fn use_recovery_code(
        &self,
        user: UserId,
        code_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = recovery_code::Entity::update_many()
            .col_expr(recovery_code::Column::UsedAt, Expr::value(to_micros(at)))
            .filter(recovery_code::Column::UserId.eq(user.0))
            .filter(recovery_code::Column::CodeHash.eq(code_hash))
            .filter(recovery_code::Column::UsedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(|err| store_error("using a recovery code", err))?;
        Ok(result.rows_affected == 1)
    }
}
