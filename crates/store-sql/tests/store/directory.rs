use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use limen_domain::StoreError;
use limen_domain::error::UniqueField;
use limen_domain::model::{DirectoryCapabilities, NewDirectoryEntry, ProfileChange, UserId};
use limen_domain::ports::{AccountStates, UserDirectory};

use crate::engines;

/// A time with whole microseconds, as every engine stores them.
fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + seconds, 123_456_000).unwrap()
}

pub fn new_entry(name: &str) -> NewDirectoryEntry {
    NewDirectoryEntry {
        username: name.into(),
        email: format!("{name}@example.com"),
        first_name: Some("Ann".into()),
        last_name: Some("Andersson".into()),
        personal_number: None,
        password_hash: Some("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".into()),
        created_at: at(0),
    }
}

#[tokio::test]
async fn created_users_are_found_by_every_key_and_share_their_id_with_their_account() {
    for test in engines::all().await {
        let (directory, accounts) = (test.db.directory(), test.db.accounts());
        assert_eq!(directory.capabilities(), DirectoryCapabilities::ALL);
        let created = directory
            .create(NewDirectoryEntry {
                personal_number: Some("199001012385".into()),
                ..new_entry("ann")
            })
            .await
            .unwrap();
        assert_eq!(created.username, "ann", "{}", test.engine);
        assert!(created.enabled);
        assert_eq!(created.created_at, Some(at(0)), "{}", test.engine);
        for found in [
            directory.find_by_id(&created.external_id).await.unwrap(),
            directory.find_by_username("ann").await.unwrap(),
            directory.find_by_email("ann@example.com").await.unwrap(),
            directory.find_by_personal_number("199001012385").await.unwrap(),
        ] {
            assert_eq!(found.as_ref(), Some(&created), "{}", test.engine);
        }
        assert_eq!(directory.find_by_username("bob").await.unwrap(), None);
        assert_eq!(directory.find_by_id("not-a-number").await.unwrap(), None);
        // The account reserved at creation carries the same id.
        let account = accounts
            .link(directory.name(), &created.external_id, at(1))
            .await
            .unwrap();
        assert_eq!(
            account.user_id.0.to_string(),
            created.external_id,
            "{}",
            test.engine
        );
        assert_eq!(account.created_at, at(0), "the account was made with the user");
        test.drop_database().await;
    }
}

#[tokio::test]
async fn duplicates_are_reported_by_field_and_write_nothing() {
    for test in engines::all().await {
        let directory = test.db.directory();
        directory
            .create(NewDirectoryEntry {
                personal_number: Some("199001012385".into()),
                ..new_entry("ann")
            })
            .await
            .unwrap();
        let cases = [
            (
                NewDirectoryEntry {
                    email: "other@example.com".into(),
                    ..new_entry("ann")
                },
                UniqueField::Username,
            ),
            (
                NewDirectoryEntry {
                    email: "ann@example.com".into(),
                    ..new_entry("bob")
                },
                UniqueField::Email,
            ),
            (
                NewDirectoryEntry {
                    personal_number: Some("199001012385".into()),
                    ..new_entry("cid")
                },
                UniqueField::PersonalNumber,
            ),
        ];
        for (entry, field) in cases {
            let err = directory.create(entry).await.unwrap_err();
            assert!(
                matches!(err, StoreError::Duplicate(got) if got == field),
                "{}: {err:?}",
                test.engine
            );
        }
        assert_eq!(directory.list(None, 100).await.unwrap().len(), 1);
        test.drop_database().await;
    }
}

#[tokio::test]
async fn concurrent_creations_of_one_name_make_one_user() {
    for test in engines::all().await {
        let directory = Arc::new(test.db.directory());
        let attempts = (0..8).map(|n| {
            let directory = directory.clone();
            tokio::spawn(async move {
                directory
                    .create(NewDirectoryEntry {
                        email: format!("ann{n}@example.com"),
                        ..new_entry("ann")
                    })
                    .await
            })
        });
        let mut created = 0;
        for attempt in attempts {
            match attempt.await.unwrap() {
                Ok(_) => created += 1,
                Err(StoreError::Duplicate(UniqueField::Username)) => {}
                Err(other) => panic!("{}: {other:?}", test.engine),
            }
        }
        assert_eq!(created, 1, "{}", test.engine);
        test.drop_database().await;
    }
}

#[tokio::test]
async fn hashes_are_replaced_users_deleted_and_lists_paged_in_id_order() {
    for test in engines::all().await {
        let directory = test.db.directory();
        let mut ids = Vec::new();
        for name in ["ann", "bob", "cid"] {
            ids.push(directory.create(new_entry(name)).await.unwrap().external_id);
        }
        directory.set_password_hash(&ids[0], "$new$hash").await.unwrap();
        assert_eq!(
            directory
                .find_by_id(&ids[0])
                .await
                .unwrap()
                .unwrap()
                .password_hash
                .as_deref(),
            Some("$new$hash")
        );
        assert!(matches!(
            directory.set_password_hash("99999", "x").await,
            Err(StoreError::NotFound)
        ));
        let first = directory.list(None, 2).await.unwrap();
        assert_eq!(
            first.iter().map(|e| e.username.as_str()).collect::<Vec<_>>(),
            ["ann", "bob"]
        );
        let rest = directory
            .list(Some(first[1].external_id.clone()), 2)
            .await
            .unwrap();
        assert_eq!(
            rest.iter().map(|e| e.username.as_str()).collect::<Vec<_>>(),
            ["cid"]
        );
        directory.delete(&ids[1]).await.unwrap();
        assert_eq!(
            directory.find_by_id(&ids[1]).await.unwrap(),
            None,
            "{}",
            test.engine
        );
        assert_eq!(directory.list(None, 10).await.unwrap().len(), 2);
        let _ = UserId(0);
        test.drop_database().await;
    }
}

#[tokio::test]
async fn profiles_change_field_by_field_and_addresses_stay_unique() {
    for test in engines::all().await {
        let directory = test.db.directory();
        let ann = directory.create(new_entry("ann")).await.unwrap().external_id;
        directory.create(new_entry("bob")).await.unwrap();
        let changed = directory
            .update_profile(
                &ann,
                &ProfileChange {
                    email: Some("ann.new@example.com".into()),
                    last_name: Some(Some("Lind".into())),
                    personal_number: Some(None),
                    ..ProfileChange::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(changed.email, "ann.new@example.com", "{}", test.engine);
        assert_eq!(changed.last_name.as_deref(), Some("Lind"), "{}", test.engine);
        assert_eq!(changed.personal_number, None, "{}", test.engine);
        assert_eq!(changed.username, "ann", "{}", test.engine);
        assert_eq!(
            directory
                .find_by_email("ann.new@example.com")
                .await
                .unwrap()
                .map(|e| e.external_id),
            Some(ann.clone()),
            "{}",
            test.engine
        );
        let taken = directory
            .update_profile(
                &ann,
                &ProfileChange {
                    email: Some("bob@example.com".into()),
                    ..ProfileChange::default()
                },
            )
            .await;
        assert!(
            matches!(taken, Err(StoreError::Duplicate(UniqueField::Email))),
            "{}: {taken:?}",
            test.engine
        );
        let renamed = directory
            .update_profile(
                &ann,
                &ProfileChange {
                    username: Some("anna".into()),
                    ..ProfileChange::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (renamed.external_id.as_str(), renamed.username.as_str()),
            (ann.as_str(), "anna")
        );
        let taken = directory
            .update_profile(
                &ann,
                &ProfileChange {
                    username: Some("bob".into()),
                    ..ProfileChange::default()
                },
            )
            .await;
        assert!(
            matches!(taken, Err(StoreError::Duplicate(UniqueField::Username))),
            "{}: {taken:?}",
            test.engine
        );
        assert!(matches!(
            directory.update_profile("99999", &ProfileChange::default()).await,
            Err(StoreError::NotFound)
        ));
        test.drop_database().await;
    }
}

/// The directory contract every backend passes, over Limen's own table on
/// each engine (whose unique indexes refuse the twins).
#[tokio::test]
async fn limens_own_table_passes_the_user_directory_suite() {
    use limen_domain::conformance::user_directory::{ANN, BOB, Subject, run};
    for test in engines::all().await {
        let directory = test.db.directory();
        for person in [ANN, BOB] {
            directory
                .create(NewDirectoryEntry {
                    username: person.username.to_lowercase(),
                    email: person.email.to_lowercase(),
                    personal_number: Some(person.personal_number.into()),
                    ..new_entry("unused")
                })
                .await
                .unwrap();
        }
        let subject = Subject {
            label: format!("Limen's table on {}", test.engine),
            directory: Arc::new(directory),
            holds_twins: false,
            keeps_personal_numbers: true,
            keeps_enabled: false,
        };
        run(&subject).await;
        test.drop_database().await;
    }
}
