use chrono::{DateTime, TimeZone, Utc};
use limen_domain::model::{NewDirectoryEntry, StoredTotp, TotpAlgorithm, TotpParams, UserId};
use limen_domain::ports::{SecondFactorStore, UserDirectory};

use crate::engines;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + seconds, 0).unwrap()
}

async fn user(users: &dyn UserDirectory, name: &str) -> UserId {
    let entry = users
        .create(NewDirectoryEntry {
            username: name.into(),
            email: format!("{name}@example.com"),
            first_name: None,
            last_name: None,
            personal_number: None,
            password_hash: None,
            created_at: at(0),
        })
        .await
        .unwrap();
    UserId(entry.external_id.parse().unwrap())
}

fn pending(secret: &str) -> StoredTotp {
    StoredTotp {
        sealed_secret: secret.into(),
        params: TotpParams {
            algorithm: TotpAlgorithm::Sha256,
            digits: 8,
            period: 60,
        },
        confirmed: false,
        last_used_step: None,
        created_at: at(1),
    }
}

#[tokio::test]
async fn an_enrolment_is_stored_replaced_confirmed_and_deleted() {
    for test in engines::all().await {
        let (users, factors) = (test.db.directory(), test.db.second_factors());
        let ann = user(&users, "ann").await;
        assert_eq!(factors.find_totp(ann).await.unwrap(), None);
        factors.put_pending_totp(ann, &pending("first")).await.unwrap();
        factors.put_pending_totp(ann, &pending("second")).await.unwrap();
        let stored = factors.find_totp(ann).await.unwrap().unwrap();
        assert_eq!(stored, pending("second"), "{}", test.engine);
        factors
            .confirm_totp(ann, 1000, vec!["a".repeat(64), "b".repeat(64)], at(2))
            .await
            .unwrap();
        let confirmed = factors.find_totp(ann).await.unwrap().unwrap();
        assert!(confirmed.confirmed);
        assert_eq!(confirmed.last_used_step, Some(1000));
        // A confirmed enrolment cannot be confirmed again.
        assert!(factors.confirm_totp(ann, 1001, vec![], at(3)).await.is_err());
        factors.delete_totp(ann).await.unwrap();
        assert_eq!(factors.find_totp(ann).await.unwrap(), None, "{}", test.engine);
        assert!(
            !factors
                .use_recovery_code(ann, &"a".repeat(64), at(4))
                .await
                .unwrap()
        );
        test.drop_database().await;
    }
}

#[tokio::test]
async fn a_step_is_claimed_once_and_never_an_earlier_one() {
    for test in engines::all().await {
        let (users, factors) = (test.db.directory(), test.db.second_factors());
        let ann = user(&users, "ann").await;
        factors.put_pending_totp(ann, &pending("s")).await.unwrap();
        factors.confirm_totp(ann, 100, vec![], at(2)).await.unwrap();
        assert!(
            !factors.claim_totp_step(ann, 100).await.unwrap(),
            "{}",
            test.engine
        );
        assert!(!factors.claim_totp_step(ann, 99).await.unwrap());
        assert!(factors.claim_totp_step(ann, 101).await.unwrap());
        assert!(
            !factors.claim_totp_step(ann, 101).await.unwrap(),
            "{}: replay",
            test.engine
        );
        let bob = user(&users, "bob").await;
        assert!(
            !factors.claim_totp_step(bob, 500).await.unwrap(),
            "no enrolment, no claim"
        );
        test.drop_database().await;
    }
}

#[tokio::test]
async fn recovery_codes_work_once_and_only_for_their_user() {
    for test in engines::all().await {
        let (users, factors) = (test.db.directory(), test.db.second_factors());
        let ann = user(&users, "ann").await;
        let bob = user(&users, "bob").await;
        factors.put_pending_totp(ann, &pending("s")).await.unwrap();
        factors
            .confirm_totp(ann, 1, vec!["a".repeat(64), "b".repeat(64)], at(2))
            .await
            .unwrap();
        assert!(
            !factors
                .use_recovery_code(bob, &"a".repeat(64), at(3))
                .await
                .unwrap()
        );
        assert!(
            factors
                .use_recovery_code(ann, &"a".repeat(64), at(3))
                .await
                .unwrap(),
            "{}",
            test.engine
        );
        assert!(
            !factors
                .use_recovery_code(ann, &"a".repeat(64), at(4))
                .await
                .unwrap()
        );
        assert!(
            factors
                .use_recovery_code(ann, &"b".repeat(64), at(4))
                .await
                .unwrap()
        );
        assert!(
            !factors
                .use_recovery_code(ann, &"c".repeat(64), at(4))
                .await
                .unwrap()
        );
        test.drop_database().await;
    }
}

#[tokio::test]
async fn sealed_secrets_are_listed_and_replaced_only_when_unchanged() {
    for test in engines::all().await {
        let (users, factors) = (test.db.directory(), test.db.second_factors());
        let ann = user(&users, "ann").await;
        factors.put_pending_totp(ann, &pending("old")).await.unwrap();
        assert_eq!(
            factors.list_sealed_secrets().await.unwrap(),
            vec![(ann, "old".to_owned())]
        );
        assert!(!factors.replace_sealed_secret(ann, "stale", "new").await.unwrap());
        assert!(
            factors.replace_sealed_secret(ann, "old", "new").await.unwrap(),
            "{}",
            test.engine
        );
        assert_eq!(
            factors.find_totp(ann).await.unwrap().unwrap().sealed_secret,
            "new"
        );
        test.drop_database().await;
    }
}
