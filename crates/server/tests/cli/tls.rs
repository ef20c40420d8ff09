//! Native TLS (`[http.tls]`): a handshake with a certificate the test made,
//! and a certificate reloaded on SIGHUP while requests keep being answered.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

use crate::helpers::{Scratch, Server};

/// A CA, and leaf certificates for 127.0.0.1 it signs.
struct TestCa {
    certificate: rcgen::Certificate,
    key: KeyPair,
}

impl TestCa {
    fn new() -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "Limen test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        Self {
            certificate: params.self_signed(&key).unwrap(),
            key,
        }
    }

    /// Writes a new leaf certificate and its key to `dir`; answers the certificate's DER.
    fn issue(&self, dir: &Path, common_name: &str) -> Vec<u8> {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, common_name);
        let leaf = params.signed_by(&key, &self.certificate, &self.key).unwrap();
        std::fs::write(dir.join("cert.pem"), leaf.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
        leaf.der().to_vec()
    }
}

/// A client trusting only `ca`, which reports the certificate it was shown;
/// pooled, it keeps its connection open across a reload.
fn client(ca: &TestCa, pooled: bool) -> reqwest::Client {
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca.certificate.pem().as_bytes()).unwrap())
        .tls_info(true)
        .pool_max_idle_per_host(if pooled { 1 } else { 0 })
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// The certificate a new client, with no session to resume, is shown.
async fn presented(ca: &TestCa, base: &str) -> Vec<u8> {
    let answer = client(ca, false)
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    answer
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate().map(<[u8]>::to_vec))
        .expect("the TLS connection's certificate")
}

#[tokio::test]
async fn serves_https_and_reloads_its_certificate_on_sighup() {
    let scratch = Scratch::new();
    let ca = TestCa::new();
    let first = ca.issue(&scratch.dir, "first");
    let mut command = scratch.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LIMEN_HTTP__TLS__CERT_FILE", scratch.dir.join("cert.pem"))
        .env("LIMEN_HTTP__TLS__KEY_FILE", scratch.dir.join("key.pem"));
    let server = Server::start(command);
    assert!(server.base.starts_with("https://"), "{}", server.base);
    assert_eq!(presented(&ca, &server.base).await, first);
    // Plain HTTP on the TLS port is not answered as HTTP.
    let plain = server.base.replace("https://", "http://");
    let plain_answered = reqwest::get(format!("{plain}/healthz"))
        .await
        .is_ok_and(|answer| answer.status().is_success());
    assert!(!plain_answered);

    // Requests on an open connection go on through the reload; none may fail.
    let base = server.base.clone();
    let steady = client(&ca, true);
    let background = tokio::spawn(async move {
        let mut answered = 0;
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            let status = steady
                .get(format!("{base}/healthz"))
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status, 200);
            answered += 1;
        }
        answered
    });
    let second = ca.issue(&scratch.dir, "second");
    assert_ne!(first, second);
    hang_up(&server);
    let deadline = Instant::now() + Duration::from_secs(5);
    while presented(&ca, &server.base).await != second {
        assert!(
            Instant::now() < deadline,
            "still the first certificate 5 s after SIGHUP"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(background.await.unwrap() > 0);

    // A broken file on the next reload keeps the certificate in use.
    std::fs::write(scratch.dir.join("key.pem"), "not a key").unwrap();
    hang_up(&server);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(presented(&ca, &server.base).await, second);
    let log = server.log.clone();
    assert!(server.terminate());
    let log = log.lock().unwrap().clone();
    assert!(log.contains("TLS certificate reloaded"), "{log}");
    assert!(log.contains("TLS certificate not reloaded"), "{log}");
}

#[test]
fn a_certificate_that_cannot_be_used_stops_the_start() {
    let scratch = Scratch::new();
    let ca = TestCa::new();
    ca.issue(&scratch.dir, "first");
    // The key of another certificate.
    let other = scratch.dir.join("other");
    std::fs::create_dir_all(&other).unwrap();
    ca.issue(&other, "other");
    for (cert, key, wanted) in [
        ("cert.pem", "missing.pem", "missing.pem"),
        ("cert.pem", "other/key.pem", "is not the key of"),
        ("key.pem", "key.pem", "no certificate"),
    ] {
        let mut command = scratch.command();
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("LIMEN_HTTP__TLS__CERT_FILE", scratch.dir.join(cert))
            .env("LIMEN_HTTP__TLS__KEY_FILE", scratch.dir.join(key));
        let output = command.output().unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("http.tls") && stderr.contains(wanted),
            "{cert} {key}: {stderr}"
        );
    }
}

fn hang_up(server: &Server) {
    let status = Command::new("kill")
        .args(["-HUP", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}
