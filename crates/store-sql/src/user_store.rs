use async_trait::async_trait;
use chrono::{DateTime, Utc};
use limen_domain::StoreError;
use limen_domain::model::{LockState, NewUser, Role, User, UserId};
use limen_domain::ports::UserStore;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entity::user;
use crate::errors::store_error;
use crate::time::{from_micros, from_micros_opt, to_micros};

/// `UserStore` over Limen's `users` table.
#[derive(Clone)]
pub struct SqlUserStore {
    db: DatabaseConnection,
}

impl SqlUserStore {
    /// A store over this pool.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    async fn find_one(
        &self,
        column: user::Column,
        value: &str,
        context: &str,
    ) -> Result<Option<User>, StoreError> {
        user::Entity::find()
            .filter(column.eq(value))
            .one(&self.db)
            .await
            .map_err(|err| store_error(context, err))?
            .map(to_domain)
            .transpose()
    }

    /// Runs an UPDATE of one user that bumps its version; `NotFound` if no row matched.
    async fn update_one(
        &self,
        id: UserId,
        expected_version: Option<i64>,
        set: Vec<(user::Column, Expr)>,
        context: &str,
    ) -> Result<(), StoreError> {
        let mut update = user::Entity::update_many()
            .col_expr(user::Column::Version, Expr::col(user::Column::Version).add(1))
            .filter(user::Column::Id.eq(id.0));
        for (column, value) in set {
            update = update.col_expr(column, value);
        }
        if let Some(version) = expected_version {
            update = update.filter(user::Column::Version.eq(version));
        }
        let result = update
            .exec(&self.db)
            .await
            .map_err(|err| store_error(context, err))?;
        if result.rows_affected > 0 {
            return Ok(());
        }
        // Nothing matched: tell a stale version from a missing user.
        match (expected_version, self.find_by_id(id).await?) {
            (Some(_), Some(_)) => Err(StoreError::Conflict),
            _ => Err(StoreError::NotFound),
        }
    }
}

fn to_domain(row: user::Model) -> Result<User, StoreError> {
    Ok(User {
        id: UserId(row.id),
        username: row.username,
        email: row.email,
        first_name: row.first_name,
        last_name: row.last_name,
        personal_number: row.personal_number,
        password_hash: row.password_hash,
        enabled: row.enabled,
        lock: LockState {
            failed_attempts: u32::try_from(row.failed_attempts).unwrap_or(0),
            window_started_at: from_micros_opt(row.failure_window_started_at, "failure_window_started_at")?,
            locked_until: from_micros_opt(row.locked_until, "locked_until")?,
        },
        created_at: from_micros(row.created_at, "created_at")?,
        updated_at: from_micros(row.updated_at, "updated_at")?,
        last_login_at: from_micros_opt(row.last_login_at, "last_login_at")?,
        email_verified_at: from_micros_opt(row.email_verified_at, "email_verified_at")?,
        public_key: row.public_key,
        role: Role::parse(&row.role).ok_or_else(|| {
            StoreError::Unavailable(format!("user {} has an unknown role {:?}", row.id, row.role))
        })?,
        version: row.version,
    })
}

fn opt_micros(at: Option<DateTime<Utc>>) -> Expr {
    Expr::value(at.map(to_micros))
}

#[async_trait]
impl UserStore for SqlUserStore {
    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        user::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .map_err(|err| store_error("finding a user by id", err))?
            .map(to_domain)
            .transpose()
    }

    async fn find_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        self.find_one(user::Column::Username, username, "finding a user by username")
            .await
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        self.find_one(user::Column::Email, email, "finding a user by e-mail")
            .await
    }

    async fn create(&self, new: NewUser) -> Result<User, StoreError> {
        let created = to_micros(new.created_at);
        let row = user::ActiveModel {
            username: Set(new.username),
            email: Set(new.email),
            first_name: Set(new.first_name),
            last_name: Set(new.last_name),
            personal_number: Set(new.personal_number),
            password_hash: Set(new.password_hash),
            enabled: Set(true),
            failed_attempts: Set(0),
            failure_window_started_at: Set(None),
            locked_until: Set(None),
            created_at: Set(created),
            updated_at: Set(created),
            last_login_at: Set(None),
            role: Set(Role::User.as_str().to_owned()),
            email_verified_at: Set(None),
            public_key: Set(new.key_pair.as_ref().map(|pair| pair.public_hex.clone())),
            sealed_private_key: Set(new.key_pair.map(|pair| pair.sealed_private)),
            version: Set(1),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|err| store_error("creating a user", err))?;
        to_domain(row)
    }

    async fn list(&self) -> Result<Vec<User>, StoreError> {
        user::Entity::find()
            .order_by_asc(user::Column::Id)
            .all(&self.db)
            .await
            .map_err(|err| store_error("listing users", err))?
            .into_iter()
            .map(to_domain)
            .collect()
    }

    async fn set_password_hash(&self, id: UserId, hash: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let set = vec![
            (user::Column::PasswordHash, Expr::value(hash.to_owned())),
            (user::Column::UpdatedAt, Expr::value(to_micros(at))),
        ];
        self.update_one(id, None, set, "setting a password hash").await
    }

    async fn set_enabled(&self, id: UserId, enabled: bool, at: DateTime<Utc>) -> Result<(), StoreError> {
        let set = vec![
            (user::Column::Enabled, Expr::value(enabled)),
            (user::Column::UpdatedAt, Expr::value(to_micros(at))),
        ];
        self.update_one(id, None, set, "enabling or disabling a user")
            .await
    }

    async fn mark_email_verified(&self, id: UserId, at: DateTime<Utc>) -> Result<(), StoreError> {
        let set = vec![(user::Column::EmailVerifiedAt, Expr::value(to_micros(at)))];
        self.update_one(id, None, set, "marking an e-mail address verified")
            .await
    }

    async fn delete(&self, id: UserId) -> Result<(), StoreError> {
        // Foreign keys cascade to tokens and second factors.
        user::Entity::delete_by_id(id.0)
            .exec(&self.db)
            .await
            .map_err(|err| store_error("deleting a user", err))?;
        Ok(())
    }

    async fn set_role(&self, id: UserId, role: Role, at: DateTime<Utc>) -> Result<(), StoreError> {
        let set = vec![
            (user::Column::Role, Expr::value(role.as_str())),
            (user::Column::UpdatedAt, Expr::value(to_micros(at))),
        ];
        self.update_one(id, None, set, "setting a role").await
    }

    async fn update_lock_state(
        &self,
        id: UserId,
        expected_version: i64,
        lock: &LockState,
    ) -> Result<(), StoreError> {
        let attempts = i32::try_from(lock.failed_attempts).unwrap_or(i32::MAX);
        let set = vec![
            (user::Column::FailedAttempts, Expr::value(attempts)),
            (
                user::Column::FailureWindowStartedAt,
                opt_micros(lock.window_started_at),
            ),
            (user::Column::LockedUntil, opt_micros(lock.locked_until)),
        ];
        self.update_one(id, Some(expected_version), set, "updating a lock state")
            .await
    }

    async fn record_login(&self, id: UserId, at: DateTime<Utc>) -> Result<(), StoreError> {
        let set = vec![
            (user::Column::LastLoginAt, Expr::value(to_micros(at))),
            (user::Column::FailedAttempts, Expr::value(0)),
            (
                user::Column::FailureWindowStartedAt,
                Expr::value(Option::<i64>::None),
            ),
            (user::Column::LockedUntil, Expr::value(Option::<i64>::None)),
        ];
        self.update_one(id, None, set, "recording a login").await
    }
}
