//! The relying party against a real, certified OpenID provider on localhost
//! (panva's oidc-provider, `scripts/oidc-provider`), logged in without a browser.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use limen_domain::model::{OpenIdError, OpenIdRequest};
use limen_domain::ports::OpenIdProvider;
use limen_oidc::testing::{Answer, TestClient, TestProvider, log_in, query_param};
use limen_oidc::{OidcConfig, OidcProvider};

const REDIRECT: &str = "http://127.0.0.1:9/oauth2/authorize/";
const SECRET: &str = "limen-client-secret";

fn start(accounts: &str, id_token_claims: bool) -> Option<TestProvider> {
    TestProvider::start(
        &[TestClient {
            id: "limen",
            secret: SECRET,
            redirect_uri: REDIRECT,
        }],
        accounts,
        id_token_claims,
    )
}

fn relying_party(issuer: &str, userinfo: bool) -> OidcProvider {
    OidcProvider::new(OidcConfig {
        issuer: issuer.to_owned(),
        client_id: "limen".into(),
        client_secret: Some(SECRET.into()),
        redirect_uri: REDIRECT.into(),
        scopes: vec!["openid".into(), "email".into(), "profile".into()],
        userinfo,
        timeout: Duration::from_secs(10),
        ca_pem: None,
    })
    .unwrap()
}

/// Logs in as `login`; the request and the callback's code.
async fn code_for(rp: &OidcProvider, login: &str) -> (OpenIdRequest, String) {
    let request = rp.authorization_request("limen-state-1").await.unwrap();
    let callback = log_in(&request.url, Answer::LogIn(login)).await;
    assert!(callback.starts_with(REDIRECT), "{callback}");
    assert_eq!(query_param(&callback, "state").as_deref(), Some("limen-state-1"));
    let code = query_param(&callback, "code").unwrap_or_else(|| panic!("no code in {callback}"));
    (request, code)
}

#[tokio::test]
async fn the_authorization_request_carries_state_nonce_and_an_s256_challenge() {
    let Some(provider) = start("{}", false) else {
        return;
    };
    let rp = relying_party(&provider.issuer, false);
    let request = rp.authorization_request("limen-state-1").await.unwrap();
    assert!(
        request.url.starts_with(&format!("{}/auth?", provider.issuer)),
        "{}",
        request.url
    );
    for (name, expected) in [
        ("response_type", Some("code")),
        ("client_id", Some("limen")),
        ("redirect_uri", Some(REDIRECT)),
        ("state", Some("limen-state-1")),
        ("code_challenge_method", Some("S256")),
    ] {
        assert_eq!(query_param(&request.url, name).as_deref(), expected, "{name}");
    }
    assert_eq!(query_param(&request.url, "nonce"), Some(request.nonce.clone()));
    let scope = query_param(&request.url, "scope").unwrap();
    assert_eq!(scope.split(' ').filter(|s| *s == "openid").count(), 1, "{scope}");
    assert!(scope.contains("email") && scope.contains("profile"), "{scope}");
    assert!(request.pkce_verifier.len() >= 43);
    assert!(
        !request.url.contains(&request.pkce_verifier),
        "the verifier stays here"
    );
}

#[tokio::test]
async fn a_login_yields_the_verified_subject_and_the_userinfo_claims() {
    let Some(provider) = start(r#"{"ann": {"email": "ann@example.org"}}"#, false) else {
        return;
    };
    let rp = relying_party(&provider.issuer, true);
    let (request, code) = code_for(&rp, "ann").await;
    let identity = rp
        .identify(&code, &request.nonce, &request.pkce_verifier)
        .await
        .unwrap();
    assert_eq!(identity.subject, "ann");
    assert_eq!(identity.claim("email"), Some("ann@example.org"));
    assert_eq!(identity.claim("email_verified"), Some("true"));
    assert_eq!(identity.claim("preferred_username"), Some("ann"));
    assert_eq!(identity.claim("given_name"), Some("Ann"));
}

#[tokio::test]
async fn without_userinfo_only_the_id_token_s_claims_count() {
    let Some(provider) = start("{}", false) else {
        return;
    };
    let rp = relying_party(&provider.issuer, false);
    let (request, code) = code_for(&rp, "ann").await;
    let identity = rp
        .identify(&code, &request.nonce, &request.pkce_verifier)
        .await
        .unwrap();
    assert_eq!(identity.subject, "ann");
    assert_eq!(
        identity.claim("email"),
        None,
        "oidc-provider keeps it for userinfo"
    );

    let Some(generous) = start("{}", true) else {
        return;
    };
    let rp = relying_party(&generous.issuer, false);
    let (request, code) = code_for(&rp, "bo").await;
    let identity = rp
        .identify(&code, &request.nonce, &request.pkce_verifier)
        .await
        .unwrap();
    assert_eq!(identity.claim("email"), Some("bo@example.com"));
}

#[tokio::test]
async fn a_wrong_nonce_is_refused() {
    let Some(provider) = start("{}", false) else {
        return;
    };
    let rp = relying_party(&provider.issuer, false);
    let (request, code) = code_for(&rp, "ann").await;
    let err = rp
        .identify(&code, "another-nonce", &request.pkce_verifier)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, OpenIdError::InvalidIdToken(reason) if reason.contains("nonce")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_code_works_once_and_only_with_its_verifier() {
    let Some(provider) = start("{}", false) else {
        return;
    };
    let rp = relying_party(&provider.issuer, false);
    let (request, code) = code_for(&rp, "ann").await;
    let err = rp
        .identify(
            &code,
            &request.nonce,
            "a-verifier-that-is-long-enough-to-be-plausible-0123456789",
        )
        .await
        .unwrap_err();
    assert_eq!(err, OpenIdError::CodeRefused("invalid_grant".into()));

    let (request, code) = code_for(&rp, "ann").await;
    rp.identify(&code, &request.nonce, &request.pkce_verifier)
        .await
        .unwrap();
    let replay = rp
        .identify(&code, &request.nonce, &request.pkce_verifier)
        .await
        .unwrap_err();
    assert_eq!(replay, OpenIdError::CodeRefused("invalid_grant".into()));
}

#[tokio::test]
async fn cancelling_at_the_provider_comes_back_as_access_denied() {
    let Some(provider) = start("{}", false) else {
        return;
    };
    let rp = relying_party(&provider.issuer, false);
    let request = rp.authorization_request("limen-state-2").await.unwrap();
    let callback = log_in(&request.url, Answer::Cancel).await;
    assert!(callback.starts_with(REDIRECT), "{callback}");
    assert_eq!(query_param(&callback, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(&callback, "state").as_deref(), Some("limen-state-2"));
}

#[tokio::test]
async fn a_provider_that_is_down_is_unavailable_and_a_wrong_issuer_is_caught() {
    let rp = relying_party("http://127.0.0.1:9", false);
    let err = rp.authorization_request("s").await.unwrap_err();
    assert!(matches!(err, OpenIdError::Unavailable(_)), "{err:?}");

    let Some(provider) = start("{}", false) else {
        return;
    };
    // The discovery document names another issuer than the one configured.
    let rp = relying_party(&format!("{}/", provider.issuer), false);
    let err = rp.authorization_request("s").await.unwrap_err();
    assert!(
        matches!(&err, OpenIdError::Unavailable(reason) if reason.contains("issuer")),
        "{err:?}"
    );
}
