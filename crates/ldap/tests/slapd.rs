//! The LDAP directory against a real OpenLDAP server of the test's own: the
//! directory contract every backend passes, passwords checked by binding,
//! an empty password never bound, and a server that stops.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use limen_domain::StoreError;
use limen_domain::conformance::user_directory::{ANN, BOB, Subject, TWINS, run};
use limen_domain::model::{DirectoryVerdict, Password};
use limen_domain::ports::UserDirectory;
use limen_ldap::testing::{Entry, Slapd};
use limen_ldap::{LdapConfig, LdapDirectory};

async fn seeded(slapd: &Slapd) {
    for person in [ANN, BOB].iter().chain(TWINS.iter()) {
        slapd
            .add_person(&Entry {
                uid: person.username,
                mail: person.email,
                employee_number: Some(person.personal_number),
                password: "pw-of-the-person",
            })
            .await;
    }
}

#[tokio::test]
async fn openldap_passes_the_user_directory_suite() {
    if !Slapd::available() {
        return;
    }
    let slapd = Slapd::start().await;
    seeded(&slapd).await;
    let directory = LdapDirectory::new(slapd.config()).unwrap();
    directory.ping().await.unwrap();
    let subject = Subject {
        label: "OpenLDAP".into(),
        directory: Arc::new(directory),
        holds_twins: true,
        keeps_personal_numbers: true,
        keeps_enabled: false,
    };
    run(&subject).await;
}

#[tokio::test]
async fn a_password_is_checked_by_binding_as_the_user_and_an_empty_one_never_is() {
    if !Slapd::available() {
        return;
    }
    let slapd = Slapd::start().await;
    slapd
        .add_person(&Entry {
            uid: "ann",
            mail: "ann@example.org",
            employee_number: None,
            password: "correct horse",
        })
        .await;
    let directory = LdapDirectory::new(slapd.config()).unwrap();
    let ann = directory.find_by_username("ann").await.unwrap().unwrap();
    assert_eq!(ann.password_hash, None, "Limen never reads a hash");
    assert!(directory.capabilities().checks_passwords);
    let id = &ann.external_id;
    let (right, wrong, empty) = (
        Password::new("correct horse"),
        Password::new("wrong horse"),
        Password::new(""),
    );
    assert_eq!(
        directory.check_password(id, &right).await.unwrap(),
        DirectoryVerdict::Match
    );
    assert_eq!(
        directory.check_password(id, &wrong).await.unwrap(),
        DirectoryVerdict::Mismatch
    );
    // An empty password would be an anonymous bind, which succeeds.
    assert_eq!(
        directory.check_password(id, &empty).await.unwrap(),
        DirectoryVerdict::Mismatch
    );
    assert_eq!(
        directory
            .check_password("no-such-id", &Password::new("correct horse"))
            .await
            .unwrap(),
        DirectoryVerdict::Mismatch
    );
    // Many checks at once share the bounded pool of bind connections.
    let checks = (0..40).map(|round| {
        let password = if round % 2 == 0 { &right } else { &wrong };
        directory.check_password(id, password)
    });
    let verdicts = futures_util::future::join_all(checks).await;
    for (round, verdict) in verdicts.into_iter().enumerate() {
        let expected = if round % 2 == 0 {
            DirectoryVerdict::Match
        } else {
            DirectoryVerdict::Mismatch
        };
        assert_eq!(verdict.unwrap(), expected, "round {round}");
    }
}

#[tokio::test]
async fn a_server_that_stops_is_unavailable_and_one_that_comes_back_answers() {
    if !Slapd::available() {
        return;
    }
    let mut slapd = Slapd::start().await;
    seeded(&slapd).await;
    let mut config = slapd.config();
    config.timeout = std::time::Duration::from_secs(2);
    let directory = LdapDirectory::new(config).unwrap();
    assert!(directory.find_by_username("bob").await.unwrap().is_some());
    slapd.stop();
    let down = directory.find_by_username("bob").await;
    assert!(matches!(down, Err(StoreError::Unavailable(_))), "{down:?}");
    assert!(matches!(directory.ping().await, Err(StoreError::Unavailable(_))));
    slapd.restart().await;
    directory.ping().await.unwrap();
    assert!(directory.find_by_username("bob").await.unwrap().is_some());
}

#[tokio::test]
async fn the_directorys_lockout_and_a_lock_for_good_are_told_from_a_wrong_password() {
    if !Slapd::available() {
        return;
    }
    let slapd = Slapd::start().await;
    let person = |uid| Entry {
        uid,
        mail: "x@example.org",
        employee_number: None,
        password: "correct horse",
    };
    let ann_dn = slapd.add_person(&person("ann")).await;
    let bob_dn = slapd
        .add_person(&Entry {
            mail: "bob@example.org",
            ..person("bob")
        })
        .await;
    slapd.lock_out_after_failures(&ann_dn).await;
    // ppolicy heeds an administrator's lock only where the policy locks out.
    slapd.lock_out_after_failures(&bob_dn).await;
    slapd
        .replace(&bob_dn, "pwdAccountLockedTime", "000001010000Z")
        .await;
    let directory = LdapDirectory::new(slapd.config()).unwrap();
    let ann = directory.find_by_username("ann").await.unwrap().unwrap();
    let bob = directory.find_by_username("bob").await.unwrap().unwrap();
    assert!(ann.enabled);
    assert!(!bob.enabled, "locked for good is disabled");
    let (right, wrong) = (Password::new("correct horse"), Password::new("wrong"));
    for _ in 0..2 {
        assert_eq!(
            directory.check_password(&ann.external_id, &wrong).await.unwrap(),
            DirectoryVerdict::Mismatch
        );
    }
    // The failure that reaches the policy's limit locks the entry.
    assert_eq!(
        directory.check_password(&ann.external_id, &wrong).await.unwrap(),
        DirectoryVerdict::Locked
    );
    assert_eq!(
        directory.check_password(&ann.external_id, &right).await.unwrap(),
        DirectoryVerdict::Locked,
        "the directory locked ann after three failures"
    );
    assert_eq!(
        directory.check_password(&bob.external_id, &right).await.unwrap(),
        DirectoryVerdict::Disabled
    );
}

#[tokio::test]
async fn a_writable_directory_takes_a_new_password_by_password_modify_and_says_why_it_refuses_one() {
    if !Slapd::available() {
        return;
    }
    let slapd = Slapd::start().await;
    let dn = slapd
        .add_person(&Entry {
            uid: "ann",
            mail: "ann@example.org",
            employee_number: None,
            password: "correct horse",
        })
        .await;
    let read_only = LdapDirectory::new(slapd.config()).unwrap();
    let ann = read_only.find_by_username("ann").await.unwrap().unwrap();
    assert!(!read_only.capabilities().set_password);
    assert!(matches!(
        read_only
            .set_password(&ann.external_id, &Password::new("battery staple"))
            .await,
        Err(StoreError::ReadOnly)
    ));
    let directory = LdapDirectory::new(LdapConfig {
        writable: true,
        ..slapd.config()
    })
    .unwrap();
    assert!(directory.capabilities().set_password);
    directory
        .set_password(&ann.external_id, &Password::new("battery staple"))
        .await
        .unwrap();
    assert!(
        slapd.binds(&dn, "battery staple"),
        "ldapwhoami binds with the new password"
    );
    assert!(!slapd.binds(&dn, "correct horse"));
    assert_eq!(
        directory
            .check_password(&ann.external_id, &Password::new("battery staple"))
            .await
            .unwrap(),
        DirectoryVerdict::Match
    );
    directory
        .set_password(&ann.external_id, &Password::new("tr0ub4dor"))
        .await
        .unwrap();
    // The policy keeps the last three passwords.
    let refused = directory
        .set_password(&ann.external_id, &Password::new("battery staple"))
        .await;
    assert!(
        matches!(&refused, Err(StoreError::Refused(reason)) if reason.contains("history")),
        "{refused:?}"
    );
    assert!(slapd.binds(&dn, "tr0ub4dor"));
}

#[tokio::test]
async fn ldaps_and_starttls_trust_the_configured_ca_and_only_it() {
    if !Slapd::available() {
        return;
    }
    let slapd = Slapd::start_with_tls().await;
    slapd
        .add_person(&Entry {
            uid: "ann",
            mail: "ann@example.org",
            employee_number: None,
            password: "correct horse",
        })
        .await;
    let ldaps = slapd.ldaps_url.clone().unwrap();
    let over = |urls: Vec<String>, start_tls: bool, ca_pem: Option<Vec<u8>>| LdapConfig {
        urls,
        start_tls,
        ca_pem,
        ..slapd.config()
    };
    for (label, config) in [
        ("LDAPS", over(vec![ldaps.clone()], false, slapd.ca_pem.clone())),
        (
            "StartTLS",
            over(vec![slapd.url.clone()], true, slapd.ca_pem.clone()),
        ),
    ] {
        let directory = LdapDirectory::new(config).unwrap();
        let ann = directory
            .find_by_username("ann")
            .await
            .unwrap_or_else(|err| panic!("{label}: {err}"))
            .unwrap();
        assert_eq!(
            directory
                .check_password(&ann.external_id, &Password::new("correct horse"))
                .await
                .unwrap(),
            DirectoryVerdict::Match,
            "{label}"
        );
    }
    // The system's roots do not include the test CA: refused, never trusted blindly.
    let untrusted = LdapDirectory::new(over(vec![ldaps], false, None)).unwrap();
    let refused = untrusted.find_by_username("ann").await;
    assert!(matches!(refused, Err(StoreError::Unavailable(_))), "{refused:?}");
}

#[tokio::test]
async fn the_next_url_is_tried_when_one_does_not_answer() {
    if !Slapd::available() {
        return;
    }
    let slapd = Slapd::start().await;
    seeded(&slapd).await;
    let nobody = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("ldap://127.0.0.1:{}", nobody.local_addr().unwrap().port());
    drop(nobody);
    let directory = LdapDirectory::new(LdapConfig {
        urls: vec![dead, slapd.url.clone()],
        ..slapd.config()
    })
    .unwrap();
    directory.ping().await.unwrap();
    assert!(directory.find_by_username(ANN.username).await.unwrap().is_some());
}

#[tokio::test]
async fn users_looked_up_by_id_are_kept_a_while_and_a_bind_never_is() {
    if !Slapd::available() {
        return;
    }
    let mut slapd = Slapd::start().await;
    seeded(&slapd).await;
    let directory = LdapDirectory::new(LdapConfig {
        cache_ttl: std::time::Duration::from_secs(60),
        cache_max_entries: 100,
        timeout: std::time::Duration::from_secs(2),
        ..slapd.config()
    })
    .unwrap();
    let ann = directory.find_by_username(ANN.username).await.unwrap().unwrap();
    let kept = directory.find_by_id(&ann.external_id).await.unwrap().unwrap();
    assert!(kept.read_at.is_some(), "stamped with when the directory was read");
    slapd.stop();
    // Token validation goes on from the kept entry; a login never does.
    let again = directory.find_by_id(&ann.external_id).await.unwrap().unwrap();
    assert_eq!(again.read_at, kept.read_at);
    assert!(matches!(
        directory.find_by_username(ANN.username).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        directory
            .check_password(&ann.external_id, &Password::new("pw-of-the-person"))
            .await,
        Err(StoreError::Unavailable(_))
    ));
}
