//! An import is one transaction: every user, or none.

use chrono::{TimeZone, Utc};
use limen_domain::StoreError;
use limen_domain::error::UniqueField;
use limen_domain::model::{NewDirectoryEntry, UserId};
use limen_domain::ports::{AccountStates, UserDirectory};
use limen_store_sql::ImportedUser;

use crate::engines;

fn user(name: &str, email: &str, enabled: bool) -> ImportedUser {
    ImportedUser {
        entry: NewDirectoryEntry {
            username: name.into(),
            email: email.into(),
            first_name: None,
            last_name: None,
            personal_number: None,
            password_hash: Some("$2b$04$abcdefghijklmnopqrstuughE8Ev8uGFaUgY2cNEySvxngrb/Jzdm".into()),
            created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        },
        enabled,
        email_verified: true,
    }
}

#[tokio::test]
async fn every_user_is_imported_or_none() {
    for test in engines::all().await {
        let imported = test
            .db
            .import_users(vec![
                user("ann", "ann@example.com", true),
                user("bo", "bo@example.com", false),
            ])
            .await
            .unwrap();
        assert_eq!(imported, 2, "{}", test.engine);
        let directory = test.db.directory();
        let bo = directory.find_by_username("bo").await.unwrap().unwrap();
        assert!(!bo.enabled, "{}", test.engine);
        let account = test
            .db
            .accounts()
            .find(UserId(bo.external_id.parse().unwrap()))
            .await
            .unwrap()
            .unwrap();
        assert!(account.email_verified_at.is_some(), "{}", test.engine);

        let err = test
            .db
            .import_users(vec![
                user("carl", "carl@example.com", true),
                user("dora", "dora@example.com", true),
                user("ann", "other@example.com", true),
            ])
            .await
            .unwrap_err();
        assert_eq!(err.index, 2, "{}", test.engine);
        assert!(
            matches!(err.error, StoreError::Duplicate(UniqueField::Username)),
            "{}: {err}",
            test.engine
        );
        for name in ["carl", "dora"] {
            assert_eq!(
                directory.find_by_username(name).await.unwrap(),
                None,
                "{}: {name}",
                test.engine
            );
        }
        test.drop_database().await;
    }
}
