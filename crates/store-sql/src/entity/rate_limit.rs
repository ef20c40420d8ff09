//! The `rate_limits` table: counted attempts per key.

use sea_orm::entity::prelude::*;

/// One row of `rate_limits`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rate_limits")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub bucket: String,
    pub hits: i32,
    pub window_started_at: i64,
    pub blocked_until: Option<i64>,
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
