//! Limen's database schema as sea-orm migrations, one file per change, applied on
//! start and by `limen migrate`. The same migrations run on SQLite, PostgreSQL and
//! MySQL/MariaDB.
//!
//! Times are `BIGINT` microseconds since the Unix epoch (UTC): identical on every
//! engine, with no time-zone conversion, no loss of fractions (MySQL's `DATETIME`
//! drops them by default) and no 2038 limit or implicit `ON UPDATE` (MariaDB's
//! `TIMESTAMP`).

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_users;
mod m20261122_000002_create_tokens;
mod m20261122_000003_add_second_factors;
mod m20261122_000004_add_token_attributes_and_keys;
mod m20261130_000005_split_accounts;
mod m20261130_000006_add_token_payload;
mod m20261201_000007_create_invalidations;
mod m20261201_000008_index_token_expiry;
mod m20261202_000009_create_audit_events;
mod m20261207_000010_create_identity_links;
mod m20261207_000011_create_signing_keys;
mod m20261207_000012_create_passkeys;
mod m20261207_000013_create_admin_tokens;

/// Every migration, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_users::Migration),
            Box::new(m20261122_000002_create_tokens::Migration),
            Box::new(m20261122_000003_add_second_factors::Migration),
            Box::new(m20261122_000004_add_token_attributes_and_keys::Migration),
            Box::new(m20261130_000005_split_accounts::Migration),
            Box::new(m20261130_000006_add_token_payload::Migration),
            Box::new(m20261201_000007_create_invalidations::Migration),
            Box::new(m20261201_000008_index_token_expiry::Migration),
            Box::new(m20261202_000009_create_audit_events::Migration),
            Box::new(m20261207_000010_create_identity_links::Migration),
            Box::new(m20261207_000011_create_signing_keys::Migration),
            Box::new(m20261207_000012_create_passkeys::Migration),
            Box::new(m20261207_000013_create_admin_tokens::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        "limen_migrations".into_iden()
    }
}
