//! The mapped directory over a customer's table in SQLite, PostgreSQL and
//! MariaDB: every lookup, ids of other types, the one write it may make,
//! paging, and a start refused for each misconfiguration, naming the key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use limen_domain::StoreError;
use limen_domain::ports::UserDirectory;
use limen_mapped_sql::testing::{Customer, CustomerDb};
use limen_mapped_sql::{MappedDirectory, MappedError};

const ANN: Customer<'static> = Customer {
    login: "Ann.Andersson",
    mail: "Ann@Example.com",
    ssn: Some("199908072391"),
    hash: Some("$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$aGFzaA"),
    active: true,
};

fn customer<'a>(login: &'a str, mail: &'a str, active: bool) -> Customer<'a> {
    Customer {
        login,
        mail,
        ssn: None,
        hash: None,
        active,
    }
}

#[tokio::test]
async fn customers_are_found_by_every_field_whatever_the_case() {
    for db in CustomerDb::all().await {
        let id = db.insert(&ANN).await;
        db.insert(&customer("bo", "bo@example.com", false)).await;
        let directory = MappedDirectory::connect(db.config(false)).await.unwrap();
        let ann = directory
            .find_by_username("ann.andersson")
            .await
            .unwrap()
            .expect(db.engine);
        assert_eq!(ann.external_id, id, "{}", db.engine);
        assert_eq!(ann.username, "ann.andersson", "normalised, {}", db.engine);
        assert_eq!(ann.email, "ann@example.com", "{}", db.engine);
        assert_eq!(ann.first_name.as_deref(), Some("Given"));
        assert_eq!(ann.last_name.as_deref(), Some("Family"));
        assert_eq!(ann.password_hash.as_deref(), ANN.hash);
        assert!(ann.enabled, "{}", db.engine);
        assert_eq!(
            directory.find_by_email("ann@example.com").await.unwrap(),
            Some(ann.clone())
        );
        assert_eq!(
            directory.find_by_personal_number("199908072391").await.unwrap(),
            Some(ann.clone())
        );
        assert_eq!(directory.find_by_id(&id).await.unwrap(), Some(ann));
        let bo = directory.find_by_username("bo").await.unwrap().unwrap();
        assert!(!bo.enabled, "inactive in the customer's terms, {}", db.engine);
        assert_eq!(directory.find_by_username("nobody").await.unwrap(), None);
        assert!(
            directory.index_warnings().is_empty(),
            "{}: {:?}",
            db.engine,
            directory.index_warnings()
        );
        db.drop_database().await;
    }
}

#[tokio::test]
async fn ids_of_other_types_read_as_text_and_text_that_is_no_id_finds_nobody() {
    for db in CustomerDb::all().await {
        db.insert(&ANN).await;
        let directory = MappedDirectory::connect(db.config(false)).await.unwrap();
        for foreign in [
            "not-an-id",
            "00000000-0000-0000-0000-000000000000",
            "999999",
            "' OR '1'='1",
        ] {
            assert_eq!(
                directory.find_by_id(foreign).await.unwrap(),
                None,
                "{} {foreign}",
                db.engine
            );
        }
        db.drop_database().await;
    }
}

#[tokio::test]
async fn a_read_only_table_refuses_writes_and_a_writable_one_takes_the_hash_and_nothing_else() {
    for db in CustomerDb::all().await {
        let id = db.insert(&ANN).await;
        db.insert(&customer("bo", "bo@example.com", true)).await;
        let before = db.snapshot().await;
        let read_only = MappedDirectory::connect(db.config(false)).await.unwrap();
        assert!(!read_only.capabilities().set_password_hash);
        assert!(matches!(
            read_only.set_password_hash(&id, "new").await,
            Err(StoreError::ReadOnly)
        ));
        assert!(matches!(read_only.delete(&id).await, Err(StoreError::ReadOnly)));
        assert_eq!(db.snapshot().await, before, "{}", db.engine);

        let writable = MappedDirectory::connect(db.config(true)).await.unwrap();
        assert!(writable.capabilities().set_password_hash && !writable.capabilities().create);
        writable.set_password_hash(&id, "$argon2id$new").await.unwrap();
        let after = db.snapshot().await;
        let changed: Vec<(&String, &String)> = before.iter().zip(&after).filter(|(a, b)| a != b).collect();
        assert_eq!(changed.len(), 1, "{}: {changed:?}", db.engine);
        let (old, new) = changed[0];
        assert_eq!(
            old.replace(ANN.hash.unwrap(), "$argon2id$new"),
            *new,
            "{}: only the hash",
            db.engine
        );
        assert!(
            matches!(
                writable
                    .set_password_hash("00000000-0000-4000-8000-000000000000", "x")
                    .await,
                Err(StoreError::NotFound)
            ) || db.engine != "postgres"
        );
        db.drop_database().await;
    }
}

#[tokio::test]
async fn several_rows_for_one_name_are_refused_rather_than_one_chosen() {
    for db in CustomerDb::all().await {
        if db.engine == "sqlite" || db.engine == "mysql" {
            // Their test tables forbid duplicate logins; an e-mail address is
            // shared instead.
            db.insert(&customer("ann", "shared@example.com", true)).await;
            db.insert(&customer("bo", "SHARED@example.com", true)).await;
        } else {
            db.insert(&customer("ann", "shared@example.com", true)).await;
            db.insert(&customer("bo", "Shared@Example.com", true)).await;
        }
        let directory = MappedDirectory::connect(db.config(false)).await.unwrap();
        let err = directory.find_by_email("shared@example.com").await.unwrap_err();
        assert!(err.to_string().contains("several rows"), "{}: {err}", db.engine);
        db.drop_database().await;
    }
}

#[tokio::test]
async fn operators_page_through_every_customer_in_id_order() {
    for db in CustomerDb::all().await {
        let mut ids = Vec::new();
        for n in 0..5 {
            let login = format!("user{n}");
            let mail = format!("user{n}@example.com");
            ids.push(db.insert(&customer(&login, &mail, true)).await);
        }
        ids.sort();
        let directory = MappedDirectory::connect(db.config(false)).await.unwrap();
        let first = directory.list(None, 3).await.unwrap();
        let rest = directory
            .list(first.last().map(|entry| entry.external_id.clone()), 3)
            .await
            .unwrap();
        let listed: Vec<String> = first
            .iter()
            .chain(&rest)
            .map(|entry| entry.external_id.clone())
            .collect();
        assert_eq!(listed, ids, "{}", db.engine);
        db.drop_database().await;
    }
}

fn refusal(result: Result<MappedDirectory, MappedError>) -> String {
    match result {
        Err(err) => err.to_string(),
        Ok(_) => panic!("the directory started"),
    }
}

#[tokio::test]
async fn each_misconfiguration_stops_the_start_naming_its_key() {
    for db in CustomerDb::all().await {
        let mut config = db.config(false);
        config.table = "nonexistent".into();
        let err = refusal(MappedDirectory::connect(config).await);
        assert!(
            err.starts_with("users.mapped_sql.table:") && err.contains("does not exist"),
            "{}: {err}",
            db.engine
        );

        let mut config = db.config(false);
        config.columns.email = Some("email_address".into());
        let err = refusal(MappedDirectory::connect(config).await);
        assert!(
            err.starts_with("users.mapped_sql.columns.email:") && err.contains("email_address"),
            "{}: {err}",
            db.engine
        );

        let mut config = db.config(false);
        config.columns.username = "visits".into();
        let err = refusal(MappedDirectory::connect(config).await);
        assert!(
            err.starts_with("users.mapped_sql.columns.username:") && err.contains("text"),
            "{}: {err}",
            db.engine
        );

        let mut config = db.config(false);
        config.columns.enabled = Some("notes".into());
        config.enabled_values.clear();
        let err = refusal(MappedDirectory::connect(config).await);
        assert!(
            err.starts_with("users.mapped_sql.columns.enabled:") && err.contains("enabled_values"),
            "{}: {err}",
            db.engine
        );

        if db.engine == "sqlite" {
            let mut config = db.config(false);
            config.url = "postgres://nobody@127.0.0.1:9/none".into();
            let err = refusal(MappedDirectory::connect(config).await);
            assert!(err.starts_with("users.mapped_sql.url:"), "{err}");
        }
        db.drop_database().await;
    }
}

#[tokio::test]
async fn lookups_without_an_index_are_named_with_the_index_to_create() {
    for db in CustomerDb::all().await {
        let mut config = db.config(false);
        config.columns.first_name = None;
        // The tables have no index on the names as typed.
        config.columns.email = Some("given_name".into());
        let directory = MappedDirectory::connect(config).await.unwrap();
        let warnings = directory.index_warnings();
        assert_eq!(warnings.len(), 1, "{}: {warnings:?}", db.engine);
        assert!(
            warnings[0].contains("given_name") && warnings[0].contains("CREATE INDEX"),
            "{}: {warnings:?}",
            db.engine
        );
        db.drop_database().await;
    }
}

/// The directory contract every backend passes, over a customer's table on
/// each engine (without a unique index, so it can hold the twins).
#[tokio::test]
async fn customer_tables_pass_the_user_directory_suite() {
    use limen_domain::conformance::user_directory::{ANN, BOB, Subject, TWINS, run};
    for db in CustomerDb::all().await {
        for person in [ANN, BOB].iter().chain(TWINS.iter()) {
            db.insert(&Customer {
                login: person.username,
                mail: person.email,
                ssn: Some(person.personal_number),
                hash: None,
                active: person.enabled,
            })
            .await;
        }
        let subject = Subject {
            label: format!("mapped-sql on {}", db.engine),
            directory: std::sync::Arc::new(MappedDirectory::connect(db.config(false)).await.unwrap()),
            holds_twins: true,
            keeps_personal_numbers: true,
            keeps_enabled: true,
        };
        run(&subject).await;
        db.drop_database().await;
    }
}
