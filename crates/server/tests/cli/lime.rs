//! The `lime` dialect against running processes: a password reset through a
//! real SMTP server, and a BankID login through `limen bankid-simulator` in
//! another process, over mutual TLS, as a Limen in test mode reaches BankID.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Scratch, Server, SmtpSink, free_port};

const PASSWORD: &str = "correct horse battery";

fn add_user(scratch: &Scratch, name: &str, personal_number: Option<&str>) {
    let mut args = vec![
        "user",
        "add",
        "--username",
        name,
        "--email",
        "ann@example.com",
        "--first-name",
        "Ann",
        "--password-stdin",
    ];
    if let Some(number) = personal_number {
        args.extend(["--personal-number", number]);
    }
    scratch.ok(&args, &format!("{PASSWORD}\n"));
}

async fn post(http: &reqwest::Client, url: String, body: Value) -> (u16, Value) {
    let answer = http.post(url).json(&body).send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_password_reset_arrives_by_smtp_and_sets_the_new_password() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let scratch = Scratch::new();
    add_user(&scratch, "ann", None);
    let mut command = scratch.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LIMEN_MAIL__TRANSPORT", "smtp")
        .env("LIMEN_MAIL__SMTP__HOST", "127.0.0.1")
        .env("LIMEN_MAIL__SMTP__PORT", sink.port.to_string())
        .env("LIMEN_MAIL__SMTP__SECURITY", "none")
        .env("LIMEN_REGISTRATION__SITE_NAME", "Lime portal")
        .env(
            "LIMEN_DIALECTS__LIME__RESET_URL",
            "https://portal.example/reset?token={token}",
        );
    let server = Server::start(command);
    let http = reqwest::Client::new();
    let (status, body) = post(
        &http,
        format!("{}/reset/request/", server.base),
        json!({"username": "ann"}),
    )
    .await;
    assert_eq!((status, body), (200, json!({"msg": "Reset token set"})));
    // The e-mail is sent after the answer; wait for the sink to have it.
    let mut messages = sink.messages();
    for _ in 0..100 {
        if !messages.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        messages = sink.messages();
    }
    let message = messages.first().expect("the reset e-mail arrived");
    assert!(message.contains("To: ann@example.com"), "{message}");
    assert!(
        message.contains("Subject: Lime portal: reset your password"),
        "{message}"
    );
    let token = message
        .split_whitespace()
        .find_map(|word| word.strip_prefix("https://portal.example/reset?token="))
        .unwrap_or_else(|| panic!("no link in {message}"))
        .to_owned();
    let reset = json!({"token": token, "username": "ann", "new_password": "a brand new secret"});
    let (status, body) = post(&http, format!("{}/reset/", server.base), reset.clone()).await;
    assert_eq!((status, body), (200, json!({"msg": "Password updated"})));
    let (status, _) = post(&http, format!("{}/reset/", server.base), reset).await;
    assert_eq!(status, 404, "the token works once");
    let login = json!({"type": "limecrm", "username": "ann", "password": "a brand new secret"});
    let (status, body) = post(&http, format!("{}/login/", server.base), login).await;
    assert_eq!(status, 200, "{body}");
    let log = server.log.clone();
    assert!(server.terminate());
    assert!(
        !log.lock().unwrap().contains(&token),
        "the reset token reached the log"
    );
}

/// `limen bankid-simulator` as its own process; the certificates it made.
struct SimulatorProcess {
    child: Child,
    endpoint: String,
}

impl Drop for SimulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn simulator_process(scratch: &Scratch, certificates: &std::path::Path) -> SimulatorProcess {
    let port = free_port();
    let mut child = scratch
        .command()
        .args(["bankid-simulator", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--certificates-dir")
        .arg(certificates)
        .env("LIMEN_BANKID__SIMULATOR__PENDING_COLLECTS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let endpoint = line
        .trim()
        .strip_prefix("BankID simulator listening: ")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .to_owned();
    SimulatorProcess { child, endpoint }
}

#[tokio::test]
async fn bankid_in_test_mode_reaches_a_separate_simulator_over_mutual_tls() {
    let scratch = Scratch::new();
    add_user(&scratch, "ann", Some("19990807-2391"));
    let certificates = scratch.dir.join("bankid");
    let simulator = simulator_process(&scratch, &certificates);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(certificates.join("client.pem"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "the client key is kept private");
    let mut command = scratch.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LIMEN_BANKID__MODE", "test")
        .env("LIMEN_BANKID__ENDPOINT", &simulator.endpoint)
        .env("LIMEN_BANKID__CERTIFICATE_FILE", certificates.join("client.pem"))
        .env("LIMEN_BANKID__CA_FILE", certificates.join("ca.pem"));
    let server = Server::start(command);
    let http = reqwest::Client::new();
    let (status, started) = post(
        &http,
        format!("{}/login/", server.base),
        json!({"type": "bankid", "personal_number": "199908072391"}),
    )
    .await;
    assert_eq!(status, 200, "{started}");
    let transaction = started["transaction_id"].as_str().unwrap().to_owned();
    let collect = || {
        post(
            &http,
            format!("{}/bankid/collect/", server.base),
            json!({"transaction_id": transaction}),
        )
    };
    let (_, pending) = collect().await;
    assert_eq!(pending["progressStatus"], "USER_SIGN", "{pending}");
    let (status, done) = collect().await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["progressStatus"], "COMPLETE");
    assert_eq!(done["user"]["firstname"], "Ann");
    let token = done["token"].as_str().unwrap();
    let me = http
        .get(format!("{}/authentication/user", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert!(server.terminate());
    drop(simulator);
    // Without the simulator BankID is unavailable: a clear 503, no hang.
    let mut command = scratch.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LIMEN_BANKID__MODE", "test")
        .env(
            "LIMEN_BANKID__ENDPOINT",
            format!("https://localhost:{}/rp/v6.0/", free_port()),
        )
        .env("LIMEN_BANKID__RETRIES", "0")
        .env("LIMEN_BANKID__CERTIFICATE_FILE", certificates.join("client.pem"))
        .env("LIMEN_BANKID__CA_FILE", certificates.join("ca.pem"));
    let server = Server::start(command);
    let (status, body) = post(
        &http,
        format!("{}/login/", server.base),
        json!({"type": "bankid", "personal_number": "199908072391"}),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["message"]["code"], "RFA5");
    assert!(server.terminate());
}

#[test]
fn test_mode_without_a_certificate_or_ca_is_refused_at_start() {
    let scratch = Scratch::new();
    let mut command: Command = scratch.command();
    command.args(["serve"]).env("LIMEN_BANKID__MODE", "production");
    let output = command.output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bankid.certificate_file"), "{stderr}");
}
