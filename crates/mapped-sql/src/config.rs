//! What the operator configures, and its checks that need no database.

/// Which column of the customer's table holds each field. `id` and `username`
/// are required; a field without a column is absent for every user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Columns {
    /// The user's id, of any type (read as text).
    pub id: String,
    /// The login name.
    pub username: String,
    /// The e-mail address.
    pub email: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Swedish personal number.
    pub personal_number: Option<String>,
    /// The password hash, in any format Limen verifies.
    pub password_hash: Option<String>,
    /// Whether the account is active: a boolean or number column, or a text
    /// column with `enabled_values`.
    pub enabled: Option<String>,
}

/// A mapped table.
#[derive(Debug, Clone)]
pub struct MappedConfig {
    /// The name the directory's users are linked to Limen's accounts under;
    /// keep it when the table moves.
    pub name: String,
    /// The customer's database.
    pub url: String,
    /// The table, optionally `schema.table`.
    pub table: String,
    /// Limen may write password hashes (a password change, a rehash on login).
    pub writable: bool,
    /// Username and e-mail lookups compare `lower(column)` with the lower-case
    /// input; off, they compare the column as it is (a case-insensitive
    /// collation, or values stored in lower case).
    pub case_insensitive: bool,
    /// The column of each field.
    pub columns: Columns,
    /// For a text `enabled` column: the values that mean active (compared
    /// without regard to case). For a boolean or number column, empty means
    /// true / non-zero.
    pub enabled_values: Vec<String>,
    /// Largest number of pooled connections to the customer's database.
    pub max_connections: u32,
}

/// Why the mapped table cannot be used; each names the configuration key.
#[derive(Debug, thiserror::Error)]
pub enum MappedError {
    /// A key's value is not usable as it stands.
    #[error("users.mapped_sql.{key}: {reason}")]
    Invalid {
        /// The configuration key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// The database cannot be reached.
    #[error("users.mapped_sql.url: cannot connect: {0}")]
    Unreachable(String),
}

impl MappedError {
    pub(crate) fn invalid(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.into(),
            reason: reason.into(),
        }
    }
}

/// An SQL identifier Limen accepts from configuration: a letter or `_`, then
/// letters, digits or `_`, at most 63 characters (PostgreSQL's limit).
pub(crate) fn check_identifier(key: &str, name: &str) -> Result<(), MappedError> {
    let mut chars = name.chars();
    let starts_well = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !starts_well || name.len() > 63 || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(MappedError::invalid(
            key,
            format!(
                "{name:?} is not a plain SQL identifier (letters, digits and _, not starting with a digit)"
            ),
        ));
    }
    Ok(())
}

impl MappedConfig {
    /// The schema (if named) and the table.
    pub(crate) fn table_parts(&self) -> Result<(Option<&str>, &str), MappedError> {
        let (schema, table) = match self.table.split_once('.') {
            Some((schema, table)) => (Some(schema), table),
            None => (None, self.table.as_str()),
        };
        if let Some(schema) = schema {
            check_identifier("table", schema)?;
        }
        check_identifier("table", table)?;
        Ok((schema, table))
    }

    /// Every configured column with its key, required ones first.
    pub(crate) fn columns(&self) -> Vec<(&'static str, &str)> {
        let columns = &self.columns;
        let mut all = vec![
            ("columns.id", columns.id.as_str()),
            ("columns.username", columns.username.as_str()),
        ];
        let optional = [
            ("columns.email", &columns.email),
            ("columns.first_name", &columns.first_name),
            ("columns.last_name", &columns.last_name),
            ("columns.personal_number", &columns.personal_number),
            ("columns.password_hash", &columns.password_hash),
            ("columns.enabled", &columns.enabled),
        ];
        for (key, column) in optional {
            if let Some(column) = column {
                all.push((key, column.as_str()));
            }
        }
        all
    }

    /// The checks that need no database.
    pub(crate) fn check(&self) -> Result<(), MappedError> {
        self.table_parts()?;
        if self.name.trim().is_empty() {
            return Err(MappedError::invalid("name", "must not be empty"));
        }
        for (key, column) in self.columns() {
            if column.is_empty() {
                return Err(MappedError::invalid(key, "is required"));
            }
            check_identifier(key, column)?;
        }
        if self.writable && self.columns.password_hash.is_none() {
            return Err(MappedError::invalid(
                "writable",
                "true needs columns.password_hash: it is the only column Limen writes",
            ));
        }
        if !self.enabled_values.is_empty() && self.columns.enabled.is_none() {
            return Err(MappedError::invalid("enabled_values", "needs columns.enabled"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> MappedConfig {
        MappedConfig {
            name: "crm".into(),
            url: "sqlite::memory:".into(),
            table: "crm.customers".into(),
            writable: false,
            case_insensitive: true,
            columns: Columns {
                id: "customer_id".into(),
                username: "login".into(),
                email: Some("mail".into()),
                ..Columns::default()
            },
            enabled_values: Vec::new(),
            max_connections: 4,
        }
    }

    #[test]
    fn plain_identifiers_pass_and_anything_else_is_refused_by_key() {
        config().check().unwrap();
        for (bad, key) in [
            ("customers; DROP TABLE x", "table"),
            ("1table", "table"),
            ("a.b.c", "table"),
            ("\"quoted\"", "table"),
        ] {
            let mut wrong = config();
            wrong.table = bad.into();
            let err = wrong.check().unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("users.mapped_sql.{key}")),
                "{bad}: {err}"
            );
        }
        let mut wrong = config();
        wrong.columns.email = Some("mail) OR (1=1".into());
        assert!(wrong.check().unwrap_err().to_string().contains("columns.email"));
        let mut wrong = config();
        wrong.columns.username = String::new();
        assert!(
            wrong
                .check()
                .unwrap_err()
                .to_string()
                .contains("columns.username: is required")
        );
    }

    #[test]
    fn writing_needs_a_hash_column_and_values_need_an_enabled_column() {
        let mut wrong = config();
        wrong.writable = true;
        assert!(wrong.check().unwrap_err().to_string().contains("writable"));
        let mut wrong = config();
        wrong.enabled_values = vec!["active".into()];
        assert!(wrong.check().unwrap_err().to_string().contains("enabled_values"));
    }
}
