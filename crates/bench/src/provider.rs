//! The OpenID Provider's scenario (10): introspection and userinfo at 16 and
//! 64 connections (ratios to the baseline), the token endpoint's code
//! exchange and refresh (each code and refresh token spent once, as clients
//! do), and a whole login through the hosted page (the form post that ends in
//! a code: a ratio to the raw argon2id rate).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use hyper::Method;

use crate::error::BenchError;
use crate::limen_process::LimenProcess;
use crate::load::{Answer, Call, CallSource, Client};
use crate::seed::{PASSWORD, SeededUser};

const CLIENT_ID: &str = "bench";
const CLIENT_SECRET: &str = "bench-client-secret";
const REDIRECT: &str = "https://bench.example/callback";
/// RFC 7636's example verifier and its S256 challenge.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A configuration file turning the provider on with one client.
pub fn config_file(dir: &Path) -> Result<PathBuf, BenchError> {
    let path = dir.join("bench-provider.toml");
    let text = format!(
        // Codes are made before they are exchanged: an hour to wait.
        "public_url = \"http://bench.invalid\"\n[oidc_provider]\nenabled = true\ncode_ttl_secs = 3600\n\
         [[oidc_provider.clients]]\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"{CLIENT_SECRET}\"\n\
         redirect_uris = [\"{REDIRECT}\"]\n"
    );
    std::fs::write(&path, text).map_err(BenchError::io(format!("cannot write {}", path.display())))?;
    Ok(path)
}

fn authorize_query() -> String {
    format!(
        "client_id={CLIENT_ID}&redirect_uri={}&response_type=code&scope=openid%20email%20profile&\
         code_challenge={CHALLENGE}&code_challenge_method=S256",
        "https%3A%2F%2Fbench.example%2Fcallback"
    )
}

/// The login form's hidden fields (CSRF token included), as the page has them.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input")
        .skip(1)
        .filter(|input| input.contains("type=\"hidden\""))
        .filter_map(|input| {
            let attribute = |name: &str| {
                input
                    .split(&format!("{name}=\""))
                    .nth(1)?
                    .split('"')
                    .next()
                    .map(|value| value.replace("&amp;", "&"))
            };
            Some((attribute("name")?, attribute("value")?))
        })
        .collect()
}

/// The page's hidden fields and the matching CSRF cookie.
pub async fn login_form(server: &LimenProcess) -> Result<(Vec<(String, String)>, String), BenchError> {
    let mut client = Client::new(server.address);
    let (status, page) = client
        .call(Call::get(&format!("/oidc/authorize?{}", authorize_query())))
        .await?;
    if status != 200 {
        return Err(BenchError::Setup(format!(
            "the provider's login page answered {status}"
        )));
    }
    let fields = hidden_fields(&String::from_utf8_lossy(&page));
    let csrf = fields
        .iter()
        .find(|(name, _)| name == "csrf")
        .map(|(_, value)| value.clone())
        .ok_or_else(|| BenchError::Setup("the login page has no CSRF token".into()))?;
    Ok((fields, format!("limen_oidc_csrf={csrf}")))
}

fn form_post(fields: &[(String, String)], cookie: &str, username: &str) -> Call {
    let mut form = fields.to_vec();
    form.push(("username".into(), username.into()));
    form.push(("password".into(), PASSWORD.into()));
    Call {
        method: Method::POST,
        path: "/oidc/authorize".into(),
        headers: vec![
            ("content-type", "application/x-www-form-urlencoded".into()),
            ("cookie", cookie.to_owned()),
        ],
        body: Bytes::from(serde_urlencoded::to_string(&form).unwrap_or_default()),
    }
}

/// A login through the page as the `n`-th user: 303 with a code.
pub fn form_login(
    users: Arc<Vec<SeededUser>>,
    fields: Arc<Vec<(String, String)>>,
    cookie: String,
) -> CallSource {
    Arc::new(move |n| form_post(&fields, &cookie, &users[n as usize % users.len()].username))
}

fn basic() -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    )
}

/// The code of a 303 to the client's redirect URI.
fn code_of(answer: &Answer) -> Result<String, BenchError> {
    answer
        .location
        .as_deref()
        .and_then(|location| {
            location
                .split(['?', '&'])
                .find_map(|pair| pair.strip_prefix("code="))
        })
        .filter(|_| answer.status == 303)
        .map(str::to_owned)
        .ok_or_else(|| BenchError::Setup(format!("the login page answered {}, not a code", answer.status)))
}

fn token_request(form: &[(&str, &str)]) -> Call {
    Call {
        method: Method::POST,
        path: "/oidc/token".into(),
        headers: vec![
            ("content-type", "application/x-www-form-urlencoded".into()),
            ("authorization", basic()),
        ],
        body: Bytes::from(serde_urlencoded::to_string(form).unwrap_or_default()),
    }
}

fn exchange_request(code: &str) -> Call {
    token_request(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ])
}

fn refresh_request(token: &str) -> Call {
    token_request(&[("grant_type", "refresh_token"), ("refresh_token", token)])
}

/// The token endpoint's answer to `call`, which must be a 200.
async fn tokens_of(client: &mut Client, call: Call) -> Result<serde_json::Value, BenchError> {
    let (status, body) = client.call(call).await?;
    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    if status != 200 {
        return Err(BenchError::Setup(format!(
            "the token endpoint answered {status}: {answer}"
        )));
    }
    Ok(answer)
}

/// Access tokens of `count` users, each from a login through the page and a
/// code exchange, as a relying party gets them.
pub async fn access_tokens(
    server: &LimenProcess,
    users: &[SeededUser],
    count: usize,
) -> Result<Vec<String>, BenchError> {
    let (fields, cookie) = login_form(server).await?;
    let mut client = Client::new(server.address);
    let mut tokens = Vec::with_capacity(count);
    for user in users.iter().take(count) {
        let answer = client
            .call_with_headers(form_post(&fields, &cookie, &user.username))
            .await?;
        let code = code_of(&answer)?;
        let answer = tokens_of(&mut client, exchange_request(&code)).await?;
        let token = answer["access_token"]
            .as_str()
            .ok_or_else(|| BenchError::Setup(format!("no access token in {answer}")))?;
        tokens.push(token.to_owned());
    }
    Ok(tokens)
}

/// `count` codes with `offline_access`, without a password: one login
/// through the page opens a browser session, whose cookie then answers
/// each authorization request with a code at once (single sign-on).
pub async fn codes(
    server: &LimenProcess,
    user: &SeededUser,
    count: usize,
) -> Result<Vec<String>, BenchError> {
    let (fields, cookie) = login_form(server).await?;
    let mut client = Client::new(server.address);
    let login = client
        .call_with_headers(form_post(&fields, &cookie, &user.username))
        .await?;
    let session = login
        .cookies
        .iter()
        .find(|cookie| cookie.starts_with("limen_oidc_session="))
        .cloned()
        .ok_or_else(|| BenchError::Setup("a login through the page set no session cookie".into()))?;
    let query = authorize_query().replace("scope=openid%20email%20profile", "scope=openid%20offline_access");
    let mut codes = Vec::with_capacity(count);
    for _ in 0..count {
        let answer = client
            .call_with_headers(
                Call::get(&format!("/oidc/authorize?{query}")).header("cookie", session.clone()),
            )
            .await?;
        codes.push(code_of(&answer)?);
    }
    Ok(codes)
}

/// A refresh token for each of `codes`, from its exchange.
pub async fn refresh_tokens(server: &LimenProcess, codes: &[String]) -> Result<Vec<String>, BenchError> {
    let mut client = Client::new(server.address);
    let mut tokens = Vec::with_capacity(codes.len());
    for code in codes {
        let answer = tokens_of(&mut client, exchange_request(code)).await?;
        let token = answer["refresh_token"]
            .as_str()
            .ok_or_else(|| BenchError::Setup(format!("no refresh token in {answer}")))?;
        tokens.push(token.to_owned());
    }
    Ok(tokens)
}

/// Each of `spendable` once, in order whatever the call's number (a code or
/// a refresh token is good once; the warm-up spends the first ones).
fn each_once(spendable: Arc<Vec<String>>, call: fn(&str) -> Call) -> CallSource {
    let next = Arc::new(AtomicUsize::new(0));
    Arc::new(move |_| {
        let index = next.fetch_add(1, Ordering::Relaxed);
        call(&spendable[index % spendable.len()])
    })
}

/// `POST /oidc/token`: each code exchanged once.
pub fn code_exchange(codes: Arc<Vec<String>>) -> CallSource {
    each_once(codes, exchange_request)
}

/// `POST /oidc/token`: each refresh token spent once (its rotation).
pub fn refresh(tokens: Arc<Vec<String>>) -> CallSource {
    each_once(tokens, refresh_request)
}

/// `POST /oidc/introspect` of the `n`-th token, as the client.
pub fn introspection(tokens: Arc<Vec<String>>) -> CallSource {
    Arc::new(move |n| {
        let body = serde_urlencoded::to_string([("token", tokens[n as usize % tokens.len()].as_str())])
            .unwrap_or_default();
        Call {
            method: Method::POST,
            path: "/oidc/introspect".into(),
            headers: vec![
                ("content-type", "application/x-www-form-urlencoded".into()),
                ("authorization", basic()),
            ],
            body: Bytes::from(body),
        }
    })
}

/// `GET /oidc/userinfo` with the `n`-th token.
pub fn userinfo(tokens: Arc<Vec<String>>) -> CallSource {
    Arc::new(move |n| {
        Call::get("/oidc/userinfo").header(
            "authorization",
            format!("Bearer {}", tokens[n as usize % tokens.len()]),
        )
    })
}
