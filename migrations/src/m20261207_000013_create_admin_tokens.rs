//! The administration API's bearer tokens, and the identifier a SCIM client
//! gives each user it provisions (`externalId`). Admin tokens belong to an
//! operator's automation, not to a user, so they live in a table of their
//! own in Limen's database (never in Redis with the users' tokens): named,
//! with their scopes, stored as SHA-256 digests.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AdminTokens {
    Table,
    Id,
    Name,
    TokenHash,
    Scopes,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    ScimExternalId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AdminTokens::Table)
                    .col(
                        ColumnDef::new(AdminTokens::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AdminTokens::Name).string_len(64).not_null())
                    // SHA-256 of the token, hexadecimal.
                    .col(ColumnDef::new(AdminTokens::TokenHash).string_len(64).not_null())
                    // Space-separated scope names.
                    .col(ColumnDef::new(AdminTokens::Scopes).string_len(255).not_null())
                    .col(ColumnDef::new(AdminTokens::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(AdminTokens::ExpiresAt).big_integer().null())
                    .col(ColumnDef::new(AdminTokens::LastUsedAt).big_integer().null())
                    .col(ColumnDef::new(AdminTokens::RevokedAt).big_integer().null())
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("ux_admin_tokens_name", AdminTokens::Name),
            ("ux_admin_tokens_token_hash", AdminTokens::TokenHash),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AdminTokens::Table)
                        .col(column)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Accounts::Table)
                    .add_column(ColumnDef::new(Accounts::ScimExternalId).string_len(255).null())
                    .to_owned(),
            )
            .await?;
        // SCIM clients look users up by their own id (`externalId eq …`)
        // before every change.
        manager
            .create_index(
                Index::create()
                    .name("ix_accounts_scim_external_id")
                    .table(Accounts::Table)
                    .col(Accounts::ScimExternalId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_accounts_scim_external_id")
                    .table(Accounts::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Accounts::Table)
                    .drop_column(Accounts::ScimExternalId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(AdminTokens::Table).to_owned())
            .await
    }
}
