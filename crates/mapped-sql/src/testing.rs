//! For tests: a "customer" database on every configured engine (SQLite
//! always; PostgreSQL and MySQL/MariaDB from `LIMEN_TEST_POSTGRES_URL` and
//! `LIMEN_TEST_MYSQL_URL`, never skipped under `CI=true`), each holding a
//! table of users laid out as a customer's own application would: other
//! column names, an id that is not Limen's (a UUID, text, an integer), a
//! different notion of "active", and columns Limen must never touch.

// Test support: a failure here is a failed test, and says why.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection};

use crate::{Columns, MappedConfig};

/// One customer user, as the test inserts it.
#[derive(Debug, Clone)]
pub struct Customer<'a> {
    /// Login name, in the case the customer stores it.
    pub login: &'a str,
    /// E-mail address, in the customer's case.
    pub mail: &'a str,
    /// Personal number, 12 digits.
    pub ssn: Option<&'a str>,
    /// Password hash.
    pub hash: Option<&'a str>,
    /// Active in the customer's terms.
    pub active: bool,
}

/// A throw-away customer database with its `customers` table.
pub struct CustomerDb {
    /// `sqlite`, `postgres` or `mysql`.
    pub engine: &'static str,
    /// Its URL.
    pub url: String,
    /// A connection for the test's own reads and writes.
    pub connection: DatabaseConnection,
    cleanup: Option<(String, String)>,
    file: Option<std::path::PathBuf>,
    next_id: std::sync::atomic::AtomicU32,
}

fn server_url(variable: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{variable} must be set when CI=true"
            );
            eprintln!("notice: {variable} is not set; skipping that engine's run of this test");
            None
        }
    }
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(base, query)| (base, Some(query)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

impl CustomerDb {
    /// A customer database on every configured engine.
    pub async fn all() -> Vec<Self> {
        let mut all = vec![Self::sqlite().await];
        if let Some(url) = server_url("LIMEN_TEST_POSTGRES_URL") {
            all.push(Self::server("postgres", &url).await);
        }
        if let Some(url) = server_url("LIMEN_TEST_MYSQL_URL") {
            all.push(Self::server("mysql", &url).await);
        }
        all
    }

    /// A customer database in an SQLite file.
    pub async fn sqlite() -> Self {
        let file = std::env::temp_dir().join(format!("limen-customer-{}.db", uuid::Uuid::new_v4().simple()));
        let url = format!("sqlite://{}?mode=rwc", file.display());
        let connection = sea_orm::Database::connect(url.as_str()).await.unwrap();
        let db = Self {
            engine: "sqlite",
            url,
            connection,
            cleanup: None,
            file: Some(file),
            next_id: 0.into(),
        };
        db.create_table().await;
        db
    }

    async fn server(engine: &'static str, admin_url: &str) -> Self {
        let name = format!("limen_customer_{}", uuid::Uuid::new_v4().simple());
        let admin = sea_orm::Database::connect(admin_url).await.unwrap();
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        admin.close().await.ok();
        let url = with_database(admin_url, &name);
        let connection = sea_orm::Database::connect(url.as_str()).await.unwrap();
        let db = Self {
            engine,
            url,
            connection,
            cleanup: Some((admin_url.to_owned(), name)),
            file: None,
            next_id: 0.into(),
        };
        db.create_table().await;
        db
    }

    async fn create_table(&self) {
        let statements: &[&str] = match self.engine {
            // A UUID id in a schema of its own, status as text, indexes on
            // the lower-case names.
            "postgres" => &[
                "CREATE SCHEMA crm",
                "CREATE TABLE crm.customers (customer_id uuid PRIMARY KEY, login varchar(80) NOT NULL, \
                 mail text, given_name text, family_name text, ssn varchar(12), pw_hash text, \
                 status varchar(16) NOT NULL, notes text, visits integer NOT NULL DEFAULT 0)",
                "CREATE UNIQUE INDEX ON crm.customers (lower(login))",
                "CREATE INDEX ON crm.customers (lower(mail))",
                "CREATE INDEX ON crm.customers (ssn)",
            ],
            // A text id, a tinyint(1) flag; MySQL's collation ignores case.
            "mysql" => &[
                "CREATE TABLE customers (customer_id varchar(36) PRIMARY KEY, login varchar(80) NOT NULL, \
                 mail varchar(190), given_name varchar(80), family_name varchar(80), ssn varchar(12), \
                 pw_hash varchar(255), active tinyint(1) NOT NULL, notes text, visits int NOT NULL DEFAULT 0, \
                 UNIQUE KEY ux_login (login), KEY ix_mail (mail), KEY ix_ssn (ssn))",
            ],
            // An integer id (the row id itself), a 0/1 flag.
            _ => &[
                "CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, login TEXT NOT NULL, mail TEXT, \
                 given_name TEXT, family_name TEXT, ssn TEXT, pw_hash TEXT, active BOOLEAN NOT NULL, \
                 notes TEXT, visits INTEGER NOT NULL DEFAULT 0)",
                "CREATE UNIQUE INDEX customers_login ON customers (lower(login))",
                "CREATE INDEX customers_mail ON customers (lower(mail))",
                "CREATE INDEX customers_ssn ON customers (ssn)",
            ],
        };
        for statement in statements {
            self.connection.execute_unprepared(statement).await.unwrap();
        }
    }

    /// The table's name as configured.
    pub fn table(&self) -> &'static str {
        if self.engine == "postgres" {
            "crm.customers"
        } else {
            "customers"
        }
    }

    /// The mapping of this engine's table; `writable` lets Limen write hashes.
    pub fn config(&self, writable: bool) -> MappedConfig {
        let postgres = self.engine == "postgres";
        MappedConfig {
            name: "crm".into(),
            url: self.url.clone(),
            table: self.table().into(),
            writable,
            // MySQL's collation already ignores case.
            case_insensitive: self.engine != "mysql",
            columns: Columns {
                id: "customer_id".into(),
                username: "login".into(),
                email: Some("mail".into()),
                first_name: Some("given_name".into()),
                last_name: Some("family_name".into()),
                personal_number: Some("ssn".into()),
                password_hash: Some("pw_hash".into()),
                enabled: Some(if postgres { "status" } else { "active" }.into()),
            },
            enabled_values: if postgres {
                vec!["active".into()]
            } else {
                Vec::new()
            },
            max_connections: 4,
        }
    }

    /// Inserts `customer` (with a note and a visit count Limen must leave
    /// alone); returns the id as text.
    pub async fn insert(&self, customer: &Customer<'_>) -> String {
        let n = self.next_id.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let id = match self.engine {
            "postgres" => uuid::Uuid::new_v4().to_string(),
            "mysql" => format!("cust-{n:04}"),
            _ => (100 + n).to_string(),
        };
        let quote = |value: Option<&str>| {
            value.map_or("NULL".to_owned(), |value| {
                format!("'{}'", value.replace('\'', "''"))
            })
        };
        let active = match (self.engine, customer.active) {
            ("postgres", true) => "'active'".to_owned(),
            ("postgres", false) => "'closed'".to_owned(),
            (_, active) => u8::from(active).to_string(),
        };
        let flag_column = if self.engine == "postgres" {
            "status"
        } else {
            "active"
        };
        let sql = format!(
            "INSERT INTO {} (customer_id, login, mail, given_name, family_name, ssn, pw_hash, {flag_column}, notes, visits) \
             VALUES ({}, {}, {}, 'Given', 'Family', {}, {}, {active}, 'do not touch', 7)",
            self.table(),
            quote(Some(&id)),
            quote(Some(customer.login)),
            quote(Some(customer.mail)),
            quote(customer.ssn),
            quote(customer.hash),
        );
        self.connection.execute_unprepared(&sql).await.unwrap();
        id
    }

    /// Every row as text, for comparing before and after.
    pub async fn snapshot(&self) -> Vec<String> {
        let text = if self.engine == "mysql" { "CHAR" } else { "TEXT" };
        let sql = format!(
            "SELECT CAST(customer_id AS {text}), login, mail, pw_hash, CAST({} AS {text}), notes, CAST(visits AS {text}) \
             FROM {} ORDER BY 1",
            if self.engine == "postgres" {
                "status"
            } else {
                "active"
            },
            self.table()
        );
        let backend = self.connection.get_database_backend();
        let rows = self
            .connection
            .query_all_raw(sea_orm::Statement::from_string(backend, sql))
            .await
            .unwrap();
        rows.iter()
            .map(|row| {
                (0..7)
                    .map(|i| {
                        row.try_get_by_index::<Option<String>>(i)
                            .unwrap()
                            .unwrap_or_default()
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect()
    }

    /// Runs one statement of the test's own.
    pub async fn execute(&self, sql: &str) {
        self.connection.execute_unprepared(sql).await.unwrap();
    }

    /// Whether this is PostgreSQL.
    pub fn backend(&self) -> DatabaseBackend {
        self.connection.get_database_backend()
    }

    /// Drops the database (best effort).
    pub async fn drop_database(self) {
        let _ = self.connection.close().await;
        if let Some(file) = &self.file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
        if let Some((admin_url, name)) = &self.cleanup
            && let Ok(admin) = sea_orm::Database::connect(admin_url.as_str()).await
        {
            let drop = if self.engine == "postgres" {
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            } else {
                format!("DROP DATABASE IF EXISTS {name}")
            };
            let _ = admin.execute_unprepared(&drop).await;
            let _ = admin.close().await;
        }
    }
}
