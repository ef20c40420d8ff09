//! The `lime` dialect's OpenID login against a real OpenID provider on
//! localhost (panva's oidc-provider), the browser's part played without one:
//! `GET /login/openid/` to the provider, its login pages, the callback on
//! `GET /oauth2/authorize/`, and the signed payload the consumer receives.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;
use limen_crypto::{EdDsaSigner, Hs256Signer};
use limen_domain::ports::{OpenIdProvider, PayloadSigner};
use limen_domain::services::{
    IdentityMatch, OpenIdProviderPolicy, OpenIdSettings, PayloadSettings, Settings,
};
use limen_http::HttpSettings;
use limen_oidc::testing::{Answer as Browser, TestClient, TestProvider, log_in, query_param};
use limen_oidc::{OidcConfig, OidcProvider};
use serde_json::Value;

use crate::helpers::{Answer, TestApp};

const REDIRECT: &str = "https://limen.test/oauth2/authorize/";
const CONSUMER: &str = "https://portal.example/login/done";
const OTHER_CONSUMER: &str = "https://intranet.example/cb?from=limen";
const PAYLOAD_KEY: &str = "a-payload-key-of-at-least-32-bytes!!";

struct World {
    app: TestApp,
    provider: TestProvider,
}

fn policy(id: &str, issuer: &str) -> OpenIdProviderPolicy {
    OpenIdProviderPolicy {
        id: id.into(),
        name: id.into(),
        issuer: issuer.into(),
        claim: "email".into(),
        match_by: IdentityMatch::Email,
        require_verified_email: true,
        create_users: false,
        second_factor: false,
    }
}

fn relying_party(issuer: &str) -> Arc<dyn OpenIdProvider> {
    Arc::new(
        OidcProvider::new(OidcConfig {
            issuer: issuer.into(),
            client_id: "limen".into(),
            client_secret: Some("secret".into()),
            redirect_uri: REDIRECT.into(),
            scopes: vec!["email".into(), "profile".into()],
            userinfo: true,
            timeout: Duration::from_secs(10),
            ca_pem: None,
        })
        .unwrap(),
    )
}

/// A world whose payloads are signed by `signer`, carrying an access token
/// of an hour when `token`.
async fn world_with(signer: Arc<dyn PayloadSigner>, token: bool) -> Option<World> {
    let provider = TestProvider::start(
        &[TestClient {
            id: "limen",
            secret: "secret",
            redirect_uri: REDIRECT,
        }],
        "{}",
        false,
    )?;
    let domain = Settings {
        openid: OpenIdSettings {
            providers: vec![policy("idp", &provider.issuer)],
            consumer_urls: vec![CONSUMER.into(), OTHER_CONSUMER.into()],
            payload: PayloadSettings {
                issuer: "https://limen.test".into(),
                ttl: chrono::Duration::minutes(2),
                user_fields: limen_domain::model::UserFields::default(),
                token_ttl: token.then(|| chrono::Duration::hours(1)),
            },
        },
        ..Settings::default()
    };
    let mut providers = BTreeMap::new();
    providers.insert("idp".to_owned(), relying_party(&provider.issuer));
    let app = TestApp::with_openid(HttpSettings::default(), domain, providers, signer).await;
    Some(World { app, provider })
}

async fn world() -> Option<World> {
    world_with(Arc::new(Hs256Signer::new(PAYLOAD_KEY.as_bytes()).unwrap()), false).await
}

fn location(answer: &Answer) -> String {
    assert_eq!(answer.status, StatusCode::FOUND, "{}", answer.text());
    assert_eq!(answer.headers.get("cache-control").unwrap(), "no-store");
    assert_eq!(answer.headers.get("referrer-policy").unwrap(), "no-referrer");
    answer
        .headers
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

async fn get(app: &TestApp, uri: &str) -> Answer {
    app.send(TestRequest::get().uri(uri)).await
}

/// The browser's trip: Limen, the provider's login as `login`, and back to
/// Limen's callback; the path and query the provider sent the browser to.
async fn trip(world: &World, start: &str, login: &str) -> String {
    let to_provider = location(&get(&world.app, start).await);
    assert!(to_provider.starts_with(&world.provider.issuer), "{to_provider}");
    let callback = log_in(&to_provider, Browser::LogIn(login)).await;
    callback
        .strip_prefix("https://limen.test")
        .unwrap_or_else(|| panic!("not Limen's callback: {callback}"))
        .to_owned()
}

/// Verifies an HS256 compact JWS with the payload key; its claims.
fn verified_hs256(jws: &str) -> Value {
    let (input, signature) = jws.rsplit_once('.').unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(PAYLOAD_KEY.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    mac.verify_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap())
        .expect("the payload's signature holds");
    let (header, claims) = input.split_once('.').unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    assert_eq!(header["alg"], "HS256");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap()
}

#[actix_web::test]
async fn a_login_returns_to_the_consumer_with_a_signed_payload_for_it_alone() {
    let Some(world) = world().await else {
        return;
    };
    let ann = world.app.add_user("ann").await;
    let callback = trip(&world, "/login/openid/?state=portal-state-1", "ann").await;
    let back = location(&get(&world.app, &callback).await);
    assert!(back.starts_with(&format!("{CONSUMER}?payload=")), "{back}");
    let payload = verified_hs256(&query_param(&back, "payload").unwrap());
    assert_eq!(payload["state"], "portal-state-1");
    assert_eq!(
        payload["user"],
        serde_json::json!({"_id": ann.id.0, "firstname": "Ann", "lastname": "Andersson", "email": "ann@example.com"})
    );
    let exp = payload["exp"].as_i64().unwrap();
    assert_eq!(exp - payload["iat"].as_i64().unwrap(), 120);
    assert_eq!(payload["iss"], "https://limen.test");
    assert_eq!(payload["aud"], CONSUMER);
    assert!(payload["jti"].as_str().is_some_and(|jti| jti.len() >= 32));
    // No access token travels in the URL unless the operator asks for it.
    assert_eq!(payload.get("token"), None, "{payload}");

    // The same callback again: the login is spent.
    let replay = location(&get(&world.app, &callback).await);
    assert_eq!(replay, format!("{CONSUMER}?error=invalid_state"));
}

#[actix_web::test]
async fn with_include_token_the_payload_carries_a_working_access_token() {
    let signer = Arc::new(Hs256Signer::new(PAYLOAD_KEY.as_bytes()).unwrap());
    let Some(world) = world_with(signer, true).await else {
        return;
    };
    world.app.add_user("ann").await;
    let callback = trip(&world, "/login/openid/?state=portal-state-1", "ann").await;
    let back = location(&get(&world.app, &callback).await);
    let payload = verified_hs256(&query_param(&back, "payload").unwrap());
    let token = payload["token"].as_str().unwrap();
    let me = world
        .app
        .send(
            TestRequest::get()
                .uri("/authentication/user")
                .insert_header(("Authorization", format!("Bearer {token}"))),
        )
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text());
}

#[actix_web::test]
async fn the_consumer_chooses_among_the_allowed_urls_only() {
    let Some(world) = world().await else {
        return;
    };
    world.app.add_user("ann").await;
    let start = format!("/login/openid/?state=s2&redirect={}", urlencode(OTHER_CONSUMER));
    let callback = trip(&world, &start, "ann").await;
    let back = location(&get(&world.app, &callback).await);
    assert!(back.starts_with(&format!("{OTHER_CONSUMER}&payload=")), "{back}");

    let refused = get(
        &world.app,
        &format!(
            "/login/openid/?state=s3&redirect={}",
            urlencode("https://evil.example/cb")
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.json()["success"], false);
    assert!(refused.headers.get("location").is_none());
}

#[actix_web::test]
async fn failures_go_back_to_the_consumer_with_their_code() {
    let Some(world) = world().await else {
        return;
    };
    world.app.add_user("ann").await;
    let app = &world.app;
    assert_eq!(
        location(&get(app, "/login/openid/?state=s&provider=nope").await),
        format!("{CONSUMER}?error=unknown_provider&state=s")
    );
    assert_eq!(
        location(&get(app, "/login/openid/").await),
        format!("{CONSUMER}?error=invalid_request")
    );
    // Nobody has this address.
    let callback = trip(&world, "/login/openid/?state=s4", "zoe").await;
    assert_eq!(
        location(&get(app, &callback).await),
        format!("{CONSUMER}?error=unknown_user&state=s4")
    );
    // Cancelled at the provider.
    let to_provider = location(&get(app, "/login/openid/?state=s5").await);
    let callback = log_in(&to_provider, Browser::Cancel).await;
    let callback = callback.strip_prefix("https://limen.test").unwrap();
    assert_eq!(
        location(&get(app, callback).await),
        format!("{CONSUMER}?error=provider_error&provider_error=access_denied&state=s5")
    );
}

#[actix_web::test]
async fn a_tampered_or_expired_state_never_logs_in() {
    let Some(world) = world().await else {
        return;
    };
    world.app.add_user("ann").await;
    let callback = trip(&world, "/login/openid/?state=s6", "ann").await;
    let own_state = query_param(&format!("https://x{callback}"), "state").unwrap();
    let tampered = callback.replace(&own_state, &format!("{own_state}x"));
    assert_eq!(
        location(&get(&world.app, &tampered).await),
        format!("{CONSUMER}?error=invalid_state")
    );
    let callback = trip(&world, "/login/openid/?state=s7", "ann").await;
    world.app.clock.advance(11 * 60);
    assert_eq!(
        location(&get(&world.app, &callback).await),
        format!("{CONSUMER}?error=invalid_state")
    );
}

#[actix_web::test]
async fn eddsa_payloads_name_the_key_limen_publishes() {
    let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n";
    let Some(world) = world_with(Arc::new(EdDsaSigner::from_pem(pem).unwrap()), false).await else {
        return;
    };
    world.app.add_user("ann").await;
    let keys = get(&world.app, "/oidc/payload-key").await;
    assert_eq!(keys.status, StatusCode::OK);
    let jwk = keys.json()["keys"][0].clone();
    assert_eq!(jwk["kty"], "OKP");
    assert_eq!(jwk["x"], "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
    let callback = trip(&world, "/login/openid/?state=s8", "ann").await;
    let back = location(&get(&world.app, &callback).await);
    let jws = query_param(&back, "payload").unwrap();
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jws.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["kid"], jwk["kid"]);
}

#[actix_web::test]
async fn without_providers_the_endpoints_are_not_there() {
    let app = TestApp::new().await;
    for uri in [
        "/login/openid/?state=s",
        "/oauth2/authorize/?state=s&code=c",
        "/oidc/payload-key",
    ] {
        let answer = get(&app, uri).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(answer.json()["success"], false, "{uri}");
    }
}

fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("x", text)]).unwrap()[2..].to_owned()
}

/// The provider's discovery says its callbacks carry `iss` (RFC 9207), as
/// panva's oidc-provider's does: a callback without one is refused (a mix-up
/// attack would strip it), and the code is never exchanged.
#[actix_web::test]
async fn a_callback_without_the_iss_its_provider_promises_is_refused() {
    let Some(world) = world().await else {
        return;
    };
    world.app.add_user("ann").await;
    let callback = trip(&world, "/login/openid/?state=portal-state-1", "ann").await;
    let (path, query) = callback.split_once('?').unwrap();
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.starts_with("iss="))
        .collect();
    assert!(
        kept.len() < query.split('&').count(),
        "the provider sent iss: {callback}"
    );
    let stripped = format!("{path}?{}", kept.join("&"));
    let back = location(&get(&world.app, &stripped).await);
    assert_eq!(
        back,
        format!("{CONSUMER}?error=invalid_id_token&state=portal-state-1")
    );
}
