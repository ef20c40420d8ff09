//! The BankID demo page in a real browser: headless Chromium loads the page of
//! a running `limen serve` with the simulator, the QR code it draws decodes
//! (zbarimg) to a BankID QR string, and the page reaches COMPLETE with the
//! user's fields, as a person watching it would see.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helpers::{Scratch, Server};

const PERSONAL_NUMBER: &str = "199908072391";

/// Chromium and zbarimg, or `None` with a notice (never under `CI=true`,
/// where scripts/services.sh installs them).
fn browser() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser"]
        .iter()
        .find_map(|name| which(name));
    let zbar = which("zbarimg");
    match (found, zbar) {
        (Some(chromium), Some(_)) => Some(chromium),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "chromium and zbarimg are required when CI=true (scripts/services.sh installs them)"
            );
            eprintln!("notice: chromium or zbarimg not installed; skipping the BankID demo browser test");
            None
        }
    }
}

/// Chromium and the directory of scripts/browser with its npm packages
/// (puppeteer-core), or `None` with a notice (never under `CI=true`, where
/// scripts/services.sh installs them).
pub fn puppeteer() -> Option<(PathBuf, PathBuf)> {
    let scripts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/browser");
    let chromium = which("chromium").or_else(|| which("chromium-browser"));
    match chromium {
        Some(chromium) if scripts.join("node_modules/puppeteer-core").is_dir() => Some((chromium, scripts)),
        _ => {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "chromium and scripts/browser/node_modules are required when CI=true (scripts/services.sh installs them)"
            );
            eprintln!("NOTICE: chromium or puppeteer-core is missing; test skipped");
            None
        }
    }
}

pub fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|path| path.is_file())
}

/// Runs headless Chromium on `url` with a fresh profile in `scratch`.
pub fn chromium(chromium: &Path, scratch: &Scratch, extra: &[&str], url: &str) -> std::process::Output {
    let profile = scratch.dir.join("chromium-profile");
    let output = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=600,800",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `limen serve` with the BankID simulator answering `pending_collects`
/// collects with "pending" before completing, and a user with a personal number.
fn serve_with_simulator(scratch: &Scratch, pending_collects: u32) -> Server {
    scratch.ok(
        &[
            "user",
            "add",
            "--username",
            "ann",
            "--email",
            "ann@example.com",
            "--first-name",
            "Ann",
            "--personal-number",
            PERSONAL_NUMBER,
            "--password-stdin",
        ],
        "correct horse battery\n",
    );
    let mut command = scratch.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LIMEN_BANKID__MODE", "simulator")
        .env(
            "LIMEN_BANKID__SIMULATOR__PENDING_COLLECTS",
            pending_collects.to_string(),
        );
    Server::start(command)
}

#[test]
fn the_demo_page_draws_a_qr_code_that_decodes_to_a_bankid_qr_string() {
    let Some(binary) = browser() else {
        return;
    };
    let scratch = Scratch::new();
    // Enough pending collects that the page still shows a QR code when the
    // screenshot is taken.
    let server = serve_with_simulator(&scratch, 30);
    let screenshot = scratch.dir.join("demo.png");
    chromium(
        &binary,
        &scratch,
        &[
            "--virtual-time-budget=2500",
            &format!("--screenshot={}", screenshot.display()),
        ],
        &format!("{}/bankid/demo/?personal_number={PERSONAL_NUMBER}", server.base),
    );
    let decoded = Command::new("zbarimg")
        .args(["--raw", "-q"])
        .arg(&screenshot)
        .output()
        .unwrap();
    assert!(decoded.status.success(), "no QR code found in the screenshot");
    let text = String::from_utf8(decoded.stdout).unwrap();
    let parts: Vec<&str> = text.trim().split('.').collect();
    assert_eq!(parts.len(), 4, "not a BankID QR string: {text}");
    assert_eq!(parts[0], "bankid");
    assert!(
        uuid::Uuid::parse_str(parts[1]).is_ok(),
        "no order token in {text}"
    );
    assert!(parts[2].parse::<u64>().is_ok(), "no seconds in {text}");
    assert!(
        parts[3].len() == 64 && parts[3].bytes().all(|b| b.is_ascii_hexdigit()),
        "no HMAC in {text}"
    );
    assert!(server.terminate());
}

#[test]
fn the_demo_page_reaches_complete_and_shows_the_user() {
    let Some(binary) = browser() else {
        return;
    };
    let scratch = Scratch::new();
    let server = serve_with_simulator(&scratch, 2);
    let output = chromium(
        &binary,
        &scratch,
        &["--virtual-time-budget=15000", "--dump-dom"],
        &format!("{}/bankid/demo/?personal_number={PERSONAL_NUMBER}", server.base),
    );
    let dom = String::from_utf8_lossy(&output.stdout);
    assert!(
        dom.contains(r#"<p id="status">COMPLETE</p>"#),
        "the page did not complete: {dom}"
    );
    assert!(
        dom.contains(r#""email": "ann@example.com""#),
        "no user on the page: {dom}"
    );
    assert!(server.terminate());
}

/// The simulator lets anyone log in as anyone: `serve` refuses it on an
/// address other machines reach, unless told it is a shared test system,
/// and then says so in the log.
#[test]
fn the_simulator_is_refused_on_a_listener_other_machines_reach_unless_allowed() {
    let scratch = Scratch::new();
    let mut command = scratch.command();
    command.env("LIMEN_BANKID__MODE", "simulator");
    let output = crate::helpers::run_with(command, &["serve", "--listen", "0.0.0.0:0"], "");
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("allow_non_loopback"), "{err}");

    let mut command = scratch.command();
    command
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env("LIMEN_BANKID__MODE", "simulator")
        .env("LIMEN_BANKID__SIMULATOR__ALLOW_NON_LOOPBACK", "true");
    let server = Server::start(command);
    let log = server.log.lock().unwrap().clone();
    assert!(
        log.contains("ERROR") && log.contains("SIMULATOR is reachable from other machines"),
        "{log}"
    );
    assert!(server.terminate());
}
