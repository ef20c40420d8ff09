use sea_orm_migration::prelude::*;

use crate::m20261122_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tokens {
    Table,
    Id,
    UserId,
    Kind,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tokens::Table)
                    .col(
                        ColumnDef::new(Tokens::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Tokens::UserId).big_integer().not_null())
                    .col(ColumnDef::new(Tokens::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(Tokens::TokenHash).string_len(64).not_null())
                    .col(ColumnDef::new(Tokens::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(Tokens::ExpiresAt).big_integer().not_null())
                    .col(ColumnDef::new(Tokens::LastUsedAt).big_integer().null())
                    .col(ColumnDef::new(Tokens::RevokedAt).big_integer().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tokens_user")
                            .from(Tokens::Table, Tokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The hot path: every authenticated request looks a token up by its digest.
        manager
            .create_index(
                Index::create()
                    .name("ux_tokens_token_hash")
                    .table(Tokens::Table)
                    .col(Tokens::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // "Log out everywhere" revokes by user.
        manager
            .create_index(
                Index::create()
                    .name("ix_tokens_user_id")
                    .table(Tokens::Table)
                    .col(Tokens::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Tokens::Table).to_owned())
            .await
    }
}
