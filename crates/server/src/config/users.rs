//! `[users]`: where users live, and each backend's settings.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// Where users live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UsersBackend {
    /// Limen's own `users` table in its database.
    Limen,
    /// A customer's existing table, mapped column by column (`[users.mapped_sql]`).
    MappedSql,
}

impl UsersBackend {
    /// The name configuration uses.
    pub fn name(self) -> &'static str {
        match self {
            Self::Limen => "limen",
            Self::MappedSql => "mapped-sql",
        }
    }
}

/// `[users]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UsersSection {
    /// Which directory holds the users.
    pub backend: UsersBackend,
    /// `[users.mapped_sql]`.
    pub mapped_sql: MappedSqlSection,
}

impl Default for UsersSection {
    fn default() -> Self {
        Self {
            backend: UsersBackend::Limen,
            mapped_sql: MappedSqlSection::default(),
        }
    }
}

/// `[users.mapped_sql]`: a customer's table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MappedSqlSection {
    /// The name the table's users are linked to Limen's accounts under.
    pub name: String,
    /// The customer's database: `postgres://…`, `mysql://…` or `sqlite://…`.
    pub url: Option<String>,
    /// A file holding `url` (it may carry a password).
    pub url_file: Option<PathBuf>,
    /// The table, optionally `schema.table`.
    pub table: String,
    /// Limen may write password hashes into `columns.password_hash`.
    pub writable: bool,
    /// Compare `lower(column)` for usernames and e-mail addresses.
    pub case_insensitive: bool,
    /// For a text `enabled` column: the values that mean active.
    pub enabled_values: Vec<String>,
    /// Pooled connections to the customer's database per Limen process.
    pub max_connections: u32,
    /// `[users.mapped_sql.columns]`: Limen field = customer column.
    pub columns: MappedColumns,
}

impl Default for MappedSqlSection {
    fn default() -> Self {
        Self {
            name: "mapped-sql".into(),
            url: None,
            url_file: None,
            table: String::new(),
            writable: false,
            case_insensitive: true,
            enabled_values: Vec::new(),
            max_connections: 8,
            columns: MappedColumns::default(),
        }
    }
}

/// `[users.mapped_sql.columns]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MappedColumns {
    /// The user's id, of any type.
    pub id: String,
    /// The login name.
    pub username: String,
    /// The e-mail address.
    pub email: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Swedish personal number (12 digits).
    pub personal_number: Option<String>,
    /// The password hash.
    pub password_hash: Option<String>,
    /// Whether the account is active.
    pub enabled: Option<String>,
}

impl UsersSection {
    /// Reads `url_file`.
    pub(super) fn read_secret_files(&mut self) -> Result<(), ConfigError> {
        if let Some(path) = &self.mapped_sql.url_file {
            let url = std::fs::read_to_string(path).map_err(|err| {
                ConfigError::Invalid(format!(
                    "cannot read users.mapped_sql.url_file {}: {err}",
                    path.display()
                ))
            })?;
            self.mapped_sql.url = Some(url.trim().to_owned());
        }
        Ok(())
    }

    /// What can be checked before connecting.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.backend != UsersBackend::MappedSql {
            return Ok(());
        }
        let mapped = &self.mapped_sql;
        let missing = [
            ("url (or url_file)", mapped.url.as_deref().unwrap_or_default()),
            ("table", mapped.table.as_str()),
            ("columns.id", mapped.columns.id.as_str()),
            ("columns.username", mapped.columns.username.as_str()),
        ];
        if let Some((key, _)) = missing.iter().find(|(_, value)| value.trim().is_empty()) {
            return Err(ConfigError::Invalid(format!(
                "users.mapped_sql.{key} is required with users.backend = \"mapped-sql\""
            )));
        }
        Ok(())
    }

    /// The mapped table's configuration for the adapter.
    pub fn mapped_config(&self) -> limen_mapped_sql::MappedConfig {
        let mapped = &self.mapped_sql;
        let columns = &mapped.columns;
        limen_mapped_sql::MappedConfig {
            name: mapped.name.clone(),
            url: mapped.url.clone().unwrap_or_default(),
            table: mapped.table.clone(),
            writable: mapped.writable,
            case_insensitive: mapped.case_insensitive,
            columns: limen_mapped_sql::Columns {
                id: columns.id.clone(),
                username: columns.username.clone(),
                email: columns.email.clone(),
                first_name: columns.first_name.clone(),
                last_name: columns.last_name.clone(),
                personal_number: columns.personal_number.clone(),
                password_hash: columns.password_hash.clone(),
                enabled: columns.enabled.clone(),
            },
            enabled_values: mapped.enabled_values.clone(),
            max_connections: mapped.max_connections,
        }
    }
}
