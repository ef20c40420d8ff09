use async_trait::async_trait;
use chrono::{DateTime, Utc};
use limen_domain::StoreError;
use limen_domain::model::{Admission, Block, RateRule, RateState};
use limen_domain::ports::RateLimiter;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

use crate::entity::rate_limit::{self, Column};
use crate::errors::store_error;
use crate::time::{from_micros, from_micros_opt, to_micros};

/// `RateLimiter` over the `rate_limits` table. Each transition of
/// `model::RateState` is one conditional `UPDATE`, so that concurrent requests,
/// on this node or another, are counted one after another by the database.
#[derive(Clone)]
pub struct SqlRateLimiter {
    db: DatabaseConnection,
}

impl SqlRateLimiter {
    /// A limiter over this pool.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// Makes `key`'s row when it has none and counts one attempt on it when
    /// neither a block nor a full window refuses it: whether it counted.
    async fn try_admit(&self, key: &str, rule: &RateRule, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let context = "counting an attempt";
        let now_us = to_micros(now);
        let window = micros(rule.window);
        // A key seen for the first time gets an empty row to count on.
        rate_limit::Entity::insert(rate_limit::ActiveModel {
            bucket: Set(key.to_owned()),
            hits: Set(0),
            window_started_at: Set(now_us),
            blocked_until: Set(None),
            expires_at: Set(now_us.saturating_add(window)),
        })
        .on_conflict(
            OnConflict::column(Column::Bucket)
                .do_nothing_on([Column::Bucket])
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await
        .map_err(|err| store_error(context, err))?;
        let cutoff = now_us.saturating_sub(window);
        let window_closed = || Expr::col(Column::WindowStartedAt).lte(cutoff);
        let limit = i32::try_from(rule.limit).unwrap_or(i32::MAX);
        // MySQL assigns left to right and later assignments see earlier ones,
        // so every expression below reads only columns assigned after it.
        let admitted = rate_limit::Entity::update_many()
            .col_expr(
                Column::Hits,
                Expr::case(window_closed(), 1)
                    .finally(Expr::col(Column::Hits).add(1))
                    .into(),
            )
            .col_expr(
                Column::ExpiresAt,
                Expr::case(window_closed(), now_us.saturating_add(window))
                    .finally(Expr::col(Column::WindowStartedAt).add(window))
                    .into(),
            )
            .col_expr(
                Column::WindowStartedAt,
                Expr::case(window_closed(), now_us)
                    .finally(Expr::col(Column::WindowStartedAt))
                    .into(),
            )
            .filter(Column::Bucket.eq(key))
            .filter(
                Column::BlockedUntil
                    .is_null()
                    .or(Column::BlockedUntil.lte(now_us)),
            )
            .filter(Column::WindowStartedAt.lte(cutoff).or(Column::Hits.lt(limit)))
            .exec(&self.db)
            .await
            .map_err(|err| store_error(context, err))?;
        Ok(admitted.rows_affected > 0)
    }

    async fn row(&self, key: &str) -> Result<Option<rate_limit::Model>, StoreError> {
        rate_limit::Entity::find_by_id(key.to_owned())
            .one(&self.db)
            .await
            .map_err(|err| store_error("reading a rate limit", err))
    }
}

/// How often `admit` tries again when a concurrent `clear` changed the count under it.
const ADMIT_TRIES: usize = 8;

fn micros(duration: chrono::Duration) -> i64 {
    duration.num_microseconds().unwrap_or(i64::MAX)
}

fn to_state(row: rate_limit::Model) -> Result<RateState, StoreError> {
    Ok(RateState {
        hits: u32::try_from(row.hits).unwrap_or(0),
        window_started_at: from_micros(row.window_started_at, "window_started_at")?,
        blocked_until: from_micros_opt(row.blocked_until, "blocked_until")?,
    })
}

#[async_trait]
impl RateLimiter for SqlRateLimiter {
    async fn admit(&self, key: &str, rule: &RateRule, now: DateTime<Utc>) -> Result<Admission, StoreError> {
        // The row is made and then counted on in two statements, so a
        // concurrent `clear` (a login of the same account completing) may
        // delete it in between, and another attempt make it anew: when the
        // count as read would have admitted this attempt, it is tried again.
        // Without that, such an attempt was refused as `Full` although
        // nothing was in flight.
        for _ in 0..ADMIT_TRIES {
            if self.try_admit(key, rule, now).await? {
                return Ok(Admission::Admitted);
            }
            let Some(row) = self.row(key).await? else {
                continue;
            };
            if let Err(refusal) = RateState::admit(Some(&to_state(row)?), rule, now) {
                return Ok(refusal);
            }
        }
        Err(StoreError::Unavailable(format!(
            "counting an attempt: the count of {key:?} changed under every one of {ADMIT_TRIES} tries"
        )))
    }

    async fn settle_failure(
        &self,
        key: &str,
        rule: &RateRule,
        now: DateTime<Utc>,
    ) -> Result<Option<Block>, StoreError> {
        let now_us = to_micros(now);
        let until = now + rule.block_for;
        let until_us = to_micros(until);
        let limit = i32::try_from(rule.limit).unwrap_or(i32::MAX);
        let blocked = rate_limit::Entity::update_many()
            .col_expr(
                Column::ExpiresAt,
                Expr::case(
                    Expr::col(Column::ExpiresAt).gt(until_us),
                    Expr::col(Column::ExpiresAt),
                )
                .finally(until_us)
                .into(),
            )
            .col_expr(Column::Hits, Expr::value(0))
            .col_expr(Column::BlockedUntil, Expr::value(until_us))
            .filter(Column::Bucket.eq(key))
            .filter(Column::Hits.gte(limit))
            .filter(Column::WindowStartedAt.gt(now_us.saturating_sub(micros(rule.window))))
            .filter(
                Column::BlockedUntil
                    .is_null()
                    .or(Column::BlockedUntil.lte(now_us)),
            )
            .exec(&self.db)
            .await
            .map_err(|err| store_error("settling a failed attempt", err))?;
        if blocked.rows_affected > 0 {
            return Ok(Some(Block { until, started: true }));
        }
        match self.row(key).await? {
            Some(row) => Ok(to_state(row)?.blocked_at(now).map(|until| Block {
                until,
                started: false,
            })),
            None => Ok(None),
        }
    }

    async fn refund(&self, key: &str, rule: &RateRule, now: DateTime<Utc>) -> Result<(), StoreError> {
        let cutoff = to_micros(now).saturating_sub(micros(rule.window));
        rate_limit::Entity::update_many()
            .col_expr(Column::Hits, Expr::col(Column::Hits).sub(1))
            .filter(Column::Bucket.eq(key))
            .filter(Column::Hits.gt(0))
            .filter(Column::WindowStartedAt.gt(cutoff))
            .exec(&self.db)
            .await
            .map_err(|err| store_error("giving back an attempt", err))?;
        Ok(())
    }

    async fn clear(&self, key: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let now_us = to_micros(now);
        let deleted = rate_limit::Entity::delete_many()
            .filter(Column::Bucket.eq(key))
            .filter(
                Column::BlockedUntil
                    .is_null()
                    .or(Column::BlockedUntil.lte(now_us)),
            )
            .exec(&self.db)
            .await
            .map_err(|err| store_error("clearing attempts", err))?;
        if deleted.rows_affected > 0 {
            // Gone; a row made since is a concurrent attempt's, and its count stands.
            return Ok(());
        }
        // What is left is blocked: the block stays, the count goes.
        rate_limit::Entity::update_many()
            .col_expr(Column::Hits, Expr::value(0))
            .filter(Column::Bucket.eq(key))
            .exec(&self.db)
            .await
            .map_err(|err| store_error("clearing attempts", err))?;
        Ok(())
    }

    async fn reset(&self, key: &str) -> Result<(), StoreError> {
        rate_limit::Entity::delete_by_id(key.to_owned())
            .exec(&self.db)
            .await
            .map_err(|err| store_error("resetting a rate limit", err))?;
        Ok(())
    }

    async fn state(&self, key: &str) -> Result<Option<RateState>, StoreError> {
        self.row(key).await?.map(to_state).transpose()
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let now_us = to_micros(now);
        let result = rate_limit::Entity::delete_many()
            .filter(Column::ExpiresAt.lte(now_us))
            .filter(
                Column::BlockedUntil
                    .is_null()
                    .or(Column::BlockedUntil.lte(now_us)),
            )
            .exec(&self.db)
            .await
            .map_err(|err| store_error("purging rate limits", err))?;
        Ok(result.rows_affected)
    }
}
