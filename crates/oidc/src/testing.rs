//! For tests: a real OpenID provider on localhost (`scripts/oidc-provider`,
//! panva's certified oidc-provider on Node), and a login at it driven like a
//! browser would, without one.

// Test support: a failure here is a failed test, and says why.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The project's `scripts/oidc-provider` folder.
pub fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/oidc-provider")
}

/// A running `scripts/oidc-provider/server.mjs`; stopped when dropped.
pub struct TestProvider {
    child: Child,
    /// Its issuer, `http://127.0.0.1:<port>`.
    pub issuer: String,
}

/// A client the test provider knows.
pub struct TestClient<'a> {
    /// Client id.
    pub id: &'a str,
    /// Client secret.
    pub secret: &'a str,
    /// Where it may send the browser back.
    pub redirect_uri: &'a str,
}

impl TestProvider {
    /// Starts a provider knowing `clients`, with `accounts` (a JSON object of
    /// claims by login) and, when `id_token_claims`, every claim in the ID
    /// token. `None`, with a notice, where Node or the npm packages are
    /// missing; under `CI=true` that is a failure instead.
    pub fn start(clients: &[TestClient<'_>], accounts: &str, id_token_claims: bool) -> Option<Self> {
        let dir = provider_dir();
        let ready = dir.join("node_modules/oidc-provider").is_dir()
            && Command::new("node")
                .arg("--version")
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|status| status.success());
        if !ready {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "Node and scripts/oidc-provider/node_modules are required when CI=true (scripts/services.sh installs them)"
            );
            eprintln!(
                "notice: Node or oidc-provider missing (run scripts/services.sh); skipping the OpenID provider test"
            );
            return None;
        }
        let clients_json = clients
            .iter()
            .map(|client| {
                format!(
                    r#"{{"client_id":"{}","client_secret":"{}","redirect_uris":["{}"]}}"#,
                    client.id, client.secret, client.redirect_uri
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        let mut child = Command::new("node")
            .arg("server.mjs")
            .current_dir(&dir)
            .env("OIDC_CLIENTS", format!("[{clients_json}]"))
            .env("OIDC_ACCOUNTS", accounts)
            .env("OIDC_ID_TOKEN_CLAIMS", if id_token_claims { "1" } else { "0" })
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start node: {err}"));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(issuer) = line.strip_prefix("listening ") {
                    let _ = sender.send(issuer.to_owned());
                }
            }
        });
        let issuer = receiver
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("the OpenID provider did not start"));
        Some(Self { child, issuer })
    }
}

impl Drop for TestProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How the person at the provider's login page answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer<'a> {
    /// Logs in as this account and consents.
    LogIn(&'a str),
    /// Cancels at the login page (the provider answers `access_denied`).
    Cancel,
}

/// Follows `authorization_url` through the provider's login and consent
/// pages as a browser would (cookies kept, redirects followed by hand) and
/// returns the URL the provider finally redirects to: the relying party's
/// callback with `code` and `state`, or with `error`.
pub async fn log_in(authorization_url: &str, answer: Answer<'_>) -> String {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap_or_else(|err| panic!("{err}"));
    let origin = origin_of(authorization_url);
    let mut url = authorization_url.to_owned();
    // Bounded: login, consent and their redirects take about six steps.
    for _ in 0..12 {
        if !url.starts_with(&origin) {
            return url;
        }
        if let Some(uid) = interaction(&url, &origin) {
            let next = match (answer, page(&browser, &url).await.contains("name=\"login\"")) {
                (Answer::Cancel, _) => {
                    browser
                        .get(format!("{origin}/interaction/{uid}/abort"))
                        .send()
                        .await
                }
                (Answer::LogIn(login), true) => {
                    browser
                        .post(format!("{origin}/interaction/{uid}"))
                        .form(&[("prompt", "login"), ("login", login), ("password", "any")])
                        .send()
                        .await
                }
                (Answer::LogIn(_), false) => {
                    browser
                        .post(format!("{origin}/interaction/{uid}"))
                        .form(&[("prompt", "consent")])
                        .send()
                        .await
                }
            }
            .unwrap_or_else(|err| panic!("{err}"));
            url = location(&origin, &next);
            continue;
        }
        let answer = browser
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|err| panic!("{err}"));
        url = location(&origin, &answer);
    }
    panic!("the provider's login did not end in a redirect to the client: last at {url}")
}

async fn page(browser: &reqwest::Client, url: &str) -> String {
    let answer = browser
        .get(url)
        .send()
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    answer.text().await.unwrap_or_default()
}

fn origin_of(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    url[..end].to_owned()
}

fn interaction(url: &str, origin: &str) -> Option<String> {
    let path = url.strip_prefix(origin)?.strip_prefix("/interaction/")?;
    Some(path.split(['/', '?']).next()?.to_owned())
}

fn location(origin: &str, answer: &reqwest::Response) -> String {
    let Some(location) = answer
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
    else {
        panic!("expected a redirect, got {} at {}", answer.status(), answer.url())
    };
    if location.starts_with('/') {
        format!("{origin}{location}")
    } else {
        location.to_owned()
    }
}

/// The value of query parameter `name` in `url`, decoded.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1.split('#').next()?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}
