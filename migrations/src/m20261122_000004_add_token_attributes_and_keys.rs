use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

use crate::m20261122_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tokens {
    Table,
    Note,
    Enabled,
    ClientId,
    BoundAddress,
    Version,
}

#[derive(DeriveIden)]
enum UserColumns {
    EmailVerifiedAt,
    PublicKey,
    SealedPrivateKey,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in [
            ColumnDef::new(Tokens::Note).string_len(255).null().to_owned(),
            ColumnDef::new(Tokens::Enabled)
                .boolean()
                .not_null()
                .default(true)
                .to_owned(),
            ColumnDef::new(Tokens::ClientId).string_len(255).null().to_owned(),
            ColumnDef::new(Tokens::BoundAddress)
                .string_len(64)
                .null()
                .to_owned(),
            ColumnDef::new(Tokens::Version)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
        ] {
            manager
                .alter_table(Table::alter().table(Tokens::Table).add_column(column).to_owned())
                .await?;
        }
        for column in [
            ColumnDef::new(UserColumns::EmailVerifiedAt)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(UserColumns::PublicKey)
                .string_len(64)
                .null()
                .to_owned(),
            ColumnDef::new(UserColumns::SealedPrivateKey)
                .string_len(255)
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(Table::alter().table(Users::Table).add_column(column).to_owned())
                .await?;
        }
        // Self-registered users are named by their e-mail address, which may be
        // longer than the 64 characters chosen for usernames. SQLite does not
        // enforce VARCHAR lengths and cannot alter a column.
        if manager.get_database_backend() != DatabaseBackend::Sqlite {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .modify_column(ColumnDef::new(Users::Username).string_len(254).not_null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Tokens::Note,
            Tokens::Enabled,
            Tokens::ClientId,
            Tokens::BoundAddress,
            Tokens::Version,
        ] {
            manager
                .alter_table(Table::alter().table(Tokens::Table).drop_column(column).to_owned())
                .await?;
        }
        for column in [
            UserColumns::EmailVerifiedAt,
            UserColumns::PublicKey,
            UserColumns::SealedPrivateKey,
        ] {
            manager
                .alter_table(Table::alter().table(Users::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
