//! ID tokens a real provider would not issue (a foreign signature, another
//! audience or issuer, expired, HS256 with the client secret, `alg: none`, a
//! substituted access token), from a provider this test plays: discovery, key
//! set and token endpoint over HTTP, tokens signed by the test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use limen_domain::model::OpenIdError;
use limen_domain::ports::OpenIdProvider;
use limen_oidc::{OidcConfig, OidcProvider};
use openidconnect::core::{
    CoreEdDsaPrivateSigningKey, CoreGenderClaim, CoreJsonWebKey, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AccessToken, Audience, EndUserEmail, IdTokenClaims, IssuerUrl, JsonWebKeyId, Nonce, PrivateSigningKey,
    StandardClaims, SubjectIdentifier,
};
use serde::Serialize;

const CLIENT: &str = "limen";
const SECRET: &str = "limen-client-secret-of-32-bytes!";
const NONCE: &str = "the-nonce";
const ACCESS_TOKEN: &str = "access-token-1";

/// What the played provider serves.
#[derive(Default)]
struct Scene {
    keys: Vec<CoreJsonWebKey>,
    id_token: Option<String>,
    key_fetches: usize,
}

struct PlayedProvider {
    issuer: String,
    scene: Arc<Mutex<Scene>>,
    handle: actix_web::dev::ServerHandle,
}

impl PlayedProvider {
    async fn start() -> Self {
        let scene = Arc::new(Mutex::new(Scene::default()));
        let issuer = Arc::new(Mutex::new(String::new()));
        let (scene_data, issuer_data) = (scene.clone(), issuer.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::from(scene_data.clone()))
                .app_data(web::Data::from(issuer_data.clone()))
                .route("/.well-known/openid-configuration", web::get().to(discovery))
                .route("/jwks", web::get().to(jwks))
                .route("/token", web::post().to(token))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let base = format!("http://{}", server.addrs()[0]);
        *issuer.lock().unwrap() = base.clone();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            issuer: base,
            scene,
            handle,
        }
    }

    fn relying_party(&self) -> OidcProvider {
        OidcProvider::new(OidcConfig {
            issuer: self.issuer.clone(),
            client_id: CLIENT.into(),
            client_secret: Some(SECRET.into()),
            redirect_uri: "http://127.0.0.1:9/oauth2/authorize/".into(),
            scopes: vec![],
            userinfo: false,
            timeout: Duration::from_secs(5),
            ca_pem: None,
        })
        .unwrap()
    }

    fn publish(&self, keys: &[&CoreEdDsaPrivateSigningKey]) {
        self.scene.lock().unwrap().keys = keys.iter().map(|key| key.as_verification_key()).collect();
    }

    fn answer_with(&self, id_token: Option<String>) {
        self.scene.lock().unwrap().id_token = id_token;
    }

    fn key_fetches(&self) -> usize {
        self.scene.lock().unwrap().key_fetches
    }

    /// Discovers the provider, answers with `id_token`, and identifies.
    async fn identify(&self, rp: &OidcProvider, id_token: Option<String>) -> Result<String, OpenIdError> {
        rp.authorization_request("state").await?;
        self.answer_with(id_token);
        rp.identify("code-1", NONCE, "verifier-of-the-pkce-challenge-0123456789abcdef")
            .await
            .map(|identity| identity.subject)
    }
}

impl Drop for PlayedProvider {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

async fn discovery(issuer: web::Data<Mutex<String>>) -> HttpResponse {
    let issuer = issuer.lock().unwrap().clone();
    HttpResponse::Ok().json(serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        // HS256 is declared too: Limen must still not accept it.
        "id_token_signing_alg_values_supported": ["EdDSA", "HS256"],
    }))
}

async fn jwks(scene: web::Data<Mutex<Scene>>) -> HttpResponse {
    let mut scene = scene.lock().unwrap();
    scene.key_fetches += 1;
    HttpResponse::Ok().json(serde_json::json!({ "keys": scene.keys }))
}

async fn token(scene: web::Data<Mutex<Scene>>) -> HttpResponse {
    let scene = scene.lock().unwrap();
    let mut body = serde_json::json!({
        "access_token": ACCESS_TOKEN,
        "token_type": "Bearer",
        "expires_in": 300,
    });
    if let Some(id_token) = &scene.id_token {
        body["id_token"] = serde_json::Value::String(id_token.clone());
    }
    HttpResponse::Ok().json(body)
}

/// An Ed25519 key from a seed, as the PKCS#8 PEM openidconnect reads.
fn key(seed: u8, kid: &str) -> CoreEdDsaPrivateSigningKey {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    ];
    der.extend([seed; 32]);
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(der)
    );
    CoreEdDsaPrivateSigningKey::from_ed25519_pem(&pem, Some(JsonWebKeyId::new(kid.into()))).unwrap()
}

/// Claims of a token for `audience` from `issuer`, expiring in `lifetime_secs`.
fn claims(issuer: &str, audience: &str, lifetime_secs: i64) -> IdTokenClaims<Extra, CoreGenderClaim> {
    let now = Utc::now();
    IdTokenClaims::new(
        IssuerUrl::new(issuer.into()).unwrap(),
        vec![Audience::new(audience.into())],
        now + chrono::Duration::seconds(lifetime_secs),
        now - chrono::Duration::seconds(5),
        StandardClaims::new(SubjectIdentifier::new("ann".into()))
            .set_email(Some(EndUserEmail::new("ann@example.com".into()))),
        Extra {
            employee_id: "E-17".into(),
        },
    )
    .set_nonce(Some(Nonce::new(NONCE.into())))
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
struct Extra {
    employee_id: String,
}

impl openidconnect::AdditionalClaims for Extra {}

fn signed(claims: IdTokenClaims<Extra, CoreGenderClaim>, key: &CoreEdDsaPrivateSigningKey) -> String {
    let token = CoreIdTokenSigned::new(
        claims,
        key,
        CoreJwsSigningAlgorithm::EdDsa,
        Some(&AccessToken::new(ACCESS_TOKEN.into())),
        None,
    )
    .unwrap();
    serde_json::to_value(&token).unwrap().as_str().unwrap().to_owned()
}

type CoreIdTokenSigned = openidconnect::IdToken<
    Extra,
    CoreGenderClaim,
    openidconnect::core::CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// A compact JWT with `header` and the claims of `claims`, signed by `sign`.
fn hand_made(
    header: &str,
    claims: &IdTokenClaims<Extra, CoreGenderClaim>,
    sign: impl Fn(&[u8]) -> Vec<u8>,
) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap())
    );
    let signature = sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn is_invalid(result: &Result<String, OpenIdError>, mentioning: &str) -> bool {
    matches!(result, Err(OpenIdError::InvalidIdToken(reason)) if reason.to_lowercase().contains(mentioning))
}

#[actix_web::test]
async fn a_well_signed_token_passes_and_keeps_custom_claims() {
    let provider = PlayedProvider::start().await;
    let a = key(1, "a");
    provider.publish(&[&a]);
    let rp = provider.relying_party();
    rp.authorization_request("state").await.unwrap();
    provider.answer_with(Some(signed(claims(&provider.issuer, CLIENT, 300), &a)));
    let identity = rp
        .identify("code-1", NONCE, "verifier-of-the-pkce-challenge-0123456789abcdef")
        .await
        .unwrap();
    assert_eq!(identity.subject, "ann");
    assert_eq!(identity.claim("email"), Some("ann@example.com"));
    assert_eq!(identity.claim("employee_id"), Some("E-17"));
}

#[actix_web::test]
async fn a_foreign_signature_another_audience_or_issuer_and_expiry_are_refused() {
    let provider = PlayedProvider::start().await;
    let (a, mallory) = (key(1, "a"), key(2, "a"));
    provider.publish(&[&a]);
    let rp = provider.relying_party();
    let issuer = provider.issuer.clone();
    let cases = [
        ("signature", signed(claims(&issuer, CLIENT, 300), &mallory)),
        ("audience", signed(claims(&issuer, "another-client", 300), &a)),
        ("issuer", signed(claims("http://127.0.0.1:1", CLIENT, 300), &a)),
        ("expired", signed(claims(&issuer, CLIENT, -60), &a)),
    ];
    for (what, token) in cases {
        let result = provider.identify(&rp, Some(token)).await;
        assert!(is_invalid(&result, what), "{what}: {result:?}");
    }
    assert!(is_invalid(&provider.identify(&rp, None).await, "no id token"));
}

#[actix_web::test]
async fn hs256_with_the_client_secret_and_alg_none_are_refused() {
    let provider = PlayedProvider::start().await;
    let a = key(1, "a");
    provider.publish(&[&a]);
    let rp = provider.relying_party();
    let claims = claims(&provider.issuer, CLIENT, 300);
    let hs256 = hand_made(r#"{"alg":"HS256"}"#, &claims, |input| {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(input);
        mac.finalize().into_bytes().to_vec()
    });
    let result = provider.identify(&rp, Some(hs256)).await;
    assert!(is_invalid(&result, "alg"), "{result:?}");
    let none = hand_made(r#"{"alg":"none"}"#, &claims, |_| Vec::new());
    let result = provider.identify(&rp, Some(none)).await;
    assert!(
        matches!(result, Err(OpenIdError::InvalidIdToken(_))),
        "{result:?}"
    );
}

#[actix_web::test]
async fn a_token_for_another_access_token_is_refused() {
    let provider = PlayedProvider::start().await;
    let a = key(1, "a");
    provider.publish(&[&a]);
    let rp = provider.relying_party();
    let token: CoreIdTokenSigned = CoreIdTokenSigned::new(
        claims(&provider.issuer, CLIENT, 300),
        &a,
        CoreJwsSigningAlgorithm::EdDsa,
        Some(&AccessToken::new("someone-else's-access-token".into())),
        None,
    )
    .unwrap();
    let compact = serde_json::to_value(&token).unwrap().as_str().unwrap().to_owned();
    let result = provider.identify(&rp, Some(compact)).await;
    assert!(is_invalid(&result, "at_hash"), "{result:?}");
}

#[actix_web::test]
async fn a_rotated_key_is_fetched_once_when_a_token_names_it() {
    let provider = PlayedProvider::start().await;
    let (a, b) = (key(1, "a"), key(3, "b"));
    provider.publish(&[&a]);
    let rp = provider.relying_party();
    rp.authorization_request("state").await.unwrap();
    assert_eq!(provider.key_fetches(), 1, "discovery fetches the keys");
    provider.publish(&[&b]);
    let subject = provider
        .identify(&rp, Some(signed(claims(&provider.issuer, CLIENT, 300), &b)))
        .await
        .unwrap();
    assert_eq!(subject, "ann");
    assert_eq!(provider.key_fetches(), 2, "the new key was fetched");
    // A key nobody publishes: refused, without fetching again so soon.
    let c = key(4, "c");
    for _ in 0..3 {
        let result = provider
            .identify(&rp, Some(signed(claims(&provider.issuer, CLIENT, 300), &c)))
            .await;
        assert!(
            matches!(result, Err(OpenIdError::InvalidIdToken(_))),
            "{result:?}"
        );
    }
    assert_eq!(provider.key_fetches(), 2, "no fetch within the interval");
}

#[test]
fn the_played_provider_s_claims_are_json() {
    // Guards the hand-made tokens above: claims serialise with the custom one.
    let claims = claims("http://issuer", CLIENT, 300);
    let json = serde_json::to_value(&claims).unwrap();
    assert_eq!(json["employee_id"], "E-17");
    assert_eq!(json["nonce"], NONCE);
}
