//! A login storm's surplus is refused before its body is read: logins whose
//! bodies never finish hold their places, and the next one, per address and in
//! all, gets a 503 in its dialect's shape although it never sent its body.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Scratch, Server};

const PASSWORD: &str = "storm password 1";

/// A dialect's login endpoint, the headers it needs, and its error shape.
struct Endpoint {
    what: &'static str,
    path: &'static str,
    headers: String,
    shaped: fn(&Value) -> bool,
}

fn endpoints() -> Vec<Endpoint> {
    let basic = STANDARD.encode(format!("ann:{PASSWORD}"));
    vec![
        Endpoint {
            what: "flow",
            path: "/authentication/login",
            headers: String::new(),
            shaped: |body| body["code"] == 503 && body["type"].is_string(),
        },
        Endpoint {
            what: "tokens",
            path: "/auth/login",
            headers: format!("Accept: application/json\r\nAuthorization: Basic {basic}\r\n"),
            shaped: |body| body["message"].is_string(),
        },
        Endpoint {
            what: "bimplus",
            path: "/v2/authorize",
            headers: String::new(),
            shaped: |body| body["error"].is_string() && body["message"].is_string(),
        },
        Endpoint {
            what: "gradido login",
            path: "/login_api/unsecureLogin",
            headers: String::new(),
            shaped: |body| body["state"] == "error",
        },
        Endpoint {
            what: "gradido registration",
            path: "/login_api/createUser",
            headers: String::new(),
            shaped: |body| body["state"] == "error",
        },
        Endpoint {
            what: "lime",
            path: "/login/",
            headers: String::new(),
            shaped: |body| body["success"] == false && body["error"].is_string(),
        },
    ]
}

/// Sends a login's head announcing a body of 1000 bytes, and `body` of them.
async fn send_head(base: &str, endpoint: &Endpoint, client: &str, body: &str) -> TcpStream {
    let address = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\nX-Forwarded-For: {client}\r\n{}\r\n{body}",
        endpoint.path, endpoint.headers
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// A flow login from `client` whose body stops after its first byte: it holds
/// a place until the connection closes.
async fn stalled_login(base: &str, client: &str) -> TcpStream {
    let stream = send_head(base, &endpoints()[0], client, "{").await;
    // Let the server take the place before the caller goes on.
    tokio::time::sleep(Duration::from_millis(200)).await;
    stream
}

/// The status, headers and JSON body of the one answer on `stream`.
async fn answer(mut stream: TcpStream) -> (u16, String, Value) {
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = String::from_utf8_lossy(&received).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= length {
                let status = head.split(' ').nth(1).unwrap().parse().unwrap();
                let json = serde_json::from_str(&body[..length]).unwrap_or(Value::Null);
                return (status, head.to_ascii_lowercase(), json);
            }
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        let read = tokio::time::timeout(remaining, stream.read(&mut chunk))
            .await
            .expect("no answer within 10 s: the server waited for the body")
            .unwrap();
        assert!(read > 0, "connection closed before a full answer: {text}");
        received.extend_from_slice(&chunk[..read]);
    }
}

/// Asks every dialect's login from `client` without sending a body and expects
/// a 503 in the dialect's shape with `Retry-After`.
async fn every_login_is_shed(base: &str, client: &str) {
    for endpoint in endpoints() {
        let stream = send_head(base, &endpoint, client, "").await;
        let (status, head, body) = answer(stream).await;
        assert_eq!(status, 503, "{} from {client}: {body}", endpoint.what);
        assert!(
            (endpoint.shaped)(&body),
            "{}: not its error shape: {body}",
            endpoint.what
        );
        assert!(
            head.contains("retry-after:"),
            "{}: no Retry-After: {head}",
            endpoint.what
        );
    }
}

async fn login_from(base: &str, client: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/authentication/login"))
        .header("X-Forwarded-For", client)
        .json(&json!({"username": "ann", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn surplus_logins_are_refused_before_their_body_is_read_per_address_and_in_all() {
    let scratch = Scratch::new();
    scratch.add_user("ann", "ann@example.com", PASSWORD);
    let mut command = scratch.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LIMEN_HTTP__TRUSTED_PROXIES", r#"["127.0.0.1"]"#)
        .env("LIMEN_PASSWORD__MAX_CONCURRENT", "1")
        .env("LIMEN_PASSWORD__MAX_QUEUE", "2")
        .env("LIMEN_PASSWORD__MAX_QUEUE_PER_ADDRESS", "2")
        .env("LIMEN_DIALECTS__GRADIDO__ALLOW_PASSWORD_VIA_JSON_REQUEST", "true");
    let server = Server::start(command);
    let base = server.base.clone();

    // Two logins of one address hold its share.
    let mut held = vec![
        stalled_login(&base, "198.51.100.1").await,
        stalled_login(&base, "198.51.100.1").await,
    ];
    every_login_is_shed(&base, "198.51.100.1").await;
    assert_eq!(
        login_from(&base, "198.51.100.2").await,
        200,
        "other addresses log in"
    );

    // A third address fills the node's three places: every address is shed.
    held.push(stalled_login(&base, "198.51.100.3").await);
    every_login_is_shed(&base, "198.51.100.4").await;

    // Closed connections give their places back.
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(10);
    while login_from(&base, "198.51.100.1").await != 200 {
        assert!(Instant::now() < deadline, "the places were not given back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = server.log.lock().unwrap().clone();
    assert!(
        !log.contains("\"status\":500") && !log.contains(" 500 "),
        "no 500: {log}"
    );
    // The metrics counted what was shed, per dialect.
    let metrics = reqwest::get(format!("{}/metrics", server.management))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for dialect in ["flow", "tokens", "bimplus", "gradido", "lime"] {
        let shed = crate::serve::metric(
            &metrics,
            &format!("limen_logins_shed_total{{dialect=\"{dialect}\"}}"),
        );
        assert!(shed >= 2.0, "{dialect}: {shed} shed in\n{metrics}");
    }
    assert_eq!(
        crate::serve::metric(&metrics, "limen_logins_in_flight"),
        0.0,
        "{metrics}"
    );
}
