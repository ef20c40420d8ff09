//! The `invalidations` table: changes for the token caches of other processes.

use sea_orm::entity::prelude::*;

/// One row of `invalidations`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invalidations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub change: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
