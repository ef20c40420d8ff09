//! `limen user import`: users with the hashes other systems made, from every
//! supported format, log in afterwards; a file with one bad row imports
//! nothing and names the row; a dry run writes nothing.

use std::path::PathBuf;

use serde_json::json;

use crate::helpers::{Scratch, Server};

const PASSWORD: &str = "correct horse battery";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cli/fixtures")
        .join(name)
}

fn import(scratch: &Scratch, args: &[&str]) -> (bool, String) {
    let mut all = vec!["user", "import"];
    all.extend_from_slice(args);
    let output = scratch.run(&all, "");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// The flow dialect's answer status for each login.
async fn logins(scratch: &Scratch, users: &[&str]) -> Vec<u16> {
    let mut command = scratch.command();
    command.args(["serve", "--listen", "127.0.0.1:0"]);
    let server = Server::start(command);
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for user in users {
        let answer = client
            .post(format!("{}/authentication/login", server.base))
            .json(&json!({"username": user, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        statuses.push(answer.status().as_u16());
    }
    assert!(server.terminate());
    statuses
}

#[tokio::test]
async fn json_lines_users_log_in_with_the_hashes_they_brought() {
    let scratch = Scratch::new();
    let file = fixture("users.jsonl");
    let (ok, report) = import(&scratch, &[file.to_str().unwrap()]);
    assert!(ok, "{report}");
    for line in [
        "line 1: accepted ann",
        "line 2: accepted bo",
        "line 4: accepted dora",
        "imported 4 users",
    ] {
        assert!(report.contains(line), "{line}: {report}");
    }
    // bcrypt, Django PBKDF2, SHA-512-crypt; dora is disabled.
    assert_eq!(
        logins(&scratch, &["ann", "bo", "carl", "dora"]).await,
        [200, 200, 200, 401]
    );
    // The second time, from the argon2id hash each login stored.
    assert_eq!(logins(&scratch, &["ann", "bo", "carl"]).await, [200, 200, 200]);
    let listed = scratch.ok(&["user", "list"], "");
    assert!(listed.contains("\tdora\tdora@example.com\tdisabled"), "{listed}");
}

#[tokio::test]
async fn one_bad_row_imports_nothing_and_a_dry_run_writes_nothing() {
    let scratch = Scratch::new();
    let csv = fixture("users.csv");
    let (ok, report) = import(&scratch, &[csv.to_str().unwrap()]);
    assert!(!ok);
    assert!(report.contains("line 2: accepted ann"), "{report}");
    assert!(
        report.contains("line 4: rejected:") && report.contains("e-mail"),
        "{report}"
    );
    assert!(
        report.contains("1 of 3 users rejected; nothing was imported"),
        "{report}"
    );
    assert_eq!(scratch.ok(&["user", "list"], ""), "", "nothing was imported");

    let jsonl = fixture("users.jsonl");
    let (ok, report) = import(&scratch, &[jsonl.to_str().unwrap(), "--dry-run"]);
    assert!(
        ok && report.contains("dry run: all 4 users would be imported"),
        "{report}"
    );
    assert_eq!(scratch.ok(&["user", "list"], ""), "");

    let (ok, report) = import(&scratch, &[jsonl.to_str().unwrap()]);
    assert!(ok, "{report}");
    let (ok, report) = import(&scratch, &[jsonl.to_str().unwrap()]);
    assert!(!ok && report.contains("username ann already exists"), "{report}");
}

#[tokio::test]
async fn keycloak_and_authelia_users_log_in_after_their_import() {
    let scratch = Scratch::new();
    let realm = fixture("realm-export.json");
    let (ok, report) = import(&scratch, &[realm.to_str().unwrap()]);
    assert!(ok, "{report}");
    assert!(report.contains("user 1 (peter): accepted peter"), "{report}");
    let authelia = fixture("users_database.yml");
    let (ok, report) = import(&scratch, &["--format", "authelia", authelia.to_str().unwrap()]);
    assert!(ok, "{report}");
    // Keycloak's PBKDF2 and argon2; Authelia's argon2id, SHA-512-crypt (disabled) and PBKDF2.
    assert_eq!(
        logins(&scratch, &["peter", "mary", "john", "harry", "luna"]).await,
        [200, 200, 200, 401, 200]
    );
}

#[tokio::test]
async fn import_refuses_a_backend_that_is_not_limen_s_own_table() {
    let customers = limen_mapped_sql::testing::CustomerDb::sqlite().await;
    let scratch = Scratch::new();
    let config = scratch.dir.join("limen.toml");
    std::fs::write(
        &config,
        format!(
            "[users]\nbackend = \"mapped-sql\"\n[users.mapped_sql]\nurl = \"{}\"\ntable = \"customers\"\n\
             [users.mapped_sql.columns]\nid = \"customer_id\"\nusername = \"login\"\n",
            customers.url
        ),
    )
    .unwrap();
    let mut command = scratch.command();
    command.env("LIMEN_CONFIG", &config);
    let output = crate::helpers::run_with(
        command,
        &["user", "import", fixture("users.jsonl").to_str().unwrap()],
        "",
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Limen's own table") && stderr.contains("mapped-sql"),
        "{stderr}"
    );
    customers.drop_database().await;
}

/// The hashes an attacker (or a careless export) could bring, each once
/// accepted: one aborted the process at login, one cost 36 hours a check, one
/// let one password in 256 in. The file is refused, every such row named.
#[tokio::test]
async fn hashes_beyond_the_bounds_or_not_parsing_in_full_are_refused_by_line() {
    let scratch = Scratch::new();
    let hostile = [
        "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$2b$31$abcdefghijklmnopqrstuughE8Ev8uGFaUgY2cNEySvxngrb/Jzdm",
        "$scrypt$ln=22,r=32,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
        "pbkdf2_sha256$1000$salt$AA==",
        "$6$",
        "$argon2id$",
        "$2b$99$short",
    ];
    let mut lines: Vec<String> = hostile
        .iter()
        .enumerate()
        .map(|(n, hash)| {
            json!({"username": format!("user{n}"), "email": format!("user{n}@example.com"), "password_hash": hash})
                .to_string()
        })
        .collect();
    lines.push(
        json!({"username": "fine", "email": "fine@example.com",
               "password_hash": "$2b$04$abcdefghijklmnopqrstuughE8Ev8uGFaUgY2cNEySvxngrb/Jzdm"})
        .to_string(),
    );
    let file = scratch.dir.join("hostile.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let (ok, report) = import(&scratch, &[file.to_str().unwrap()]);
    assert!(!ok, "{report}");
    for (n, reason) in [
        "the argon2 memory 4294967295 KiB is above the bound of 262144 KiB",
        "the bcrypt cost 31 is outside 4 to 14",
        "the scrypt memory 16777216 KiB is above the bound of 262144 KiB",
        "the PBKDF2 digest has 1 bytes",
        "a SHA-512-crypt hash is `<salt>$<digest>` after its prefix",
        "not a valid argon2 hash",
        "the bcrypt salt and digest are not 53 characters of its alphabet",
    ]
    .iter()
    .enumerate()
    {
        let line = format!("line {}: rejected: password_hash is unusable: {reason}", n + 1);
        assert!(report.contains(&line), "{line}\n{report}");
    }
    assert!(report.contains("line 8: accepted fine"), "{report}");
    assert!(
        report.contains("7 of 8 users rejected; nothing was imported"),
        "{report}"
    );
    assert!(!scratch.ok(&["user", "list"], "").contains("fine"));
}
