//! The administration API's tokens on every engine: names unique, found by
//! digest, revoked by name, their use recorded.

use chrono::{Duration, DurationRound, Utc};
use limen_domain::StoreError;
use limen_domain::error::UniqueField;
use limen_domain::model::{AdminScope, NewAdminToken, TokenHash};
use limen_domain::ports::AdminTokenStore;

use crate::engines;

fn new_token(name: &str, digest: &str) -> NewAdminToken {
    NewAdminToken {
        name: name.into(),
        hash: TokenHash(digest.into()),
        scopes: vec![AdminScope::UsersRead, AdminScope::Scim],
        created_at: Utc::now().duration_trunc(Duration::microseconds(1)).unwrap(),
        expires_at: None,
    }
}

#[tokio::test]
async fn tokens_are_kept_found_by_digest_and_revoked_by_name() {
    for test in engines::all().await {
        let store = test.db.admin_tokens();
        let bot = store.create(&new_token("ci-bot", &"a".repeat(64))).await.unwrap();
        assert_eq!(bot.scopes, vec![AdminScope::UsersRead, AdminScope::Scim]);
        assert!(
            matches!(
                store.create(&new_token("ci-bot", &"b".repeat(64))).await,
                Err(StoreError::Duplicate(UniqueField::AdminTokenName))
            ),
            "{}",
            test.engine
        );
        let entra = store.create(&new_token("entra", &"c".repeat(64))).await.unwrap();
        assert_eq!(
            store.find(&TokenHash("a".repeat(64))).await.unwrap(),
            Some(bot.clone())
        );
        assert_eq!(store.find(&TokenHash("d".repeat(64))).await.unwrap(), None);
        let names: Vec<_> = store
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|token| token.name)
            .collect();
        assert_eq!(names, ["entra", "ci-bot"], "{}", test.engine);
        let used = Utc::now().duration_trunc(Duration::microseconds(1)).unwrap();
        store.touch(entra.id, used).await.unwrap();
        assert_eq!(
            store.find(&entra.hash).await.unwrap().unwrap().last_used_at,
            Some(used)
        );
        assert!(store.revoke("ci-bot", used).await.unwrap());
        assert!(
            !store.revoke("ci-bot", used).await.unwrap(),
            "only a live one is revoked"
        );
        assert!(!store.revoke("nobody", used).await.unwrap());
        let revoked = store.find(&bot.hash).await.unwrap().unwrap();
        assert_eq!(revoked.revoked_at, Some(used));
        assert!(!revoked.is_live(used));
        test.drop_database().await;
    }
}
