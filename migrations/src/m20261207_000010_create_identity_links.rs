//! Identities at OpenID providers linked to Limen's accounts: after a user's
//! first login through a provider (matched by a claim such as the e-mail
//! address), later logins through it find the account by the provider's
//! issuer and subject, whatever the claim says by then. One subject per
//! account and issuer, one account per subject.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdentityLinks {
    Table,
    Id,
    UserId,
    Issuer,
    Subject,
    LinkedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdentityLinks::Table)
                    .col(
                        ColumnDef::new(IdentityLinks::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(IdentityLinks::UserId).big_integer().not_null())
                    // Issuers are URLs and subjects at most 255 ASCII characters
                    // (OpenID Connect Core §2); 255 each keeps both unique
                    // indexes within MySQL's key length.
                    .col(ColumnDef::new(IdentityLinks::Issuer).string_len(255).not_null())
                    .col(ColumnDef::new(IdentityLinks::Subject).string_len(255).not_null())
                    .col(ColumnDef::new(IdentityLinks::LinkedAt).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_identity_links_issuer_subject")
                    .table(IdentityLinks::Table)
                    .col(IdentityLinks::Issuer)
                    .col(IdentityLinks::Subject)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_identity_links_user_id_issuer")
                    .table(IdentityLinks::Table)
                    .col(IdentityLinks::UserId)
                    .col(IdentityLinks::Issuer)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IdentityLinks::Table).to_owned())
            .await
    }
}
