//! The passkey store on every engine: keyed by Limen's account, found by
//! credential id, names unique per user, uses recorded, removals.

use chrono::{DateTime, TimeZone, Utc};
use limen_domain::StoreError;
use limen_domain::error::UniqueField;
use limen_domain::model::{StoredPasskey, UserId};
use limen_domain::ports::PasskeyStore;

use crate::engines;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + seconds, 0).unwrap()
}

fn passkey(user: i64, credential_id: &str, name: &str) -> StoredPasskey {
    StoredPasskey {
        id: 0,
        user_id: UserId(user),
        user_handle: format!("00000000-0000-4000-8000-00000000000{user}"),
        credential_id: credential_id.into(),
        name: name.into(),
        credential: format!("{{\"cred\":\"{credential_id}\",\"counter\":0}}"),
        aaguid: Some("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4".into()),
        created_at: at(1),
        last_used_at: None,
    }
}

#[tokio::test]
async fn passkeys_are_kept_per_account_found_by_credential_and_named_once_per_user() {
    for test in engines::all().await {
        let store = test.db.passkeys();
        let engine = test.engine;
        // Credential ids may be long (up to 1023 bytes): 1364 base64url characters.
        let long_id = "A".repeat(1364);
        let laptop = store.add(&passkey(1, &long_id, "Laptop")).await.unwrap();
        assert!(laptop.id > 0, "{engine}");
        let phone = store.add(&passkey(1, "cGhvbmU", "Phone")).await.unwrap();
        store.add(&passkey(2, "Ym8", "Laptop")).await.unwrap();
        assert_eq!(
            store.find_by_credential(&long_id).await.unwrap(),
            Some(laptop.clone()),
            "{engine}"
        );
        assert_eq!(store.find_by_credential("bm9ib2R5").await.unwrap(), None);
        let names: Vec<String> = store
            .list_for_user(UserId(1))
            .await
            .unwrap()
            .into_iter()
            .map(|passkey| passkey.name)
            .collect();
        assert_eq!(names, ["Laptop", "Phone"], "{engine}");
        assert!(matches!(
            store.add(&passkey(2, &long_id, "Other")).await,
            Err(StoreError::Duplicate(UniqueField::Credential))
        ));
        assert!(matches!(
            store.add(&passkey(1, "bmV3", "Phone")).await,
            Err(StoreError::Duplicate(UniqueField::PasskeyName))
        ));
        // A use: when, and the credential's new counter.
        store
            .record_use(phone.id, Some("{\"counter\":7}".into()), at(9))
            .await
            .unwrap();
        let used = store.find_by_credential("cGhvbmU").await.unwrap().unwrap();
        assert_eq!(used.last_used_at, Some(at(9)), "{engine}");
        assert_eq!(used.credential, "{\"counter\":7}");
        store.record_use(phone.id, None, at(10)).await.unwrap();
        let used = store.find_by_credential("cGhvbmU").await.unwrap().unwrap();
        assert_eq!(
            (used.last_used_at, used.credential.as_str()),
            (Some(at(10)), "{\"counter\":7}")
        );
        // Renames and removals act on the owner's passkeys only.
        assert!(!store.rename(UserId(2), "Phone", "Mobile").await.unwrap());
        assert!(matches!(
            store.rename(UserId(1), "Phone", "Laptop").await,
            Err(StoreError::Duplicate(UniqueField::PasskeyName))
        ));
        assert!(store.rename(UserId(1), "Phone", "Mobile").await.unwrap());
        assert!(!store.remove(UserId(2), "Mobile").await.unwrap());
        assert!(store.remove(UserId(1), "Mobile").await.unwrap());
        assert_eq!(store.list_for_user(UserId(1)).await.unwrap().len(), 1);
        assert_eq!(store.remove_all_for_user(UserId(1)).await.unwrap(), 1);
        assert_eq!(store.list_for_user(UserId(2)).await.unwrap().len(), 1, "{engine}");
        test.drop_database().await;
    }
}
