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
        vec!["token", "--help"],
        vec!["token", "create", "--help"],
        vec!["token", "list", "--help"],
        vec!["token", "disable", "--help"],
        vec!["token", "enable", "--help"],
        vec!["token", "revoke", "--help"],
        vec!["secrets", "--help"],
        vec!["secrets", "rotate", "--help"],
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
    let scratch = Scratch::new();
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
