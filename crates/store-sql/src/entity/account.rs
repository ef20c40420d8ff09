//! The `accounts` table: what Limen owns about every user, whatever the directory.

use sea_orm::entity::prelude::*;

/// One row of `accounts`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub directory: String,
    pub external_id: String,
    pub role: String,
    pub disabled: bool,
    pub email_verified_at: Option<i64>,
    pub last_login_at: Option<i64>,
    pub public_key: Option<String>,
    pub sealed_private_key: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
    pub scim_external_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
