//! `SessionTokens` and `TokenCatalog`: every token attribute kept, revocation,
//! "log out everywhere", single-use consumption under parallel callers, and the
//! operators' catalog, whatever holds the tokens (SQL, Redis).

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};

use crate::error::{StoreError, UniqueField};
use crate::model::{NewToken, TokenAttributes, TokenHash, TokenId, TokenKind, UserId};
use crate::ports::{SessionTokens, TokenCatalog};

/// Both token ports of one store.
pub trait TokenStore: SessionTokens + TokenCatalog {}

impl<T: SessionTokens + TokenCatalog> TokenStore for T {}

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

/// Runs every check on `store`, which must be empty.
pub async fn run<S: TokenStore + 'static>(store: Arc<S>, engine: &str) {
    keeps_every_attribute(&*store, engine).await;
    records_touch_and_revoke(&*store, engine).await;
    logs_out_everywhere_but_the_one_kept(&*store, engine).await;
    consumes_once_whatever_runs_in_parallel(store.clone(), engine).await;
    the_catalog_lists_finds_by_id_and_disables(&*store, engine).await;
}

/// Issued tokens are found by their digest with every attribute; a digest in use is a duplicate.
async fn keeps_every_attribute<S: TokenStore>(store: &S, engine: &str) {
    let tokens = store;
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
    assert_eq!(issued.expires_at, at(3600), "{}", engine);
    assert_eq!(issued.attributes.origin, Some(hash("o")));
    assert_eq!(issued.attributes.payload.as_deref().map(str::len), Some(604));
    assert!(issued.enabled);
    let found = tokens.find(&issued.hash).await.unwrap();
    assert_eq!(found.as_ref(), Some(&issued), "{}", engine);
    assert_eq!(tokens.find(&hash("b")).await.unwrap(), None);
    let err = tokens.issue(token(8, "a", 10)).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Duplicate(UniqueField::Token)),
        "{err:?}"
    );
}

/// A use and a revocation are recorded; a second revocation changes nothing.
async fn records_touch_and_revoke<S: TokenStore>(store: &S, engine: &str) {
    let tokens = store;
    let issued = tokens.issue(token(7, "g", 3600)).await.unwrap();
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
    assert_eq!(revoked.revoked_at, Some(at(20)), "{}", engine);
    assert!(!revoked.is_live_at(at(21)));
}

/// "Log out everywhere" revokes the live tokens of one user but the one kept.
async fn logs_out_everywhere_but_the_one_kept<S: TokenStore>(store: &S, engine: &str) {
    let tokens = store;
    let kept = tokens.issue(token(1, "h", 3600)).await.unwrap();
    tokens.issue(token(1, "i", 3600)).await.unwrap();
    tokens.issue(token(1, "j", 5)).await.unwrap();
    tokens.issue(token(2, "k", 3600)).await.unwrap();
    let revoked = tokens
        .revoke_all_for_user(UserId(1), Some(kept.hash.clone()), at(10))
        .await
        .unwrap();
    assert_eq!(revoked, 1, "{}: the expired one and the kept one stay", engine);
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
            .find(&hash("k"))
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
}

/// Of 50 parallel consumptions of a single-use token, one wins; wrong kinds and expired tokens consume nothing.
async fn consumes_once_whatever_runs_in_parallel<S: TokenStore + 'static>(store: Arc<S>, engine: &str) {
    let tokens = store;
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
        async move {
            tokens
                .consume(&hash("e"), TokenKind::EmailVerification, at(2))
                .await
        }
    });
    let won = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .filter(|attempt| attempt.as_ref().unwrap().is_some())
        .count();
    assert_eq!(won, 1, "{}", engine);
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
}

/// The catalog lists a user's tokens of one kind newest first, finds by id, and disables.
async fn the_catalog_lists_finds_by_id_and_disables<S: TokenStore>(store: &S, engine: &str) {
    let tokens = store;
    let first = tokens.issue(token(11, "l", 3600)).await.unwrap();
    let second = tokens.issue(token(11, "m", 3600)).await.unwrap();
    tokens
        .issue(NewToken {
            kind: TokenKind::RememberMe,
            ..token(11, "n", 3600)
        })
        .await
        .unwrap();
    let listed = tokens.list_for_user(UserId(11), TokenKind::Access).await.unwrap();
    assert_eq!(
        listed.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![second.id, first.id],
        "{}: newest first, one kind",
        engine
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
        tokens.set_enabled(TokenId(999_999), true).await,
        Err(StoreError::NotFound)
    ));
}
