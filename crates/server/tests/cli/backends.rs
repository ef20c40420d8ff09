//! `limen` over a customer's own table (`users.backend = "mapped-sql"`): the
//! server logs its users in with the hashes they brought, the administration
//! commands act on Limen's own state for them and refuse what the table does
//! not allow, and a wrong mapping stops the start naming the key.

use std::path::Path;

use limen_mapped_sql::testing::{Customer, CustomerDb};
use serde_json::json;

use crate::helpers::{Scratch, Server, post_json};

const PASSWORD: &str = "correct horse battery";
/// The password, hashed by Python's bcrypt (the crypto crate's fixtures).
const BCRYPT: &str = "$2b$04$RFcTbAivmYtj1hol3nqyg.ujLgp7YtdtUoEH09.W7OHCbcFz2PQKq";

fn config_file(scratch: &Scratch, db: &CustomerDb, email_column: &str) -> std::path::PathBuf {
    let path = scratch.dir.join("limen.toml");
    std::fs::write(
        &path,
        format!(
            "[users]\nbackend = \"mapped-sql\"\n[users.mapped_sql]\nurl = \"{}\"\ntable = \"customers\"\n\
             [users.mapped_sql.columns]\nid = \"customer_id\"\nusername = \"login\"\nemail = \"{email_column}\"\n\
             password_hash = \"pw_hash\"\nenabled = \"active\"\n",
            db.url
        ),
    )
    .unwrap();
    path
}

fn limen(scratch: &Scratch, config: &Path, args: &[&str]) -> std::process::Output {
    let mut command = scratch.command();
    command.env("LIMEN_CONFIG", config);
    crate::helpers::run_with(command, args, &format!("{PASSWORD}\n"))
}

async fn flow_login(base: &str) -> u16 {
    let client = reqwest::Client::new();
    client
        .post(format!("{base}/authentication/login"))
        .json(&json!({"username": "ann", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn operators_manage_limen_s_state_for_users_of_a_customer_table() {
    let db = CustomerDb::sqlite().await;
    db.insert(&Customer {
        login: "Ann",
        mail: "ann@example.com",
        ssn: None,
        hash: Some(BCRYPT),
        active: true,
    })
    .await;
    let scratch = Scratch::new();
    let config = config_file(&scratch, &db, "mail");

    let listed = limen(&scratch, &config, &["user", "list"]);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let line = String::from_utf8(listed.stdout).unwrap();
    assert!(line.contains("\tann\tann@example.com\tenabled"), "{line}");

    for args in [
        &[
            "user",
            "add",
            "--username",
            "bo",
            "--email",
            "bo@example.com",
            "--password-stdin",
        ][..],
        &["user", "passwd", "ann", "--password-stdin"][..],
    ] {
        let refused = limen(&scratch, &config, args);
        assert!(!refused.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(
            stderr.contains("mapped-sql") && stderr.contains("where they live"),
            "{args:?}: {stderr}"
        );
    }

    assert!(
        limen(&scratch, &config, &["user", "disable", "ann"])
            .status
            .success()
    );
    let mut command = scratch.command();
    command
        .env("LIMEN_CONFIG", &config)
        .args(["serve", "--listen", "127.0.0.1:0"]);
    let server = Server::start(command);
    assert_eq!(flow_login(&server.base).await, 401, "disabled in Limen");
    assert!(server.terminate());
    assert!(
        limen(&scratch, &config, &["user", "enable", "ann"])
            .status
            .success()
    );
    assert!(
        limen(&scratch, &config, &["user", "set-role", "ann", "support"])
            .status
            .success()
    );
    assert!(
        limen(&scratch, &config, &["user", "unlock", "ann"])
            .status
            .success()
    );
    let mut command = scratch.command();
    command
        .env("LIMEN_CONFIG", &config)
        .args(["serve", "--listen", "127.0.0.1:0"]);
    let server = Server::start(command);
    assert_eq!(
        flow_login(&server.base).await,
        200,
        "the bcrypt hash it brought works"
    );
    let answer = post_json(
        &format!("{}/login/", server.base),
        &json!({"type": "limecrm", "username": "ANN", "password": PASSWORD}),
    )
    .await;
    assert_eq!(answer["success"], true, "{answer}");
    assert!(crate::serve::store_calls(&server.management, "mapped-sql").await > 0.0);
    assert!(server.terminate());
    assert!(
        db.snapshot().await[0].contains(BCRYPT),
        "a read-only table keeps its hash"
    );
    db.drop_database().await;
}

#[tokio::test]
async fn a_wrong_column_stops_the_start_naming_the_key() {
    let db = CustomerDb::sqlite().await;
    let scratch = Scratch::new();
    let config = config_file(&scratch, &db, "email_address");
    for args in [&["user", "list"][..], &["serve", "--listen", "127.0.0.1:0"][..]] {
        let output = limen(&scratch, &config, args);
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("users.mapped_sql.columns.email") && stderr.contains("email_address"),
            "{stderr}"
        );
    }
    db.drop_database().await;
}
