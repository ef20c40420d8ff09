//! Hashes made by other implementations (passlib, Python's bcrypt, Django,
//! argon2-cffi, mkpasswd, and the vectors of Authelia's and passlib's
//! documentation; `fixtures/make_hashes.sh` made them) verify on Limen's
//! hashing pool, ask for a rehash, and refuse a wrong password.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use limen_crypto::{Argon2Config, Argon2Hasher, HashLimits, HashPolicy};
use limen_domain::error::HashError;
use limen_domain::model::Password;
use limen_domain::ports::{PasswordCheck, PasswordHasher};

fn fixtures() -> Vec<(String, String, String)> {
    include_str!("fixtures/imported_hashes.tsv")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let mut fields = line.split('\t');
            let (Some(format), Some(password), Some(hash)) = (fields.next(), fields.next(), fields.next())
            else {
                panic!("bad fixture line {line:?}");
            };
            (format.to_owned(), password.to_owned(), hash.to_owned())
        })
        .collect()
}

fn hasher() -> Argon2Hasher {
    Argon2Hasher::new(Argon2Config {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
        max_concurrent: 2,
        max_queue: 64,
        niceness: 0,
        limits: HashLimits::default(),
        ..Argon2Config::default()
    })
    .unwrap()
}

#[tokio::test]
async fn every_imported_format_verifies_and_asks_for_a_rehash() {
    let hasher = hasher();
    let fixtures = fixtures();
    assert!(fixtures.len() >= 20, "{} fixtures", fixtures.len());
    for (format, password, hash) in fixtures {
        assert!(HashPolicy::default().check(&hash).is_ok(), "{format}: not usable");
        let right = hasher
            .verify(&Password::new(&password), &hash)
            .await
            .map(|verified| verified.check);
        assert_eq!(
            right.as_ref().ok(),
            Some(&PasswordCheck::Match { needs_rehash: true }),
            "{format}: {right:?}"
        );
        let wrong = hasher
            .verify(&Password::new(format!("{password}!")), &hash)
            .await
            .map(|verified| verified.check);
        assert_eq!(
            wrong.as_ref().ok(),
            Some(&PasswordCheck::Mismatch),
            "{format}: {wrong:?}"
        );
    }
}

#[tokio::test]
async fn a_rehash_is_limen_s_own_argon2id_and_unknown_formats_are_unusable() {
    let hasher = hasher();
    let rehashed = hasher
        .hash(&Password::new("correct horse battery"))
        .await
        .unwrap();
    assert_eq!(
        hasher
            .verify(&Password::new("correct horse battery"), &rehashed)
            .await
            .unwrap()
            .check,
        PasswordCheck::Match { needs_rehash: false }
    );
    for unknown in ["$1$saltsalt$md5cryptedmd5crypted", "{SSHA}abcdef", "plain text"] {
        assert!(HashPolicy::default().check(unknown).is_err());
        assert!(
            matches!(
                hasher.verify(&Password::new("x"), unknown).await,
                Err(HashError::Unusable(_))
            ),
            "{unknown}"
        );
    }
}
