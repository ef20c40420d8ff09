//! The `user_totp` table: one TOTP enrolment per user.

use sea_orm::entity::prelude::*;

/// One row of `user_totp`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_totp")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    pub sealed_secret: String,
    pub algorithm: String,
    pub digits: i32,
    pub period: i32,
    pub confirmed: bool,
    pub last_used_step: Option<i64>,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
