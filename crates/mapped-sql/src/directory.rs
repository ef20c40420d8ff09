//! The directory itself: lookups and the one write, as sea-query statements.

use async_trait::async_trait;
use limen_domain::StoreError;
use limen_domain::model::{DirectoryCapabilities, DirectoryEntry, NewDirectoryEntry};
use limen_domain::ports::{CallObserver, UserDirectory};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query, SelectStatement, SimpleExpr, TableRef};
use sea_orm::{ConnectOptions, ConnectionTrait, DatabaseBackend, DatabaseConnection, QueryResult};

use crate::config::{MappedConfig, MappedError};
use crate::schema::{self, Kind};

/// The fields read from every row, under these aliases.
const FIELDS: [&str; 8] = [
    "id",
    "username",
    "email",
    "first_name",
    "last_name",
    "personal_number",
    "password_hash",
    "enabled",
];

/// A customer's table as Limen's user directory.
pub struct MappedDirectory {
    db: DatabaseConnection,
    config: MappedConfig,
    columns: schema::Columns,
    index_warnings: Vec<String>,
}

impl MappedDirectory {
    /// Connects to the customer's database and checks the table, its columns
    /// and their types, and which lookups no index serves (`index_warnings`).
    pub async fn connect(config: MappedConfig) -> Result<Self, MappedError> {
        config.check()?;
        let mut options = ConnectOptions::new(config.url.clone());
        options
            .max_connections(Ord::max(config.max_connections, 1))
            .min_connections(0)
            // A customer database that does not answer should fail the start
            // (or a lookup) quickly, not after sqlx's default half minute.
            .connect_timeout(std::time::Duration::from_secs(5))
            .acquire_timeout(std::time::Duration::from_secs(5))
            // Not a ping before every lookup (a round trip each), only
            // after a connection has been idle long enough to have been dropped.
            .test_before_acquire_if_idle_for(std::time::Duration::from_secs(10))
            .sqlx_logging(false);
        let db = sea_orm::Database::connect(options)
            .await
            .map_err(|err| MappedError::Unreachable(err.to_string()))?;
        let columns = schema::columns(&db, &config).await?;
        schema::check_types(&config, &columns)?;
        let index_warnings = schema::missing_indexes(&db, &config).await?;
        Ok(Self {
            db,
            config,
            columns,
            index_warnings,
        })
    }

    /// Tells `observer` how long each statement on the customer's database
    /// took and whether it failed.
    pub fn observe(&mut self, observer: CallObserver) {
        self.db
            .set_metric_callback(move |info| observer(info.elapsed, info.failed));
    }

    /// Lookups no index of the table serves, each with the index to create.
    pub fn index_warnings(&self) -> &[String] {
        &self.index_warnings
    }

    fn backend(&self) -> DatabaseBackend {
        self.db.get_database_backend()
    }

    fn table(&self) -> TableRef {
        let (schema, table) = match self.config.table.split_once('.') {
            Some((schema, table)) => (Some(schema), table),
            None => (None, self.config.table.as_str()),
        };
        match schema {
            Some(schema) => (Alias::new(schema), Alias::new(table)).into(),
            None => Alias::new(table).into(),
        }
    }

    fn column_of(&self, field: &str) -> Option<&str> {
        let columns = &self.config.columns;
        match field {
            "id" => Some(&columns.id),
            "username" => Some(&columns.username),
            "email" => columns.email.as_deref(),
            "first_name" => columns.first_name.as_deref(),
            "last_name" => columns.last_name.as_deref(),
            "personal_number" => columns.personal_number.as_deref(),
            "password_hash" => columns.password_hash.as_deref(),
            "enabled" => columns.enabled.as_deref(),
            _ => None,
        }
    }

    /// `column` as text, whatever its type.
    fn as_text(&self, column: &str) -> SimpleExpr {
        let text = if self.backend() == DatabaseBackend::MySql {
            "CHAR"
        } else {
            "TEXT"
        };
        Expr::col(Alias::new(column)).cast_as(Alias::new(text))
    }

    /// `value` as the parameter compared with `column`: PostgreSQL compares
    /// only like types, so a parameter for a UUID or number column is cast to
    /// the column's type (and the column keeps its index); the others convert
    /// by themselves.
    fn parameter(&self, column: &str, value: &str) -> SimpleExpr {
        let declared = self.columns.get(&column.to_lowercase());
        match declared {
            Some(found)
                if self.backend() == DatabaseBackend::Postgres
                    && found.kind != Kind::Text
                    && !found.native.is_empty()
                    && found
                        .native
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                Expr::val(value.to_owned()).cast_as(Alias::new(found.native.as_str()))
            }
            _ => Expr::val(value.to_owned()),
        }
    }

    fn select(&self) -> SelectStatement {
        let mut query = Query::select();
        query.from(self.table());
        for field in FIELDS {
            match self.column_of(field) {
                Some(column) => query.expr_as(self.as_text(column), Alias::new(field)),
                None => query.expr_as(Expr::val(Option::<String>::None), Alias::new(field)),
            };
        }
        query
    }

    /// The user whose `field` is `value`; an error when several are.
    async fn find_one(&self, field: &str, value: &str) -> Result<Option<DirectoryEntry>, StoreError> {
        let Some(column) = self.column_of(field) else {
            return Ok(None);
        };
        // PostgreSQL refuses a NUL in a parameter, and no login holds one.
        if value.contains('\0') {
            return Ok(None);
        }
        let by_text = matches!(field, "username" | "email");
        let condition = if by_text && self.config.case_insensitive {
            Expr::expr(Func::lower(Expr::col(Alias::new(column)))).eq(value.to_lowercase())
        } else {
            Expr::col(Alias::new(column)).eq(self.parameter(column, value))
        };
        let mut query = self.select();
        query.and_where(condition).limit(2);
        let rows = match self.db.query_all(&query).await {
            Ok(rows) => rows,
            // PostgreSQL refuses text that is no value of the column's type
            // (`abc` for a UUID): no user has it.
            Err(err) if err.to_string().contains("invalid input syntax") => return Ok(None),
            Err(err) => return Err(unavailable(&self.config.table, field, &err)),
        };
        match rows.as_slice() {
            [] => Ok(None),
            [row] => Ok(Some(self.entry(row)?)),
            _ => Err(StoreError::Ambiguous(format!(
                "several rows of {} have the same {field}; Limen refuses to choose one (make the column unique)",
                self.config.table
            ))),
        }
    }

    fn entry(&self, row: &QueryResult) -> Result<DirectoryEntry, StoreError> {
        let text = |field: &str| -> Result<Option<String>, StoreError> {
            row.try_get::<Option<String>>("", field)
                .map(|value| {
                    value
                        .map(|value| value.trim().to_owned())
                        .filter(|value| !value.is_empty())
                })
                .map_err(|err| {
                    StoreError::Unavailable(format!("reading {field} of {}: {err}", self.config.table))
                })
        };
        let external_id = text("id")?
            .ok_or_else(|| StoreError::Unavailable(format!("a row of {} has no id", self.config.table)))?;
        Ok(DirectoryEntry {
            external_id,
            username: text("username")?.unwrap_or_default().to_lowercase(),
            email: text("email")?.unwrap_or_default().to_lowercase(),
            first_name: text("first_name")?,
            last_name: text("last_name")?,
            personal_number: text("personal_number")?,
            password_hash: text("password_hash")?,
            enabled: match (&self.config.columns.enabled, text("enabled")?) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(_), Some(value)) => self.is_active(&value),
            },
            created_at: None,
            read_at: None,
        })
    }

    fn is_active(&self, value: &str) -> bool {
        if !self.config.enabled_values.is_empty() {
            return self
                .config
                .enabled_values
                .iter()
                .any(|active| active.eq_ignore_ascii_case(value));
        }
        match value.to_ascii_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "on" => true,
            other => other.parse::<f64>().is_ok_and(|number| number != 0.0),
        }
    }
}

fn unavailable(table: &str, field: &str, err: &sea_orm::DbErr) -> StoreError {
    StoreError::Unavailable(format!("looking up {field} in {table}: {err}"))
}

#[async_trait]
impl UserDirectory for MappedDirectory {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn capabilities(&self) -> DirectoryCapabilities {
        DirectoryCapabilities {
            set_password_hash: self.config.writable,
            ..DirectoryCapabilities::READ_ONLY
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db
            .ping()
            .await
            .map_err(|err| StoreError::Unavailable(format!("the customer's database does not answer: {err}")))
    }

    async fn find_by_id(&self, external_id: &str) -> Result<Option<DirectoryEntry>, StoreError> {
        self.find_one("id", external_id).await
    }

    async fn find_by_username(&self, username: &str) -> Result<Option<DirectoryEntry>, StoreError> {
        self.find_one("username", username).await
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<DirectoryEntry>, StoreError> {
        self.find_one("email", email).await
    }

    async fn find_by_personal_number(
        &self,
        personal_number: &str,
    ) -> Result<Option<DirectoryEntry>, StoreError> {
        self.find_one("personal_number", personal_number).await
    }

    async fn create(&self, _entry: NewDirectoryEntry) -> Result<DirectoryEntry, StoreError> {
        Err(StoreError::ReadOnly)
    }

    async fn set_password_hash(&self, external_id: &str, hash: &str) -> Result<(), StoreError> {
        let (true, Some(column)) = (self.config.writable, self.config.columns.password_hash.as_deref())
        else {
            return Err(StoreError::ReadOnly);
        };
        let id = &self.config.columns.id;
        let mut update = Query::update();
        update
            .table(self.table())
            .value(Alias::new(column), hash.to_owned())
            .and_where(Expr::col(Alias::new(id.as_str())).eq(self.parameter(id, external_id)));
        let done = self.db.execute(&update).await.map_err(|err| {
            StoreError::Unavailable(format!(
                "writing the password hash in {}: {err}",
                self.config.table
            ))
        })?;
        match done.rows_affected() {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    async fn delete(&self, _external_id: &str) -> Result<(), StoreError> {
        Err(StoreError::ReadOnly)
    }

    async fn list(&self, after: Option<String>, limit: u32) -> Result<Vec<DirectoryEntry>, StoreError> {
        let id = self.as_text(&self.config.columns.id);
        let mut query = self.select();
        if let Some(after) = after {
            query.and_where(id.clone().gt(after));
        }
        query
            .order_by_expr(id, sea_orm::sea_query::Order::Asc)
            .limit(u64::from(limit));
        let rows = self
            .db
            .query_all(&query)
            .await
            .map_err(|err| unavailable(&self.config.table, "every user", &err))?;
        rows.iter().map(|row| self.entry(row)).collect()
    }
}
