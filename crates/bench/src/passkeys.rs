//! The passkey scenario (11): logins with passkeys (no argon2 involved) at
//! 4 and 16 connections, against the baseline and the password login rate.
//! Each login finishes a ceremony started beforehand with an assertion
//! signed beforehand: a ceremony is good once, as a browser uses it. The
//! authenticator here is the bench's own (P-256 keys from ring, the WebAuthn
//! structures written out): the tests check Limen against independent ones.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use hyper::Method;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::BenchError;
use crate::limen_process::LimenProcess;
use crate::load::{Call, CallSource, Client};
use crate::seed::{PASSWORD, SeededUser};

/// Limen's public URL in this scenario: passkeys need a domain.
pub fn public_url(port: u16) -> String {
    format!("http://localhost:{port}")
}

/// A passkey of the bench's authenticator.
pub struct Passkey {
    key: EcdsaKeyPair,
    id: Vec<u8>,
    user: Vec<u8>,
    origin: String,
}

fn json_call(path: &str, token: Option<&str>, body: &Value) -> Call {
    let mut headers = vec![("content-type", "application/json".to_owned())];
    if let Some(token) = token {
        headers.push(("authorization", format!("Bearer {token}")));
    }
    Call {
        method: Method::POST,
        path: path.into(),
        headers,
        body: Bytes::from(body.to_string()),
    }
}

async fn answer(client: &mut Client, call: Call, expected: u16) -> Result<Value, BenchError> {
    let path = call.path.clone();
    let (status, body) = client.call(call).await?;
    let value: Value = serde_json::from_slice(&body).unwrap_or_default();
    if status != expected {
        return Err(BenchError::Setup(format!("{path} answered {status}: {value}")));
    }
    Ok(value)
}

fn decode(text: &str) -> Result<Vec<u8>, BenchError> {
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|err| BenchError::Setup(format!("not base64url: {err}")))
}

/// CBOR's head of major type `major` with `argument`.
fn head(out: &mut Vec<u8>, major: u8, argument: usize) {
    let major = major << 5;
    match argument {
        0..=23 => out.push(major | argument as u8),
        24..=0xff => out.extend([major | 24, argument as u8]),
        _ => {
            out.push(major | 25);
            out.extend((argument as u16).to_be_bytes());
        }
    }
}

fn text(out: &mut Vec<u8>, value: &str) {
    head(out, 3, value.len());
    out.extend(value.as_bytes());
}

fn bytes(out: &mut Vec<u8>, value: &[u8]) {
    head(out, 2, value.len());
    out.extend(value);
}

/// The COSE form of an uncompressed P-256 public key (RFC 9053, ES256).
fn cose_key(public: &[u8]) -> Vec<u8> {
    let mut out = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
    bytes(&mut out, &public[1..33]);
    out.push(0x22);
    bytes(&mut out, &public[33..65]);
    out
}

fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
    json!({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false})
        .to_string()
        .into_bytes()
}

impl Passkey {
    /// Registers a passkey for `user` through the JSON API.
    pub async fn register(
        server: &LimenProcess,
        origin: &str,
        user: &SeededUser,
    ) -> Result<Self, BenchError> {
        let mut client = Client::new(server.address);
        let login = answer(
            &mut client,
            json_call(
                "/authentication/login",
                None,
                &json!({"username": user.username, "password": PASSWORD}),
            ),
            200,
        )
        .await?;
        let token = login["token"].as_str().unwrap_or_default().to_owned();
        let started = answer(
            &mut client,
            json_call("/passkeys/registration/options", Some(&token), &json!({})),
            200,
        )
        .await?;
        let options = &started["publicKey"];
        let random = SystemRandom::new();
        let setup = |err: ring::error::Unspecified| BenchError::Setup(format!("P-256 key: {err}"));
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &random).map_err(setup)?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &random)
            .map_err(|err| BenchError::Setup(format!("P-256 key: {err}")))?;
        let id: Vec<u8> = Sha256::digest(user.username.as_bytes()).to_vec();
        let rp_id = options["rp"]["id"].as_str().unwrap_or_default();
        let mut auth_data = Sha256::digest(rp_id.as_bytes()).to_vec();
        // User present, user verified, attested credential data.
        auth_data.push(0x45);
        auth_data.extend(0u32.to_be_bytes());
        auth_data.extend([0u8; 16]);
        auth_data.extend((id.len() as u16).to_be_bytes());
        auth_data.extend(&id);
        auth_data.extend(cose_key(key.public_key().as_ref()));
        let mut attestation = vec![0xa3];
        text(&mut attestation, "fmt");
        text(&mut attestation, "none");
        text(&mut attestation, "attStmt");
        attestation.push(0xa0);
        text(&mut attestation, "authData");
        bytes(&mut attestation, &auth_data);
        let challenge = options["challenge"].as_str().unwrap_or_default();
        let credential = json!({
            "id": URL_SAFE_NO_PAD.encode(&id),
            "rawId": URL_SAFE_NO_PAD.encode(&id),
            "type": "public-key",
            "response": {
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data("webauthn.create", challenge, origin)),
                "attestationObject": URL_SAFE_NO_PAD.encode(&attestation),
            },
            "clientExtensionResults": {},
        });
        answer(
            &mut client,
            json_call(
                "/passkeys/registration",
                Some(&token),
                &json!({"ceremony": started["ceremony"], "name": "bench", "credential": credential}),
            ),
            201,
        )
        .await?;
        Ok(Self {
            key,
            id,
            user: decode(options["user"]["id"].as_str().unwrap_or_default())?,
            origin: origin.to_owned(),
        })
    }

    /// An assertion for the login options `options`, with `counter`.
    fn assert(&self, options: &Value, counter: u32) -> Result<Value, BenchError> {
        let rp_id = options["rpId"].as_str().unwrap_or_default();
        let mut auth_data = Sha256::digest(rp_id.as_bytes()).to_vec();
        auth_data.push(0x05);
        auth_data.extend(counter.to_be_bytes());
        let client_data = client_data(
            "webauthn.get",
            options["challenge"].as_str().unwrap_or_default(),
            &self.origin,
        );
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let signature = self
            .key
            .sign(&SystemRandom::new(), &signed)
            .map_err(|err| BenchError::Setup(format!("signing: {err}")))?;
        Ok(json!({
            "id": URL_SAFE_NO_PAD.encode(&self.id),
            "rawId": URL_SAFE_NO_PAD.encode(&self.id),
            "type": "public-key",
            "response": {
                "clientDataJSON": URL_SAFE_NO_PAD.encode(&client_data),
                "authenticatorData": URL_SAFE_NO_PAD.encode(&auth_data),
                "signature": URL_SAFE_NO_PAD.encode(signature.as_ref()),
                "userHandle": URL_SAFE_NO_PAD.encode(&self.user),
            },
            "clientExtensionResults": {},
        }))
    }
}

/// `count` logins to finish: a ceremony started for each and its assertion
/// signed, the passkeys taken in turn.
pub async fn logins(
    server: &LimenProcess,
    passkeys: &[Passkey],
    count: usize,
) -> Result<Vec<Bytes>, BenchError> {
    let mut client = Client::new(server.address);
    let mut bodies = Vec::with_capacity(count);
    for n in 0..count {
        let started = answer(
            &mut client,
            json_call("/passkeys/authentication/options", None, &json!({})),
            200,
        )
        .await?;
        // No sign counter, as synced passkeys have none: the logins are
        // finished in parallel, in any order.
        let credential = passkeys[n % passkeys.len()].assert(&started["publicKey"], 0)?;
        bodies.push(Bytes::from(
            json!({"ceremony": started["ceremony"], "credential": credential}).to_string(),
        ));
    }
    Ok(bodies)
}

/// `POST /passkeys/authentication`: each prepared login once, in order.
pub fn login(bodies: Arc<Vec<Bytes>>) -> CallSource {
    let next = Arc::new(AtomicUsize::new(0));
    Arc::new(move |_| {
        let index = next.fetch_add(1, Ordering::Relaxed);
        Call {
            method: Method::POST,
            path: "/passkeys/authentication".into(),
            headers: vec![("content-type", "application/json".to_owned())],
            body: bodies[index % bodies.len()].clone(),
        }
    })
}
