//! Upgrading a database that holds data: the schema before the split of
//! accounts from the user directory, filled as that version left it, then the
//! remaining migrations.

use chrono::{DateTime, TimeZone, Utc};
use limen_domain::model::{NewDirectoryEntry, NewToken, Role, TokenAttributes, TokenHash, TokenKind, UserId};
use limen_domain::ports::{AccountStates, RateLimiter, SecondFactorStore, SessionTokens, UserDirectory};
use limen_migrations::{Migrator, MigratorTrait};
use sea_orm::ConnectionTrait;

use crate::engines;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + seconds, 0).unwrap()
}

fn micros(seconds: i64) -> i64 {
    at(seconds).timestamp_micros()
}

/// Migrations before the split.
const BEFORE_SPLIT: u32 = 4;

#[tokio::test]
async fn users_tokens_locks_and_second_factors_survive_the_split() {
    for test in engines::all_unmigrated().await {
        let conn = test.db.connection();
        Migrator::up(conn, Some(BEFORE_SPLIT)).await.unwrap();
        let locked_until = micros(1_000_000);
        for statement in [
            format!(
                "INSERT INTO users (id, username, email, first_name, last_name, personal_number, password_hash, \
                 enabled, failed_attempts, failure_window_started_at, locked_until, created_at, updated_at, \
                 last_login_at, version, role, email_verified_at, public_key, sealed_private_key) VALUES \
                 (1, 'ann', 'ann@example.com', 'Ann', NULL, '199001012385', '$argon2id$old', TRUE, 0, {w}, \
                 {locked_until}, {c}, {c}, NULL, 3, 'support', {v}, '{pk}', 'xc1:key:sealed')",
                w = micros(5),
                c = micros(0),
                v = micros(2),
                pk = "ab".repeat(32),
            ),
            format!(
                "INSERT INTO users (id, username, email, first_name, last_name, personal_number, password_hash, \
                 enabled, failed_attempts, failure_window_started_at, locked_until, created_at, updated_at, \
                 last_login_at, version, role, email_verified_at, public_key, sealed_private_key) VALUES \
                 (2, 'bob', 'bob@example.com', NULL, NULL, NULL, NULL, FALSE, 2, {w}, NULL, {c}, {c}, {l}, 1, \
                 'user', NULL, NULL, NULL)",
                w = micros(5),
                c = micros(0),
                l = micros(7),
            ),
            format!(
                "INSERT INTO tokens (user_id, kind, token_hash, created_at, expires_at, last_used_at, revoked_at, \
                 attempts, note, enabled, client_id, bound_address, version) VALUES \
                 (1, 'access', '{h}', {c}, {e}, NULL, NULL, 2, 'deploy', TRUE, NULL, NULL, 0)",
                h = "a".repeat(64),
                c = micros(0),
                e = micros(3600),
            ),
            format!(
                "INSERT INTO user_totp (user_id, sealed_secret, algorithm, digits, period, confirmed, \
                 last_used_step, created_at, confirmed_at) VALUES (1, 'xc1:k:s', 'SHA1', 6, 30, TRUE, 10, {c}, {c})",
                c = micros(0)
            ),
            format!(
                "INSERT INTO recovery_codes (user_id, code_hash, used_at) VALUES (1, '{h}', NULL)",
                h = "r".repeat(64)
            ),
        ] {
            conn.execute_unprepared(&statement)
                .await
                .unwrap_or_else(|err| panic!("{}: {err}\n{statement}", test.engine));
        }
        test.db
            .migrate()
            .await
            .unwrap_or_else(|err| panic!("{}: {err}", test.engine));
        assert!(test.db.pending_migrations().await.unwrap().is_empty());

        let (directory, accounts) = (test.db.directory(), test.db.accounts());
        let ann = accounts.find(UserId(1)).await.unwrap().unwrap();
        assert_eq!(
            (ann.directory.as_str(), ann.external_id.as_str()),
            ("limen", "1"),
            "{}",
            test.engine
        );
        assert_eq!(ann.role, Role::Support);
        assert_eq!(ann.email_verified_at, Some(at(2)));
        assert_eq!(ann.public_key.as_deref(), Some("ab".repeat(32).as_str()));
        assert_eq!(
            accounts.list_sealed_keys().await.unwrap(),
            vec![(UserId(1), "xc1:key:sealed".to_owned())]
        );
        let bob = accounts.find(UserId(2)).await.unwrap().unwrap();
        assert!(
            bob.disabled,
            "{}: Limen's disabled flag moved to the account",
            test.engine
        );
        assert_eq!(bob.last_login_at, Some(at(7)));
        let bob_entry = directory.find_by_id("2").await.unwrap().unwrap();
        assert!(bob_entry.enabled, "the directory's own flag is left on");
        let ann_entry = directory.find_by_username("ann").await.unwrap().unwrap();
        assert_eq!(ann_entry.personal_number.as_deref(), Some("199001012385"));
        assert_eq!(ann_entry.password_hash.as_deref(), Some("$argon2id$old"));

        let lock = test.db.rate_limiter().state("account:1").await.unwrap().unwrap();
        assert_eq!(
            lock.blocked_at(at(10)),
            Some(at(1_000_000)),
            "{}: the active lock stays",
            test.engine
        );
        assert!(test.db.rate_limiter().state("account:2").await.unwrap().is_none());

        let tokens = test.db.tokens();
        let token = tokens.find(&TokenHash("a".repeat(64))).await.unwrap().unwrap();
        assert_eq!(token.attributes.note.as_deref(), Some("deploy"));
        assert_eq!(token.attributes.origin, None);
        let factors = test.db.second_factors();
        assert_eq!(
            factors
                .find_totp(UserId(1))
                .await
                .unwrap()
                .unwrap()
                .last_used_step,
            Some(10)
        );
        assert!(
            factors
                .use_recovery_code(UserId(1), &"r".repeat(64), at(9))
                .await
                .unwrap()
        );

        // No foreign key ties tokens or second factors to Limen's own table any more.
        tokens
            .issue(NewToken {
                user_id: UserId(424_242),
                kind: TokenKind::Access,
                hash: TokenHash("b".repeat(64)),
                created_at: at(0),
                expires_at: at(60),
                attributes: TokenAttributes::default(),
            })
            .await
            .unwrap_or_else(|err| panic!("{}: {err}", test.engine));
        // New users and links continue after the migrated ids.
        let new = directory
            .create(NewDirectoryEntry {
                username: "cid".into(),
                email: "cid@example.com".into(),
                first_name: None,
                last_name: None,
                personal_number: None,
                password_hash: None,
                created_at: at(20),
            })
            .await
            .unwrap_or_else(|err| panic!("{}: {err}", test.engine));
        assert_eq!(new.external_id, "3", "{}", test.engine);
        assert_eq!(
            accounts.link("crm", "x", at(21)).await.unwrap().user_id,
            UserId(4)
        );
        test.drop_database().await;
    }
}
