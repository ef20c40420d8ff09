//! The Lime CRM directory against a local server answering Lime's REST API:
//! lookups by every attribute, ids cached for their lifetime, a bad key, an
//! outage with the breaker open and the recovery, broken answers, writes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use limen_domain::StoreError;
use limen_domain::model::DirectoryEntry;
use limen_domain::ports::UserDirectory;
use limen_limecrm::testing::FakeLimeCrm;
use limen_limecrm::{LimeCrmConfig, LimeCrmDirectory, Properties};
use serde_json::json;

const KEY: &str = "lime-api-key";

fn config(crm: &FakeLimeCrm) -> LimeCrmConfig {
    LimeCrmConfig {
        name: "limecrm".into(),
        url: crm.base.clone(),
        api_key: KEY.into(),
        limetype: "person".into(),
        properties: Properties {
            personal_number: Some("personalnumber".into()),
            password_hash: Some("passwordhash".into()),
            ..Properties::default()
        },
        enabled_values: Vec::new(),
        writable: false,
        timeout: Duration::from_secs(2),
        retries: 1,
        breaker_failures: 2,
        breaker_open: Duration::from_millis(400),
        cache_ttl: Duration::from_millis(400),
        cache_max_entries: 100,
    }
}

fn ann() -> serde_json::Value {
    json!({"username": "Ann.Andersson", "email": "Ann@Example.com", "firstname": "Ann", "lastname": "Andersson",
           "personalnumber": "199908072391", "passwordhash": "$2b$04$x", "inactive": false, "company": 1014})
}

#[tokio::test]
async fn people_are_found_by_every_attribute() {
    let crm = FakeLimeCrm::start(KEY);
    let id = crm.add(ann());
    crm.add(json!({"username": "bo", "email": "bo@example.com", "inactive": true}));
    let directory = LimeCrmDirectory::new(config(&crm)).unwrap();
    directory.ping().await.unwrap();
    let found = directory
        .find_by_username("ann.andersson")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.external_id, id.to_string());
    assert_eq!(
        (found.username.as_str(), found.email.as_str()),
        ("ann.andersson", "ann@example.com")
    );
    assert_eq!(found.first_name.as_deref(), Some("Ann"));
    assert_eq!(found.password_hash.as_deref(), Some("$2b$04$x"));
    assert!(found.enabled);
    assert_eq!(
        directory.find_by_email("ann@example.com").await.unwrap(),
        Some(found.clone())
    );
    assert_eq!(
        directory.find_by_personal_number("199908072391").await.unwrap(),
        Some(found.clone())
    );
    // By id: the same person, stamped with when the CRM was asked.
    let by_id = directory.find_by_id(&id.to_string()).await.unwrap().unwrap();
    assert!(by_id.read_at.is_some());
    assert_eq!(
        Some(by_id).map(|entry| DirectoryEntry {
            read_at: None,
            ..entry
        }),
        Some(found)
    );
    assert!(
        !directory.find_by_username("bo").await.unwrap().unwrap().enabled,
        "inactive in the CRM"
    );
    assert_eq!(directory.find_by_username("nobody").await.unwrap(), None);
    assert_eq!(directory.find_by_id("99999").await.unwrap(), None);
    assert_eq!(directory.find_by_id("1 OR 1=1").await.unwrap(), None);
}

#[tokio::test]
async fn an_option_property_can_say_who_is_active() {
    let crm = FakeLimeCrm::start(KEY);
    crm.add(json!({"username": "ann", "status": {"id": 1, "key": "active", "text": "Active"}}));
    crm.add(json!({"username": "bo", "status": {"id": 2, "key": "ended", "text": "Ended"}}));
    let mut config = config(&crm);
    config.properties.disabled = None;
    config.properties.enabled = Some("status".into());
    config.enabled_values = vec!["active".into()];
    let directory = LimeCrmDirectory::new(config).unwrap();
    assert!(directory.find_by_username("ann").await.unwrap().unwrap().enabled);
    assert!(!directory.find_by_username("bo").await.unwrap().unwrap().enabled);
}

#[tokio::test]
async fn two_people_with_one_username_are_refused() {
    let crm = FakeLimeCrm::start(KEY);
    crm.add(json!({"username": "ann"}));
    crm.add(json!({"username": "ANN"}));
    let directory = LimeCrmDirectory::new(config(&crm)).unwrap();
    let err = directory.find_by_username("ann").await.unwrap_err();
    assert!(err.to_string().contains("several"), "{err}");
}

#[tokio::test]
async fn a_wrong_key_is_reported_and_never_taken_for_no_user() {
    let crm = FakeLimeCrm::start(KEY);
    crm.add(ann());
    let mut config = config(&crm);
    config.api_key = "wrong".into();
    let directory = LimeCrmDirectory::new(config).unwrap();
    let err = directory.ping().await.unwrap_err();
    assert!(err.to_string().contains("api_key"), "{err}");
    assert!(matches!(
        directory.find_by_username("ann.andersson").await,
        Err(StoreError::Unavailable(_))
    ));
}

#[tokio::test]
async fn an_outage_opens_the_breaker_and_the_crm_is_used_again_when_it_recovers() {
    let crm = FakeLimeCrm::start(KEY);
    crm.add(ann());
    let directory = LimeCrmDirectory::new(config(&crm)).unwrap();
    crm.set_outage(true);
    for _ in 0..2 {
        assert!(matches!(
            directory.find_by_username("ann.andersson").await,
            Err(StoreError::Unavailable(_))
        ));
    }
    let asked = crm.requests();
    assert_eq!(asked, 4, "two lookups, each tried twice");
    let err = directory.find_by_username("ann.andersson").await.unwrap_err();
    assert!(err.to_string().contains("not asking"), "{err}");
    assert_eq!(crm.requests(), asked, "the open breaker asks nobody");
    crm.set_outage(false);
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert!(
        directory
            .find_by_username("ann.andersson")
            .await
            .unwrap()
            .is_some(),
        "recovered"
    );
}

#[tokio::test]
async fn an_answer_that_is_not_json_is_unavailable() {
    let crm = FakeLimeCrm::start(KEY);
    crm.add(ann());
    let directory = LimeCrmDirectory::new(config(&crm)).unwrap();
    crm.set_not_json(true);
    let err = directory.find_by_username("ann.andersson").await.unwrap_err();
    assert!(err.to_string().contains("not JSON"), "{err}");
}

#[tokio::test]
async fn ids_are_cached_for_their_lifetime_and_other_lookups_always_ask() {
    let crm = FakeLimeCrm::start(KEY);
    let id = crm.add(ann()).to_string();
    let directory = LimeCrmDirectory::new(config(&crm)).unwrap();
    let fetched = directory.find_by_id(&id).await.unwrap().unwrap();
    assert!(fetched.enabled);
    let read_at = fetched.read_at.expect("stamped with its read");
    let asked = crm.requests();
    crm.change(id.parse().unwrap(), json!({"inactive": true}));
    let kept = directory.find_by_id(&id).await.unwrap().unwrap();
    assert!(kept.enabled, "from the cache");
    assert_eq!(kept.read_at, Some(read_at), "the kept copy says when it was read");
    assert_eq!(crm.requests(), asked);
    assert!(
        !directory
            .find_by_username("ann.andersson")
            .await
            .unwrap()
            .unwrap()
            .enabled,
        "asked"
    );
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert!(
        !directory.find_by_id(&id).await.unwrap().unwrap().enabled,
        "asked again after the lifetime"
    );
}

#[tokio::test]
async fn hashes_are_written_only_when_allowed_and_list_pages_by_id() {
    let crm = FakeLimeCrm::start(KEY);
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(crm.add(json!({"username": format!("user{n}")})).to_string());
    }
    let read_only = LimeCrmDirectory::new(config(&crm)).unwrap();
    assert!(matches!(
        read_only.set_password_hash(&ids[0], "$argon2id$x").await,
        Err(StoreError::ReadOnly)
    ));
    let mut writable_config = config(&crm);
    writable_config.writable = true;
    let writable = LimeCrmDirectory::new(writable_config).unwrap();
    writable.set_password_hash(&ids[0], "$argon2id$x").await.unwrap();
    assert_eq!(crm.object(ids[0].parse().unwrap())["passwordhash"], "$argon2id$x");
    assert!(matches!(
        writable.set_password_hash("99999", "x").await,
        Err(StoreError::NotFound)
    ));
    let first = read_only.list(None, 2).await.unwrap();
    let rest = read_only
        .list(first.last().map(|e| e.external_id.clone()), 2)
        .await
        .unwrap();
    let listed: Vec<String> = first.iter().chain(&rest).map(|e| e.external_id.clone()).collect();
    assert_eq!(listed, ids);
}

/// The directory contract every backend passes, over the CRM's REST API.
#[tokio::test]
async fn the_crm_passes_the_user_directory_suite() {
    use limen_domain::conformance::user_directory::{ANN, BOB, Person, Subject, TWINS, run};
    let crm = FakeLimeCrm::start(KEY);
    for person in [ANN, BOB].iter().chain(TWINS.iter()) {
        let Person {
            username,
            email,
            personal_number,
            enabled,
        } = *person;
        crm.add(json!({
            "username": username,
            "email": email,
            "personalnumber": personal_number,
            "inactive": !enabled,
        }));
    }
    let subject = Subject {
        label: "limecrm".into(),
        directory: std::sync::Arc::new(LimeCrmDirectory::new(config(&crm)).unwrap()),
        holds_twins: true,
        keeps_personal_numbers: true,
        keeps_enabled: true,
    };
    run(&subject).await;
}
