//! The SQL token store against the domain's conformance suite.

use std::sync::Arc;

use limen_domain::conformance::session_tokens;

use crate::engines;

#[tokio::test]
async fn the_sql_token_store_passes_the_conformance_suite() {
    for test in engines::all().await {
        session_tokens::run(Arc::new(test.db.tokens()), test.engine).await;
        test.drop_database().await;
    }
}

#[tokio::test]
async fn expired_tokens_are_purged_and_live_ones_kept() {
    use chrono::{Duration, Utc};
    use limen_domain::model::{NewToken, TokenAttributes, TokenHash, TokenKind, UserId};
    use limen_domain::ports::SessionTokens;

    for test in engines::all().await {
        let tokens = test.db.tokens();
        let now = Utc::now();
        let issue = |letter: &str, kind: TokenKind, expires_in: Duration| NewToken {
            user_id: UserId(1),
            kind,
            hash: TokenHash(letter.repeat(64)),
            created_at: now - Duration::days(30),
            expires_at: now + expires_in,
            attributes: TokenAttributes::default(),
        };
        for new in [
            issue("a", TokenKind::Access, -Duration::days(3)),
            issue("b", TokenKind::RememberMe, -Duration::days(2)),
            issue("c", TokenKind::Access, -Duration::hours(1)),
            issue("d", TokenKind::Access, Duration::hours(1)),
            // The state of a login under way is not kept once it expired.
            issue("e", TokenKind::OpenIdState, -Duration::minutes(1)),
            issue("f", TokenKind::BankIdOrder, -Duration::minutes(1)),
            issue("g", TokenKind::OpenIdState, Duration::minutes(5)),
        ] {
            tokens.issue(new).await.unwrap();
        }
        let purged = tokens.purge_expired(now).await.unwrap();
        assert_eq!(purged, 4, "{}", test.engine);
        for (letter, kept) in [
            ("a", false),
            ("b", false),
            ("c", true),
            ("d", true),
            ("e", false),
            ("f", false),
            ("g", true),
        ] {
            let found = tokens.find(&TokenHash(letter.repeat(64))).await.unwrap();
            assert_eq!(found.is_some(), kept, "{}: {letter}", test.engine);
        }
        assert_eq!(tokens.purge_expired(now).await.unwrap(), 0);
        // The purge reads an index, not the whole table.
        let query = match test.engine {
            "sqlite" => {
                "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'ix_tokens_expires_at'"
            }
            "postgres" => "SELECT indexname FROM pg_indexes WHERE indexname = 'ix_tokens_expires_at'",
            _ => {
                "SELECT index_name FROM information_schema.statistics \
                  WHERE table_schema = DATABASE() AND index_name = 'ix_tokens_expires_at'"
            }
        };
        let rows = sea_orm::ConnectionTrait::query_all_raw(
            test.db.connection(),
            sea_orm::Statement::from_string(test.db.connection().get_database_backend(), query),
        )
        .await
        .unwrap();
        assert!(!rows.is_empty(), "{}: no index on tokens.expires_at", test.engine);
        test.drop_database().await;
    }
}
