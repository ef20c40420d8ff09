//! Limen as an OpenID Provider, driven by a relying party nobody here wrote:
//! Python's authlib (scripts/oidc-rp/authlib_rp.py) discovers the provider,
//! sends the browser to the login page, posts the password (and the second
//! factor), exchanges the code with PKCE, verifies the ID token against the
//! JWKS and reads userinfo; a replayed code is refused. Then what must never
//! go to an unverified address is shown on Limen's page, and the rest is
//! sent back to the client.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};

use crate::helpers::{Scratch, Server, free_port, python};

const PASSWORD: &str = "correct horse battery";
const REDIRECT: &str = "https://wiki.example/callback";

fn authlib_available() -> bool {
    crate::helpers::python_has("authlib, requests, joserfc", "Python's authlib")
}

fn serve(scratch: &Scratch, port: u16) -> (Server, String) {
    serve_with(scratch, port, "")
}

/// `serve` with more configuration (another user backend).
fn serve_with(scratch: &Scratch, port: u16, more: &str) -> (Server, String) {
    serve_configured(scratch, port, "", more)
}

/// `serve_with`, with more keys of `[oidc_provider]` too.
fn serve_configured(scratch: &Scratch, port: u16, provider: &str, more: &str) -> (Server, String) {
    let base = format!("http://127.0.0.1:{port}");
    let config = scratch.dir.join("limen.toml");
    std::fs::write(
        &config,
        format!(
            "public_url = \"{base}\"\n[oidc_provider]\nenabled = true\n{provider}\n\
             [[oidc_provider.clients]]\nclient_id = \"wiki\"\nclient_secret = \"wiki-s3cret\"\n\
             redirect_uris = [\"{REDIRECT}\"]\npost_logout_redirect_uris = [\"https://wiki.example/bye\"]\n\
             [[oidc_provider.clients]]\nclient_id = \"cli\"\nredirect_uris = [\"http://127.0.0.1/callback\"]\n\
             post_logout_redirect_uris = [\"http://127.0.0.1:40001/bye\"]\n\
             id_token_signed_response_alg = \"RS256\"\n{more}"
        ),
    )
    .unwrap();
    let mut command = scratch.command();
    command
        .env("LIMEN_CONFIG", &config)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")]);
    (Server::start(command), format!("{base}/oidc"))
}

fn relying_party(args: &[&str]) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/oidc-rp/authlib_rp.py");
    let output = python().arg(script).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "authlib_rp.py {args:?}:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr).replace("<p class=", "\n<p class=")
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Turns on TOTP for `username` through the flow dialect; the base32 key.
async fn enable_totp(base: &str, username: &str) -> String {
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{base}/authentication/login"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap();
    let me: Value = http
        .get(format!("{base}/authentication/user"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = me["id"].as_i64().unwrap();
    let enable = |body: Value| {
        http.post(format!("{base}/user/{id}/enable2fa"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let started: Value = enable(json!({"password": PASSWORD, "type": "TWO_FA_AUTHENTICATOR"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = started["key"].as_str().unwrap().to_owned();
    let code = Command::new("oathtool")
        .args(["--totp", "-b", &key])
        .output()
        .unwrap();
    let code = String::from_utf8(code.stdout).unwrap().trim().to_owned();
    let confirmed = enable(json!({"type": "TWO_FA_AUTHENTICATOR_ENABLING", "token": code}))
        .await
        .unwrap();
    assert!(confirmed.status().is_success(), "{}", confirmed.status());
    key
}

#[tokio::test]
async fn authlib_logs_users_in_through_the_hosted_page_and_verifies_what_it_gets() {
    if !authlib_available() {
        return;
    }
    let scratch = Scratch::new();
    scratch.add_user("ann", "ann@example.com", PASSWORD);
    scratch.add_user("bob", "bob@example.com", PASSWORD);
    let (server, issuer) = serve(&scratch, free_port());

    let ann = relying_party(&[&issuer, "wiki", "wiki-s3cret", REDIRECT, "ann", PASSWORD]);
    assert_eq!(ann["header"]["alg"], "ES256", "{ann}");
    assert_eq!(ann["claims"]["iss"], issuer.as_str());
    assert_eq!(ann["claims"]["aud"], "wiki");
    assert_eq!(ann["claims"]["amr"], json!(["pwd"]));
    assert_eq!(ann["userinfo"]["sub"], ann["claims"]["sub"]);
    assert_eq!(ann["userinfo"]["email"], "ann@example.com");
    assert_eq!(ann["userinfo"]["preferred_username"], "ann");
    assert_eq!(ann["replay"], "invalid_grant", "a code works once");
    assert_eq!(ann["introspected"]["active"], true, "{ann}");
    assert_eq!(ann["introspected"]["client_id"], "wiki");
    assert_eq!(ann["introspected"]["sub"], ann["claims"]["sub"]);
    assert_eq!(ann["revoked"], 200);
    assert_eq!(
        ann["after_revocation"],
        json!({"active": false}),
        "revoking the refresh token ended its access token"
    );
    assert_eq!(
        ann["reuse"], "invalid_grant",
        "a rotated refresh token works once"
    );
    assert_eq!(ann["token_type"], "Bearer");

    // A public client (PKCE, no secret) asking for RS256, on a loopback port
    // of the moment; a user with a second factor answers the code form (with
    // the next period's code: the current one was spent enrolling).
    let key = enable_totp(&server.base, "bob").await;
    let bob = relying_party(&[
        &issuer,
        "cli",
        "",
        "http://127.0.0.1:53682/callback",
        "bob",
        PASSWORD,
        &key,
        "1",
    ]);
    assert_eq!(bob["header"]["alg"], "RS256", "{bob}");
    assert_eq!(bob["claims"]["amr"], json!(["pwd", "otp"]));
    assert_eq!(bob["claims"]["acr"], "mfa");
    assert_eq!(
        bob["introspected"]["active"], true,
        "a public client introspects its own: {bob}"
    );
    assert_ne!(bob["claims"]["sub"], ann["claims"]["sub"]);
    assert!(server.terminate());
}

/// `access_token_format = "jwt"`: authlib's access token is an RFC 9068 JWT
/// that verifies against the JWKS as a resource server checks it, Limen's
/// userinfo and introspection accept it, and, as documented, revoking its
/// refresh token does not end it.
#[tokio::test]
async fn jwt_access_tokens_verify_with_the_jwks_and_outlive_a_revocation() {
    if !authlib_available() {
        return;
    }
    let scratch = Scratch::new();
    scratch.add_user("ann", "ann@example.com", PASSWORD);
    let (server, issuer) = serve_configured(&scratch, free_port(), "access_token_format = \"jwt\"", "");
    let ann = relying_party(&[&issuer, "wiki", "wiki-s3cret", REDIRECT, "ann", PASSWORD]);
    let access = &ann["access_token_jwt"];
    assert_eq!(access["header"]["typ"], "at+jwt", "{ann}");
    assert_eq!(access["header"]["alg"], "ES256");
    assert_eq!(access["claims"]["iss"], issuer.as_str());
    assert_eq!(access["claims"]["client_id"], "wiki");
    assert_eq!(access["claims"]["aud"], "wiki");
    assert_eq!(access["claims"]["sub"], ann["claims"]["sub"]);
    assert_eq!(access["claims"]["scope"], "openid profile email offline_access");
    assert_eq!(ann["userinfo"]["email"], "ann@example.com");
    assert_eq!(ann["introspected"]["active"], true, "{ann}");
    assert_eq!(ann["revoked"], 200);
    assert_eq!(
        ann["after_revocation"]["active"], true,
        "a JWT access token lives until it expires"
    );
    assert_eq!(ann["reuse"], "invalid_grant");
    assert!(server.terminate());
}

#[tokio::test]
async fn what_cannot_be_trusted_is_shown_and_the_rest_goes_back_to_the_client() {
    let scratch = Scratch::new();
    let port = free_port();
    let (server, issuer) = serve(&scratch, port);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let authorize = |query: &str| http.get(format!("{issuer}/authorize?{query}")).send();
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let good = format!(
        "client_id=wiki&redirect_uri={}&response_type=code&scope=openid&state=s1&code_challenge={challenge}&code_challenge_method=S256",
        "https%3A%2F%2Fwiki.example%2Fcallback"
    );
    for shown in [
        good.replace("client_id=wiki", "client_id=nobody"),
        good.replace("wiki.example", "evil.example"),
        good.replace("%2Fcallback", "%2Fcallback%3Fnext%3D1"),
    ] {
        let answer = authorize(&shown).await.unwrap();
        assert_eq!(answer.status().as_u16(), 400, "{shown}");
        assert!(answer.headers().get("location").is_none());
        assert!(answer.text().await.unwrap().contains("Cannot log in"));
    }
    for (query, error) in [
        (
            good.replace("response_type=code", "response_type=token"),
            "unsupported_response_type",
        ),
        (
            good.replace("code_challenge_method=S256", "code_challenge_method=plain"),
            "invalid_request",
        ),
        (format!("{good}&prompt=none"), "login_required"),
    ] {
        let answer = authorize(&query).await.unwrap();
        assert_eq!(answer.status().as_u16(), 303, "{query}");
        let location = answer.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            location.starts_with(&format!("{REDIRECT}?error={error}")),
            "{location}"
        );
        assert!(location.contains("state=s1"), "{location}");
        assert!(
            location.contains(&format!("iss={}", issuer.replace(':', "%3A").replace('/', "%2F"))),
            "{location}"
        );
    }
    // The page: labelled inputs named as documented, a CSRF cookie.
    let page = authorize(&good).await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let html = page.text().await.unwrap();
    for needle in [
        "name=\"username\"",
        "name=\"password\"",
        "<label for=\"password\">",
        "name=\"csrf\"",
    ] {
        assert!(html.contains(needle), "{needle} in {html}");
    }
    // A logout no client proved it asked for, with no session: nothing to end.
    let bye = http
        .get(format!(
            "{issuer}/end_session?post_logout_redirect_uri=https%3A%2F%2Fwiki.example%2Fbye"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bye.status().as_u16(), 200, "never redirected without a hint");
    assert!(bye.text().await.unwrap().contains("You are logged out"));
    // A form posted without the cookie's token is refused.
    let forged = http
        .post(format!("{issuer}/authorize"))
        .form(&[
            ("client_id", "wiki"),
            ("username", "ann"),
            ("password", PASSWORD),
            ("csrf", &"0".repeat(64)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    // The token endpoint: a wrong secret in Basic is a 401 with a challenge.
    let token = http
        .post(format!("{issuer}/token"))
        .basic_auth("wiki", Some("guess"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status().as_u16(), 401);
    assert!(token.headers().contains_key("www-authenticate"));
    assert_eq!(token.headers()["cache-control"], "no-store");
    let body: Value = token.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    let discovery: Value = http
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], issuer.as_str());
    let algs = discovery["id_token_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    assert!(
        algs.contains(&json!("RS256")) && algs.contains(&json!("ES256")),
        "{discovery}"
    );
    let jwks = async || -> Value {
        http.get(format!("{issuer}/jwks"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    };
    let published = jwks().await;
    for key in published["keys"].as_array().unwrap() {
        assert!(key.get("d").is_none() && key["kid"].is_string(), "{key}");
    }
    assert_eq!(
        published["keys"].as_array().unwrap().len(),
        2,
        "ES256 and RS256: {published}"
    );
    assert!(server.terminate());

    // The keys are kept (sealed in the database): a restart publishes the same.
    let (server, _) = serve(&scratch, port);
    let fresh: Value = reqwest::get(format!("{issuer}/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fresh, published);
    assert!(server.terminate());
}

/// The login page's hidden inputs, and the CSRF cookie's value.
/// The hidden inputs of the page's first form.
fn form_of(html: &str) -> Vec<(String, String)> {
    forms_of(html).into_iter().next().unwrap_or_default()
}

/// The hidden inputs of the page's form that has `name` = `value`.
fn form_with(html: &str, name: &str, value: &str) -> Vec<(String, String)> {
    forms_of(html)
        .into_iter()
        .find(|fields| fields.iter().any(|(n, v)| n == name && v == value))
        .unwrap_or_else(|| panic!("no form with {name}={value} in {html}"))
}

/// Each form's hidden inputs, in the page's order.
fn forms_of(html: &str) -> Vec<Vec<(String, String)>> {
    html.split("<form").skip(1).map(hidden_inputs).collect()
}

fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let html = html.split("</form>").next().unwrap_or_default();
    let mut fields = Vec::new();
    for input in html.split("<input").skip(1) {
        let attribute = |name: &str| {
            input
                .split(&format!("{name}=\""))
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .map(|value| value.replace("&amp;", "&").replace("&quot;", "\""))
        };
        if attribute("type").as_deref() == Some("hidden")
            && let (Some(name), Some(value)) = (attribute("name"), attribute("value"))
        {
            fields.push((name, value));
        }
    }
    fields
}

#[tokio::test]
async fn one_code_or_refresh_token_used_by_twenty_requests_at_once_gives_tokens_once() {
    use futures_util::future::join_all;

    use crate::helpers::Postgres;
    use crate::races::{PASSWORD as RACE_PASSWORD, add_user_with, http, server_on};

    let Some(database) = Postgres::create().await else {
        return;
    };
    let scratch = Scratch::new();
    add_user_with(&scratch, &database, "ann", &[]);
    let config = scratch.dir.join("provider.toml");
    std::fs::write(
        &config,
        format!(
            "public_url = \"https://login.example\"\n[oidc_provider]\nenabled = true\n\
             [[oidc_provider.clients]]\nclient_id = \"wiki\"\nclient_secret = \"wiki-s3cret\"\n\
             redirect_uris = [\"{REDIRECT}\"]\n"
        ),
    )
    .unwrap();
    let server = server_on(&scratch, &database, &[("LIMEN_CONFIG", config.to_str().unwrap())]);
    let http = http();
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let query = format!(
        "client_id=wiki&redirect_uri={}&response_type=code&scope=openid%20offline_access&state=s&\
         code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
        "https%3A%2F%2Fwiki.example%2Fcallback"
    );
    // A login through the page: its code.
    let code_of_a_login = async || {
        let page = http
            .get(format!("{}/oidc/authorize?{query}", server.base))
            .send()
            .await
            .unwrap();
        // The cookie is Secure (an https issuer): sent by hand over the test's http.
        let cookie = page.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let mut fields = form_of(&page.text().await.unwrap());
        fields.push(("username".into(), "ann".into()));
        fields.push(("password".into(), RACE_PASSWORD.into()));
        let answer = no_redirects
            .post(format!("{}/oidc/authorize", server.base))
            .header("cookie", cookie)
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 303, "{}", answer.text().await.unwrap());
        let location = answer.headers()["location"].to_str().unwrap().to_owned();
        location
            .split(['?', '&'])
            .find_map(|pair| pair.strip_prefix("code="))
            .unwrap()
            .to_owned()
    };
    let token_request = |form: Vec<(&'static str, String)>| {
        http.post(format!("{}/oidc/token", server.base))
            .basic_auth("wiki", Some("wiki-s3cret"))
            .form(&form)
            .send()
    };
    let exchange = |code: &str| {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", REDIRECT.to_owned()),
            ("code_verifier", verifier.to_owned()),
        ]
    };
    // Twenty requests at once with one form: exactly one answer with tokens.
    let race = async |form: Vec<(&'static str, String)>| -> Value {
        let answers = join_all((0..20).map(|_| token_request(form.clone()))).await;
        let mut statuses = Vec::new();
        let mut won = Value::Null;
        for answer in answers {
            let answer = answer.unwrap();
            statuses.push(answer.status().as_u16());
            if answer.status().as_u16() == 200 {
                won = answer.json().await.unwrap();
            }
        }
        assert_eq!(
            statuses.iter().filter(|status| **status == 200).count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses.iter().all(|status| [200, 400].contains(status)),
            "{statuses:?}"
        );
        won
    };
    let introspect = async |token: &str| -> Value {
        http.post(format!("{}/oidc/introspect", server.base))
            .basic_auth("wiki", Some("wiki-s3cret"))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    };

    let won = race(exchange(&code_of_a_login().await)).await;
    // The losers presented a spent code: what it gave the winner ended too.
    assert_eq!(
        introspect(won["access_token"].as_str().unwrap()).await["active"],
        false
    );
    assert_eq!(
        introspect(won["refresh_token"].as_str().unwrap()).await["active"],
        false
    );

    let tokens: Value = token_request(exchange(&code_of_a_login().await))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let won = race(vec![
        ("grant_type", "refresh_token".to_owned()),
        ("refresh_token", refresh),
    ])
    .await;
    // A spent refresh token presented again ends its family, the winner's new one too.
    assert_eq!(
        introspect(won["refresh_token"].as_str().unwrap()).await["active"],
        false
    );
    assert!(server.terminate());
    database.drop_database().await;
}

/// panva's openid-client (scripts/oidc-provider/relying-party.mjs), or `None`
/// with a notice where Node's packages are not installed (never under CI).
fn openid_client() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/oidc-provider");
    let installed = dir.join("node_modules/openid-client").exists()
        && Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|out| out.status.success());
    if !installed {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "openid-client is required when CI=true (scripts/services.sh installs it)"
        );
        eprintln!("NOTICE: Node's openid-client is missing (scripts/services.sh installs it); test skipped");
        return None;
    }
    Some(dir.join("relying-party.mjs"))
}

#[tokio::test]
async fn openid_client_logs_users_in_refreshes_introspects_and_revokes() {
    let Some(script) = openid_client() else {
        return;
    };
    let scratch = Scratch::new();
    scratch.add_user("cid", "cid@example.com", PASSWORD);
    scratch.add_user("dan", "dan@example.com", PASSWORD);
    let (server, issuer) = serve(&scratch, free_port());
    let run = |args: &[&str]| -> Value {
        let output = Command::new("node").arg(&script).args(args).output().unwrap();
        assert!(
            output.status.success(),
            "relying-party.mjs {args:?}:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    };
    for (who, answer) in [
        (
            "cid",
            run(&[&issuer, "wiki", "wiki-s3cret", REDIRECT, "cid", PASSWORD]),
        ),
        ("dan", {
            let key = enable_totp(&server.base, "dan").await;
            run(&[
                &issuer,
                "cli",
                "",
                "http://127.0.0.1:40001/callback",
                "dan",
                PASSWORD,
                &key,
                "1",
            ])
        }),
    ] {
        assert_eq!(answer["claims"]["iss"], issuer.as_str(), "{answer}");
        assert_eq!(answer["userinfo"]["email"], format!("{who}@example.com"));
        assert_eq!(answer["refreshedClaims"]["sub"], answer["claims"]["sub"]);
        assert_eq!(
            answer["refreshedClaims"]["auth_time"],
            answer["claims"]["auth_time"]
        );
        assert_eq!(answer["rotated"], true);
        assert_eq!(answer["introspected"]["active"], true);
        assert_eq!(answer["afterRevocation"]["active"], false);
        assert_eq!(answer["reuse"], "invalid_grant");
        // Single sign-on, then RP-initiated logout back to the client.
        assert_eq!(answer["sso"]["status"], 303);
        assert_eq!(answer["sso"]["claims"]["sub"], answer["claims"]["sub"]);
        assert_eq!(
            answer["sso"]["claims"]["auth_time"], answer["claims"]["auth_time"],
            "the login's time"
        );
        assert_eq!(answer["logout"]["status"], 303);
        let location = answer["logout"]["location"].as_str().unwrap();
        assert!(location.ends_with("/bye?state=after-logout"), "{location}");
        let after = answer["afterLogout"].as_str().unwrap();
        assert!(
            after.contains("error=login_required"),
            "no session after the logout: {after}"
        );
    }
    assert!(server.terminate());
}

#[tokio::test]
async fn users_of_an_ldap_directory_log_in_to_applications_too() {
    use limen_ldap::testing::{Entry, PEOPLE, SERVICE, SERVICE_PASSWORD, Slapd};
    if !authlib_available() || !Slapd::available() {
        return;
    }
    let slapd = Slapd::start().await;
    slapd
        .add_person(&Entry {
            uid: "eve",
            mail: "eve@example.org",
            employee_number: None,
            password: PASSWORD,
        })
        .await;
    let scratch = Scratch::new();
    let ldap = format!(
        "[users]\nbackend = \"ldap\"\n[users.ldap]\nurl = \"{}\"\nbind_dn = \"{SERVICE}\"\n\
         bind_password = \"{SERVICE_PASSWORD}\"\nbase_dn = \"{PEOPLE}\"\n",
        slapd.url
    );
    let (server, issuer) = serve_with(&scratch, free_port(), &ldap);
    let eve = relying_party(&[&issuer, "wiki", "wiki-s3cret", REDIRECT, "eve", PASSWORD]);
    assert_eq!(eve["userinfo"]["email"], "eve@example.org", "{eve}");
    assert_eq!(eve["userinfo"]["preferred_username"], "eve");
    assert!(server.terminate());
}

/// The login page as people see it: headless Chromium renders it at a
/// desktop's and a phone's width, and the refusal page at a phone's; the
/// screenshots are kept in target/screenshots/ for a person to look at.
#[test]
fn the_login_page_renders_on_a_desktop_and_a_phone() {
    use crate::bankid_demo::{chromium, which};
    let Some(binary) = which("chromium").or_else(|| which("chromium-browser")) else {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "chromium is required when CI=true"
        );
        eprintln!("NOTICE: chromium is not installed; test skipped");
        return;
    };
    let scratch = Scratch::new();
    // Every way in: BankID and an upstream provider (asked only once chosen).
    let (server, issuer) = serve_with(
        &scratch,
        free_port(),
        "[bankid]\nmode = \"simulator\"\n[[oidc.providers]]\nid = \"corp\"\nname = \"Corp SSO\"\n\
         issuer = \"http://127.0.0.1:9\"\nclient_id = \"limen\"\nclient_secret = \"s\"\n\
         [registration]\nsite_name = \"Exempel AB\"\n[branding]\naccent_color = \"#0b6e4f\"\n",
    );
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let login = format!(
        "{issuer}/authorize?client_id=wiki&redirect_uri=https%3A%2F%2Fwiki.example%2Fcallback&response_type=code&\
         scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
    );
    let refusal = format!("{issuer}/authorize?client_id=nobody");
    for (name, size, lang, url) in [
        ("oidc-login-desktop", "1280,800", "en", &login),
        ("oidc-login-phone", "390,844", "en", &login),
        ("oidc-login-desktop-sv", "1280,800", "sv-SE,sv", &login),
        ("oidc-login-phone-sv", "390,844", "sv-SE,sv", &login),
        ("oidc-refusal-phone", "390,844", "en", &refusal),
        ("oidc-refusal-phone-sv", "390,844", "sv", &refusal),
    ] {
        let file = shots.join(format!("{name}.png"));
        std::fs::remove_file(&file).ok();
        chromium(
            &binary,
            &scratch,
            &[
                &format!("--window-size={size}"),
                &format!("--accept-lang={lang}"),
                &format!("--screenshot={}", file.display()),
            ],
            url,
        );
        let png = std::fs::read(&file).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{name}");
        assert!(png.len() > 5_000, "{name} is nearly empty: {} bytes", png.len());
    }
    let dom = chromium(&binary, &scratch, &["--dump-dom"], &login);
    let dom = String::from_utf8_lossy(&dom.stdout);
    for needle in [
        "<label for=\"username\">",
        "<label for=\"password\">",
        "autocomplete=\"current-password\"",
        "name=\"viewport\"",
    ] {
        assert!(dom.contains(needle), "{needle} in {dom}");
    }
    let swedish = chromium(
        &binary,
        &scratch,
        &["--accept-lang=sv-SE,sv", "--dump-dom"],
        &login,
    );
    let swedish = String::from_utf8_lossy(&swedish.stdout);
    for needle in [
        "lang=\"sv\"",
        "Logga in",
        "Lösenord",
        "Användarnamn eller e-post",
        "Logga in med BankID",
        "Fortsätt med Corp SSO",
    ] {
        assert!(swedish.contains(needle), "{needle} in {swedish}");
    }
    assert!(server.terminate());
}

#[tokio::test]
async fn a_wrong_password_and_a_locked_account_are_told_on_the_page() {
    let scratch = Scratch::new();
    scratch.add_user("gus", "gus@example.com", PASSWORD);
    let (server, issuer) = serve(&scratch, free_port());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let query = "client_id=wiki&redirect_uri=https%3A%2F%2Fwiki.example%2Fcallback&response_type=code&scope=openid&\
                 code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";
    let page = http
        .get(format!("{issuer}/authorize?{query}"))
        .send()
        .await
        .unwrap();
    let cookie = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let fields = form_of(&page.text().await.unwrap());
    let attempt = |password: &str| {
        let mut form = fields.clone();
        form.push(("username".into(), "gus".into()));
        form.push(("password".into(), password.into()));
        http.post(format!("{issuer}/authorize"))
            .header("cookie", cookie.clone())
            .form(&form)
            .send()
    };
    for _ in 0..4 {
        let answer = attempt("wrong").await.unwrap();
        assert_eq!(answer.status().as_u16(), 401);
        let html = answer.text().await.unwrap();
        assert!(html.contains("Wrong username or password."), "{html}");
        assert!(html.contains("value=\"gus\""), "the username stays filled in");
    }
    let locked = attempt("wrong").await.unwrap().text().await.unwrap();
    assert!(locked.contains("Too many failed attempts"), "{locked}");
    let still = attempt(PASSWORD).await.unwrap();
    assert_eq!(still.status().as_u16(), 401, "locked: even the right password");
    assert!(still.text().await.unwrap().contains("Too many failed attempts"));
    assert!(server.terminate());
}

/// Users of a customer's table and of a Lime CRM log in to applications too:
/// the provider asks the configured directory like every login does.
#[tokio::test]
async fn users_of_a_customer_table_and_of_lime_crm_log_in_to_applications() {
    use limen_limecrm::testing::FakeLimeCrm;
    use limen_mapped_sql::testing::{Customer, CustomerDb};
    if !authlib_available() {
        return;
    }
    // The test password, hashed by Python's bcrypt (the crypto crate's fixtures).
    const BCRYPT: &str = "$2b$04$RFcTbAivmYtj1hol3nqyg.ujLgp7YtdtUoEH09.W7OHCbcFz2PQKq";
    let db = CustomerDb::sqlite().await;
    db.insert(&Customer {
        login: "Hal",
        mail: "hal@example.com",
        ssn: None,
        hash: Some(BCRYPT),
        active: true,
    })
    .await;
    let scratch = Scratch::new();
    let mapped = format!(
        "[users]\nbackend = \"mapped-sql\"\n[users.mapped_sql]\nurl = \"{}\"\ntable = \"customers\"\n\
         [users.mapped_sql.columns]\nid = \"customer_id\"\nusername = \"login\"\nemail = \"mail\"\n\
         password_hash = \"pw_hash\"\nenabled = \"active\"\n",
        db.url
    );
    let (server, issuer) = serve_with(&scratch, free_port(), &mapped);
    let hal = relying_party(&[&issuer, "wiki", "wiki-s3cret", REDIRECT, "hal", PASSWORD]);
    assert_eq!(hal["userinfo"]["email"], "hal@example.com", "{hal}");
    assert!(server.terminate());

    let crm = FakeLimeCrm::start("lime-key");
    crm.add(
        serde_json::json!({"username": "ida", "email": "ida@example.com", "firstname": "Ida",
        "lastname": "Lind", "passwordhash": BCRYPT, "inactive": false}),
    );
    let scratch = Scratch::new();
    let lime = format!(
        "[users]\nbackend = \"limecrm\"\n[users.limecrm]\nurl = \"{}\"\napi_key = \"lime-key\"\n\
         [users.limecrm.properties]\npassword_hash = \"passwordhash\"\n",
        crm.base
    );
    let (server, issuer) = serve_with(&scratch, free_port(), &lime);
    let ida = relying_party(&[&issuer, "wiki", "wiki-s3cret", REDIRECT, "ida", PASSWORD]);
    assert_eq!(ida["userinfo"]["email"], "ida@example.com", "{ida}");
    assert_eq!(ida["userinfo"]["name"], "Ida Lind");
    assert!(server.terminate());
}

#[tokio::test]
async fn operators_list_clients_rotate_keys_and_see_what_the_provider_issued() {
    let scratch = Scratch::new();
    scratch.add_user("ann", "ann@example.com", PASSWORD);
    let port = free_port();
    let (server, issuer) = serve(&scratch, port);
    let jwks = async || -> Value {
        reqwest::get(format!("{issuer}/jwks"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    };
    let kids = |set: &Value| -> Vec<String> {
        set["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|key| key["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    let before = kids(&jwks().await);
    assert!(server.terminate());

    let limen = |args: &[&str]| {
        let mut command = scratch.command();
        command.env("LIMEN_CONFIG", scratch.dir.join("limen.toml"));
        let output = crate::helpers::run_with(command, args, "");
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let clients = limen(&["oidc-provider", "clients"]);
    assert!(
        clients.contains("wiki\tconfidential\tES256\thttps://wiki.example/callback\t"),
        "{clients}"
    );
    assert!(clients.contains("cli\tpublic\tRS256\t"), "{clients}");
    let listed: Value = serde_json::from_str(&limen(&["oidc-provider", "clients", "--json"])).unwrap();
    assert_eq!(
        listed[0]["post_logout_redirect_uris"],
        json!(["https://wiki.example/bye"])
    );
    let rotated = limen(&["oidc-provider", "rotate-keys"]);
    assert_eq!(rotated.lines().count(), 2, "ES256 and RS256: {rotated}");

    let (server, _) = serve(&scratch, port);
    let after = kids(&jwks().await);
    assert_eq!(after.len(), 4, "two new keys and the two retired ones: {after:?}");
    assert!(
        before.iter().all(|kid| after.contains(kid)),
        "the retired keys are still published"
    );
    if authlib_available() {
        let ann = relying_party(&[&issuer, "wiki", "wiki-s3cret", REDIRECT, "ann", PASSWORD]);
        let kid = ann["header"]["kid"].as_str().unwrap();
        assert!(!before.iter().any(|old| old == kid), "signed with a new key");
        assert!(server.terminate());
        let tokens = limen(&["token", "list", "--user", "ann"]);
        assert!(tokens.contains("OpenID client wiki, access token"), "{tokens}");
        assert!(tokens.contains("OpenID client wiki, refresh token"), "{tokens}");
        assert!(tokens.contains("OpenID Provider browser session"), "{tokens}");
    } else {
        assert!(server.terminate());
    }
}

/// The hosted page's other ways in: BankID against the simulator (the
/// page's script's JSON collects, and the Continue button without script),
/// and a real upstream OpenID provider (scripts/oidc-provider) through
/// Limen's `/oauth2/authorize/` callback; each ends in a code the client
/// exchanges, with `amr` saying how.
#[tokio::test]
async fn bankid_and_an_upstream_provider_log_users_in_through_the_hosted_page() {
    use limen_oidc::testing::{Answer, TestClient, TestProvider, log_in};
    const NUMBER: &str = "199908072391";
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let callback = format!("{base}/oauth2/authorize/");
    let client = TestClient {
        id: "limen",
        secret: "upstream-s3cret",
        redirect_uri: &callback,
    };
    let Some(upstream) = TestProvider::start(&[client], "{}", false) else {
        return;
    };
    let scratch = Scratch::new();
    scratch.add_bankid_user("ann", "ann@example.com", NUMBER, PASSWORD);
    let logo = scratch.dir.join("logo.svg");
    std::fs::write(
        &logo,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\"/>",
    )
    .unwrap();
    let more = format!(
        "[bankid]\nmode = \"simulator\"\n[bankid.simulator]\npending_collects = 2\n\
         [[oidc.providers]]\nid = \"corp\"\nname = \"Corp SSO\"\nissuer = \"{issuer}\"\n\
         client_id = \"limen\"\nclient_secret = \"upstream-s3cret\"\nuserinfo = true\n\
         [branding]\nlogo_file = \"{logo}\"\naccent_color = \"#0b6e4f\"\n",
        issuer = upstream.issuer,
        logo = logo.display(),
    );
    let (server, issuer) = serve_with(&scratch, port, &more);
    let scripted = browser();
    let query = "client_id=wiki&redirect_uri=https%3A%2F%2Fwiki.example%2Fcallback&response_type=code&\
                 scope=openid%20email&state=s-1&nonce=n-1&\
                 code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";
    let exchange = |code: String| {
        let issuer = issuer.clone();
        async move { claims_of_code(&issuer, &code).await }
    };
    let code_of = |location: &str| {
        assert!(location.starts_with(REDIRECT), "{location}");
        assert!(location.contains("state=s-1"), "{location}");
        url_param(location, "code")
    };

    // The page offers both, in the operator's colours, with the logo.
    let page = page_of(&scripted, &format!("{issuer}/authorize?{query}")).await;
    for needle in [
        "Log in with BankID",
        "Continue with Corp SSO",
        "--accent: #0b6e4f",
        "<img src=\"/oidc/logo\" alt=\"Limen\">",
        "name=\"personal_number\"",
    ] {
        assert!(page.contains(needle), "{needle} in {page}");
    }
    let logo_answer = scripted.get(format!("{issuer}/logo")).send().await.unwrap();
    assert_eq!(logo_answer.headers()["content-type"], "image/svg+xml");

    // BankID, as the page's script drives it.
    let mut form = form_with(&page, "method", "bankid");
    form.push(("personal_number".into(), "19990807-2391".into()));
    let started = scripted
        .post(format!("{issuer}/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 200);
    let bankid_page = started.text().await.unwrap();
    assert!(
        bankid_page.contains("src=\"data:image/svg+xml;base64,"),
        "{bankid_page}"
    );
    assert!(
        bankid_page.contains("bankid:///?autostarttoken="),
        "{bankid_page}"
    );
    assert!(bankid_page.contains("<script src=\"/oidc/assets/bankid.js\" defer>"));
    let collect = form_with(&bankid_page, "method", "bankid_collect");
    let mut location = None;
    for _ in 0..10 {
        let answer: Value = scripted
            .post(format!("{issuer}/authorize"))
            .header("accept", "application/json")
            .form(&collect)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        match answer["status"].as_str() {
            Some("pending") => {
                assert!(
                    answer["qr"]
                        .as_str()
                        .unwrap()
                        .starts_with("data:image/svg+xml;base64,")
                );
                assert!(!answer["message"].as_str().unwrap().is_empty(), "{answer}");
            }
            Some("complete") => {
                location = Some(answer["location"].as_str().unwrap().to_owned());
                break;
            }
            _ => panic!("{answer}"),
        }
    }
    let claims = exchange(code_of(&location.expect("the order completed"))).await;
    assert_eq!(claims["amr"], json!(["bankid"]));
    assert_eq!(claims["acr"], "mfa");
    assert_eq!(claims["email"], "ann@example.com");
    // The order is spent: collecting it again starts over.
    let again: Value = scripted
        .post(format!("{issuer}/authorize"))
        .header("accept", "application/json")
        .form(&collect)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["status"], "failed", "{again}");

    // Without script: the Continue button collects once per press.
    let fresh = browser();
    let page = page_of(&fresh, &format!("{issuer}/authorize?{query}")).await;
    let mut form = form_with(&page, "method", "bankid");
    form.push(("personal_number".into(), NUMBER.into()));
    let mut shown = fresh
        .post(format!("{issuer}/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut redirected = None;
    for _ in 0..10 {
        let answer = fresh
            .post(format!("{issuer}/authorize"))
            .form(&form_with(&shown, "method", "bankid_collect"))
            .send()
            .await
            .unwrap();
        if answer.status() == 303 {
            redirected = Some(answer.headers()["location"].to_str().unwrap().to_owned());
            break;
        }
        shown = answer.text().await.unwrap();
        assert!(shown.contains("id=\"bankid-status\""), "{shown}");
    }
    let claims = exchange(code_of(&redirected.expect("the order completed"))).await;
    assert_eq!(claims["amr"], json!(["bankid"]));
    // A personal number nobody has is told on the page.
    let mut form = form_with(&page, "method", "bankid");
    form.push(("personal_number".into(), "not a number".into()));
    let refused = fresh
        .post(format!("{issuer}/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("not a Swedish personal identity number")
    );

    // The upstream provider: its login page, then Limen's callback.
    let corp = browser();
    let page = page_of(&corp, &format!("{issuer}/authorize?{query}")).await;
    let to_upstream = corp
        .post(format!("{issuer}/authorize"))
        .form(&form_with(&page, "provider", "corp"))
        .send()
        .await
        .unwrap();
    assert_eq!(to_upstream.status(), 303);
    let to_upstream = to_upstream.headers()["location"].to_str().unwrap().to_owned();
    assert!(to_upstream.starts_with(&upstream.issuer), "{to_upstream}");
    let back = log_in(&to_upstream, Answer::LogIn("ann")).await;
    assert!(back.starts_with(&callback), "{back}");
    let answer = corp.get(&back).send().await.unwrap();
    assert_eq!(answer.status(), 303, "{}", server.log.lock().unwrap());
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    let claims = exchange(code_of(&location)).await;
    assert_eq!(claims["amr"], json!(["fed"]));
    assert_eq!(claims["email"], "ann@example.com");
    // The browser now has a session with Limen: the next client needs no login.
    let sso = corp
        .get(format!("{issuer}/authorize?{query}"))
        .send()
        .await
        .unwrap();
    assert_eq!(sso.status(), 303);
    // A login refused at the provider comes back to Limen's page, not to the
    // client (in a browser without a session: `fresh` has one from BankID).
    let fresh = browser();
    let page = page_of(&fresh, &format!("{issuer}/authorize?{query}")).await;
    let to_upstream = fresh
        .post(format!("{issuer}/authorize"))
        .form(&form_with(&page, "provider", "corp"))
        .send()
        .await
        .unwrap();
    let cancelled = log_in(
        to_upstream.headers()["location"].to_str().unwrap(),
        Answer::Cancel,
    )
    .await;
    let answer = fresh.get(&cancelled).send().await.unwrap();
    assert_eq!(answer.status(), 401);
    assert!(
        answer
            .text()
            .await
            .unwrap()
            .contains("The login at the other service was not completed")
    );
    assert!(server.terminate());
}

/// A browser without script: a cookie jar, redirects not followed.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

/// The page at `url`, as `browser` gets it.
async fn page_of(browser: &reqwest::Client, url: &str) -> String {
    browser.get(url).send().await.unwrap().text().await.unwrap()
}

/// The ID token's claims of `code`, exchanged by the client `wiki` with
/// RFC 7636's example verifier (the challenge every page request here sends).
async fn claims_of_code(issuer: &str, code: &str) -> Value {
    let answer: Value = reqwest::Client::new()
        .post(format!("{issuer}/token"))
        .basic_auth("wiki", Some("wiki-s3cret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id_token = answer["id_token"].as_str().unwrap_or_else(|| panic!("{answer}"));
    let claims = id_token.split('.').nth(1).unwrap();
    let claims = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, claims).unwrap();
    serde_json::from_slice(&claims).unwrap()
}

/// The value of `name` in `url`'s query.
fn url_param(url: &str, name: &str) -> String {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

/// BankID on the login page in headless Chromium against the simulator
/// (scripts/browser/bankid.mjs, puppeteer-core): the page's script renews
/// the QR code and BankID's message while the order is pending, then
/// follows the login to the application, panva's openid-client, which
/// verifies the ID token. A screenshot of the BankID step on a phone, in
/// Swedish, is kept in target/screenshots/.
#[tokio::test]
async fn bankid_in_chromium_renews_the_qr_code_and_reaches_the_application() {
    use crate::bankid_demo::puppeteer;
    const NUMBER: &str = "199908072391";
    let Some((chromium, script_dir)) = puppeteer() else {
        return;
    };
    let scratch = Scratch::new();
    scratch.add_bankid_user("ann", "ann@example.com", NUMBER, PASSWORD);
    let (server, issuer) = serve_with(
        &scratch,
        free_port(),
        "[bankid]\nmode = \"simulator\"\n[bankid.simulator]\npending_collects = 3\n",
    );
    let base = issuer.trim_end_matches("/oidc").to_owned();
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let output = Command::new("node")
        .arg(script_dir.join("bankid.mjs"))
        .args([
            chromium.to_str().unwrap(),
            &base,
            "wiki",
            "wiki-s3cret",
            REDIRECT,
            NUMBER,
            shots.to_str().unwrap(),
            "sv",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "bankid.mjs: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.log.lock().unwrap()
    );
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    let codes = result["qrCodes"].as_array().unwrap();
    assert!(codes.len() >= 2, "the QR code was renewed: {result}");
    assert!(
        codes
            .iter()
            .all(|code| code.as_str().unwrap().starts_with("data:image/svg+xml;base64,"))
    );
    assert!(
        result["messages"].to_string().contains("BankID"),
        "BankID's messages, in Swedish: {result}"
    );
    assert_eq!(result["claims"]["amr"], json!(["bankid"]));
    assert_eq!(result["claims"]["email"], "ann@example.com");
    assert!(server.terminate());
}
