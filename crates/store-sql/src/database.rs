use std::sync::Arc;
use std::time::Duration;

use limen_domain::StoreError;
use limen_domain::ports::{CallObserver, Invalidations};
use limen_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, DatabaseBackend, DatabaseConnection};

use crate::{
    SqlAccountStates, SqlAdminTokenStore, SqlAuditLog, SqlPasskeyStore, SqlRateLimiter, SqlSecondFactorStore,
    SqlTokenStore, SqlUserDirectory,
};

/// A pooled connection idle this long is tested before it is handed out.
const POOL_PING_AFTER_IDLE: Duration = Duration::from_secs(10);

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// `sqlite://FILE?mode=rwc`, `postgres://...` or `mysql://...`.
    pub url: String,
    /// Largest number of pooled connections.
    pub max_connections: u32,
    /// How long to wait for a connection before failing a request.
    pub acquire_timeout: Duration,
}

impl DatabaseConfig {
    /// A configuration with the default pool settings.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// A pool of connections to Limen's database, and the stores over it.
#[derive(Clone)]
pub struct Database {
    connection: DatabaseConnection,
}

impl Database {
    /// Connects (creating a missing SQLite file when the URL says `mode=rwc`).
    pub async fn connect(config: &DatabaseConfig) -> Result<Self, StoreError> {
        let mut options = ConnectOptions::new(config.url.clone());
        options
            .max_connections(config.max_connections)
            .min_connections(1)
            .acquire_timeout(config.acquire_timeout)
            // A ping before every statement doubled the round trips (a fifth
            // of a login's own CPU and as much of PostgreSQL's); only a
            // connection idle long enough for a server, proxy or firewall
            // to have dropped it is tested now. A hot connection that broke
            // fails its statement, which is answered 503, and is not reused.
            .test_before_acquire_if_idle_for(POOL_PING_AFTER_IDLE)
            .sqlx_logging(false)
            // On every pooled connection (a PRAGMA holds for its connection
            // only): WAL lets readers (token validation) proceed while a
            // login writes, and NORMAL syncs the log at checkpoints rather
            // than at every commit, which in WAL mode cannot corrupt the
            // database; a power loss may take the last commits back.
            .map_sqlx_sqlite_opts(|sqlite| {
                sqlite
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
            });
        let connection = sea_orm::Database::connect(options).await.map_err(|err| {
            StoreError::Unavailable(format!(
                "cannot connect to {}: {err}",
                limen_domain::redact_url(&config.url)
            ))
        })?;
        Ok(Self { connection })
    }

    /// Tells `observer` how long each statement took and whether it failed.
    /// Call it before handing out stores: they keep the connection as it was.
    pub fn observe(&mut self, observer: CallObserver) {
        self.connection
            .set_metric_callback(move |info| observer(info.elapsed, info.failed));
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        Migrator::up(&self.connection, None)
            .await
            .map_err(|err| StoreError::Unavailable(format!("migration failed: {err}")))
    }

    /// The names of the migrations not yet applied.
    pub async fn pending_migrations(&self) -> Result<Vec<String>, StoreError> {
        let pending = Migrator::get_pending_migrations(&self.connection)
            .await
            .map_err(|err| StoreError::Unavailable(format!("cannot read migration state: {err}")))?;
        Ok(pending
            .iter()
            .map(|migration| migration.name().to_owned())
            .collect())
    }

    /// The invalidation channel over this database: `LISTEN/NOTIFY` on
    /// PostgreSQL; elsewhere the `invalidations` table, read every `interval`.
    pub fn invalidations(&self, interval: std::time::Duration) -> Arc<dyn Invalidations> {
        match self.connection.get_database_backend() {
            DatabaseBackend::Postgres => Arc::new(crate::PgInvalidations::start(
                self.connection.get_postgres_connection_pool().clone(),
            )),
            _ => Arc::new(crate::PolledInvalidations::start(
                self.connection.clone(),
                interval,
            )),
        }
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.connection
            .ping()
            .await
            .map_err(|err| StoreError::Unavailable(format!("database unreachable: {err}")))
    }

    /// The underlying pool, for operational tooling and tests that inspect rows.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.connection
    }

    /// Limen's own user directory over this database.
    pub fn directory(&self) -> SqlUserDirectory {
        SqlUserDirectory::new(self.connection.clone())
    }

    /// The OpenID Provider's signing keys in this database.
    pub fn signing_keys(&self) -> crate::SqlSigningKeys {
        crate::SqlSigningKeys::new(self.connection.clone())
    }

    /// The account states over this database.
    pub fn accounts(&self) -> SqlAccountStates {
        SqlAccountStates::new(self.connection.clone())
    }

    /// Counted attempts over this database.
    pub fn rate_limiter(&self) -> SqlRateLimiter {
        SqlRateLimiter::new(self.connection.clone())
    }

    /// Whether this is an SQLite database (one file, one node).
    pub fn is_sqlite(&self) -> bool {
        self.connection.get_database_backend() == DatabaseBackend::Sqlite
    }

    /// The token store (session tokens and catalog) over this database.
    pub fn tokens(&self) -> SqlTokenStore {
        SqlTokenStore::new(self.connection.clone())
    }

    /// The audit trail over this database.
    pub fn audit_log(&self) -> SqlAuditLog {
        SqlAuditLog::new(self.connection.clone())
    }

    /// The second-factor store over this database.
    pub fn second_factors(&self) -> SqlSecondFactorStore {
        SqlSecondFactorStore::new(self.connection.clone())
    }

    /// The administration API's tokens over this database.
    pub fn admin_tokens(&self) -> SqlAdminTokenStore {
        SqlAdminTokenStore::new(self.connection.clone())
    }

    /// The passkeys over this database.
    pub fn passkeys(&self) -> SqlPasskeyStore {
        SqlPasskeyStore::new(self.connection.clone())
    }

    /// Closes every pooled connection.
    pub async fn close(self) -> Result<(), StoreError> {
        self.connection
            .close()
            .await
            .map_err(|err| StoreError::Unavailable(format!("closing the pool failed: {err}")))
    }
}
