//! Passkeys (WebAuthn credentials) in Limen's own database, keyed by Limen's
//! account, so that users of every backend (a read-only customer table, a
//! CRM, a directory) can log in with one. A credential is found by the digest
//! of its id (ids may be up to 1023 bytes, beyond MySQL's index length); a
//! user's passkeys share one user handle (what the authenticator returns
//! with a discoverable login), and each has a name of its owner's.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Passkeys {
    Table,
    Id,
    UserId,
    UserHandle,
    CredentialDigest,
    CredentialId,
    Name,
    Credential,
    Aaguid,
    CreatedAt,
    LastUsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Passkeys::Table)
                    .col(
                        ColumnDef::new(Passkeys::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Passkeys::UserId).big_integer().not_null())
                    // A UUID, hyphenated.
                    .col(ColumnDef::new(Passkeys::UserHandle).string_len(36).not_null())
                    // SHA-256 of the credential id, hexadecimal.
                    .col(
                        ColumnDef::new(Passkeys::CredentialDigest)
                            .string_len(64)
                            .not_null(),
                    )
                    // base64url of the credential id.
                    .col(ColumnDef::new(Passkeys::CredentialId).text().not_null())
                    .col(ColumnDef::new(Passkeys::Name).string_len(64).not_null())
                    // The public key, its algorithm, sign counter and backup
                    // flags, as the WebAuthn adapter serialises them.
                    .col(ColumnDef::new(Passkeys::Credential).text().not_null())
                    .col(ColumnDef::new(Passkeys::Aaguid).string_len(36).null())
                    .col(ColumnDef::new(Passkeys::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(Passkeys::LastUsedAt).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_passkeys_credential_digest")
                    .table(Passkeys::Table)
                    .col(Passkeys::CredentialDigest)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_passkeys_user_id_name")
                    .table(Passkeys::Table)
                    .col(Passkeys::UserId)
                    .col(Passkeys::Name)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Passkeys::Table).to_owned())
            .await
    }
}
