//! Passkeys through the JSON API, with a software authenticator nobody here
//! wrote (Yubico's python-fido2 data structures and pyca/cryptography keys:
//! scripts/passkeys/authenticator.py): registration by a flow session, a
//! discoverable login answered as a flow login, and what must be refused: a
//! replayed assertion, a spent challenge, another session finishing a
//! registration, a wrong origin or relying party, a user handle that is not
//! the owner's, a cloned authenticator. Then twenty parallel finishes of one
//! challenge on PostgreSQL: one logs in.

use std::path::PathBuf;

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{Postgres, Scratch, Server, free_port, python};

const PASSWORD: &str = "correct horse battery";

fn fido2_available() -> bool {
    crate::helpers::python_has("fido2, cryptography", "python-fido2")
}

/// The software authenticator's answer to `args`.
fn authenticator(args: &[&str]) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/passkeys/authenticator.py");
    let output = python().arg(script).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "authenticator.py {}: {}",
        args[0],
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A passkey the software authenticator holds.
struct Held {
    key: String,
    id: String,
    user: String,
}

impl Held {
    /// An assertion for `options` from `origin` with `counter` (and another
    /// relying party's id when `rp_id` is given).
    fn assert(&self, options: &Value, origin: &str, counter: u32, rp_id: Option<&str>) -> Value {
        let options = options.to_string();
        let counter = counter.to_string();
        let mut args = vec!["get", &options, origin, &self.key, &self.id, &self.user, &counter];
        if let Some(rp_id) = rp_id {
            args.push(rp_id);
        }
        authenticator(&args)
    }
}

/// `limen serve` on `port` with passkeys for `http://localhost:<port>`.
fn serve(scratch: &Scratch, port: u16, env: &[(&str, &str)]) -> Server {
    let mut command = scratch.command();
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("LIMEN_PUBLIC_URL", format!("http://localhost:{port}"))
        .env("LIMEN_PASSKEYS__ENABLED", "true");
    for (name, value) in env {
        command.env(name, value);
    }
    Server::start(command)
}

async fn flow_login(http: &reqwest::Client, base: &str, name: &str) -> String {
    let answer: Value = http
        .post(format!("{base}/authentication/login"))
        .json(&json!({"username": name, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"))
        .to_owned()
}

async fn post(http: &reqwest::Client, url: String, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = http.post(url).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let answer = request.send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

/// Registers a passkey named `name` for the session `token`.
async fn register(http: &reqwest::Client, base: &str, origin: &str, token: &str, name: &str) -> Held {
    let (status, started) = post(
        http,
        format!("{base}/passkeys/registration/options"),
        Some(token),
        &json!({}),
    )
    .await;
    assert_eq!(status, 200, "{started}");
    let created = authenticator(&["create", &started["publicKey"].to_string(), origin]);
    let body = json!({"ceremony": started["ceremony"], "name": name, "credential": created["credential"]});
    let (status, registered) = post(http, format!("{base}/passkeys/registration"), Some(token), &body).await;
    assert_eq!(status, 201, "{registered}");
    assert_eq!(registered["name"], name);
    Held {
        key: created["key"].as_str().unwrap().to_owned(),
        id: created["id"].as_str().unwrap().to_owned(),
        user: created["user"].as_str().unwrap().to_owned(),
    }
}

/// Login options: the ceremony and its `publicKey`.
async fn login_options(http: &reqwest::Client, base: &str) -> (String, Value) {
    let (status, started) = post(
        http,
        format!("{base}/passkeys/authentication/options"),
        None,
        &json!({}),
    )
    .await;
    assert_eq!(status, 200, "{started}");
    assert_eq!(started["publicKey"]["userVerification"], "required");
    (
        started["ceremony"].as_str().unwrap().to_owned(),
        started["publicKey"].clone(),
    )
}

async fn log_in(http: &reqwest::Client, base: &str, ceremony: &str, credential: &Value) -> (u16, Value) {
    post(
        http,
        format!("{base}/passkeys/authentication"),
        None,
        &json!({"ceremony": ceremony, "credential": credential}),
    )
    .await
}

#[tokio::test]
async fn a_software_authenticator_registers_and_logs_in_and_what_does_not_hold_is_refused() {
    if !fido2_available() {
        return;
    }
    let scratch = Scratch::new();
    scratch.add_user("ann", "ann@example.com", PASSWORD);
    scratch.add_user("bob", "bob@example.com", PASSWORD);
    let port = free_port();
    let server = serve(&scratch, port, &[]);
    let (base, origin) = (server.base.clone(), format!("http://localhost:{port}"));
    let http = reqwest::Client::new();
    let ann = flow_login(&http, &base, "ann").await;

    // Registration: the options ask for a discoverable credential with user
    // verification, and only the session that began it finishes it.
    let (status, started) = post(
        &http,
        format!("{base}/passkeys/registration/options"),
        Some(&ann),
        &json!({}),
    )
    .await;
    assert_eq!(status, 200, "{started}");
    let options = &started["publicKey"];
    assert_eq!(options["rp"]["id"], "localhost");
    assert_eq!(options["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(options["authenticatorSelection"]["userVerification"], "required");
    let (status, _) = post(
        &http,
        format!("{base}/passkeys/registration/options"),
        None,
        &json!({}),
    )
    .await;
    assert_eq!(status, 401, "no session");
    let created = authenticator(&["create", &options.to_string(), &origin]);
    let body =
        json!({"ceremony": started["ceremony"], "name": "Laptop", "credential": created["credential"]});
    let bob = flow_login(&http, &base, "bob").await;
    let second_ann = flow_login(&http, &base, "ann").await;
    for other in [&bob, &second_ann] {
        let (status, refused) =
            post(&http, format!("{base}/passkeys/registration"), Some(other), &body).await;
        assert_eq!(status, 401, "another session: {refused}");
    }
    let (status, registered) = post(&http, format!("{base}/passkeys/registration"), Some(&ann), &body).await;
    assert_eq!(status, 201, "{registered}");
    assert_eq!(registered["name"], "Laptop");
    assert!(registered["id"].as_i64().is_some());
    let (status, again) = post(&http, format!("{base}/passkeys/registration"), Some(&ann), &body).await;
    assert_eq!(status, 401, "a spent ceremony: {again}");
    let held = Held {
        key: created["key"].as_str().unwrap().to_owned(),
        id: created["id"].as_str().unwrap().to_owned(),
        user: created["user"].as_str().unwrap().to_owned(),
    };

    // A login without a username answers a flow token.
    let (ceremony, options) = login_options(&http, &base).await;
    let assertion = held.assert(&options, &origin, 1, None);
    let (status, answer) = log_in(&http, &base, &ceremony, &assertion).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["needsSecondToken"], false);
    let user: Value = http
        .get(format!("{base}/authentication/user"))
        .bearer_auth(answer["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(user["username"], "ann", "{user}");
    let (status, replay) = log_in(&http, &base, &ceremony, &assertion).await;
    assert_eq!(
        (status, replay["code"].as_u64()),
        (401, Some(401)),
        "a replayed assertion: {replay}"
    );
    assert!(
        replay["message"].as_str().unwrap().contains("ceremony"),
        "{replay}"
    );
    let (fresh, _) = login_options(&http, &base).await;
    let (status, _) = log_in(&http, &base, &fresh, &assertion).await;
    assert_eq!(status, 401, "an assertion of another challenge");

    // Another origin, another relying party, another user's handle.
    let (ceremony, options) = login_options(&http, &base).await;
    let elsewhere = held.assert(&options, "http://localhost:1", 2, None);
    assert_eq!(
        log_in(&http, &base, &ceremony, &elsewhere).await.0,
        401,
        "wrong origin"
    );
    let (ceremony, options) = login_options(&http, &base).await;
    let other_party = held.assert(&options, &origin, 3, Some("evil.example"));
    assert_eq!(
        log_in(&http, &base, &ceremony, &other_party).await.0,
        401,
        "wrong rp id"
    );
    let (ceremony, options) = login_options(&http, &base).await;
    let not_the_owner = Held {
        user: "AAAAAAAAQACAAAAAAAAAAA".into(),
        ..Held {
            key: held.key.clone(),
            id: held.id.clone(),
            user: String::new(),
        }
    };
    let foreign = not_the_owner.assert(&options, &origin, 4, None);
    assert_eq!(
        log_in(&http, &base, &ceremony, &foreign).await.0,
        401,
        "a user handle not the owner's"
    );

    // A cloned authenticator: the counter goes back after 5.
    let (ceremony, options) = login_options(&http, &base).await;
    assert_eq!(
        log_in(&http, &base, &ceremony, &held.assert(&options, &origin, 5, None))
            .await
            .0,
        200
    );
    let (ceremony, options) = login_options(&http, &base).await;
    let (status, cloned) = log_in(&http, &base, &ceremony, &held.assert(&options, &origin, 3, None)).await;
    assert_eq!(status, 401, "{cloned}");
    let log = server.log.lock().unwrap().clone();
    assert!(log.contains("sign counter went back"), "{log}");
    let metrics = http
        .get(format!("{}/metrics", server.management))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "limen_logins_total{dialect=\"passkeys\",method=\"passkey\",outcome=\"success\"} 2",
        "limen_logins_total{dialect=\"passkeys\",method=\"passkey\",outcome=\"passkey_refused\"}",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
    assert!(server.terminate());

    // The audit trail has the registration and the refusals; the user's passkeys show.
    let audit = scratch.ok(&["audit", "--json", "--limit", "1000"], "");
    let refusals = audit
        .lines()
        .filter(|line| line.contains("passkey_refused"))
        .count();
    assert!(refusals >= 4, "{audit}");
    let registered: Vec<&str> = audit
        .lines()
        .filter(|line| line.contains("passkey.registered"))
        .collect();
    assert_eq!(registered.len(), 1, "{audit}");
    let shown = scratch.ok(&["user", "show", "ann"], "");
    assert!(shown.contains("Laptop"), "{shown}");
}

#[tokio::test]
async fn twenty_parallel_finishes_of_one_challenge_on_postgresql_log_in_once() {
    if !fido2_available() {
        return;
    }
    let Some(database) = Postgres::create().await else {
        return;
    };
    let scratch = Scratch::new();
    let port = free_port();
    let env = [
        ("LIMEN_DATABASE_URL", database.url.as_str()),
        (
            "LIMEN_SECRETS_KEY",
            "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
        ),
        ("LIMEN_RATE_LIMIT__LOGIN_FAILURES_PER_ADDRESS", "100000"),
    ];
    let mut add = scratch.command();
    for (name, value) in env {
        add.env(name, value);
    }
    crate::helpers::run_with(
        add,
        &[
            "user",
            "add",
            "--username",
            "ann",
            "--email",
            "ann@example.com",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    );
    let server = serve(&scratch, port, &env);
    let (base, origin) = (server.base.clone(), format!("http://localhost:{port}"));
    let http = crate::races::http();
    let token = flow_login(&http, &base, "ann").await;
    let held = register(&http, &base, &origin, &token, "Phone").await;
    let (ceremony, options) = login_options(&http, &base).await;
    let assertion = held.assert(&options, &origin, 1, None);
    let answers = join_all((0..20).map(|_| log_in(&http, &base, &ceremony, &assertion))).await;
    let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    assert_eq!(
        statuses.iter().filter(|status| **status == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|status| **status == 401).count(),
        19,
        "{statuses:?}"
    );
    assert!(server.terminate());
    database.drop_database().await;
}

/// Passkeys in headless Chromium with the DevTools protocol's virtual
/// authenticator (scripts/browser/passkeys.mjs, puppeteer-core): a passkey
/// added on the account page after a password login, a logout, then the
/// hosted login page's "Sign in with a passkey" and, in a fresh browser, its
/// autofill, each for an application that is panva's openid-client, which
/// exchanges the code and verifies the ID token; its claims say how (`amr`
/// hwk and user, `acr` mfa). Screenshots of the account page and
/// of the login page with the button are kept in target/screenshots/.
#[tokio::test]
async fn chromium_adds_a_passkey_on_the_account_page_and_logs_in_by_button_and_by_autofill() {
    use crate::bankid_demo::puppeteer;
    let Some((chromium, script_dir)) = puppeteer() else {
        return;
    };
    let scratch = Scratch::new();
    scratch.add_user("ann", "ann@example.com", PASSWORD);
    let port = free_port();
    let origin = format!("http://localhost:{port}");
    let redirect = "https://wiki.example/callback";
    let config = scratch.dir.join("limen.toml");
    std::fs::write(
        &config,
        format!(
            "public_url = \"{origin}\"\n[passkeys]\nenabled = true\n[oidc_provider]\nenabled = true\n\
             [[oidc_provider.clients]]\nclient_id = \"wiki\"\nclient_secret = \"wiki-s3cret\"\n\
             redirect_uris = [\"{redirect}\"]\n"
        ),
    )
    .unwrap();
    let mut command = scratch.command();
    command
        .env("LIMEN_CONFIG", &config)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")]);
    let server = Server::start(command);
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let output = std::process::Command::new("node")
        .arg(script_dir.join("passkeys.mjs"))
        .args([
            chromium.to_str().unwrap(),
            &origin,
            "wiki",
            "wiki-s3cret",
            redirect,
            "ann",
            PASSWORD,
            shots.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "passkeys.mjs: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.log.lock().unwrap()
    );
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        result["registered"]["listed"],
        json!(["This browser"]),
        "{result}"
    );
    assert_eq!(result["stored"][0]["rpId"], "localhost");
    assert_eq!(
        result["stored"][0]["isResidentCredential"], true,
        "a discoverable credential"
    );
    assert_eq!(result["autocomplete"], "username webauthn");
    // openid-client verified each ID token (signature, issuer, audience,
    // nonce, state, RFC 9207's iss); here is how the user logged in.
    for arrived in ["byButton", "byAutofill"] {
        let claims = &result[arrived];
        assert_eq!(claims["amr"], json!(["hwk", "user"]), "{arrived}: {result}");
        assert_eq!(claims["acr"], "mfa");
        assert_eq!(claims["email"], "ann@example.com");
    }
    let shown = scratch.ok(&["user", "show", "ann"], "");
    assert!(shown.contains("This browser (added"), "{shown}");
    assert!(server.terminate());
}

/// Users of a read-only customer table and of an LDAP directory register and
/// use passkeys too: the passkeys are Limen's, keyed by its account, and the
/// customer's directory is left exactly as it was.
#[tokio::test]
async fn users_of_a_read_only_table_and_of_ldap_log_in_with_passkeys_and_their_directories_stay_unchanged() {
    use limen_ldap::testing::{Entry, PEOPLE, SERVICE, SERVICE_PASSWORD, Slapd};
    use limen_mapped_sql::testing::{Customer, CustomerDb};
    if !fido2_available() || !Slapd::available() {
        return;
    }
    // The test password, hashed by Python's bcrypt (the crypto crate's fixtures).
    const BCRYPT: &str = "$2b$04$RFcTbAivmYtj1hol3nqyg.ujLgp7YtdtUoEH09.W7OHCbcFz2PQKq";
    let db = CustomerDb::sqlite().await;
    db.insert(&Customer {
        login: "hal",
        mail: "hal@example.com",
        ssn: None,
        hash: Some(BCRYPT),
        active: true,
    })
    .await;
    let slapd = Slapd::start().await;
    slapd
        .add_person(&Entry {
            uid: "eve",
            mail: "eve@example.org",
            employee_number: None,
            password: PASSWORD,
        })
        .await;
    let backends = [
        (
            "hal",
            format!(
                "[users]\nbackend = \"mapped-sql\"\n[users.mapped_sql]\nurl = \"{}\"\ntable = \"customers\"\n\
                 [users.mapped_sql.columns]\nid = \"customer_id\"\nusername = \"login\"\nemail = \"mail\"\n\
                 password_hash = \"pw_hash\"\nenabled = \"active\"\n",
                db.url
            ),
        ),
        (
            "eve",
            format!(
                "[users]\nbackend = \"ldap\"\n[users.ldap]\nurl = \"{}\"\nbind_dn = \"{SERVICE}\"\n\
                 bind_password = \"{SERVICE_PASSWORD}\"\nbase_dn = \"{PEOPLE}\"\n",
                slapd.url
            ),
        ),
    ];
    let (table_before, directory_before) = (db.snapshot().await, slapd.dump());
    for (name, backend) in backends {
        let scratch = Scratch::new();
        let config = scratch.dir.join("limen.toml");
        std::fs::write(&config, backend).unwrap();
        let port = free_port();
        let server = serve(&scratch, port, &[("LIMEN_CONFIG", config.to_str().unwrap())]);
        let (base, origin) = (server.base.clone(), format!("http://localhost:{port}"));
        let http = reqwest::Client::new();
        let token = flow_login(&http, &base, name).await;
        let held = register(&http, &base, &origin, &token, "Key").await;
        let (ceremony, options) = login_options(&http, &base).await;
        let (status, answer) =
            log_in(&http, &base, &ceremony, &held.assert(&options, &origin, 1, None)).await;
        assert_eq!(status, 200, "{name}: {answer}");
        let user: Value = http
            .get(format!("{base}/authentication/user"))
            .bearer_auth(answer["token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(user["username"], name, "{user}");
        assert!(server.terminate());
    }
    assert_eq!(
        db.snapshot().await,
        table_before,
        "the customer's table is unchanged"
    );
    assert_eq!(slapd.dump(), directory_before, "the directory is unchanged");
}
