//! Databases for the scenarios: created, migrated and seeded through Limen's own
//! store adapters, so the rows are exactly what Limen itself would write.

use std::path::Path;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{Duration as TimeDelta, Utc};
use limen_crypto::RandomTokenMint;
use limen_domain::model::{NewDirectoryEntry, NewToken, TokenAttributes, TokenKind, UserId};
use limen_domain::ports::{SessionTokens, TokenMint, UserDirectory};
use limen_store_sql::{Database, DatabaseConfig};
use sea_orm::{ConnectionTrait, Statement};

use crate::error::BenchError;
use crate::redis_target::RedisTarget;

/// The password of every seeded user.
pub const PASSWORD: &str = "correct horse battery staple";

/// argon2id parameters, the same for the seeded hashes, the server and the raw rate.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct HashParams {
    /// Memory cost, KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl HashParams {
    /// The argon2id instance for these parameters.
    pub fn argon(self) -> Result<Argon2<'static>, BenchError> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|err| BenchError::Setup(format!("invalid argon2 parameters: {err}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// A PHC hash of `PASSWORD`.
    pub fn hash_password(self) -> Result<String, BenchError> {
        let salt = SaltString::generate(&mut OsRng);
        self.argon()?
            .hash_password(PASSWORD.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|err| BenchError::Setup(format!("cannot hash: {err}")))
    }

    /// The server's `LIMEN_PASSWORD__*` settings for these parameters.
    pub fn settings(self) -> Vec<(&'static str, String)> {
        vec![
            ("LIMEN_PASSWORD__MEMORY_KIB", self.memory_kib.to_string()),
            ("LIMEN_PASSWORD__ITERATIONS", self.iterations.to_string()),
            ("LIMEN_PASSWORD__PARALLELISM", self.parallelism.to_string()),
            // The load generator is one address standing for many clients: the
            // per-address share of the hash queue and the per-address throttle
            // of failed logins would measure themselves, not Limen's capacity.
            ("LIMEN_PASSWORD__MAX_QUEUE_PER_ADDRESS", "0".into()),
            ("LIMEN_RATE_LIMIT__LOGIN_FAILURES_PER_ADDRESS", "0".into()),
            // A server database needs a key for secrets at rest; none are sealed here.
            ("LIMEN_ALLOW_UNSEALED_SECRETS", "true".into()),
        ]
    }
}

/// A seeded user and one live access token of theirs.
#[derive(Debug, Clone)]
pub struct SeededUser {
    /// Login name.
    pub username: String,
    /// Plaintext access token.
    pub token: String,
}

/// A throw-away database for one store engine.
pub struct BenchDatabase {
    /// `sqlite` or `postgres`.
    pub engine: &'static str,
    /// The URL Limen is given.
    pub url: String,
    /// For PostgreSQL: the server URL to drop the database through.
    admin: Option<(String, String)>,
}

impl BenchDatabase {
    /// A fresh SQLite file in `dir`.
    pub fn sqlite(dir: &Path) -> Result<Self, BenchError> {
        std::fs::create_dir_all(dir).map_err(BenchError::io(format!("cannot create {}", dir.display())))?;
        let path = dir.join(format!("bench-{}.db", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        Ok(Self {
            engine: "sqlite",
            url: format!("sqlite://{}?mode=rwc", path.display()),
            admin: None,
        })
    }

    /// A fresh database on the PostgreSQL server at `admin_url`.
    pub async fn postgres(admin_url: &str) -> Result<Self, BenchError> {
        // `limen_test_` so that the test script's clean-up finds what a killed run leaves.
        let name = format!("limen_test_bench_{}", std::process::id());
        let admin = connect(admin_url).await?;
        execute(admin.connection(), &format!("DROP DATABASE IF EXISTS {name}")).await?;
        execute(admin.connection(), &format!("CREATE DATABASE {name}")).await?;
        admin
            .close()
            .await
            .map_err(BenchError::store("closing the admin connection"))?;
        Ok(Self {
            engine: "postgres",
            url: with_database(admin_url, &name),
            admin: Some((admin_url.to_string(), name)),
        })
    }

    /// Migrates and adds `count` users (`bench0`, `bench1`, …) with `PASSWORD`
    /// hashed as `hash`, each with one access token valid for a day, kept in
    /// `redis` when given and in the database otherwise.
    pub async fn seed(
        &self,
        count: usize,
        hash: &str,
        redis: Option<&RedisTarget>,
    ) -> Result<Vec<SeededUser>, BenchError> {
        let db = connect(&self.url).await?;
        db.migrate().await.map_err(BenchError::store("migrating"))?;
        let users = db.directory();
        let tokens: Box<dyn SessionTokens> = match redis {
            Some(redis) => Box::new(redis.connect().await?.tokens()),
            None => Box::new(db.tokens()),
        };
        let mint = RandomTokenMint;
        let now = Utc::now();
        let mut seeded = Vec::with_capacity(count);
        for i in 0..count {
            let username = format!("bench{i}");
            let entry = users
                .create(NewDirectoryEntry {
                    username: username.clone(),
                    email: format!("{username}@bench.invalid"),
                    first_name: Some("Bench".into()),
                    last_name: Some(format!("User {i}")),
                    personal_number: None,
                    password_hash: Some(hash.to_string()),
                    created_at: now,
                })
                .await
                .map_err(BenchError::store(format!("creating {username}")))?;
            // Limen's own directory: the directory id is the Limen id.
            let user_id = UserId(
                entry
                    .external_id
                    .parse()
                    .map_err(|_| BenchError::Setup(format!("{username} got a non-numeric id")))?,
            );
            let (token, digest) = mint.mint();
            tokens
                .issue(NewToken {
                    user_id,
                    kind: TokenKind::Access,
                    hash: digest,
                    created_at: now,
                    expires_at: now + TimeDelta::days(1),
                    attributes: TokenAttributes::default(),
                })
                .await
                .map_err(BenchError::store(format!("issuing a token for {username}")))?;
            seeded.push(SeededUser { username, token });
        }
        db.close().await.map_err(BenchError::store("closing"))?;
        Ok(seeded)
    }

    /// Adds `count` users (`<prefix>0`, `<prefix>1`, …) whose stored hash is
    /// `hash` as it stands (one made elsewhere, say), without tokens; their names.
    pub async fn add_hashed(
        &self,
        prefix: &str,
        count: usize,
        hash: &str,
    ) -> Result<Vec<String>, BenchError> {
        let db = connect(&self.url).await?;
        let users = db.directory();
        let now = Utc::now();
        let mut names = Vec::with_capacity(count);
        for i in 0..count {
            let username = format!("{prefix}{i}");
            users
                .create(NewDirectoryEntry {
                    username: username.clone(),
                    email: format!("{username}@bench.invalid"),
                    first_name: None,
                    last_name: None,
                    personal_number: None,
                    password_hash: Some(hash.to_string()),
                    created_at: now,
                })
                .await
                .map_err(BenchError::store(format!("creating {username}")))?;
            names.push(username);
        }
        db.close().await.map_err(BenchError::store("closing"))?;
        Ok(names)
    }

    /// PostgreSQL only: adds `count` more users (`bulkN`) with `bench0`'s password
    /// hash, and one access token each whose plaintext is `bulk_token(id)`.
    /// Row by row through the adapters would take an hour, so this is one
    /// set-based SQL statement per table, and therefore knows the schema.
    pub async fn add_bulk(&self, count: u64) -> Result<BulkUsers, BenchError> {
        let db = connect(&self.url).await?;
        let connection = db.connection();
        // Ids come from `accounts`, as for every user of Limen's own directory.
        execute(
            connection,
            &format!(
                "INSERT INTO accounts (directory, external_id, role, disabled, created_at, updated_at, version) \
                 SELECT 'limen', 'bulk:' || g, 'user', FALSE, t.created_at, t.updated_at, 1 \
                 FROM generate_series(1, {count}) AS g, users AS t WHERE t.username = 'bench0'"
            ),
        )
        .await?;
        execute(
            connection,
            "INSERT INTO users (id, username, email, first_name, last_name, password_hash, enabled, \
             created_at, updated_at) \
             SELECT a.id, 'bulk' || a.id, 'bulk' || a.id || '@bench.invalid', t.first_name, t.last_name, \
             t.password_hash, TRUE, t.created_at, t.updated_at \
             FROM accounts AS a, users AS t WHERE a.external_id LIKE 'bulk:%' AND t.username = 'bench0'",
        )
        .await?;
        execute(
            connection,
            "UPDATE accounts SET external_id = id::text WHERE external_id LIKE 'bulk:%'",
        )
        .await?;
        execute(
            connection,
            "INSERT INTO tokens (user_id, kind, token_hash, created_at, expires_at, enabled, version) \
             SELECT u.id, t.kind, encode(sha256(convert_to('bulk' || lpad(u.id::text, 39, '0'), 'UTF8')), 'hex'), \
             t.created_at, t.expires_at, TRUE, 0 \
             FROM users AS u, (SELECT kind, created_at, expires_at FROM tokens LIMIT 1) AS t \
             WHERE u.username LIKE 'bulk%'",
        )
        .await?;
        execute(connection, "ANALYZE accounts").await?;
        execute(connection, "ANALYZE users").await?;
        execute(connection, "ANALYZE tokens").await?;
        let row = connection
            .query_one_raw(Statement::from_string(
                connection.get_database_backend(),
                "SELECT MIN(id), MAX(id), COUNT(*) FROM users WHERE username LIKE 'bulk%'",
            ))
            .await
            .map_err(|err| BenchError::Setup(format!("counting bulk users: {err}")))?
            .ok_or_else(|| BenchError::Setup("no answer counting bulk users".into()))?;
        let get = |index: usize| {
            row.try_get_by_index::<i64>(index)
                .map_err(|err| BenchError::Setup(format!("counting bulk users: {err}")))
        };
        let bulk = BulkUsers {
            first_id: get(0)?,
            last_id: get(1)?,
            count: get(2)?,
        };
        db.close().await.map_err(BenchError::store("closing"))?;
        Ok(bulk)
    }

    /// Drops a server database; removes nothing for SQLite (the file stays for inspection).
    pub async fn drop_database(self) -> Result<(), BenchError> {
        if let Some((admin_url, name)) = self.admin {
            let admin = connect(&admin_url).await?;
            execute(
                admin.connection(),
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
            .await?;
            admin
                .close()
                .await
                .map_err(BenchError::store("closing the admin connection"))?;
        }
        Ok(())
    }
}

/// The ids of the users `add_bulk` created.
#[derive(Debug, Clone, Copy)]
pub struct BulkUsers {
    /// Smallest id.
    pub first_id: i64,
    /// Largest id.
    pub last_id: i64,
    /// How many.
    pub count: i64,
}

/// The plaintext of bulk user `id`'s token (43 characters, like a minted one).
pub fn bulk_token(id: i64) -> String {
    format!("bulk{id:039}")
}

async fn connect(url: &str) -> Result<Database, BenchError> {
    Database::connect(&DatabaseConfig::new(url))
        .await
        .map_err(BenchError::store(format!(
            "cannot connect to {}",
            limen_domain::redact_url(url)
        )))
}

async fn execute(connection: &sea_orm::DatabaseConnection, sql: &str) -> Result<(), BenchError> {
    connection
        .execute_unprepared(sql)
        .await
        .map(|_| ())
        .map_err(|err| BenchError::Setup(format!("{sql}: {err}")))
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let base = url.split_once('?').map_or(url, |(base, _)| base);
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    format!("{}/{name}", &base[..host_end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_get_the_new_database_name() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }

    #[test]
    fn bulk_tokens_are_as_long_as_minted_ones() {
        assert_eq!(bulk_token(7).len(), 43);
        assert_eq!(bulk_token(1_000_001), format!("bulk{}1000001", "0".repeat(32)));
    }
}
