use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Users {
    Table,
    Id,
    Username,
    Email,
    FirstName,
    LastName,
    PersonalNumber,
    PasswordHash,
    Enabled,
    FailedAttempts,
    FailureWindowStartedAt,
    LockedUntil,
    CreatedAt,
    UpdatedAt,
    LastLoginAt,
    Version,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(
                        ColumnDef::new(Users::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Users::Username).string_len(64).not_null())
                    .col(ColumnDef::new(Users::Email).string_len(254).not_null())
                    .col(ColumnDef::new(Users::FirstName).string_len(255).null())
                    .col(ColumnDef::new(Users::LastName).string_len(255).null())
                    .col(ColumnDef::new(Users::PersonalNumber).string_len(12).null())
                    .col(ColumnDef::new(Users::PasswordHash).string_len(255).null())
                    .col(ColumnDef::new(Users::Enabled).boolean().not_null())
                    .col(
                        ColumnDef::new(Users::FailedAttempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(Users::FailureWindowStartedAt).big_integer().null())
                    .col(ColumnDef::new(Users::LockedUntil).big_integer().null())
                    .col(ColumnDef::new(Users::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(Users::UpdatedAt).big_integer().not_null())
                    .col(ColumnDef::new(Users::LastLoginAt).big_integer().null())
                    .col(ColumnDef::new(Users::Version).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        // Named after their column so that adapters can tell which one a
        // unique-key violation is about, on every engine.
        for (name, column) in [
            ("ux_users_username", Users::Username),
            ("ux_users_email", Users::Email),
            ("ux_users_personal_number", Users::PersonalNumber),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Users::Table)
                        .col(column)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}
