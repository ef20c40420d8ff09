//! `limen token …`, and the tokens it makes at work against a running server.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::helpers::{Scratch, Server};

fn add_ann(scratch: &Scratch) {
    scratch.add_user("ann", "ann@example.com", "correct horse");
}

/// `limen token create …`: (token, stderr).
fn create(scratch: &Scratch, args: &[&str]) -> (String, String) {
    let mut all = vec!["token", "create"];
    all.extend_from_slice(args);
    let output = scratch.run(&all, "");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (
        String::from_utf8(output.stdout).unwrap().trim().to_owned(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn a_token_is_printed_once_and_listed_without_its_secret() {
    let scratch = Scratch::new();
    add_ann(&scratch);
    let (token, said) = create(
        &scratch,
        &["--user", "Ann", "--note", "CI deploy key", "--expires", "30d"],
    );
    assert_eq!(token.len(), 43, "{token}");
    assert!(said.contains("created token 1 for Ann"), "{said}");
    assert!(said.contains("not shown again"), "{said}");
    let list = scratch.ok(&["token", "list", "--user", "ann"], "");
    assert!(!list.contains(&token), "the list shows no secret: {list}");
    let fields: Vec<&str> = list.trim().split('\t').collect();
    assert_eq!(fields.len(), 6, "{list}");
    assert_eq!(&fields[..2], ["1", "active"]);
    let created = chrono::DateTime::parse_from_rfc3339(fields[2]).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(fields[3]).unwrap();
    assert_eq!((expires - created).num_days(), 30);
    assert_eq!(fields[4], "-");
    assert_eq!(fields[5], "CI deploy key");
}

#[test]
fn tokens_are_disabled_enabled_and_revoked_by_id() {
    let scratch = Scratch::new();
    add_ann(&scratch);
    create(&scratch, &["--user", "ann"]);
    let state = || {
        scratch
            .ok(&["token", "list", "--user", "ann"], "")
            .split('\t')
            .nth(1)
            .unwrap()
            .to_owned()
    };
    assert!(
        scratch
            .ok(&["token", "disable", "1"], "")
            .contains("disabled token 1")
    );
    assert_eq!(state(), "disabled");
    scratch.ok(&["token", "enable", "1"], "");
    assert_eq!(state(), "active");
    assert!(
        scratch
            .ok(&["token", "revoke", "1"], "")
            .contains("revoked token 1")
    );
    assert_eq!(state(), "revoked");
}

#[test]
fn bad_token_commands_say_why() {
    let scratch = Scratch::new();
    add_ann(&scratch);
    for (args, expected) in [
        (vec!["token", "create", "--user", "ghost"], "no such user: ghost"),
        (
            vec!["token", "create", "--user", "ann", "--expires", "5y"],
            "unknown unit",
        ),
        (
            vec!["token", "create", "--user", "ann", "--expires", "400d"],
            "at most 365 days",
        ),
        (
            vec!["token", "create", "--user", "ann", "--note", &"x".repeat(300)],
            "at most 255",
        ),
        (vec!["token", "revoke", "99"], "no such token: 99"),
        (vec!["token", "disable", "abc"], "invalid value"),
        (vec!["token", "list", "--user", "ghost"], "no such user"),
    ] {
        let err = scratch.fails(&args, "");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

#[tokio::test]
async fn a_created_token_authenticates_x_auth_token_requests_until_revoked() {
    let scratch = Scratch::new();
    add_ann(&scratch);
    let (token, _) = create(&scratch, &["--user", "ann", "--note", "bot"]);
    let mut command = scratch.command();
    command.args(["serve", "--listen", "127.0.0.1:0"]);
    let server = Server::start(command);
    let http = reqwest::Client::new();
    let bump = || {
        http.post(format!("{}/auth/bump", server.base))
            .header("Accept", "application/json")
            .header("X-Auth-Token", STANDARD.encode(format!("ann:{token}")))
            .send()
    };
    let answer = bump().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["vary"], "Accept");
    // A second use: the server's cache keeps the token from now on.
    assert_eq!(bump().await.unwrap().status(), 200);
    // The CLI and the server share the database: the revocation reaches the
    // server's token cache within the poll interval (a quarter of a second).
    scratch.ok(&["token", "revoke", "1"], "");
    let mut refused = false;
    for _ in 0..40 {
        if bump().await.unwrap().status() == 401 {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(refused, "the revoked token still works after 2 s");
    let list = scratch.ok(&["token", "list", "--user", "ann"], "");
    assert!(list.contains("\trevoked\t"), "{list}");
    assert_ne!(
        list.split('\t').nth(4),
        Some("-"),
        "the bump recorded a last use: {list}"
    );
    assert!(server.terminate());
}
