use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use limen_domain::StoreError;
use limen_domain::model::{AccountPatch, Role, StoredKeyPair, UserId};
use limen_domain::ports::{AccountStates, UserDirectory};

use crate::directory::new_entry;
use crate::engines;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + seconds, 0).unwrap()
}

#[tokio::test]
async fn a_directory_user_is_linked_once_even_by_concurrent_first_sights() {
    for test in engines::all().await {
        let accounts = Arc::new(test.db.accounts());
        let links = (0..16).map(|_| {
            let accounts = accounts.clone();
            tokio::spawn(async move { accounts.link("crm", "customer-7f3a", at(5)).await })
        });
        let mut ids = Vec::new();
        for link in links {
            ids.push(link.await.unwrap().unwrap().user_id);
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "{}: {ids:?}", test.engine);
        let account = accounts.find(ids[0]).await.unwrap().unwrap();
        assert_eq!(
            (account.directory.as_str(), account.external_id.as_str()),
            ("crm", "customer-7f3a")
        );
        assert_eq!(account.role, Role::User);
        assert!(!account.disabled);
        assert_eq!(account.created_at, at(5));
        // The same external id in another directory is another user.
        let other = accounts.link("ldap", "customer-7f3a", at(6)).await.unwrap();
        assert_ne!(other.user_id, account.user_id, "{}", test.engine);
        test.drop_database().await;
    }
}

#[tokio::test]
async fn ids_of_limen_s_own_users_and_of_other_directories_never_collide() {
    for test in engines::all().await {
        let (directory, accounts) = (test.db.directory(), test.db.accounts());
        let ann = directory.create(new_entry("ann")).await.unwrap();
        let external = accounts.link("crm", "42", at(1)).await.unwrap();
        let bob = directory.create(new_entry("bob")).await.unwrap();
        let mut ids = vec![
            ann.external_id.clone(),
            external.user_id.0.to_string(),
            bob.external_id.clone(),
        ];
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 3, "{}: {ids:?}", test.engine);
        test.drop_database().await;
    }
}

#[tokio::test]
async fn patches_change_only_what_they_name_and_logins_are_recorded() {
    for test in engines::all().await {
        let accounts = test.db.accounts();
        let id = accounts.link("crm", "a", at(0)).await.unwrap().user_id;
        accounts
            .update(
                id,
                AccountPatch {
                    role: Some(Role::Support),
                    ..AccountPatch::default()
                },
                at(1),
            )
            .await
            .unwrap();
        accounts
            .update(
                id,
                AccountPatch {
                    disabled: Some(true),
                    email_verified_at: Some(at(2)),
                    ..AccountPatch::default()
                },
                at(2),
            )
            .await
            .unwrap();
        accounts.record_login(id, at(3)).await.unwrap();
        let account = accounts.find(id).await.unwrap().unwrap();
        assert_eq!(account.role, Role::Support, "{}", test.engine);
        assert!(account.disabled);
        assert_eq!(account.email_verified_at, Some(at(2)));
        assert_eq!(account.last_login_at, Some(at(3)));
        assert!(matches!(
            accounts
                .update(UserId(987_654), AccountPatch::default(), at(4))
                .await,
            Err(StoreError::NotFound)
        ));
        accounts.delete(id).await.unwrap();
        assert_eq!(accounts.find(id).await.unwrap(), None, "{}", test.engine);
        test.drop_database().await;
    }
}

#[tokio::test]
async fn key_pairs_are_stored_listed_and_resealed_only_when_unchanged() {
    for test in engines::all().await {
        let accounts = test.db.accounts();
        let id = accounts.link("crm", "a", at(0)).await.unwrap().user_id;
        accounts.link("crm", "b", at(0)).await.unwrap();
        accounts
            .update(
                id,
                AccountPatch {
                    key_pair: Some(StoredKeyPair {
                        public_hex: "ab".repeat(32),
                        sealed_private: "sealed-old".into(),
                    }),
                    ..AccountPatch::default()
                },
                at(1),
            )
            .await
            .unwrap();
        assert_eq!(
            accounts.find(id).await.unwrap().unwrap().public_key.as_deref(),
            Some("ab".repeat(32).as_str())
        );
        assert_eq!(
            accounts.list_sealed_keys().await.unwrap(),
            vec![(id, "sealed-old".to_owned())],
            "{}",
            test.engine
        );
        assert!(!accounts.replace_sealed_key(id, "stale", "new").await.unwrap());
        assert!(
            accounts
                .replace_sealed_key(id, "sealed-old", "sealed-new")
                .await
                .unwrap()
        );
        assert_eq!(accounts.list_sealed_keys().await.unwrap()[0].1, "sealed-new");
        test.drop_database().await;
    }
}

#[tokio::test]
async fn of_concurrent_changes_against_one_version_exactly_one_is_written() {
    for test in engines::all().await {
        let accounts = Arc::new(test.db.accounts());
        let account = accounts.link("crm", "7", at(1)).await.unwrap();
        let changes = (0..12).map(|n| {
            let accounts = accounts.clone();
            let patch = AccountPatch {
                scim_external_id: Some(Some(format!("e-{n}"))),
                expected_version: Some(account.version),
                ..AccountPatch::default()
            };
            tokio::spawn(async move { accounts.update(account.user_id, patch, at(2)).await })
        });
        let mut written = 0;
        for change in changes {
            match change.await.unwrap() {
                Ok(()) => written += 1,
                Err(StoreError::Stale) => {}
                Err(other) => panic!("{}: {other}", test.engine),
            }
        }
        assert_eq!(written, 1, "{}", test.engine);
        let now = accounts.find(account.user_id).await.unwrap().unwrap();
        assert_eq!(now.version, account.version + 1, "{}", test.engine);
        let external = now.scim_external_id.clone().unwrap();
        assert_eq!(
            accounts.find_by_scim_external_id(&external).await.unwrap(),
            vec![account.user_id],
            "{}",
            test.engine
        );
        let cleared = AccountPatch {
            scim_external_id: Some(None),
            ..AccountPatch::default()
        };
        accounts.update(account.user_id, cleared, at(3)).await.unwrap();
        assert!(
            accounts
                .find_by_scim_external_id(&external)
                .await
                .unwrap()
                .is_empty()
        );
        let missing = AccountPatch {
            expected_version: Some(1),
            ..AccountPatch::default()
        };
        assert!(matches!(
            accounts.update(UserId(999_999), missing, at(4)).await,
            Err(StoreError::NotFound)
        ));
        test.drop_database().await;
    }
}
