use chrono::{DateTime, TimeZone, Utc};
use limen_domain::StoreError;
use limen_domain::error::UniqueField;
use limen_domain::model::{NewToken, NewUser, TokenAttributes, TokenHash, TokenKind, UserId};
use limen_domain::ports::{TokenStore, UserStore};

use crate::engines;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + seconds, 0).unwrap()
}

async fn user(users: &dyn UserStore, name: &str) -> UserId {
    users
        .create(NewUser {
            username: name.into(),
            email: format!("{name}@example.com"),
            first_name: None,
            last_name: None,
            personal_number: None,
            password_hash: None,
            key_pair: None,
            created_at: at(0),
        })
        .await
        .unwrap()
        .id
}

fn token(user: UserId, hash: &str, expires: i64) -> NewToken {
    NewToken {
        user_id: user,
        kind: TokenKind::Access,
        hash: TokenHash(hash.repeat(64 / hash.len())),
        created_at: at(0),
        expires_at: at(expires),
        attributes: TokenAttributes::default(),
    }
}

#[tokio::test]
async fn issued_tokens_are_found_by_their_digest_only() {
    for test in engines::all().await {
        let (users, tokens) = (test.db.users(), test.db.tokens());
        let ann = user(&users, "ann").await;
        let issued = tokens.issue(token(ann, "a", 3600)).await.unwrap();
        assert_eq!(issued.user_id, ann);
        assert_eq!(issued.expires_at, at(3600), "{}", test.engine);
        assert_eq!(issued.last_used_at, None);
        assert_eq!(issued.revoked_at, None);
        let found = tokens.find_by_hash(&issued.hash).await.unwrap();
        assert_eq!(found.as_ref(), Some(&issued), "{}", test.engine);
        let unknown = tokens.find_by_hash(&TokenHash("b".repeat(64))).await.unwrap();
        assert_eq!(unknown, None);
        test.drop_database().await;
    }
}

#[tokio::test]
async fn touch_and_revoke_are_recorded() {
    for test in engines::all().await {
        let (users, tokens) = (test.db.users(), test.db.tokens());
        let ann = user(&users, "ann").await;
        let issued = tokens.issue(token(ann, "a", 3600)).await.unwrap();
        tokens.touch(issued.id, at(10)).await.unwrap();
        tokens.revoke(issued.id, at(20)).await.unwrap();
        // A second revocation keeps the first time.
        tokens.revoke(issued.id, at(30)).await.unwrap();
        let found = tokens.find_by_hash(&issued.hash).await.unwrap().unwrap();
        assert_eq!(found.last_used_at, Some(at(10)), "{}", test.engine);
        assert_eq!(found.revoked_at, Some(at(20)), "{}", test.engine);
        assert!(!found.is_live_at(at(21)));
        test.drop_database().await;
    }
}

#[tokio::test]
async fn revoke_all_ends_only_that_users_live_tokens() {
    for test in engines::all().await {
        let (users, tokens) = (test.db.users(), test.db.tokens());
        let ann = user(&users, "ann").await;
        let bob = user(&users, "bob").await;
        let first = tokens.issue(token(ann, "a", 3600)).await.unwrap();
        let second = tokens.issue(token(ann, "b", 3600)).await.unwrap();
        let expired = tokens.issue(token(ann, "c", 50)).await.unwrap();
        let already = tokens.issue(token(ann, "d", 3600)).await.unwrap();
        tokens.revoke(already.id, at(60)).await.unwrap();
        let bobs = tokens.issue(token(bob, "e", 3600)).await.unwrap();
        assert_eq!(
            tokens.revoke_all_for_user(ann, at(100)).await.unwrap(),
            2,
            "{}",
            test.engine
        );
        for live in [&first, &second] {
            let found = tokens.find_by_hash(&live.hash).await.unwrap().unwrap();
            assert_eq!(found.revoked_at, Some(at(100)));
        }
        let found = tokens.find_by_hash(&expired.hash).await.unwrap().unwrap();
        assert_eq!(found.revoked_at, None);
        let found = tokens.find_by_hash(&already.hash).await.unwrap().unwrap();
        assert_eq!(found.revoked_at, Some(at(60)));
        let found = tokens.find_by_hash(&bobs.hash).await.unwrap().unwrap();
        assert!(found.is_live_at(at(100)), "{}", test.engine);
        test.drop_database().await;
    }
}

#[tokio::test]
async fn attributes_are_kept_and_a_repeated_digest_is_a_duplicate() {
    for test in engines::all().await {
        let (users, tokens) = (test.db.users(), test.db.tokens());
        let ann = user(&users, "ann").await;
        let attributes = TokenAttributes {
            note: Some("CI deploy key: ünïcödé".into()),
            client_id: Some("0864b512-1776-4a55-8ee5-2b19d7d9b7ea".into()),
            bound_address: Some("2001:db8::7".into()),
        };
        let issued = tokens
            .issue(NewToken {
                kind: TokenKind::RememberMe,
                attributes: attributes.clone(),
                ..token(ann, "a", 3600)
            })
            .await
            .unwrap();
        assert_eq!(issued.kind, TokenKind::RememberMe);
        assert_eq!(issued.attributes, attributes, "{}", test.engine);
        assert!(issued.enabled);
        assert_eq!(issued.version, 0);
        let again = tokens.issue(token(ann, "a", 60)).await.unwrap_err();
        assert!(
            matches!(again, StoreError::Duplicate(UniqueField::Token)),
            "{}: {again:?}",
            test.engine
        );
        test.drop_database().await;
    }
}

#[tokio::test]
async fn tokens_are_disabled_enabled_listed_and_found_by_id() {
    for test in engines::all().await {
        let (users, tokens) = (test.db.users(), test.db.tokens());
        let ann = user(&users, "ann").await;
        let bob = user(&users, "bob").await;
        let first = tokens.issue(token(ann, "a", 3600)).await.unwrap();
        let second = tokens.issue(token(ann, "b", 3600)).await.unwrap();
        tokens
            .issue(NewToken {
                kind: TokenKind::RememberMe,
                ..token(ann, "c", 3600)
            })
            .await
            .unwrap();
        tokens.issue(token(bob, "d", 3600)).await.unwrap();
        tokens.set_enabled(first.id, false).await.unwrap();
        let found = tokens.find_by_id(first.id).await.unwrap().unwrap();
        assert!(!found.enabled, "{}", test.engine);
        assert_eq!(found.version, 1);
        assert!(!found.is_live_at(at(1)));
        tokens.set_enabled(first.id, true).await.unwrap();
        let found = tokens.find_by_id(first.id).await.unwrap().unwrap();
        assert!(found.enabled && found.version == 2, "{}", test.engine);
        let listed: Vec<_> = tokens
            .list_for_user(ann, TokenKind::Access)
            .await
            .unwrap()
            .into_iter()
            .map(|token| token.id)
            .collect();
        assert_eq!(listed, [second.id, first.id], "newest first, access tokens only");
        let missing = limen_domain::model::TokenId(first.id.0 + 1000);
        assert_eq!(tokens.find_by_id(missing).await.unwrap(), None);
        assert!(matches!(
            tokens.set_enabled(missing, false).await,
            Err(StoreError::NotFound)
        ));
        test.drop_database().await;
    }
}

#[tokio::test]
async fn failed_attempts_are_counted_on_the_token() {
    for test in engines::all().await {
        let (users, tokens) = (test.db.users(), test.db.tokens());
        let ann = user(&users, "ann").await;
        let issued = tokens.issue(token(ann, "a", 3600)).await.unwrap();
        assert_eq!(tokens.record_failed_attempt(issued.id).await.unwrap(), 1);
        assert_eq!(
            tokens.record_failed_attempt(issued.id).await.unwrap(),
            2,
            "{}",
            test.engine
        );
        test.drop_database().await;
    }
}
