//! The audit trail: one row per security event (logins, lockouts, password and
//! second-factor changes, tokens, administration commands), kept for
//! `audit.retention_days`. Read newest first, by time and by user.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    At,
    Kind,
    UserId,
    Username,
    Actor,
    Client,
    Dialect,
    Method,
    Detail,
    RequestId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(
                        ColumnDef::new(AuditEvents::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AuditEvents::At).big_integer().not_null())
                    .col(ColumnDef::new(AuditEvents::Kind).string_len(40).not_null())
                    .col(ColumnDef::new(AuditEvents::UserId).big_integer().null())
                    .col(ColumnDef::new(AuditEvents::Username).string_len(255).null())
                    .col(ColumnDef::new(AuditEvents::Actor).string_len(160).not_null())
                    .col(ColumnDef::new(AuditEvents::Client).string_len(64).null())
                    .col(ColumnDef::new(AuditEvents::Dialect).string_len(16).null())
                    .col(ColumnDef::new(AuditEvents::Method).string_len(32).null())
                    .col(ColumnDef::new(AuditEvents::Detail).string_len(1024).null())
                    .col(ColumnDef::new(AuditEvents::RequestId).string_len(128).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_events_at")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::At)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_events_user_id_at")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::UserId)
                    .col(AuditEvents::At)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_events_username_at")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::Username)
                    .col(AuditEvents::At)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEvents::Table).to_owned())
            .await
    }
}
