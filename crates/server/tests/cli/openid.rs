//! OpenID login across running processes: a real OpenID provider
//! (`scripts/oidc-provider`), two Limen nodes sharing one PostgreSQL database
//! (the login starts on one, the provider's callback lands on the other), a
//! callback replayed at once on both, two providers in one configuration, and
//! the payload checked as consumers would: in JavaScript (jose) and in Python
//! (PyJWT).

use std::path::{Path, PathBuf};
use std::process::Command;

use futures_util::future::join_all;
use limen_oidc::testing::{Answer, TestClient, TestProvider, log_in, query_param};
use serde_json::Value;

use crate::helpers::{Postgres, Scratch, Server, free_port};

const CONSUMER: &str = "https://portal.example/back";
const SECRET: &str = "limen-client-secret";
const SECRETS_KEY: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
const PAYLOAD_KEY: &str = "a-shared-payload-key-of-32-bytes-or-more";
/// A second consumer, with a key of its own.
const WIKI: &str = "https://wiki.example/oauth/done";
const WIKI_KEY: &str = "the-wiki-s-own-payload-key-32-bytes-long";
/// RFC 8037's Ed25519 test key.
const ED25519_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n";

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts")
}

/// PyJWT where it is installed; `None`, with a notice, elsewhere (never under `CI=true`).
fn python_has_pyjwt() -> bool {
    let present = crate::helpers::python()
        .args(["-c", "import jwt, cryptography"])
        .status()
        .is_ok_and(|status| status.success());
    if !present {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "PyJWT is required when CI=true (scripts/services.sh installs it)"
        );
        eprintln!("notice: PyJWT missing; the Python consumer's check is skipped");
    }
    present
}

/// Runs `scripts/oidc-provider/verify-payload.mjs` (jose) as the consumer
/// `consumer` of the Limen at `limen`.
fn javascript_check(payload: &str, limen: &str, consumer: &str, env: (&str, &str)) -> std::process::Output {
    Command::new("node")
        .arg("verify-payload.mjs")
        .args([limen, consumer, payload])
        .env(env.0, env.1)
        .current_dir(scripts().join("oidc-provider"))
        .output()
        .unwrap()
}

/// The payload's claims as `scripts/oidc-provider/verify-payload.mjs` (jose)
/// reads them for `consumer` of the Limen at `limen`.
fn verified_by_javascript(payload: &str, limen: &str, consumer: &str, env: (&str, &str)) -> Value {
    let output = javascript_check(payload, limen, consumer, env);
    assert!(
        output.status.success(),
        "jose refused the payload: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The payload's claims as `scripts/verify_payload.py` (PyJWT) reads them
/// for `consumer` of the Limen at `limen`.
fn verified_by_python(payload: &str, limen: &str, consumer: &str, args: &[&str]) -> Value {
    let output = crate::helpers::python()
        .arg(scripts().join("verify_payload.py"))
        .args(["--issuer", limen, "--audience", consumer])
        .args(args)
        .arg(payload)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "PyJWT refused the payload: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One `[[oidc.providers]]` table.
fn provider_table(id: &str, issuer: &str, extra: &str) -> String {
    format!(
        "[[oidc.providers]]\nid = \"{id}\"\nissuer = \"{issuer}\"\nclient_id = \"limen\"\n\
         client_secret = \"{SECRET}\"\nuserinfo = true\n{extra}\n"
    )
}

fn client(redirect_uri: &str) -> TestClient<'_> {
    TestClient {
        id: "limen",
        secret: SECRET,
        redirect_uri,
    }
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Where `url` redirects to.
async fn redirect_of(http: &reqwest::Client, url: &str) -> String {
    let answer = http.get(url).send().await.unwrap();
    assert_eq!(
        answer.status(),
        302,
        "{url}: {}",
        answer.text().await.unwrap_or_default()
    );
    answer.headers()["location"].to_str().unwrap().to_owned()
}

fn add_user(scratch: &Scratch, env: &[(&str, &str)], name: &str) {
    scratch.ok_with(
        env,
        &[
            "user",
            "add",
            "--username",
            name,
            "--email",
            &format!("{name}@example.com"),
            "--password-stdin",
        ],
        "correct horse battery\n",
    );
}

#[tokio::test]
async fn a_callback_landing_on_another_node_logs_in_once_and_the_payload_verifies_in_javascript_and_python() {
    let Some(database) = Postgres::create().await else {
        return;
    };
    let port = free_port();
    let public_url = format!("http://127.0.0.1:{port}");
    let redirect = format!("{public_url}/oauth2/authorize/");
    let Some(provider) = TestProvider::start(&[client(&redirect)], "{}", false) else {
        database.drop_database().await;
        return;
    };
    let scratch = Scratch::new();
    let key_file = scratch.dir.join("payload.pem");
    std::fs::write(&key_file, ED25519_PEM).unwrap();
    let config = scratch.dir.join("limen.toml");
    std::fs::write(
        &config,
        format!(
            "public_url = \"{public_url}\"\n[oidc]\nconsumer_urls = [\"{CONSUMER}\"]\n\
             include_token = true\n\
             payload_signing = \"eddsa\"\npayload_ed25519_key_file = \"{}\"\n{}",
            key_file.display(),
            provider_table("idp", &provider.issuer, "")
        ),
    )
    .unwrap();
    let env = [
        ("LIMEN_CONFIG", config.to_str().unwrap()),
        ("LIMEN_DATABASE_URL", database.url.as_str()),
        ("LIMEN_SECRETS_KEY", SECRETS_KEY),
    ];
    add_user(&scratch, &env, "ann");
    let node = |listen: String| {
        let mut command = scratch.command();
        command.envs(env).args(["serve", "--listen", &listen]);
        Server::start(command)
    };
    let first = node(format!("127.0.0.1:{port}"));
    let second = node("127.0.0.1:0".into());
    let http = browser();

    let to_provider = redirect_of(&http, &format!("{}/login/openid/?state=portal-7", first.base)).await;
    let callback = log_in(&to_provider, Answer::LogIn("ann")).await;
    assert!(callback.starts_with(&redirect), "{callback}");
    // The load balancer sends the callback anywhere; an attacker who has it
    // sends it twenty times at once, to both nodes.
    let path = callback.strip_prefix(&public_url).unwrap().to_owned();
    let attempts = (0..20).map(|n| {
        let http = http.clone();
        let url = format!("{}{path}", if n % 2 == 0 { &second.base } else { &first.base });
        async move { redirect_of(&http, &url).await }
    });
    let landed = join_all(attempts).await;
    let payloads: Vec<&String> = landed.iter().filter(|url| url.contains("payload=")).collect();
    assert_eq!(payloads.len(), 1, "{landed:#?}");
    assert_eq!(
        landed
            .iter()
            .filter(|url| **url == format!("{CONSUMER}?error=invalid_state"))
            .count(),
        19,
        "{landed:#?}"
    );
    let payload = query_param(payloads[0], "payload").unwrap();

    let jwks = format!("{}/oidc/payload-key", second.base);
    let claims = verified_by_javascript(&payload, &public_url, CONSUMER, ("JWKS_URL", &jwks));
    assert_eq!(claims["state"], "portal-7");
    assert_eq!(claims["user"]["email"], "ann@example.com");
    if python_has_pyjwt() {
        let jwks = format!("{}/oidc/payload-key", first.base);
        let claims = verified_by_python(&payload, &public_url, CONSUMER, &["--jwks-url", &jwks]);
        assert_eq!(
            claims["token"],
            verified_by_javascript(&payload, &public_url, CONSUMER, ("JWKS_URL", &jwks))["token"]
        );
    }
    let me = http
        .get(format!("{}/authentication/user", first.base))
        .bearer_auth(claims["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200, "the payload's token works on every node");
    assert!(first.terminate() && second.terminate());
    database.drop_database().await;
}

#[tokio::test]
async fn two_providers_serve_one_limen_and_hs256_payloads_verify_in_javascript_and_python() {
    let port = free_port();
    let public_url = format!("http://127.0.0.1:{port}");
    let redirect = format!("{public_url}/oauth2/authorize/");
    let Some(company) = TestProvider::start(&[client(&redirect)], "{}", false) else {
        return;
    };
    let Some(partner) = TestProvider::start(
        &[client(&redirect)],
        r#"{"bo-at-partner": {"email": "bo@example.com"}}"#,
        false,
    ) else {
        return;
    };
    let scratch = Scratch::new();
    let secret_file = scratch.dir.join("payload.key");
    std::fs::write(&secret_file, format!("{PAYLOAD_KEY}\n")).unwrap();
    let config = scratch.dir.join("limen.toml");
    std::fs::write(
        &config,
        format!(
            "public_url = \"{public_url}\"\n[oidc]\nconsumer_urls = [\"{CONSUMER}\"]\n\
             payload_key_file = \"{}\"\n\
             [[oidc.consumers]]\nurl = \"{WIKI}\"\npayload_key = \"{WIKI_KEY}\"\n{}{}",
            secret_file.display(),
            provider_table("company", &company.issuer, ""),
            provider_table("partner", &partner.issuer, "default = true"),
        ),
    )
    .unwrap();
    let env = [("LIMEN_CONFIG", config.to_str().unwrap())];
    add_user(&scratch, &env, "ann");
    add_user(&scratch, &env, "bo");
    let mut command = scratch.command();
    command
        .envs(env)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")]);
    let server = Server::start(command);
    let http = browser();

    // No provider named: the default one (partner).
    let to_provider = redirect_of(&http, &format!("{}/login/openid/?state=s1", server.base)).await;
    assert!(to_provider.starts_with(&partner.issuer), "{to_provider}");
    let callback = log_in(&to_provider, Answer::LogIn("bo-at-partner")).await;
    let back = redirect_of(&http, &callback).await;
    let payload = query_param(&back, "payload").unwrap_or_else(|| panic!("{back}"));
    let claims = verified_by_javascript(&payload, &public_url, CONSUMER, ("PAYLOAD_KEY", PAYLOAD_KEY));
    assert_eq!(claims["user"]["email"], "bo@example.com");
    assert_eq!(claims.get("token"), None, "no token unless include_token");
    if python_has_pyjwt() {
        let claims = verified_by_python(
            &payload,
            &public_url,
            CONSUMER,
            &["--secret-file", secret_file.to_str().unwrap()],
        );
        assert_eq!(claims["state"], "s1");
    }

    // The other, by name.
    let start = format!("{}/login/openid/?state=s2&provider=company", server.base);
    let to_provider = redirect_of(&http, &start).await;
    assert!(to_provider.starts_with(&company.issuer), "{to_provider}");
    let callback = log_in(&to_provider, Answer::LogIn("ann")).await;
    let back = redirect_of(&http, &callback).await;
    let payload = query_param(&back, "payload").unwrap_or_else(|| panic!("{back}"));
    let claims = verified_by_javascript(&payload, &public_url, CONSUMER, ("PAYLOAD_KEY", PAYLOAD_KEY));
    assert_eq!(
        (claims["state"].as_str(), claims["user"]["email"].as_str()),
        (Some("s2"), Some("ann@example.com"))
    );

    // A payload altered on the way is refused by the consumer's check.
    let (head, rest) = payload.split_once('.').unwrap();
    let (body, signature) = rest.split_once('.').unwrap();
    let forged_body = body.replacen(&body[..4], "eyJ4", 1);
    let forged = format!("{head}.{forged_body}.{signature}");
    let refused = javascript_check(&forged, &public_url, CONSUMER, ("PAYLOAD_KEY", PAYLOAD_KEY));
    assert!(!refused.status.success(), "a forged payload passed");

    // The wiki has a key of its own: its payloads name it as their audience
    // and do not verify with the portal's key, and the portal's payload is
    // not the wiki's.
    let wiki_start = format!(
        "{}/login/openid/?state=w1&provider=company&redirect={}",
        server.base,
        urlencode(WIKI)
    );
    let to_provider = redirect_of(&http, &wiki_start).await;
    let callback = log_in(&to_provider, Answer::LogIn("ann")).await;
    let back = redirect_of(&http, &callback).await;
    assert!(back.starts_with(&format!("{WIKI}?payload=")), "{back}");
    let wiki_payload = query_param(&back, "payload").unwrap();
    let claims = verified_by_javascript(&wiki_payload, &public_url, WIKI, ("PAYLOAD_KEY", WIKI_KEY));
    assert_eq!(claims["aud"], WIKI);
    let with_portal_key = javascript_check(&wiki_payload, &public_url, WIKI, ("PAYLOAD_KEY", PAYLOAD_KEY));
    assert!(
        !with_portal_key.status.success(),
        "the portal's key verified the wiki's payload"
    );
    let as_the_wiki = javascript_check(&payload, &public_url, WIKI, ("PAYLOAD_KEY", PAYLOAD_KEY));
    assert!(
        !as_the_wiki.status.success(),
        "the portal's payload passed as the wiki's"
    );
    assert!(server.terminate());

    // The provider's subject is linked to ann; the operator sees and removes it.
    let shown = scratch.ok_with(&env, &["user", "show", "ann"], "");
    assert!(
        shown.contains(&format!("linked_identities     {}", company.issuer)),
        "{shown}"
    );
    let output = scratch.ok_with(&env, &["user", "unlink", "ann", &company.issuer], "");
    assert!(output.contains("unlinked"), "{output}");
    let shown = scratch.ok_with(&env, &["user", "show", "ann", "--json"], "");
    let shown: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["linked_identities"], serde_json::json!([]));
}

#[test]
fn providers_without_a_public_url_or_a_payload_key_stop_the_start() {
    let scratch = Scratch::new();
    let config = scratch.dir.join("limen.toml");
    std::fs::write(
        &config,
        format!(
            "[oidc]\nconsumer_urls = [\"{CONSUMER}\"]\npayload_key = \"{PAYLOAD_KEY}\"\n{}",
            provider_table("idp", "https://idp.example", "")
        ),
    )
    .unwrap();
    let mut command = scratch.command();
    command
        .env("LIMEN_CONFIG", &config)
        .args(["serve", "--listen", "127.0.0.1:0"]);
    let output = command.output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("public_url"));

    std::fs::write(
        &config,
        format!(
            "public_url = \"https://login.example\"\n[oidc]\nconsumer_urls = [\"{CONSUMER}\"]\n{}",
            provider_table("idp", "https://idp.example", "")
        ),
    )
    .unwrap();
    let mut command = scratch.command();
    command
        .env("LIMEN_CONFIG", &config)
        .args(["serve", "--listen", "127.0.0.1:0"]);
    let output = command.output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("payload_key"));
}

/// Thirty starts at once from one address with a limit of five, on
/// PostgreSQL with the counts there: five reach the provider, the others go
/// back to the consumer with `too_many_requests`, and each stored no record.
#[tokio::test]
async fn thirty_openid_starts_at_once_from_one_address_store_five_logins() {
    let Some(database) = Postgres::create().await else {
        return;
    };
    let port = free_port();
    let public_url = format!("http://127.0.0.1:{port}");
    let redirect = format!("{public_url}/oauth2/authorize/");
    let Some(provider) = TestProvider::start(&[client(&redirect)], "{}", false) else {
        database.drop_database().await;
        return;
    };
    let scratch = Scratch::new();
    let config = scratch.dir.join("limen.toml");
    std::fs::write(
        &config,
        format!(
            "public_url = \"{public_url}\"\n[oidc]\nconsumer_urls = [\"{CONSUMER}\"]\n\
             payload_key = \"{PAYLOAD_KEY}\"\n[rate_limit]\nbackend = \"sql\"\n\
             openid_starts_per_address = 5\n{}",
            provider_table("idp", &provider.issuer, "")
        ),
    )
    .unwrap();
    let mut command = scratch.command();
    command
        .env("LIMEN_CONFIG", config.to_str().unwrap())
        .env("LIMEN_DATABASE_URL", &database.url)
        .env("LIMEN_SECRETS_KEY", SECRETS_KEY)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")]);
    let server = Server::start(command);
    let http = browser();
    // The provider's metadata is fetched once before the burst.
    redirect_of(&http, &format!("{}/login/openid/?state=warm-up", server.base)).await;
    let starts = (0..30).map(|n| {
        let http = http.clone();
        let url = format!("{}/login/openid/?state=s{n}", server.base);
        async move { redirect_of(&http, &url).await }
    });
    let landed = join_all(starts).await;
    let to_provider = landed
        .iter()
        .filter(|url| url.starts_with(&provider.issuer))
        .count();
    let refused = landed
        .iter()
        .filter(|url| url.starts_with(&format!("{CONSUMER}?error=too_many_requests")))
        .count();
    assert_eq!((to_provider, refused), (4, 26), "{landed:#?}");
    assert!(server.terminate());
    let rows = {
        let connection = sea_orm::Database::connect(database.url.as_str()).await.unwrap();
        let row = sea_orm::ConnectionTrait::query_one_raw(
            &connection,
            sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT COUNT(*) AS n FROM tokens WHERE kind = 'openid_state'",
            ),
        )
        .await
        .unwrap()
        .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    };
    assert_eq!(rows, 5, "the warm-up and four of the burst stored a login");
    database.drop_database().await;
}
