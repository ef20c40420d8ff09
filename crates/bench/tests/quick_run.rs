//! Runs the harness's quick smoke run against the debug `limen` binary: every
//! scenario must produce figures made only of expected answers. No figure is
//! asserted; speed is reported by `just bench`, never tested.

// Test code may fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::path::PathBuf;
use std::process::Command;

/// `target/<profile>/limen`, built alongside this test by `cargo nextest run --workspace`.
fn limen_binary() -> PathBuf {
    let test = std::env::current_exe().expect("the test knows its own path");
    let profile_dir = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("tests live in target/<profile>/deps");
    let limen = profile_dir.join("limen");
    assert!(
        limen.exists(),
        "{} is missing: build the workspace (cargo build -p limen) first",
        limen.display()
    );
    limen
}

#[test]
fn the_quick_run_measures_every_scenario() {
    let out = std::env::temp_dir().join(format!("limen-bench-test-{}", std::process::id()));
    let mut command = Command::new(env!("CARGO_BIN_EXE_limen-bench"));
    command
        .arg("--quick")
        .arg("--out")
        .arg(&out)
        .arg("--limen")
        .arg(limen_binary());
    let postgres = std::env::var("LIMEN_TEST_POSTGRES_URL").ok();
    match &postgres {
        Some(url) => {
            command.arg("--postgres-url").arg(url);
        }
        None => eprintln!("notice: LIMEN_TEST_POSTGRES_URL is not set; the PostgreSQL scenarios are skipped"),
    }
    let redis = std::env::var("LIMEN_TEST_REDIS_URL").ok();
    match &redis {
        Some(url) => {
            command.arg("--redis-url").arg(url);
        }
        None => eprintln!("notice: LIMEN_TEST_REDIS_URL is not set; the Redis scenarios are skipped"),
    }
    // The peer, when the tools' Python has it (scripts/services.sh installs it).
    let python = std::env::var_os("LIMEN_PYTHON").unwrap_or_else(|| "python3".into());
    let peers = Command::new(&python)
        .args(["-c", "import fastapi_users, uvicorn, aiosqlite"])
        .status()
        .is_ok_and(|status| status.success());
    if peers {
        command
            .arg("--peers")
            .arg("--python")
            .arg(&python)
            .arg("--peer-apps")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/bench-peers"));
    } else {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "fastapi-users is required when CI=true (scripts/services.sh installs it)"
        );
        eprintln!("notice: fastapi-users is not installed; the peer scenarios are skipped");
    }
    command.env_remove("LIMEN_BENCH_POSTGRES_URL");
    command.env_remove("LIMEN_BENCH_REDIS_URL");
    let output = command.output().expect("limen-bench runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "limen-bench failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).expect("report.json written"))
            .expect("JSON");
    let rows = report["rows"].as_array().expect("rows");
    let has = |scenario: &str, store: &str| {
        rows.iter()
            .any(|r| r["scenario"] == scenario && r["store"] == store)
    };
    assert!(has("2 baseline", "-"));
    for scenario in [
        "10 provider introspection",
        "10 provider userinfo",
        "10 provider code exchange",
        "10 provider refresh",
        "10 provider login page",
        "11 passkey login",
    ] {
        assert!(has(scenario, "sqlite"), "{scenario} missing from\n{stdout}");
    }
    for scenario in [
        "1 validation",
        "1b validation, cache off",
        "3 login",
        "4 storm",
        "7 timing",
    ] {
        assert!(
            has(scenario, "sqlite"),
            "{scenario} on sqlite missing from\n{stdout}"
        );
    }
    if postgres.is_some() {
        for scenario in [
            "1 validation",
            "1b validation, cache off",
            "3 login",
            "4 storm",
            "5 scale",
            "5 scale, Zipf",
            "5 scale, cache off",
            "6 two nodes",
        ] {
            assert!(
                has(scenario, "postgres"),
                "{scenario} on postgres missing from\n{stdout}"
            );
        }
        if redis.is_some() {
            for scenario in [
                "1 validation",
                "1b validation, cache off",
                "3 login",
                "4 storm",
                "6 two nodes",
            ] {
                assert!(
                    has(scenario, "redis"),
                    "{scenario} on redis missing from\n{stdout}"
                );
            }
        }
    }
    if peers {
        for scenario in ["13 peer validation", "13 peer login"] {
            assert!(
                has(scenario, "fastapi-users"),
                "{scenario} missing from\n{stdout}"
            );
        }
        let ratios = rows
            .iter()
            .filter(|r| r["store"] == "fastapi-users")
            .all(|r| r["ratio"]["value"].as_f64().is_some_and(|value| value > 0.0));
        assert!(ratios, "every peer row has Limen ÷ peer:\n{stdout}");
    }
    if std::path::Path::new("/usr/sbin/slapd").exists() {
        for scenario in ["9 LDAP bind, alone", "9 LDAP login"] {
            assert!(has(scenario, "ldap"), "{scenario} missing from\n{stdout}");
        }
    }
    for row in rows {
        let summary = &row["summary"];
        assert!(summary["requests"].as_u64().expect("requests") > 0, "{row}");
        let statuses = summary["statuses"].as_object().expect("statuses");
        let revocation = row["scenario"] == "6 two nodes" && row["connections"] == 1;
        let allowed: &[&str] = match row["scenario"].as_str() {
            Some("7 timing") => &["401"],
            Some("6 two nodes") if revocation => &["401"],
            Some("4 storm") => &["200", "503"],
            Some("10 provider login page") => &["303"],
            // LDAP's result code of a successful bind.
            Some("9 LDAP bind, alone") => &["0"],
            _ => &["200"],
        };
        assert!(
            statuses.keys().all(|status| allowed.contains(&status.as_str())),
            "{row}"
        );
    }
    let validation_64 = rows
        .iter()
        .find(|r| r["scenario"] == "1 validation" && r["connections"] == 64)
        .expect("validation at 64 connections");
    assert!(
        validation_64["ratio"]["value"]
            .as_f64()
            .expect("a ratio to the baseline")
            > 0.0
    );
    let memory = report["memory"].as_array().expect("memory");
    assert!(
        memory
            .iter()
            .all(|m| m["resident_mib"].as_f64().expect("MiB") > 1.0),
        "{memory:?}"
    );
    assert!(
        stdout.contains("| scenario | request | store |"),
        "the Markdown table is printed"
    );
    let chart = std::fs::read(out.join("latency.png")).expect("chart written");
    assert!(chart.starts_with(b"\x89PNG\r\n\x1a\n"), "latency.png is a PNG");
    std::fs::remove_dir_all(&out).ok();
}
