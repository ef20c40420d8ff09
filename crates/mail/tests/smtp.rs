//! `SmtpMailer` against a real SMTP server (aiosmtpd, started here through
//! `scripts/smtp_sink.py`): plain with AUTH, STARTTLS and implicit TLS with a
//! throw-away CA (`scripts/test_ca.sh`). Without Python's aiosmtpd or openssl
//! the tests say so and skip, except under `CI=true`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use limen_domain::ports::{Mailer, OutgoingEmail};
use limen_mail::{SmtpConfig, SmtpMailer, SmtpSecurity};

fn scripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts")
}

fn scratch(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    std::env::temp_dir().join(format!("limen-smtp-{name}-{}-{nanos}", std::process::id()))
}

/// Whether `program args` succeeds; otherwise a notice, or a failure under CI.
/// The Python with the test tools: `LIMEN_PYTHON` (the virtual environment
/// `scripts/services.sh` makes under target/), or `python3`.
fn python() -> std::ffi::OsString {
    std::env::var_os("LIMEN_PYTHON").unwrap_or_else(|| "python3".into())
}

fn available(what: &str, program: &std::ffi::OsStr, args: &[&str]) -> bool {
    let ok = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{what} is required when CI=true (scripts/test installs it)"
        );
        eprintln!("notice: {what} is missing; skipping this SMTP test");
    }
    ok
}

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

/// A throw-away CA and server certificate: (folder, CA certificate PEM).
struct Ca {
    dir: PathBuf,
}

impl Ca {
    fn new() -> Option<Self> {
        if !available("openssl", "openssl".as_ref(), &["version"]) {
            return None;
        }
        let dir = scratch("ca");
        let status = Command::new("bash")
            .arg(scripts().join("test_ca.sh"))
            .arg(&dir)
            .status()
            .unwrap();
        assert!(status.success(), "test_ca.sh failed");
        Some(Self { dir })
    }

    fn pem(&self) -> Vec<u8> {
        std::fs::read(self.dir.join("ca.pem")).unwrap()
    }
}

impl Drop for Ca {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_sink(auth: Option<(&str, &str)>, tls: Option<(&str, &Path)>) -> Option<Sink> {
    if !available("Python's aiosmtpd", &python(), &["-c", "import aiosmtpd"]) {
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = scratch("sink");
    let mut command = Command::new(python());
    command
        .arg(scripts().join("smtp_sink.py"))
        .arg("--port")
        .arg(port.to_string())
        .arg("--dir")
        .arg(&dir)
        .stdout(Stdio::piped());
    if let Some((user, password)) = auth {
        command.args(["--user", user, "--password", password]);
    }
    if let Some((mode, ca)) = tls {
        command
            .args(["--tls", mode, "--cert"])
            .arg(ca.join("server.pem"))
            .arg("--key")
            .arg(ca.join("server.key"));
    }
    let mut child = command.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    Some(Sink { child, port, dir })
}

fn mailer(
    port: u16,
    security: SmtpSecurity,
    credentials: Option<(&str, &str)>,
    ca: Option<&Ca>,
) -> SmtpMailer {
    SmtpMailer::new(&SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        security,
        credentials: credentials.map(|(user, password)| (user.to_owned(), password.to_owned())),
        from: "Limen <noreply@limen.test>".into(),
        timeout: Duration::from_secs(10),
        extra_root_pem: ca.map(Ca::pem),
    })
    .unwrap()
}

/// A message with a long link and German text: both need a transfer encoding.
fn email() -> OutgoingEmail {
    OutgoingEmail {
        to: "max.musterman@gmail.de".into(),
        subject: "Gradido: Bitte bestätige deine E-Mail-Adresse".into(),
        body: format!(
            "Hallo Max,\n\nbitte bestätige die Adresse:\n\nhttps://login.test/account/checkEmail/{}\n",
            "Ab3_-x".repeat(8)
        ),
    }
}

/// The messages the sink received, as a mail client shows them.
fn received(sink: &Sink) -> Vec<String> {
    std::fs::read_dir(&sink.dir)
        .map(|entries| {
            entries
                .map(|entry| entry.unwrap().path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
                .map(|path| std::fs::read_to_string(path).unwrap())
                .collect()
        })
        .unwrap_or_default()
}

fn assert_intact(sink: &Sink) {
    let messages = received(sink);
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert!(message.contains("To: max.musterman@gmail.de"), "{message}");
    assert!(message.contains("From: Limen <noreply@limen.test>"), "{message}");
    assert!(
        message.contains("Subject: Gradido: Bitte bestätige deine E-Mail-Adresse"),
        "{message}"
    );
    assert!(message.contains("bitte bestätige die Adresse:"), "{message}");
    let link = format!("https://login.test/account/checkEmail/{}\n", "Ab3_-x".repeat(8));
    assert!(message.contains(&link), "the link must survive intact: {message}");
}

#[tokio::test]
async fn an_authenticated_plain_message_reaches_the_server_intact() {
    let Some(sink) = start_sink(Some(("limen", "s3cret")), None) else {
        return;
    };
    mailer(sink.port, SmtpSecurity::None, Some(("limen", "s3cret")), None)
        .send(email())
        .await
        .unwrap();
    assert_intact(&sink);
}

#[tokio::test]
async fn starttls_and_implicit_tls_are_verified_against_the_configured_ca() {
    let Some(ca) = Ca::new() else {
        return;
    };
    for (mode, security) in [
        ("starttls", SmtpSecurity::StartTls),
        ("implicit", SmtpSecurity::Tls),
    ] {
        let Some(sink) = start_sink(Some(("limen", "s3cret")), Some((mode, &ca.dir))) else {
            return;
        };
        mailer(sink.port, security, Some(("limen", "s3cret")), Some(&ca))
            .send(email())
            .await
            .unwrap_or_else(|err| panic!("{mode}: {err}"));
        assert_intact(&sink);
        // Without the CA the server's certificate is not trusted, and nothing is sent.
        let err = mailer(sink.port, security, Some(("limen", "s3cret")), None)
            .send(email())
            .await
            .unwrap_err();
        assert!(err.contains("SMTP server did not take"), "{mode}: {err}");
        assert_eq!(received(&sink).len(), 1, "{mode}");
    }
}

#[tokio::test]
async fn starttls_is_required_not_opportunistic() {
    let Some(sink) = start_sink(None, None) else {
        return;
    };
    // A server that offers no STARTTLS gets nothing rather than plain text.
    let err = mailer(sink.port, SmtpSecurity::StartTls, None, None)
        .send(email())
        .await
        .unwrap_err();
    assert!(err.contains("SMTP server did not take"), "{err}");
    assert!(received(&sink).is_empty());
}

#[tokio::test]
async fn wrong_credentials_and_no_server_are_errors_not_silence() {
    let Some(sink) = start_sink(Some(("limen", "s3cret")), None) else {
        return;
    };
    let err = mailer(sink.port, SmtpSecurity::None, Some(("limen", "wrong")), None)
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
    assert!(
        mailer(closed, SmtpSecurity::None, None, None)
            .send(email())
            .await
            .is_err()
    );
}
