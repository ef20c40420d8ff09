use chrono::{DateTime, Duration, TimeZone, Utc};
use limen_domain::StoreError;
use limen_domain::error::UniqueField;
use limen_domain::model::{
    LockState, NewToken, NewUser, StoredKeyPair, TokenAttributes, TokenHash, TokenKind, UserId,
};
use limen_domain::ports::{TokenStore, UserStore};

use crate::engines;

/// A time with whole microseconds, as every engine stores them.
fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + seconds, 123_456_000).unwrap()
}

fn new_user(name: &str) -> NewUser {
    NewUser {
        username: name.into(),
        email: format!("{name}@example.com"),
        first_name: Some("Ann".into()),
        last_name: Some("Andersson".into()),
        personal_number: None,
        password_hash: Some("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".into()),
        key_pair: None,
        created_at: at(0),
    }
}

#[tokio::test]
async fn created_users_are_found_by_id_username_and_email() {
    for test in engines::all().await {
        let users = test.db.users();
        let created = users
            .create(NewUser {
                personal_number: Some("199001012385".into()),
                ..new_user("ann")
            })
            .await
            .unwrap();
        assert_eq!(created.username, "ann", "{}", test.engine);
        assert_eq!(created.version, 1);
        assert!(created.enabled);
        assert_eq!(created.created_at, at(0), "{}", test.engine);
        assert_eq!(created.updated_at, at(0));
        assert_eq!(created.lock, LockState::default());
        assert_eq!(created.personal_number.as_deref(), Some("199001012385"));
        assert_eq!(
            users.find_by_id(created.id).await.unwrap().as_ref(),
            Some(&created)
        );
        assert_eq!(
            users.find_by_username("ann").await.unwrap().as_ref(),
            Some(&created)
        );
        assert_eq!(
            users.find_by_email("ann@example.com").await.unwrap().as_ref(),
            Some(&created)
        );
        assert_eq!(users.find_by_username("bob").await.unwrap(), None);
        assert_eq!(users.find_by_id(UserId(created.id.0 + 1000)).await.unwrap(), None);
        test.drop_database().await;
    }
}

#[tokio::test]
async fn duplicates_are_reported_by_field_and_write_nothing() {
    for test in engines::all().await {
        let users = test.db.users();
        users
            .create(NewUser {
                personal_number: Some("199001012385".into()),
                ..new_user("ann")
            })
            .await
            .unwrap();
        let same_name = users
            .create(NewUser {
                email: "other@example.com".into(),
                ..new_user("ann")
            })
            .await;
        assert!(
            matches!(same_name, Err(StoreError::Duplicate(UniqueField::Username))),
            "{}: {same_name:?}",
            test.engine
        );
        let same_email = users
            .create(NewUser {
                email: "ann@example.com".into(),
                ..new_user("bob")
            })
            .await;
        assert!(
            matches!(same_email, Err(StoreError::Duplicate(UniqueField::Email))),
            "{}: {same_email:?}",
            test.engine
        );
        let same_number = users
            .create(NewUser {
                personal_number: Some("199001012385".into()),
                ..new_user("carl")
            })
            .await;
        assert!(
            matches!(
                same_number,
                Err(StoreError::Duplicate(UniqueField::PersonalNumber))
            ),
            "{}: {same_number:?}",
            test.engine
        );
        assert_eq!(users.list().await.unwrap().len(), 1, "{}", test.engine);
        test.drop_database().await;
    }
}

#[tokio::test]
async fn lock_state_writes_are_optimistically_locked() {
    for test in engines::all().await {
        let users = test.db.users();
        let ann = users.create(new_user("ann")).await.unwrap();
        let lock = LockState {
            failed_attempts: 3,
            window_started_at: Some(at(10)),
            locked_until: Some(at(20)),
        };
        users.update_lock_state(ann.id, 1, &lock).await.unwrap();
        let stale = users.update_lock_state(ann.id, 1, &LockState::default()).await;
        assert!(
            matches!(stale, Err(StoreError::Conflict)),
            "{}: {stale:?}",
            test.engine
        );
        let missing = users.update_lock_state(UserId(ann.id.0 + 99), 1, &lock).await;
        assert!(matches!(missing, Err(StoreError::NotFound)), "{}", test.engine);
        let reread = users.find_by_id(ann.id).await.unwrap().unwrap();
        assert_eq!(reread.lock, lock, "{}", test.engine);
        assert_eq!(reread.version, 2);
        assert_eq!(reread.updated_at, at(0), "bookkeeping is not a profile change");
        test.drop_database().await;
    }
}

#[tokio::test]
async fn a_login_records_its_time_and_clears_the_lock_state() {
    for test in engines::all().await {
        let users = test.db.users();
        let ann = users.create(new_user("ann")).await.unwrap();
        let lock = LockState {
            failed_attempts: 2,
            window_started_at: Some(at(10)),
            locked_until: None,
        };
        users.update_lock_state(ann.id, ann.version, &lock).await.unwrap();
        users.record_login(ann.id, at(30)).await.unwrap();
        let reread = users.find_by_id(ann.id).await.unwrap().unwrap();
        assert_eq!(reread.last_login_at, Some(at(30)), "{}", test.engine);
        assert_eq!(reread.lock, LockState::default());
        assert_eq!(reread.version, 3);
        assert!(matches!(
            users.record_login(UserId(ann.id.0 + 5), at(30)).await,
            Err(StoreError::NotFound)
        ));
        test.drop_database().await;
    }
}

#[tokio::test]
async fn profile_changes_bump_version_and_update_time() {
    for test in engines::all().await {
        let users = test.db.users();
        let ann = users.create(new_user("ann")).await.unwrap();
        users
            .set_password_hash(ann.id, "$argon2id$new", at(5))
            .await
            .unwrap();
        users.set_enabled(ann.id, false, at(6)).await.unwrap();
        let reread = users.find_by_id(ann.id).await.unwrap().unwrap();
        assert_eq!(
            reread.password_hash.as_deref(),
            Some("$argon2id$new"),
            "{}",
            test.engine
        );
        assert!(!reread.enabled);
        assert_eq!(reread.updated_at, at(6));
        assert_eq!(reread.version, 3);
        assert!(matches!(
            users.set_enabled(UserId(ann.id.0 + 5), true, at(7)).await,
            Err(StoreError::NotFound)
        ));
        test.drop_database().await;
    }
}

#[tokio::test]
async fn list_orders_users_by_id() {
    for test in engines::all().await {
        let users = test.db.users();
        for name in ["carl", "ann", "bob"] {
            users.create(new_user(name)).await.unwrap();
        }
        let names: Vec<String> = users
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.username)
            .collect();
        assert_eq!(names, ["carl", "ann", "bob"], "{}", test.engine);
        test.drop_database().await;
    }
}

#[tokio::test]
async fn migrating_twice_is_harmless() {
    for test in engines::all().await {
        test.db.migrate().await.unwrap();
        assert!(
            test.db.pending_migrations().await.unwrap().is_empty(),
            "{}",
            test.engine
        );
        test.db.ping().await.unwrap();
        test.drop_database().await;
    }
}

#[tokio::test]
async fn times_before_the_epoch_and_far_ahead_survive() {
    for test in engines::all().await {
        let users = test.db.users();
        let ann = users
            .create(NewUser {
                created_at: Utc.timestamp_opt(-86_400, 0).unwrap(),
                ..new_user("ann")
            })
            .await
            .unwrap();
        let far = Utc.timestamp_opt(4_102_444_800, 0).unwrap() + Duration::days(365 * 100);
        users.record_login(ann.id, far).await.unwrap();
        let reread = users.find_by_id(ann.id).await.unwrap().unwrap();
        assert_eq!(reread.created_at, Utc.timestamp_opt(-86_400, 0).unwrap());
        assert_eq!(reread.last_login_at, Some(far), "{}", test.engine);
        test.drop_database().await;
    }
}

#[tokio::test]
async fn a_key_pair_and_a_long_email_username_are_stored() {
    for test in engines::all().await {
        let users = test.db.users();
        // Registered users are named by their address, which may be 254 characters.
        let long = format!("{}@example.com", "m".repeat(242));
        let created = users
            .create(NewUser {
                username: long.clone(),
                email: long.clone(),
                key_pair: Some(StoredKeyPair {
                    public_hex: "ab".repeat(32),
                    sealed_private: format!("xc1:0123abcd:{}", "A".repeat(100)),
                }),
                ..new_user("ignored")
            })
            .await
            .unwrap_or_else(|err| panic!("{}: {err}", test.engine));
        assert_eq!(created.public_key.as_deref(), Some("ab".repeat(32).as_str()));
        assert_eq!(
            users.find_by_username(&long).await.unwrap().unwrap().id,
            created.id
        );
        test.drop_database().await;
    }
}

#[tokio::test]
async fn email_verification_is_recorded() {
    for test in engines::all().await {
        let users = test.db.users();
        let ann = users.create(new_user("ann")).await.unwrap();
        assert_eq!(ann.email_verified_at, None);
        users.mark_email_verified(ann.id, at(5)).await.unwrap();
        let found = users.find_by_id(ann.id).await.unwrap().unwrap();
        assert_eq!(found.email_verified_at, Some(at(5)), "{}", test.engine);
        assert_eq!(found.version, ann.version + 1);
        assert!(matches!(
            users.mark_email_verified(UserId(ann.id.0 + 99), at(5)).await,
            Err(StoreError::NotFound)
        ));
        test.drop_database().await;
    }
}

#[tokio::test]
async fn deleting_a_user_removes_their_tokens_and_frees_the_address() {
    for test in engines::all().await {
        let (users, tokens) = (test.db.users(), test.db.tokens());
        let ann = users.create(new_user("ann")).await.unwrap();
        let issued = tokens
            .issue(NewToken {
                user_id: ann.id,
                kind: TokenKind::EmailVerification,
                hash: TokenHash("e".repeat(64)),
                created_at: at(0),
                expires_at: at(3600),
                attributes: TokenAttributes::default(),
            })
            .await
            .unwrap();
        users.delete(ann.id).await.unwrap();
        assert_eq!(users.find_by_id(ann.id).await.unwrap(), None);
        assert_eq!(
            tokens.find_by_id(issued.id).await.unwrap(),
            None,
            "{}",
            test.engine
        );
        users.create(new_user("ann")).await.unwrap();
        test.drop_database().await;
    }
}
