//! The LDAP directory with `flavor = ActiveDirectory` against a real Samba
//! AD domain controller of the test's own: the directory contract every
//! backend passes, objectGUID ids, sAMAccountName and userPrincipalName
//! logins, binds refused for a disabled, locked or expired account told
//! apart from a wrong password, and a new password written as unicodePwd
//! (and refused by the domain's complexity rules, with their reason).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use limen_domain::StoreError;
use limen_domain::conformance::user_directory::{ANN, BOB, Subject, run};
use limen_domain::model::{DirectoryVerdict, Password};
use limen_domain::ports::UserDirectory;
use limen_ldap::testing::{AD_REALM, SambaDc};
use limen_ldap::{LdapConfig, LdapDirectory};

const PASSWORD: &str = "Corr3ct-horse";

/// One test: Samba's LDAP holds ports 389 and 636, so one domain at a time.
#[tokio::test]
async fn samba_active_directory_as_the_user_directory() {
    if !SambaDc::available() {
        return;
    }
    let dc = SambaDc::start().await;
    let ann_dn = dc.add_user(ANN.username, ANN.email, PASSWORD);
    dc.add_user(BOB.username, BOB.email, PASSWORD);
    let directory = LdapDirectory::new(dc.config()).unwrap();
    directory.ping().await.unwrap();

    // The contract, as every directory keeps it (AD keeps no personal
    // numbers unless configured, and its users here carry no twins).
    let subject = Subject {
        label: "Samba AD".into(),
        directory: Arc::new(LdapDirectory::new(dc.config()).unwrap()),
        holds_twins: false,
        keeps_personal_numbers: false,
        keeps_enabled: false,
    };
    run(&subject).await;

    // objectGUID in its text form, found again by it; a UPN is a login name.
    let ann = directory.find_by_username(ANN.username).await.unwrap().unwrap();
    assert_eq!(ann.external_id.len(), 36, "{}", ann.external_id);
    assert_eq!(ann.external_id.matches('-').count(), 4);
    let again = directory.find_by_id(&ann.external_id).await.unwrap().unwrap();
    assert_eq!(again.username, ANN.username.to_lowercase());
    assert_eq!(directory.find_by_id("not-a-guid").await.unwrap(), None);
    let by_upn = directory
        .find_by_username(&format!("{}@{AD_REALM}", ANN.username))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_upn.external_id, ann.external_id);

    let (right, wrong) = (Password::new(PASSWORD), Password::new("Wr0ng-horse"));
    assert_eq!(
        directory.check_password(&ann.external_id, &right).await.unwrap(),
        DirectoryVerdict::Match
    );
    assert_eq!(
        directory.check_password(&ann.external_id, &wrong).await.unwrap(),
        DirectoryVerdict::Mismatch
    );

    // Account state: disabled (userAccountControl and the bind's data 533),
    // a password that must be changed (data 773), locked out (data 775).
    let named = |name: &str| {
        let directory = &directory;
        let name = name.to_owned();
        async move { directory.find_by_username(&name).await.unwrap().unwrap() }
    };
    dc.samba_tool(&["user", "disable", BOB.username]);
    let bob = named(BOB.username).await;
    assert!(!bob.enabled, "userAccountControl says disabled");
    assert_eq!(
        directory.check_password(&bob.external_id, &right).await.unwrap(),
        DirectoryVerdict::Disabled
    );
    dc.samba_tool(&[
        "user",
        "create",
        "cid",
        PASSWORD,
        "--must-change-at-next-login",
        "--use-username-as-cn",
        "--userou=OU=People",
    ]);
    let cid = named("cid").await;
    assert_eq!(
        directory.check_password(&cid.external_id, &right).await.unwrap(),
        DirectoryVerdict::PasswordExpired
    );
    dc.samba_tool(&[
        "domain",
        "passwordsettings",
        "set",
        "--account-lockout-threshold=3",
    ]);
    dc.add_user("dan", "dan@example.org", PASSWORD);
    let dan = named("dan").await;
    for _ in 0..3 {
        directory.check_password(&dan.external_id, &wrong).await.unwrap();
    }
    assert_eq!(
        directory.check_password(&dan.external_id, &right).await.unwrap(),
        DirectoryVerdict::Locked
    );

    // Writable: unicodePwd over LDAPS; the domain's rules refuse a weak one.
    let writable = LdapDirectory::new(LdapConfig {
        writable: true,
        ..dc.config()
    })
    .unwrap();
    writable
        .set_password(&ann.external_id, &Password::new("N3w-battery-staple"))
        .await
        .unwrap();
    assert!(
        dc.binds(&ann_dn, "N3w-battery-staple"),
        "ldapwhoami binds with the new password"
    );
    assert!(!dc.binds(&ann_dn, PASSWORD));
    let refused = writable
        .set_password(&ann.external_id, &Password::new("weak"))
        .await;
    assert!(matches!(&refused, Err(StoreError::Refused(_))), "{refused:?}");
}
