//! `SmtpMailer` against a real SMTP server (aiosmtpd, started here through
//! `scripts/smtp_sink.py`). Without Python's aiosmtpd the tests say so and skip,
//! except under `CI=true`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use limen_domain::ports::{Mailer, OutgoingEmail};
use limen_mail::{SmtpConfig, SmtpMailer, SmtpSecurity};

struct Sink {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_sink(auth: Option<(&str, &str)>) -> Option<Sink> {
    let available = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|status| status.success());
    if !available {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "aiosmtpd is required when CI=true (scripts/test installs it)"
        );
        eprintln!("notice: Python's aiosmtpd is missing; skipping the SMTP test");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("limen-smtp-{}", uuid_like()));
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/smtp_sink.py");
    let mut command = Command::new("python3");
    command
        .arg(script)
        .arg("--port")
        .arg(port.to_string())
        .arg("--dir")
        .arg(&dir)
        .stdout(Stdio::piped());
    if let Some((user, password)) = auth {
        command.args(["--user", user, "--password", password]);
    }
    let mut child = command.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    Some(Sink { child, port, dir })
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

fn mailer(port: u16, credentials: Option<(&str, &str)>) -> SmtpMailer {
    SmtpMailer::new(&SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        credentials: credentials.map(|(user, password)| (user.to_owned(), password.to_owned())),
        from: "Limen <noreply@limen.test>".into(),
        timeout: Duration::from_secs(10),
    })
    .unwrap()
}

fn email() -> OutgoingEmail {
    OutgoingEmail {
        to: "max.musterman@gmail.de".into(),
        subject: "Gradido: please confirm your e-mail address".into(),
        body: "Open https://login.test/verify?token=abc123 to confirm.\n".into(),
    }
}

fn received(sink: &Sink) -> Vec<String> {
    std::fs::read_dir(&sink.dir)
        .map(|entries| {
            entries
                .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn an_authenticated_message_reaches_the_server_intact() {
    let Some(sink) = start_sink(Some(("limen", "s3cret"))) else {
        return;
    };
    mailer(sink.port, Some(("limen", "s3cret")))
        .send(email())
        .await
        .unwrap();
    let messages = received(&sink);
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert!(message.contains("To: max.musterman@gmail.de"), "{message}");
    assert!(message.contains("From: Limen <noreply@limen.test>"), "{message}");
    assert!(
        message.contains("Subject: Gradido: please confirm your e-mail address"),
        "{message}"
    );
    assert!(message.contains("token=abc123"), "{message}");
}

#[tokio::test]
async fn wrong_credentials_and_no_server_are_errors_not_silence() {
    let Some(sink) = start_sink(Some(("limen", "s3cret"))) else {
        return;
    };
    let err = mailer(sink.port, Some(("limen", "wrong")))
        .send(email())
        .await
        .unwrap_err();

    assert!(err.contains("SMTP server did not take"), "{err}");
    assert!(received(&sink).is_empty());
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    assert!(mailer(closed, None).send(email()).await.is_err());
}
