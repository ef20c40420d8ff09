//! What the customer's database says about the table: its columns and their
//! types (checked at start), and its indexes (missing ones are warned about).

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement, Value};

use crate::config::{MappedConfig, MappedError};

/// What Limen can do with a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Character data.
    Text,
    /// A boolean.
    Boolean,
    /// An integer or decimal number.
    Number,
    /// Anything else (UUID, dates, …): readable as text, compared in its own type.
    Other,
}

/// One column as the database declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnType {
    /// How Limen reads and compares it.
    pub kind: Kind,
    /// PostgreSQL's name of the type (`uuid`, `int8`), for casting parameters
    /// to it; empty elsewhere.
    pub native: String,
}

/// The table's columns by lower-case name.
pub(crate) type Columns = HashMap<String, ColumnType>;

fn text_values(values: &[Option<&str>]) -> Vec<Value> {
    values
        .iter()
        .map(|value| Value::from(value.map(str::to_owned)))
        .collect()
}

/// The first `width` columns of each row, as text.
async fn rows(
    db: &DatabaseConnection,
    sql: &str,
    values: &[Option<&str>],
    width: usize,
) -> Result<Vec<Vec<Option<String>>>, MappedError> {
    let backend = db.get_database_backend();
    let found = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, text_values(values)))
        .await
        .map_err(|err| {
            MappedError::invalid("table", format!("cannot read the table's description: {err}"))
        })?;
    Ok(found
        .iter()
        .map(|row| {
            (0..width)
                .map(|index| row.try_get_by_index::<Option<String>>(index).ok().flatten())
                .collect()
        })
        .collect())
}

/// The table's columns; an error naming `table` when it does not exist.
pub(crate) async fn columns(db: &DatabaseConnection, config: &MappedConfig) -> Result<Columns, MappedError> {
    let (schema, table) = config.table_parts()?;
    let found = match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            rows(
                db,
                "SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT), CAST(udt_name AS TEXT) \
                 FROM information_schema.columns \
                 WHERE table_schema = COALESCE($1, current_schema()) AND table_name = $2",
                &[schema, Some(table)],
                3,
            )
            .await?
        }
        DatabaseBackend::MySql => {
            rows(
                db,
                "SELECT CAST(COLUMN_NAME AS CHAR), CAST(DATA_TYPE AS CHAR), CAST(COLUMN_TYPE AS CHAR) \
                 FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?",
                &[schema, Some(table)],
                3,
            )
            .await?
        }
        _ => {
            rows(
                db,
                "SELECT name, type, '' FROM pragma_table_info(?, ?)",
                &[Some(table), Some(schema.unwrap_or("main"))],
                3,
            )
            .await?
        }
    };
    if found.is_empty() {
        return Err(MappedError::invalid(
            "table",
            format!(
                "{:?} does not exist in the customer's database (or has no columns Limen can see)",
                config.table
            ),
        ));
    }
    let backend = db.get_database_backend();
    Ok(found
        .into_iter()
        .filter_map(|row| {
            let mut row = row.into_iter();
            let name = row.next()??;
            let declared = row.next().flatten().unwrap_or_default().to_lowercase();
            let detail = row.next().flatten().unwrap_or_default().to_lowercase();
            let kind = kind_of(backend, &declared, &detail);
            let native = if backend == DatabaseBackend::Postgres {
                detail
            } else {
                String::new()
            };
            Some((name.to_lowercase(), ColumnType { kind, native }))
        })
        .collect())
}

fn kind_of(backend: DatabaseBackend, declared: &str, detail: &str) -> Kind {
    match backend {
        DatabaseBackend::Postgres => match declared {
            "text" | "character varying" | "character" | "name" => Kind::Text,
            "user-defined" if detail == "citext" => Kind::Text,
            "boolean" => Kind::Boolean,
            "smallint" | "integer" | "bigint" | "numeric" => Kind::Number,
            _ => Kind::Other,
        },
        DatabaseBackend::MySql => match declared {
            "varchar" | "char" | "text" | "tinytext" | "mediumtext" | "longtext" => Kind::Text,
            "tinyint" if detail.starts_with("tinyint(1)") => Kind::Boolean,
            "bit" | "bool" | "boolean" => Kind::Boolean,
            "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "decimal" => Kind::Number,
            _ => Kind::Other,
        },
        // SQLite's type affinity rules, in their order.
        _ => {
            if declared.contains("int") {
                Kind::Number
            } else if declared.contains("char")
                || declared.contains("clob")
                || declared.contains("text")
                || declared.is_empty()
            {
                Kind::Text
            } else if declared.contains("bool") {
                Kind::Boolean
            } else if declared.contains("real")
                || declared.contains("floa")
                || declared.contains("doub")
                || declared.contains("num")
                || declared.contains("dec")
            {
                Kind::Number
            } else {
                Kind::Other
            }
        }
    }
}

/// Checks that every configured column exists with a type Limen can use.
pub(crate) fn check_types(config: &MappedConfig, columns: &Columns) -> Result<(), MappedError> {
    for (key, column) in config.columns() {
        let Some(found) = columns.get(&column.to_lowercase()) else {
            return Err(MappedError::invalid(
                key,
                format!("column {column:?} does not exist in table {:?}", config.table),
            ));
        };
        let usable = match key {
            "columns.id" => true,
            "columns.personal_number" => matches!(found.kind, Kind::Text | Kind::Number),
            "columns.enabled" if config.enabled_values.is_empty() => {
                matches!(found.kind, Kind::Boolean | Kind::Number)
            }
            "columns.enabled" => matches!(found.kind, Kind::Text | Kind::Number),
            _ => found.kind == Kind::Text,
        };
        if !usable {
            let wanted = match key {
                "columns.personal_number" => "text or a number",
                "columns.enabled" if config.enabled_values.is_empty() => {
                    "a boolean or a number (or text, with enabled_values naming the active values)"
                }
                "columns.enabled" => "text or a number, matching enabled_values",
                _ => "text",
            };
            return Err(MappedError::invalid(
                key,
                format!("column {column:?} is {:?}, Limen needs {wanted}", found.kind),
            ));
        }
    }
    Ok(())
}

/// The leading key of each index on the table, normalised: `login` for an
/// index on the column, `lower(login)` for one on its lower-case form.
async fn index_keys(db: &DatabaseConnection, config: &MappedConfig) -> Result<Vec<String>, MappedError> {
    let (schema, table) = config.table_parts()?;
    let keys = match db.get_database_backend() {
        DatabaseBackend::Postgres => rows(
            db,
            "SELECT indexdef FROM pg_indexes WHERE schemaname = COALESCE($1, current_schema()) AND tablename = $2",
            &[schema, Some(table)],
            1,
        )
        .await?
        .into_iter()
        .filter_map(|row| row.into_iter().next().flatten())
        .filter_map(|definition| leading_key(&definition))
        .collect(),
        DatabaseBackend::MySql => rows(
            db,
            "SELECT CAST(COLUMN_NAME AS CHAR) FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND SEQ_IN_INDEX = 1",
            &[schema, Some(table)],
            1,
        )
        .await?
        .into_iter()
        .filter_map(|row| row.into_iter().next().flatten())
        .map(|column| column.to_lowercase())
        .collect(),
        _ => {
            let mut keys: Vec<String> = rows(
                db,
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                &[Some(table)],
                1,
            )
            .await?
            .into_iter()
            .filter_map(|row| row.into_iter().next().flatten())
            .filter_map(|definition| leading_key(&definition))
            .collect();
            // Indexes SQLite makes for UNIQUE and PRIMARY KEY constraints, and
            // an INTEGER PRIMARY KEY, which is the row id itself.
            keys.extend(
                rows(
                    db,
                    "SELECT ii.name FROM pragma_index_list(?) AS il, pragma_index_info(il.name) AS ii WHERE ii.seqno = 0",
                    &[Some(table)],
                    1,
                )
                .await?
                .into_iter()
                .filter_map(|row| row.into_iter().next().flatten())
                .map(|column| column.to_lowercase()),
            );
            keys.extend(
                rows(
                    db,
                    "SELECT name, type FROM pragma_table_info(?) WHERE pk = 1",
                    &[Some(table)],
                    2,
                )
                .await?
                .into_iter()
                .filter(|row| row.get(1).cloned().flatten().is_some_and(|t| t.eq_ignore_ascii_case("integer")))
                .filter_map(|row| row.into_iter().next().flatten())
                .map(|column| column.to_lowercase()),
            );
            keys
        }
    };
    Ok(keys)
}

/// The first key of an index definition, without quotes, casts or spaces.
fn leading_key(definition: &str) -> Option<String> {
    let lower = definition.to_lowercase();
    let on = lower.find(" on ")?;
    let open = on + lower[on..].find('(')?;
    let mut depth = 0usize;
    let mut end = lower.len();
    for (offset, c) in lower[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    end = open + offset;
                    break;
                }
            }
            ',' if depth == 1 => {
                end = open + offset;
                break;
            }
            _ => {}
        }
    }
    let key: String = lower[open + 1..end]
        .replace("::text", "")
        .replace("::character varying", "")
        .chars()
        .filter(|c| !matches!(c, '"' | '`' | ' ' | '(' | ')'))
        .collect();
    // `lowerlogin` → `lower(login)`, after the parentheses went.
    Some(match key.strip_prefix("lower") {
        Some(column) if !column.is_empty() => format!("lower({column})"),
        _ => key,
    })
}

/// A warning for each lookup no index of the table serves.
pub(crate) async fn missing_indexes(
    db: &DatabaseConnection,
    config: &MappedConfig,
) -> Result<Vec<String>, MappedError> {
    let keys = index_keys(db, config).await?;
    let mysql = db.get_database_backend() == DatabaseBackend::MySql;
    let columns = &config.columns;
    let mut lookups = vec![
        ("id", columns.id.as_str(), false),
        ("username", columns.username.as_str(), true),
    ];
    if let Some(email) = &columns.email {
        lookups.push(("e-mail", email, true));
    }
    if let Some(number) = &columns.personal_number {
        lookups.push(("personal-number", number, false));
    }
    let mut warnings = Vec::new();
    for (what, column, by_text) in lookups {
        let column = column.to_lowercase();
        let wanted = if by_text && config.case_insensitive && !mysql {
            format!("lower({column})")
        } else {
            column.clone()
        };
        if !keys.contains(&wanted) {
            warnings.push(format!(
                "no index on {wanted} of {}: every {what} lookup reads the whole table \
                 (CREATE INDEX ON {} ({wanted}))",
                config.table, config.table
            ));
        } else if by_text && config.case_insensitive && mysql {
            warnings.push(format!(
                "case_insensitive = true compares lower({column}), which MySQL cannot look up in an index; \
                 MySQL's default collations already ignore case: set case_insensitive = false"
            ));
        }
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_definitions_give_their_leading_key() {
        let cases = [
            (
                "CREATE UNIQUE INDEX c_pkey ON public.customers USING btree (customer_id)",
                "customer_id",
            ),
            (
                "CREATE INDEX i ON public.customers USING btree (lower((login)::text))",
                "lower(login)",
            ),
            (
                "CREATE INDEX i ON crm.customers USING btree (lower(\"Mail\"), other)",
                "lower(mail)",
            ),
            ("CREATE INDEX i ON customers (login, mail)", "login"),
            ("CREATE INDEX i ON customers(lower(login))", "lower(login)"),
        ];
        for (definition, key) in cases {
            assert_eq!(leading_key(definition).as_deref(), Some(key), "{definition}");
        }
    }

    #[test]
    fn declared_types_map_to_what_limen_can_do() {
        assert_eq!(
            kind_of(DatabaseBackend::Postgres, "user-defined", "citext"),
            Kind::Text
        );
        assert_eq!(kind_of(DatabaseBackend::Postgres, "uuid", "uuid"), Kind::Other);
        assert_eq!(
            kind_of(DatabaseBackend::MySql, "tinyint", "tinyint(1)"),
            Kind::Boolean
        );
        assert_eq!(
            kind_of(DatabaseBackend::MySql, "tinyint", "tinyint(4)"),
            Kind::Number
        );
        assert_eq!(kind_of(DatabaseBackend::Sqlite, "varchar(80)", ""), Kind::Text);
        assert_eq!(kind_of(DatabaseBackend::Sqlite, "integer", ""), Kind::Number);
        assert_eq!(kind_of(DatabaseBackend::Sqlite, "blob", ""), Kind::Other);
    }
}
