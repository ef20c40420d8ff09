use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use limen_domain::StoreError;
use limen_domain::error::UniqueField;
use limen_domain::model::{NewToken, TokenAttributes, TokenHash, TokenKind, UserId};
use limen_domain::ports::{SessionTokens, TokenCatalog};

use crate::engines;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + seconds, 0).unwrap()
}

fn hash(letter: &str) -> TokenHash {
    TokenHash(letter.repeat(64 / letter.len()))
}

fn token(user: i64, letter: &str, expires: i64) -> NewToken {
    NewToken {
        user_id: UserId(user),
        kind: TokenKind::Access,
        hash: hash(letter),
        created_at: at(0),
        expires_at: at(expires),
        attributes: TokenAttributes::default(),
    }
}

#[tokio::test]
async fn issued_tokens_are_found_by_their_digest_with_every_attribute() {
    for test in engines::all().await {
        let tokens = test.db.tokens();
        let issued = tokens
            .issue(NewToken {
                attributes: TokenAttributes {
                    note: Some("deploy".into()),
                    client_id: Some("0864b512-1776-4a55-8ee5-2b19d7d9b7ea".into()),
                    bound_address: Some("2001:db8::1".into()),
                    origin: Some(hash("o")),
                    // A sealed BankID order is a few hundred characters.
                    payload: Some(format!("xc2:{}", "s".repeat(600))),
                },
                ..token(7, "a", 3600)
            })
            .await
            .unwrap();
        assert_eq!(issued.user_id, UserId(7));
        assert_eq!(issued.expires_at, at(3600), "{}", test.engine);
        assert_eq!(issued.attributes.origin, Some(hash("o")));
        assert_eq!(issued.attributes.payload.as_deref().map(str::len), Some(604));
        assert!(issued.enabled);
        let found = tokens.find(&issued.hash).await.unwrap();
        assert_eq!(found.as_ref(), Some(&issued), "{}", test.engine);
        assert_eq!(tokens.find(&hash("b")).await.unwrap(), None);
        let err = tokens.issue(token(8, "a", 10)).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Duplicate(UniqueField::Token)),
            "{err:?}"
        );
        test.drop_database().await;
    }
}

#[tokio::test]
async fn touch_and_revoke_are_recorded() {
    for test in engines::all().await {
        let tokens = test.db.tokens();
        let issued = tokens.issue(token(7, "a", 3600)).await.unwrap();
        tokens.touch(&issued.hash, at(10)).await.unwrap();
        assert_eq!(
            tokens.find(&issued.hash).await.unwrap().unwrap().last_used_at,
            Some(at(10))
        );
        assert!(tokens.revoke(&issued.hash, at(20)).await.unwrap());
        assert!(
            !tokens.revoke(&issued.hash, at(30)).await.unwrap(),
            "already revoked"
        );
        let revoked = tokens.find(&issued.hash).await.unwrap().unwrap();
        assert_eq!(revoked.revoked_at, Some(at(20)), "{}", test.engine);
        assert!(!revoked.is_live_at(at(21)));
        test.drop_database().await;
    }
}

#[tokio::test]
async fn logout_everywhere_revokes_live_tokens_of_one_user_but_the_one_kept() {
    for test in engines::all().await {
        let tokens = test.db.tokens();
        let kept = tokens.issue(token(1, "a", 3600)).await.unwrap();
        tokens.issue(token(1, "b", 3600)).await.unwrap();
        tokens.issue(token(1, "c", 5)).await.unwrap();
        tokens.issue(token(2, "d", 3600)).await.unwrap();
        let revoked = tokens
            .revoke_all_for_user(UserId(1), Some(kept.hash.clone()), at(10))
            .await
            .unwrap();
        assert_eq!(
            revoked, 1,
            "{}: the expired one and the kept one stay",
            test.engine
        );
        assert!(
            tokens
                .find(&kept.hash)
                .await
                .unwrap()
                .unwrap()
                .revoked_at
                .is_none()
        );
        assert!(
            tokens
                .find(&hash("d"))
                .await
                .unwrap()
                .unwrap()
                .revoked_at
                .is_none()
        );
        assert_eq!(
            tokens.revoke_all_for_user(UserId(1), None, at(11)).await.unwrap(),
            1
        );
        assert_eq!(tokens.delete_all_for_user(UserId(1)).await.unwrap(), 3);
        assert_eq!(tokens.find(&kept.hash).await.unwrap(), None);
        test.drop_database().await;
    }
}

#[tokio::test]
async fn a_token_is_consumed_once_whatever_runs_in_parallel() {
    for test in engines::all().await {
        let tokens = Arc::new(test.db.tokens());
        let link = NewToken {
            kind: TokenKind::EmailVerification,
            ..token(3, "e", 3600)
        };
        tokens.issue(link).await.unwrap();
        assert_eq!(
            tokens
                .consume(&hash("e"), TokenKind::Access, at(1))
                .await
                .unwrap(),
            None,
            "the wrong kind consumes nothing"
        );
        let attempts = (0..50).map(|_| {
            let tokens = tokens.clone();
            tokio::spawn(async move {
                tokens
                    .consume(&hash("e"), TokenKind::EmailVerification, at(2))
                    .await
            })
        });
        let mut won = 0;
        for attempt in attempts {
            if attempt.await.unwrap().unwrap().is_some() {
                won += 1;
            }
        }
        assert_eq!(won, 1, "{}", test.engine);
        let expired = NewToken {
            kind: TokenKind::EmailVerification,
            ..token(3, "f", 5)
        };
        tokens.issue(expired).await.unwrap();
        assert_eq!(
            tokens
                .consume(&hash("f"), TokenKind::EmailVerification, at(5))
                .await
                .unwrap(),
            None
        );
        test.drop_database().await;
    }
}

#[tokio::test]
async fn the_catalog_lists_finds_by_id_and_disables() {
    for test in engines::all().await {
        let tokens = test.db.tokens();
        let first = tokens.issue(token(1, "a", 3600)).await.unwrap();
        let second = tokens.issue(token(1, "b", 3600)).await.unwrap();
        tokens
            .issue(NewToken {
                kind: TokenKind::RememberMe,
                ..token(1, "c", 3600)
            })
            .await
            .unwrap();
        let listed = tokens.list_for_user(UserId(1), TokenKind::Access).await.unwrap();
        assert_eq!(
            listed.iter().map(|t| t.id).collect::<Vec<_>>(),
            vec![second.id, first.id],
            "{}: newest first, one kind",
            test.engine
        );
        assert_eq!(
            tokens.find_by_id(first.id).await.unwrap().unwrap().hash,
            first.hash
        );
        tokens.set_enabled(first.id, false).await.unwrap();
        let disabled = tokens.find(&first.hash).await.unwrap().unwrap();
        assert!(!disabled.enabled);
        assert_eq!(disabled.version, 1);
        assert!(!disabled.is_live_at(at(1)));
        assert!(matches!(
            tokens
                .set_enabled(limen_domain::model::TokenId(999_999), true)
                .await,
            Err(StoreError::NotFound)
        ));
        test.drop_database().await;
    }
}
