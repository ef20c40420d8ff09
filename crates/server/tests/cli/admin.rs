use crate::helpers::Scratch;

#[test]
fn every_command_has_help() {
    let scratch = Scratch::new();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["user", "--help"],
        vec!["user", "add", "--help"],
        vec!["user", "list", "--help"],
        vec!["user", "passwd", "--help"],
        vec!["user", "disable", "--help"],
        vec!["user", "enable", "--help"],
        vec!["user", "unlock", "--help"],
        vec!["user", "reset-2fa", "--help"],
        vec!["user", "set-role", "--help"],
        vec!["user", "show", "--help"],
        vec!["user", "delete", "--help"],
        vec!["user", "edit", "--help"],
        vec!["config", "check", "--help"],
        vec!["probe", "--help"],
        vec!["token", "--help"],
        vec!["token", "create", "--help"],
        vec!["token", "list", "--help"],
        vec!["token", "disable", "--help"],
        vec!["token", "enable", "--help"],
        vec!["token", "revoke", "--help"],
        vec!["secrets", "--help"],
        vec!["secrets", "rotate", "--help"],
        vec!["audit", "--help"],
    ] {
        let out = scratch.ok(&args, "");
        assert!(out.contains("Usage: limen"), "{args:?}: {out}");
        assert!(
            out.contains("--config"),
            "{args:?} lacks the global --config: {out}"
        );
    }
}

#[test]
fn migrate_applies_once_and_then_reports_up_to_date() {
    let scratch = Scratch::empty();
    let first = scratch.ok(&["migrate"], "");
    assert!(first.contains("applied m20261122_000001_create_users"), "{first}");
    let second = scratch.ok(&["migrate"], "");
    assert_eq!(second.trim(), "database is up to date");
}

#[test]
fn users_are_added_listed_and_managed() {
    let scratch = Scratch::new();
    let out = scratch.ok(
        &[
            "user",
            "add",
            "--username",
            "Ann",
            "--email",
            "ann@example.com",
            "--first-name",
            "Ann",
            "--personal-number",
            "19900101-2385",
            "--password-stdin",
        ],
        "correct horse\n",
    );
    assert!(out.contains("created user ann with id 1"), "{out}");
    scratch.ok(
        &[
            "user",
            "add",
            "--username",
            "bob",
            "--email",
            "bob@example.com",
            "--password-stdin",
        ],
        "another secret\r\n",
    );
    let list = scratch.ok(&["user", "list"], "");
    assert_eq!(
        list,
        "1\tann\tann@example.com\tenabled\n2\tbob\tbob@example.com\tenabled\n"
    );
    scratch.ok(&["user", "disable", "ann"], "");
    assert!(
        scratch
            .ok(&["user", "list"], "")
            .contains("1\tann\tann@example.com\tdisabled")
    );
    scratch.ok(&["user", "enable", "ann"], "");
    scratch.ok(&["user", "unlock", "ann"], "");
    scratch.ok(&["user", "passwd", "ann", "--password-stdin"], "a new password\n");
    assert!(
        scratch
            .ok(&["user", "list"], "")
            .contains("1\tann\tann@example.com\tenabled")
    );
}

#[test]
fn failures_say_why_on_stderr_and_exit_non_zero() {
    let scratch = Scratch::new();
    let add = [
        "user",
        "add",
        "--username",
        "ann",
        "--email",
        "ann@example.com",
        "--password-stdin",
    ];
    scratch.ok(&add, "correct horse\n");
    let err = scratch.fails(&add, "correct horse\n");
    assert!(err.contains("username is already taken"), "{err}");
    let err = scratch.fails(
        &[
            "user",
            "add",
            "--username",
            "bob",
            "--email",
            "ANN@example.com",
            "--password-stdin",
        ],
        "correct horse\n",
    );
    assert!(err.contains("e-mail address is already registered"), "{err}");
    let err = scratch.fails(&["user", "disable", "ghost"], "");
    assert!(err.contains("no such user: ghost"), "{err}");
    let err = scratch.fails(&["user", "passwd", "ghost", "--password-stdin"], "long enough\n");
    assert!(err.contains("no such user"), "{err}");
    let err = scratch.fails(
        &[
            "user",
            "add",
            "--username",
            "carl",
            "--email",
            "carl@example.com",
            "--password-stdin",
        ],
        "short\n",
    );
    assert!(err.contains("at least 8 characters"), "{err}");
    let err = scratch.fails(
        &[
            "user",
            "add",
            "--username",
            "carl",
            "--email",
            "carl@example.com",
            "--password-stdin",
        ],
        "",
    );
    assert!(err.contains("no password on standard input"), "{err}");
    let err = scratch.fails(
        &["user", "add", "--username", "carl", "--email", "carl@example.com"],
        "",
    );
    assert!(err.contains("--password-stdin"), "{err}");
    let err = scratch.fails(
        &[
            "user",
            "add",
            "--username",
            "carl",
            "--email",
            "carl@example.com",
            "--personal-number",
            "123",
            "--password-stdin",
        ],
        "correct horse\n",
    );
    assert!(err.contains("personal number"), "{err}");
    // Nothing of the refused commands was written.
    assert_eq!(scratch.ok(&["user", "list"], "").lines().count(), 1);
}

#[test]
fn global_options_work_before_and_after_the_subcommand() {
    let scratch = Scratch::new();
    let other = format!("sqlite://{}?mode=rwc", scratch.dir.join("other.db").display());
    scratch.ok(&["migrate", "--database-url", &other], "");
    scratch.ok(
        &[
            "--database-url",
            &other,
            "user",
            "add",
            "--username",
            "ann",
            "--email",
            "a@example.com",
            "--password-stdin",
        ],
        "correct horse\n",
    );
    assert_eq!(
        scratch
            .ok(&["user", "list", "--database-url", &other], "")
            .lines()
            .count(),
        1
    );
    assert_eq!(scratch.ok(&["user", "list"], "").lines().count(), 0);
}

#[test]
fn a_bad_configuration_file_is_refused_with_the_reason() {
    let scratch = Scratch::new();
    let file = scratch.dir.join("limen.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:0\"\nunknown_key = 1\n").unwrap();
    let err = scratch.fails(&["--config", file.to_str().unwrap(), "user", "list"], "");
    assert!(err.contains("unknown_key"), "{err}");
    let err = scratch.fails(&["--config", "/nonexistent/limen.toml", "user", "list"], "");
    assert!(err.contains("/nonexistent/limen.toml"), "{err}");
    std::fs::write(&file, "[lockout]\nmax_failures = \"five\"\n").unwrap();
    let err = scratch.fails(&["--config", file.to_str().unwrap(), "user", "list"], "");
    assert!(err.contains("max_failures"), "{err}");
}

#[test]
fn an_unreachable_database_is_reported() {
    let scratch = Scratch::new();
    let err = scratch.fails(
        &[
            "--database-url",
            "postgres://nobody@127.0.0.1:1/none",
            "user",
            "list",
        ],
        "",
    );
    assert!(err.contains("cannot connect"), "{err}");
}

#[test]
fn users_are_shown_listed_as_json_and_deleted_with_everything_they_own() {
    let scratch = Scratch::new();
    for name in ["ann", "bo"] {
        scratch.add_user(name, &format!("{name}@example.com"), "long enough password");
    }
    let token = scratch.ok(&["token", "create", "--user", "ann", "--note", "ci"], "");
    assert!(!token.trim().is_empty());

    let listed: serde_json::Value =
        serde_json::from_str(&scratch.ok(&["user", "list", "--json"], "")).unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|user| user["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ann", "bo"]);
    assert_eq!(listed[0]["state"], "enabled");
    assert!(
        !listed.to_string().contains("argon2"),
        "no hash in a listing: {listed}"
    );

    let shown: serde_json::Value =
        serde_json::from_str(&scratch.ok(&["user", "show", "ann", "--json"], "")).unwrap();
    assert_eq!(shown["email"], "ann@example.com");
    assert_eq!(shown["two_factor"], false);
    assert_eq!(shown["active_access_tokens"], 1);
    assert_eq!(shown["role"], "user");
    let text = scratch.ok(&["user", "show", "ann"], "");
    assert!(
        text.contains("username") && text.contains("ann@example.com"),
        "{text}"
    );

    let tokens: serde_json::Value =
        serde_json::from_str(&scratch.ok(&["token", "list", "--user", "ann", "--json"], "")).unwrap();
    assert_eq!(tokens[0]["state"], "active");
    assert_eq!(tokens[0]["note"], "ci");
    assert!(
        !tokens.to_string().contains(token.trim()),
        "the secret is never listed"
    );

    // Without --yes and without a terminal to ask on, nothing is deleted.
    let refused = scratch.fails(&["user", "delete", "ann"], "ann\n");
    assert!(refused.contains("--yes"), "{refused}");
    assert!(
        scratch
            .ok(&["user", "show", "ann"], "")
            .contains("ann@example.com")
    );

    let out = scratch.ok(&["user", "delete", "ann", "--yes"], "");
    assert!(out.contains("deleted ann"), "{out}");
    let gone = scratch.fails(&["user", "show", "ann"], "");
    assert!(gone.contains("ann"), "{gone}");
    let tokens = scratch.fails(&["token", "list", "--user", "ann"], "");
    assert!(tokens.contains("ann"), "{tokens}");
    // The other user is untouched.
    let listed: serde_json::Value =
        serde_json::from_str(&scratch.ok(&["user", "list", "--json"], "")).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["username"], "bo");
}

#[test]
fn administration_commands_never_migrate_and_say_so() {
    let scratch = Scratch::empty();
    for args in [
        vec!["user", "list"],
        vec!["token", "list", "--user", "ann"],
        vec!["user", "unlock", "ann"],
    ] {
        let err = scratch.fails(&args, "");
        assert!(
            err.contains("schema is behind") && err.contains("limen migrate"),
            "{args:?}: {err}"
        );
    }
    scratch.ok(&["migrate"], "");
    assert_eq!(scratch.ok(&["user", "list"], ""), "");
}

#[test]
fn profiles_are_edited_and_bad_values_refused() {
    let scratch = Scratch::new();
    for name in ["ann", "bo"] {
        scratch.ok(
            &[
                "user",
                "add",
                "--username",
                name,
                "--email",
                &format!("{name}@example.com"),
                "--first-name",
                "First",
                "--password-stdin",
            ],
            "long enough password\n",
        );
    }
    let out = scratch.ok(
        &[
            "user",
            "edit",
            "ann",
            "--email",
            " Ann.Lind@Example.com ",
            "--last-name",
            "Lind",
            "--first-name",
            "",
            "--personal-number",
            "19900101-2385",
        ],
        "",
    );
    assert!(out.contains("changed the profile of ann"), "{out}");
    let shown: serde_json::Value =
        serde_json::from_str(&scratch.ok(&["user", "show", "ann", "--json"], "")).unwrap();
    assert_eq!(shown["email"], "ann.lind@example.com");
    assert_eq!(shown["last_name"], "Lind");
    assert_eq!(shown["first_name"], serde_json::Value::Null);
    assert_eq!(shown["personal_number"], "199001012385");
    assert_eq!(shown["username"], "ann");

    for (args, wanted) in [
        (vec!["user", "edit", "ann"], "nothing to change"),
        (vec!["user", "edit", "ann", "--email", "not an address"], "e-mail"),
        (vec!["user", "edit", "ann", "--email", "bo@example.com"], "e-mail"),
        (
            vec!["user", "edit", "ann", "--personal-number", "12345"],
            "personal number",
        ),
        (vec!["user", "edit", "nobody", "--last-name", "X"], "nobody"),
    ] {
        let err = scratch.fails(&args, "");
        assert!(err.contains(wanted), "{args:?}: {err}");
    }
    // Refused changes changed nothing.
    let shown: serde_json::Value =
        serde_json::from_str(&scratch.ok(&["user", "show", "ann", "--json"], "")).unwrap();
    assert_eq!(shown["email"], "ann.lind@example.com");
}

/// A reader that stops early (`| head`) ends a command quietly, as with
/// other Unix tools: no panic, no backtrace. The description is larger than
/// a pipe holds, so the write meets the closed pipe whatever the timing.
#[tokio::test]
async fn a_reader_that_stops_early_ends_a_command_quietly() {
    let scratch = Scratch::new();
    // More of a trail than a pipe holds.
    let connection = sea_orm::Database::connect(scratch.database_url().as_str())
        .await
        .unwrap();
    let rows: Vec<String> = (0..2000)
        .map(|n| format!("({n}, 'login.failed', 'request', 'nobody-{n}', 'wrong_credentials')"))
        .collect();
    sea_orm::ConnectionTrait::execute_unprepared(
        &connection,
        &format!(
            "INSERT INTO audit_events (at, kind, actor, username, detail) VALUES {}",
            rows.join(", ")
        ),
    )
    .await
    .unwrap();
    connection.close().await.unwrap();
    for args in [&["openapi"][..], &["audit", "--limit", "2000"][..]] {
        let mut child = scratch
            .command()
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // `head -c 1`: one byte, then the reader is gone.
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 1];
        let _ = std::io::Read::read(&mut stdout, &mut first);
        drop(stdout);
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{args:?}: {stderr}"
        );
        assert!(output.status.success(), "{args:?}: {:?} {stderr}", output.status);
    }
}
