//! Splits what Limen owns about a user from the user directory.
//!
//! - `accounts` (new): one row per user Limen knows, whatever directory the user
//!   lives in: Limen's id, the (directory, external id) link, role, Limen's own
//!   disabled flag, e-mail verification, last login, key pair. Existing users
//!   keep their ids (directory `limen`, external id = id).
//! - `rate_limits` (new): counted attempts per key; account lockouts move here.
//!   Active locks are carried over; failure counts below the limit start afresh.
//! - `users` keeps only the directory's data (identity, password hash, enabled).
//! - `tokens`, `user_totp`, `recovery_codes` lose their foreign keys to `users`:
//!   their `user_id` is an `accounts` id, which for a customer's directory has no
//!   `users` row, and deleting a user's data is done explicitly by the services.
//!   `tokens` loses `attempts` (now counted in `rate_limits`) and gains
//!   `origin_hash` (the remember-me token a session came from).
//!
//! SQLite cannot drop a foreign key, so it rebuilds those three tables inside
//! the migration's transaction.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

use crate::m20261122_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    Directory,
    ExternalId,
    Role,
    Disabled,
    EmailVerifiedAt,
    LastLoginAt,
    PublicKey,
    SealedPrivateKey,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum RateLimits {
    Table,
    Bucket,
    Hits,
    WindowStartedAt,
    BlockedUntil,
    ExpiresAt,
}

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
    Note,
    Enabled,
    ClientId,
    BoundAddress,
    Version,
    OriginHash,
}

#[derive(DeriveIden)]
enum UserTotp {
    Table,
    UserId,
    SealedSecret,
    Algorithm,
    Digits,
    Period,
    Confirmed,
    LastUsedStep,
    CreatedAt,
    ConfirmedAt,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    UsedAt,
}

#[derive(DeriveIden)]
enum MovedUserColumns {
    Role,
    FailedAttempts,
    FailureWindowStartedAt,
    LockedUntil,
    LastLoginAt,
    Version,
    EmailVerifiedAt,
    PublicKey,
    SealedPrivateKey,
}

#[derive(DeriveIden)]
enum TokensNew {
    #[sea_orm(iden = "tokens_new")]
    Table,
}

#[derive(DeriveIden)]
enum UserTotpNew {
    #[sea_orm(iden = "user_totp_new")]
    Table,
}

#[derive(DeriveIden)]
enum RecoveryCodesNew {
    #[sea_orm(iden = "recovery_codes_new")]
    Table,
}

fn accounts_table() -> TableCreateStatement {
    Table::create()
        .table(Accounts::Table)
        .col(
            ColumnDef::new(Accounts::Id)
                .big_integer()
                .not_null()
                .auto_increment()
                .primary_key(),
        )
        .col(ColumnDef::new(Accounts::Directory).string_len(64).not_null())
        .col(ColumnDef::new(Accounts::ExternalId).string_len(255).not_null())
        .col(
            ColumnDef::new(Accounts::Role)
                .string_len(16)
                .not_null()
                .default("user"),
        )
        .col(
            ColumnDef::new(Accounts::Disabled)
                .boolean()
                .not_null()
                .default(false),
        )
        .col(ColumnDef::new(Accounts::EmailVerifiedAt).big_integer().null())
        .col(ColumnDef::new(Accounts::LastLoginAt).big_integer().null())
        .col(ColumnDef::new(Accounts::PublicKey).string_len(64).null())
        .col(ColumnDef::new(Accounts::SealedPrivateKey).string_len(255).null())
        .col(ColumnDef::new(Accounts::CreatedAt).big_integer().not_null())
        .col(ColumnDef::new(Accounts::UpdatedAt).big_integer().not_null())
        .col(
            ColumnDef::new(Accounts::Version)
                .big_integer()
                .not_null()
                .default(1),
        )
        .to_owned()
}

fn rate_limits_table() -> TableCreateStatement {
    Table::create()
        .table(RateLimits::Table)
        .col(
            ColumnDef::new(RateLimits::Bucket)
                .string_len(128)
                .not_null()
                .primary_key(),
        )
        .col(ColumnDef::new(RateLimits::Hits).integer().not_null())
        .col(
            ColumnDef::new(RateLimits::WindowStartedAt)
                .big_integer()
                .not_null(),
        )
        .col(ColumnDef::new(RateLimits::BlockedUntil).big_integer().null())
        .col(ColumnDef::new(RateLimits::ExpiresAt).big_integer().not_null())
        .to_owned()
}

/// `tokens` as it is after this migration, under `name`.
fn tokens_table(name: impl IntoIden) -> TableCreateStatement {
    Table::create()
        .table(name)
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
        .col(ColumnDef::new(Tokens::Note).string_len(255).null())
        .col(ColumnDef::new(Tokens::Enabled).boolean().not_null().default(true))
        .col(ColumnDef::new(Tokens::ClientId).string_len(255).null())
        .col(ColumnDef::new(Tokens::BoundAddress).string_len(64).null())
        .col(
            ColumnDef::new(Tokens::Version)
                .big_integer()
                .not_null()
                .default(0),
        )
        .col(ColumnDef::new(Tokens::OriginHash).string_len(64).null())
        .to_owned()
}

fn user_totp_table(name: impl IntoIden) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(
            ColumnDef::new(UserTotp::UserId)
                .big_integer()
                .not_null()
                .primary_key(),
        )
        .col(ColumnDef::new(UserTotp::SealedSecret).string_len(512).not_null())
        .col(ColumnDef::new(UserTotp::Algorithm).string_len(16).not_null())
        .col(ColumnDef::new(UserTotp::Digits).integer().not_null())
        .col(ColumnDef::new(UserTotp::Period).integer().not_null())
        .col(ColumnDef::new(UserTotp::Confirmed).boolean().not_null())
        .col(ColumnDef::new(UserTotp::LastUsedStep).big_integer().null())
        .col(ColumnDef::new(UserTotp::CreatedAt).big_integer().not_null())
        .col(ColumnDef::new(UserTotp::ConfirmedAt).big_integer().null())
        .to_owned()
}

fn recovery_codes_table(name: impl IntoIden) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(
            ColumnDef::new(RecoveryCodes::Id)
                .big_integer()
                .not_null()
                .auto_increment()
                .primary_key(),
        )
        .col(ColumnDef::new(RecoveryCodes::UserId).big_integer().not_null())
        .col(ColumnDef::new(RecoveryCodes::CodeHash).string_len(64).not_null())
        .col(ColumnDef::new(RecoveryCodes::UsedAt).big_integer().null())
        .to_owned()
}

/// SQLite: copies `table` into `new` (created without foreign keys) and puts
/// the copy in its place. `columns` are the columns kept.
async fn rebuild_sqlite(
    manager: &SchemaManager<'_>,
    table: &str,
    create_new: TableCreateStatement,
    new: &str,
    columns: &str,
) -> Result<(), DbErr> {
    manager.create_table(create_new).await?;
    let db = manager.get_connection();
    db.execute_unprepared(&format!(
        "INSERT INTO {new} ({columns}) SELECT {columns} FROM {table}"
    ))
    .await?;
    db.execute_unprepared(&format!("DROP TABLE {table}")).await?;
    db.execute_unprepared(&format!("ALTER TABLE {new} RENAME TO {table}"))
        .await?;
    Ok(())
}

const TOKEN_COLUMNS: &str = "id, user_id, kind, token_hash, created_at, expires_at, last_used_at, revoked_at, \
     note, enabled, client_id, bound_address, version";
const TOTP_COLUMNS: &str =
    "user_id, sealed_secret, algorithm, digits, period, confirmed, last_used_step, created_at, confirmed_at";
const RECOVERY_COLUMNS: &str = "id, user_id, code_hash, used_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        // SQLite's DDL is transactional: a crash mid-way leaves the old schema.
        // (MySQL commits each DDL statement whatever is asked.)
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let db = manager.get_connection();

        manager.create_table(accounts_table()).await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_accounts_directory_external_id")
                    .table(Accounts::Table)
                    .col(Accounts::Directory)
                    .col(Accounts::ExternalId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        let id_text = match backend {
            DatabaseBackend::MySql => "CAST(id AS CHAR)",
            DatabaseBackend::Postgres => "CAST(id AS VARCHAR)",
            _ => "CAST(id AS TEXT)",
        };
        db.execute_unprepared(&format!(
            "INSERT INTO accounts (id, directory, external_id, role, disabled, email_verified_at, \
             last_login_at, public_key, sealed_private_key, created_at, updated_at, version) \
             SELECT id, 'limen', {id_text}, role, NOT enabled, email_verified_at, last_login_at, \
             public_key, sealed_private_key, created_at, updated_at, version FROM users"
        ))
        .await?;
        if backend == DatabaseBackend::Postgres {
            // Explicit ids do not advance PostgreSQL's sequence.
            db.execute_unprepared(
                "SELECT setval(pg_get_serial_sequence('accounts', 'id'), COALESCE(MAX(id), 0) + 1, false) \
                 FROM accounts",
            )
            .await?;
        }
        // Limen's own flag now lives in accounts.disabled.
        db.execute_unprepared("UPDATE users SET enabled = TRUE").await?;

        manager.create_table(rate_limits_table()).await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_rate_limits_expires_at")
                    .table(RateLimits::Table)
                    .col(RateLimits::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        let bucket = match backend {
            DatabaseBackend::MySql => "CONCAT('account:', id)",
            _ => "'account:' || CAST(id AS VARCHAR(20))",
        };
        db.execute_unprepared(&format!(
            "INSERT INTO rate_limits (bucket, hits, window_started_at, blocked_until, expires_at) \
             SELECT {bucket}, 0, COALESCE(failure_window_started_at, updated_at), locked_until, locked_until \
             FROM users WHERE locked_until IS NOT NULL"
        ))
        .await?;

        if backend == DatabaseBackend::Sqlite {
            rebuild_sqlite(
                manager,
                "tokens",
                tokens_table(TokensNew::Table),
                "tokens_new",
                TOKEN_COLUMNS,
            )
            .await?;
            rebuild_sqlite(
                manager,
                "user_totp",
                user_totp_table(UserTotpNew::Table),
                "user_totp_new",
                TOTP_COLUMNS,
            )
            .await?;
            rebuild_sqlite(
                manager,
                "recovery_codes",
                recovery_codes_table(RecoveryCodesNew::Table),
                "recovery_codes_new",
                RECOVERY_COLUMNS,
            )
            .await?;
            // The indexes went with the old tables.
            for index in [
                Index::create()
                    .name("ux_tokens_token_hash")
                    .table(Tokens::Table)
                    .col(Tokens::TokenHash)
                    .unique()
                    .to_owned(),
                Index::create()
                    .name("ix_tokens_user_id")
                    .table(Tokens::Table)
                    .col(Tokens::UserId)
                    .to_owned(),
                Index::create()
                    .name("ux_recovery_codes_user_code")
                    .table(RecoveryCodes::Table)
                    .col(RecoveryCodes::UserId)
                    .col(RecoveryCodes::CodeHash)
                    .unique()
                    .to_owned(),
            ] {
                manager.create_index(index).await?;
            }
        } else {
            for (name, table) in [
                ("fk_tokens_user", Tokens::Table.into_iden()),
                ("fk_user_totp_user", UserTotp::Table.into_iden()),
                ("fk_recovery_codes_user", RecoveryCodes::Table.into_iden()),
            ] {
                manager
                    .drop_foreign_key(ForeignKey::drop().name(name).table(table).to_owned())
                    .await?;
            }
            manager
                .alter_table(
                    Table::alter()
                        .table(Tokens::Table)
                        .drop_column(Alias::new("attempts"))
                        .to_owned(),
                )
                .await?;
            manager
                .alter_table(
                    Table::alter()
                        .table(Tokens::Table)
                        .add_column(ColumnDef::new(Tokens::OriginHash).string_len(64).null())
                        .to_owned(),
                )
                .await?;
        }

        for column in [
            MovedUserColumns::Role,
            MovedUserColumns::FailedAttempts,
            MovedUserColumns::FailureWindowStartedAt,
            MovedUserColumns::LockedUntil,
            MovedUserColumns::LastLoginAt,
            MovedUserColumns::Version,
            MovedUserColumns::EmailVerifiedAt,
            MovedUserColumns::PublicKey,
            MovedUserColumns::SealedPrivateKey,
        ] {
            manager
                .alter_table(Table::alter().table(Users::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // Going back would have to invent users rows for accounts of other
        // directories; restore the backup taken before upgrading instead.
        Err(DbErr::Migration(
            "m20261130_000005_split_accounts cannot be undone; restore a backup taken before the upgrade"
                .into(),
        ))
    }
}
