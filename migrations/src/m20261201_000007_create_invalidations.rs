//! Where nodes without notifications (SQLite, MySQL/MariaDB) leave the
//! changes other processes' token caches must hear: each node reads the new
//! rows every fraction of a second; rows are removed after ten minutes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Invalidations {
    Table,
    Id,
    Change,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Invalidations::Table)
                    .col(
                        ColumnDef::new(Invalidations::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Invalidations::Change).string_len(160).not_null())
                    .col(ColumnDef::new(Invalidations::CreatedAt).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_invalidations_created_at")
                    .table(Invalidations::Table)
                    .col(Invalidations::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Invalidations::Table).to_owned())
            .await
    }
}
