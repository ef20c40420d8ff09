use async_trait::async_trait;
use limen_domain::StoreError;
use limen_domain::model::{DirectoryCapabilities, DirectoryEntry, NewDirectoryEntry, ProfileChange};
use limen_domain::ports::UserDirectory;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};

use crate::entity::{account, user};
use crate::errors::store_error;
use crate::time::{from_micros, to_micros};

/// The name under which users of Limen's own table are linked to accounts.
pub const LIMEN_DIRECTORY: &str = "limen";

/// `UserDirectory` over Limen's own `users` table: every write is supported.
/// A user's id here is their Limen id: creation reserves the id in `accounts`
/// first, in the same transaction, so that both are always the same.
#[derive(Clone)]
pub struct SqlUserDirectory {
    db: DatabaseConnection,
}

impl SqlUserDirectory {
    /// A directory over this pool.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    async fn find_one(
        &self,
        column: user::Column,
        value: &str,
        context: &str,
    ) -> Result<Option<DirectoryEntry>, StoreError> {
        // No stored name or address holds a NUL (they are validated), and
        // PostgreSQL refuses one in a parameter: nobody has it.
        if value.contains('\0') {
            return Ok(None);
        }
        user::Entity::find()
            .filter(column.eq(value))
            .one(&self.db)
            .await
            .map_err(|err| store_error(context, err))?
            .map(to_domain)
            .transpose()
    }
}

fn to_domain(row: user::Model) -> Result<DirectoryEntry, StoreError> {
    Ok(DirectoryEntry {
        external_id: row.id.to_string(),
        username: row.username,
        email: row.email,
        first_name: row.first_name,
        last_name: row.last_name,
        personal_number: row.personal_number,
        password_hash: row.password_hash,
        enabled: row.enabled,
        created_at: Some(from_micros(row.created_at, "created_at")?),
        read_at: None,
    })
}

/// The row id a directory id names; `None` for text that is no id of this table.
fn row_id(external_id: &str) -> Option<i64> {
    external_id.parse().ok()
}

#[async_trait]
impl UserDirectory for SqlUserDirectory {
    fn name(&self) -> &str {
        LIMEN_DIRECTORY
    }

    fn capabilities(&self) -> DirectoryCapabilities {
        DirectoryCapabilities::ALL
    }

    async fn find_by_id(&self, external_id: &str) -> Result<Option<DirectoryEntry>, StoreError> {
        let Some(id) = row_id(external_id) else {
            return Ok(None);
        };
        user::Entity::find_by_id(id)
            .one(&self.db)
            .await
            .map_err(|err| store_error("finding a user by id", err))?
            .map(to_domain)
            .transpose()
    }

    async fn find_by_username(&self, username: &str) -> Result<Option<DirectoryEntry>, StoreError> {
        self.find_one(user::Column::Username, username, "finding a user by username")
            .await
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<DirectoryEntry>, StoreError> {
        self.find_one(user::Column::Email, email, "finding a user by e-mail")
            .await
    }

    async fn find_by_personal_number(
        &self,
        personal_number: &str,
    ) -> Result<Option<DirectoryEntry>, StoreError> {
        self.find_one(
            user::Column::PersonalNumber,
            personal_number,
            "finding a user by personal number",
        )
        .await
    }

    async fn create(&self, new: NewDirectoryEntry) -> Result<DirectoryEntry, StoreError> {
        let context = "creating a user";
        let txn = self.db.begin().await.map_err(|err| store_error(context, err))?;
        let row = insert_user(&txn, new, true, None).await?;
        txn.commit().await.map_err(|err| store_error(context, err))?;
        to_domain(row)
    }

    async fn set_password_hash(&self, external_id: &str, hash: &str) -> Result<(), StoreError> {
        let id = row_id(external_id).ok_or(StoreError::NotFound)?;
        let now = to_micros(chrono::Utc::now());
        let result = user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(hash.to_owned()))
            .col_expr(user::Column::UpdatedAt, Expr::value(now))
            .filter(user::Column::Id.eq(id))
            .exec(&self.db)
            .await
            .map_err(|err| store_error("setting a password hash", err))?;
        if result.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn update_profile(
        &self,
        external_id: &str,
        change: &ProfileChange,
    ) -> Result<DirectoryEntry, StoreError> {
        let id = row_id(external_id).ok_or(StoreError::NotFound)?;
        let mut update = user::Entity::update_many()
            .col_expr(
                user::Column::UpdatedAt,
                Expr::value(to_micros(chrono::Utc::now())),
            )
            .filter(user::Column::Id.eq(id));
        if let Some(username) = &change.username {
            update = update.col_expr(user::Column::Username, Expr::value(username.clone()));
        }
        if let Some(email) = &change.email {
            update = update.col_expr(user::Column::Email, Expr::value(email.clone()));
        }
        if let Some(first_name) = &change.first_name {
            update = update.col_expr(user::Column::FirstName, Expr::value(first_name.clone()));
        }
        if let Some(last_name) = &change.last_name {
            update = update.col_expr(user::Column::LastName, Expr::value(last_name.clone()));
        }
        if let Some(personal_number) = &change.personal_number {
            update = update.col_expr(user::Column::PersonalNumber, Expr::value(personal_number.clone()));
        }
        let result = update
            .exec(&self.db)
            .await
            .map_err(|err| store_error("changing a user's profile", err))?;
        if result.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        self.find_by_id(external_id).await?.ok_or(StoreError::NotFound)
    }

    async fn delete(&self, external_id: &str) -> Result<(), StoreError> {
        let id = row_id(external_id).ok_or(StoreError::NotFound)?;
        user::Entity::delete_by_id(id)
            .exec(&self.db)
            .await
            .map_err(|err| store_error("deleting a user", err))?;
        Ok(())
    }

    async fn list(&self, after: Option<String>, limit: u32) -> Result<Vec<DirectoryEntry>, StoreError> {
        let mut query = user::Entity::find().order_by_asc(user::Column::Id);
        if let Some(after) = after.as_deref().and_then(row_id) {
            query = query.filter(user::Column::Id.gt(after));
        }
        query
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(|err| store_error("listing users", err))?
            .into_iter()
            .map(to_domain)
            .collect()
    }
}

/// Inserts a user of Limen's own table within `txn`: the id is reserved in
/// `accounts` first (under a placeholder replaced below), so that the user's
/// row id and Limen id are the same.
pub(crate) async fn insert_user(
    txn: &DatabaseTransaction,
    new: NewDirectoryEntry,
    enabled: bool,
    email_verified_at: Option<i64>,
) -> Result<user::Model, StoreError> {
    let context = "creating a user";
    let created = to_micros(new.created_at);
    let reserved = account::ActiveModel {
        directory: Set(LIMEN_DIRECTORY.to_owned()),
        external_id: Set(format!("new:{}", uuid::Uuid::new_v4())),
        role: Set("user".to_owned()),
        disabled: Set(false),
        email_verified_at: Set(email_verified_at),
        last_login_at: Set(None),
        public_key: Set(None),
        sealed_private_key: Set(None),
        created_at: Set(created),
        updated_at: Set(created),
        version: Set(1),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(|err| store_error(context, err))?;
    let row = user::ActiveModel {
        id: Set(reserved.id),
        username: Set(new.username),
        email: Set(new.email),
        first_name: Set(new.first_name),
        last_name: Set(new.last_name),
        personal_number: Set(new.personal_number),
        password_hash: Set(new.password_hash),
        enabled: Set(enabled),
        created_at: Set(created),
        updated_at: Set(created),
    }
    .insert(txn)
    .await
    .map_err(|err| store_error(context, err))?;
    account::Entity::update_many()
        .col_expr(account::Column::ExternalId, Expr::value(reserved.id.to_string()))
        .filter(account::Column::Id.eq(reserved.id))
        .exec(txn)
        .await
        .map_err(|err| store_error(context, err))?;
    Ok(row)
}
