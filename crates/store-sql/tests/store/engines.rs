//! Throw-away databases on every configured engine.

use limen_store_sql::{Database, DatabaseConfig};
use sea_orm::ConnectionTrait;

/// What to remove once a test is done with its database.
enum Cleanup {
    File(std::path::PathBuf),
    Server { admin_url: String, name: String },
}

/// One fresh, migrated database; `drop_database` removes it (best effort).
pub struct TestDb {
    pub engine: &'static str,
    pub db: Database,
    cleanup: Cleanup,
}

impl TestDb {
    pub async fn drop_database(self) {
        let _ = self.db.close().await;
        match self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Server { admin_url, name } => {
                if let Ok(admin) = sea_orm::Database::connect(admin_url.as_str()).await {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
                        .await;
                    let _ = admin.close().await;
                }
            }
        }
    }
}

/// The server URL from `variable`, or `None` with a printed notice; under
/// `CI=true` a missing server is a failure, never a silent skip.
fn server_url(variable: &str, engine: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{variable} must be set when CI=true: the {engine} adapter tests may not be skipped"
            );
            eprintln!("notice: {variable} is not set; skipping the {engine} run of this test");
            None
        }
    }
}

/// `url` with its database path replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
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

async fn server_db(engine: &'static str, admin_url: String, migrate: bool) -> TestDb {
    let name = format!("limen_test_{}", uuid::Uuid::new_v4().simple());
    let admin = sea_orm::Database::connect(admin_url.as_str())
        .await
        .unwrap_or_else(|err| panic!("cannot reach the {engine} test server: {err}"));
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap_or_else(|err| panic!("cannot create a {engine} test database: {err}"));
    admin.close().await.ok();
    let db = Database::connect(&DatabaseConfig::new(with_database(&admin_url, &name)))
        .await
        .unwrap();
    if migrate {
        db.migrate().await.unwrap();
    }
    TestDb {
        engine,
        db,
        cleanup: Cleanup::Server { admin_url, name },
    }
}

/// A migrated database on every configured engine: SQLite always.
pub async fn all() -> Vec<TestDb> {
    open_all(true).await
}

/// An empty database, without Limen's schema, on every configured engine.
pub async fn all_unmigrated() -> Vec<TestDb> {
    open_all(false).await
}

async fn open_all(migrate: bool) -> Vec<TestDb> {
    let path = std::env::temp_dir().join(format!("limen-test-{}.db", uuid::Uuid::new_v4().simple()));
    let sqlite = Database::connect(&DatabaseConfig::new(format!(
        "sqlite://{}?mode=rwc",
        path.display()
    )))
    .await
    .unwrap();
    if migrate {
        sqlite.migrate().await.unwrap();
    }
    let mut dbs = vec![TestDb {
        engine: "sqlite",
        db: sqlite,
        cleanup: Cleanup::File(path),
    }];
    if let Some(url) = server_url("LIMEN_TEST_POSTGRES_URL", "PostgreSQL") {
        dbs.push(server_db("postgres", url, migrate).await);
    }
    if let Some(url) = server_url("LIMEN_TEST_MYSQL_URL", "MySQL") {
        dbs.push(server_db("mysql", url, migrate).await);
    }
    dbs
}

#[test]
fn database_names_replace_the_path_of_server_urls() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("mysql://root@127.0.0.1:3306", "x"),
        "mysql://root@127.0.0.1:3306/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
}

#[tokio::test]
async fn every_pooled_sqlite_connection_writes_ahead_and_syncs_at_checkpoints() {
    use sea_orm::TransactionTrait;

    let path = std::env::temp_dir().join(format!("limen-pragmas-{}.db", uuid::Uuid::new_v4().simple()));
    let db = Database::connect(&DatabaseConfig::new(format!(
        "sqlite://{}?mode=rwc",
        path.display()
    )))
    .await
    .unwrap();
    // Open transactions hold their connections, so each asks another one.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(db.connection().begin().await.unwrap());
    }
    for transaction in &held {
        let row = |pragma: &'static str| async move {
            transaction
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DatabaseBackend::Sqlite,
                    format!("PRAGMA {pragma}"),
                ))
                .await
                .unwrap()
                .unwrap()
        };
        let mode: String = row("journal_mode").await.try_get_by_index(0).unwrap();
        let synchronous: i32 = row("synchronous").await.try_get_by_index(0).unwrap();
        assert_eq!((mode.as_str(), synchronous), ("wal", 1), "WAL and NORMAL (1)");
    }
    drop(held);
    db.close().await.unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
