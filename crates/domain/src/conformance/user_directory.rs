//! `UserDirectory`: what every directory (Limen's own table, a customer's
//! table, a CRM, a directory server) must answer about the same people. The
//! backend's test seeds `ANN` and `BOB` (and, where its data can hold them,
//! the `TWINS`) by its own means, then calls `run`.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::error::StoreError;
use crate::model::{DirectoryEntry, NewDirectoryEntry};
use crate::ports::UserDirectory;

/// A person a directory under test holds.
#[derive(Debug, Clone, Copy)]
pub struct Person {
    /// The login name, as the directory stores it (any case).
    pub username: &'static str,
    /// The e-mail address, as stored (any case).
    pub email: &'static str,
    /// A valid Swedish personal number, for backends that hold one.
    pub personal_number: &'static str,
    /// Active in the directory's own terms.
    pub enabled: bool,
}

/// An active user with every field.
pub const ANN: Person = Person {
    username: "Ann.Andersson",
    email: "Ann@Example.org",
    personal_number: "199908072391",
    enabled: true,
};

/// A user the directory itself has disabled.
pub const BOB: Person = Person {
    username: "bob",
    email: "bob@example.org",
    personal_number: "198112189876",
    enabled: false,
};

/// Two entries with one address (in two spellings) and one personal number,
/// for backends whose data can hold that (a customer's table, a CRM, a
/// directory server); Limen's own table refuses it.
pub const TWINS: [Person; 2] = [
    Person {
        username: "twin.one",
        email: "twin@example.org",
        personal_number: "200001012386",
        enabled: true,
    },
    Person {
        username: "twin.two",
        email: "Twin@Example.org",
        personal_number: "200001012386",
        enabled: true,
    },
];

/// Names a client may send that match nobody, and must not match anybody or
/// fail: filter and SQL metacharacters, a NUL, a look-alike with a non-ASCII
/// letter.
pub const HOSTILE_NAMES: [&str; 10] = [
    "*",
    "*)(uid=*",
    "admin)(|(uid=*",
    "ann.andersson)(|(objectclass=*",
    "ann.andersson\0",
    "ann.anderss%",
    "ann.anderss_n",
    "ann.andersson' or '1'='1",
    "аnn.andersson",
    "\\2a",
];

/// The directory under test, seeded with `ANN` and `BOB` (and `TWINS` when
/// `holds_twins`); whether it keeps personal numbers.
pub struct Subject {
    /// What the failures name (`"mapped-sql on PostgreSQL"`).
    pub label: String,
    /// The seeded directory.
    pub directory: Arc<dyn UserDirectory>,
    /// The `TWINS` are seeded too.
    pub holds_twins: bool,
    /// The directory keeps personal numbers (it is configured with a field for them).
    pub keeps_personal_numbers: bool,
    /// The directory keeps an enabled flag of its own (`BOB` is seeded
    /// disabled); Limen's own table leaves that to the account.
    pub keeps_enabled: bool,
}

/// Every check of the suite.
pub async fn run(subject: &Subject) {
    lookups_find_each_person_by_every_key(subject).await;
    names_nobody_has_find_nobody(subject).await;
    several_matches_are_refused(subject).await;
    listing_pages_through_everyone_once(subject).await;
    writes_the_directory_does_not_take_are_refused(subject).await;
}

fn expect(
    subject: &Subject,
    found: Result<Option<DirectoryEntry>, StoreError>,
    what: &str,
) -> DirectoryEntry {
    match found {
        Ok(Some(entry)) => entry,
        other => panic!("{}: {what}: {other:?}", subject.label),
    }
}

async fn lookups_find_each_person_by_every_key(subject: &Subject) {
    let directory = &subject.directory;
    for person in [ANN, BOB] {
        let username = person.username.to_lowercase();
        let by_name = expect(subject, directory.find_by_username(&username).await, &username);
        assert_eq!(by_name.username, username, "{}: stored normalised", subject.label);
        assert_eq!(by_name.email, person.email.to_lowercase(), "{}", subject.label);
        assert_eq!(
            by_name.enabled,
            person.enabled || !subject.keeps_enabled,
            "{}: {username}",
            subject.label
        );
        let email = person.email.to_lowercase();
        let by_email = expect(subject, directory.find_by_email(&email).await, &email);
        let by_id = expect(
            subject,
            directory.find_by_id(&by_name.external_id).await,
            "find_by_id",
        );
        for other in [&by_email, &by_id] {
            assert_eq!(other.external_id, by_name.external_id, "{}", subject.label);
            assert_eq!(other.username, by_name.username, "{}", subject.label);
        }
        if subject.keeps_personal_numbers {
            let by_number = expect(
                subject,
                directory.find_by_personal_number(person.personal_number).await,
                person.personal_number,
            );
            assert_eq!(by_number.external_id, by_name.external_id, "{}", subject.label);
        }
    }
}

async fn names_nobody_has_find_nobody(subject: &Subject) {
    let directory = &subject.directory;
    for name in HOSTILE_NAMES.iter().copied().chain(["nobody", ""]) {
        let label = &subject.label;
        assert_eq!(
            directory
                .find_by_username(name)
                .await
                .map_err(|err| err.to_string()),
            Ok(None),
            "{label}: username {name:?}"
        );
        assert_eq!(
            directory.find_by_email(name).await.map_err(|err| err.to_string()),
            Ok(None),
            "{label}: e-mail {name:?}"
        );
        assert_eq!(
            directory.find_by_id(name).await.map_err(|err| err.to_string()),
            Ok(None),
            "{label}: id {name:?}"
        );
    }
    assert_eq!(
        directory
            .find_by_personal_number("190001019999")
            .await
            .map_err(|err| err.to_string()),
        Ok(None),
        "{}",
        subject.label
    );
}

async fn several_matches_are_refused(subject: &Subject) {
    if !subject.holds_twins {
        return;
    }
    let directory = &subject.directory;
    let twin = TWINS[0];
    let answer = directory.find_by_email(&twin.email.to_lowercase()).await;
    assert!(
        matches!(answer, Err(StoreError::Ambiguous(_))),
        "{}: two entries, one address: {answer:?}",
        subject.label
    );
    // Each is still found by its own name.
    expect(
        subject,
        directory.find_by_username(twin.username).await,
        twin.username,
    );
    if subject.keeps_personal_numbers {
        let answer = directory.find_by_personal_number(twin.personal_number).await;
        assert!(
            matches!(answer, Err(StoreError::Ambiguous(_))),
            "{}: {answer:?}",
            subject.label
        );
    }
}

async fn listing_pages_through_everyone_once(subject: &Subject) {
    let directory = &subject.directory;
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = directory.list(after.clone(), 1).await.unwrap();
        assert!(page.len() <= 1, "{}: a page of one", subject.label);
        let Some(entry) = page.into_iter().next() else {
            break;
        };
        after = Some(entry.external_id.clone());
        seen.push(entry.username);
        assert!(seen.len() <= 10, "{}: paging does not end", subject.label);
    }
    let distinct: BTreeSet<&String> = seen.iter().collect();
    let expected = if subject.holds_twins { 4 } else { 2 };
    assert_eq!(seen.len(), expected, "{}: {seen:?}", subject.label);
    assert!(
        distinct.contains(&"ann.andersson".to_owned()) && distinct.contains(&"bob".to_owned()),
        "{}: {seen:?}",
        subject.label
    );
}

async fn writes_the_directory_does_not_take_are_refused(subject: &Subject) {
    let directory = &subject.directory;
    let capabilities = directory.capabilities();
    let ann = expect(
        subject,
        directory.find_by_username(&ANN.username.to_lowercase()).await,
        "ann",
    );
    if !capabilities.create {
        let entry = NewDirectoryEntry {
            username: "carl".into(),
            email: "carl@example.org".into(),
            first_name: None,
            last_name: None,
            personal_number: None,
            password_hash: None,
            created_at: chrono::Utc::now(),
        };
        let answer = directory.create(entry).await;
        assert!(
            matches!(answer, Err(StoreError::ReadOnly)),
            "{}: create: {answer:?}",
            subject.label
        );
    }
    if !capabilities.set_password_hash {
        let answer = directory.set_password_hash(&ann.external_id, "$argon2id$x").await;
        assert!(
            matches!(answer, Err(StoreError::ReadOnly)),
            "{}: set_password_hash: {answer:?}",
            subject.label
        );
    }
    if !capabilities.delete {
        let answer = directory.delete(&ann.external_id).await;
        assert!(
            matches!(answer, Err(StoreError::ReadOnly)),
            "{}: delete: {answer:?}",
            subject.label
        );
    }
    // Nothing refused changed what is there.
    let again = expect(
        subject,
        directory.find_by_id(&ann.external_id).await,
        "ann after refused writes",
    );
    assert_eq!(again.password_hash, ann.password_hash, "{}", subject.label);
}
