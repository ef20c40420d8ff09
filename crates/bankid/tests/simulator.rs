//! The BankID client against the simulator, over real HTTPS with mutual TLS.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::time::Duration;

use limen_bankid::simulator::{self, Outcome, RunningSimulator, SimulatorCertificates, SimulatorScript};
use limen_bankid::{BankIdClient, BankIdClientConfig, ClientIdentity};
use limen_domain::model::{BankIdCollect, BankIdError};
use limen_domain::ports::BankIdProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

const ANN: &str = "199908072391";
const CANCELS: &str = "200211242383";
const BUSY: &str = "199001012385";

fn script() -> SimulatorScript {
    let mut by_personal_number = HashMap::new();
    by_personal_number.insert(CANCELS.to_owned(), Outcome::parse("user_cancel:1", 0).unwrap());
    by_personal_number.insert(BUSY.to_owned(), Outcome::parse("already_in_progress", 0).unwrap());
    SimulatorScript {
        by_personal_number,
        ..SimulatorScript::default()
    }
}

fn running() -> RunningSimulator {
    simulator::start(
        "127.0.0.1:0",
        script(),
        SimulatorCertificates::generate().unwrap(),
    )
    .unwrap()
}

fn config(simulator: &RunningSimulator, identity: ClientIdentity) -> BankIdClientConfig {
    BankIdClientConfig {
        endpoint: simulator.endpoint(),
        identity,
        ca_pem: simulator.certificates.ca_pem.clone().into_bytes(),
        timeout: Duration::from_secs(10),
        retries: 0,
    }
}

fn client(simulator: &RunningSimulator) -> BankIdClient {
    let identity = ClientIdentity::Pem(simulator.certificates.client_identity_pem());
    BankIdClient::new(&config(simulator, identity)).unwrap()
}

#[actix_web::test]
async fn an_order_walks_from_waiting_to_complete_and_is_then_forgotten() {
    let simulator = running();
    let client = client(&simulator);
    let order = client.start(ANN, "203.0.113.7").await.unwrap();
    assert_eq!(order.order_ref.len(), 36);
    let mut hints = Vec::new();
    loop {
        match client.collect(&order.order_ref).await.unwrap() {
            BankIdCollect::Pending { hint } => hints.push(hint),
            BankIdCollect::Complete {
                personal_number,
                given_name,
                surname,
            } => {
                assert_eq!(personal_number, ANN);
                assert_eq!((given_name.as_str(), surname.as_str()), ("Test", "Testsson"));
                break;
            }
            BankIdCollect::Failed { hint } => panic!("failed: {hint}"),
        }
    }
    assert_eq!(hints, ["outstandingTransaction", "started", "userSign"]);
    assert!(matches!(
        client.collect(&order.order_ref).await,
        Err(BankIdError::Refused(_))
    ));
    let qr = client.animated_qr(&order, 2);
    assert!(qr.starts_with(&format!("bankid.{}.2.", order.qr_start_token)));
    simulator.stop().await;
}

#[actix_web::test]
async fn every_failure_ending_reaches_the_client_as_its_hint_code() {
    let mut by_personal_number = HashMap::new();
    let numbers = [
        ("user_cancel", "userCancel", "199908072391"),
        ("expired", "expiredTransaction", "200211242383"),
        ("start_failed", "startFailed", "199001012385"),
        ("certificate_error", "certificateErr", "190001019876"),
    ];
    for (outcome, _, number) in numbers {
        by_personal_number.insert(
            number.to_owned(),
            Outcome::parse(&format!("{outcome}:0"), 0).unwrap(),
        );
    }
    let script = SimulatorScript {
        by_personal_number,
        ..SimulatorScript::default()
    };
    let simulator =
        simulator::start("127.0.0.1:0", script, SimulatorCertificates::generate().unwrap()).unwrap();
    let client = client(&simulator);
    for (_, hint, number) in numbers {
        let order = client.start(number, "203.0.113.7").await.unwrap();
        assert_eq!(
            client.collect(&order.order_ref).await.unwrap(),
            BankIdCollect::Failed { hint: hint.into() },
            "{number}"
        );
    }
    simulator.stop().await;
}

#[actix_web::test]
async fn a_second_order_for_a_person_is_refused_and_cancels_the_first() {
    let simulator = running();
    let client = client(&simulator);
    let first = client.start(ANN, "203.0.113.7").await.unwrap();
    assert_eq!(
        client.start(ANN, "203.0.113.7").await.unwrap_err(),
        BankIdError::AlreadyInProgress
    );
    assert_eq!(
        client.collect(&first.order_ref).await.unwrap(),
        BankIdCollect::Failed {
            hint: "cancelled".into()
        }
    );
    assert_eq!(
        client.start(BUSY, "203.0.113.7").await.unwrap_err(),
        BankIdError::AlreadyInProgress,
        "a number scripted as always busy"
    );
    let order = client.start(CANCELS, "203.0.113.7").await.unwrap();
    client.cancel(&order.order_ref).await.unwrap();
    assert!(matches!(
        client.collect(&order.order_ref).await,
        Err(BankIdError::Refused(_))
    ));
    simulator.stop().await;
}

#[actix_web::test]
async fn bad_parameters_are_refused_as_bankid_refuses_them() {
    let simulator = running();
    let client = client(&simulator);
    assert!(matches!(
        client.start("12345", "203.0.113.7").await,
        Err(BankIdError::Refused(reason)) if reason.contains("invalidParameters")
    ));
    assert!(matches!(
        client.start(ANN, "").await,
        Err(BankIdError::Refused(_))
    ));
    assert!(matches!(
        client.collect("no-such-order").await,
        Err(BankIdError::Refused(_))
    ));
    simulator.stop().await;
}

#[actix_web::test]
async fn maintenance_is_tried_again_with_a_pause_and_reported_when_it_lasts() {
    let script = SimulatorScript {
        maintenance_answers: 2,
        ..SimulatorScript::default()
    };
    let simulator =
        simulator::start("127.0.0.1:0", script, SimulatorCertificates::generate().unwrap()).unwrap();
    let patient = BankIdClient::new(&BankIdClientConfig {
        retries: 2,
        ..config(
            &simulator,
            ClientIdentity::Pem(simulator.certificates.client_identity_pem()),
        )
    })
    .unwrap();
    assert!(
        patient.start(ANN, "203.0.113.7").await.is_ok(),
        "the third try gets through"
    );
    let script = SimulatorScript {
        maintenance_answers: 5,
        ..SimulatorScript::default()
    };
    let simulator =
        simulator::start("127.0.0.1:0", script, SimulatorCertificates::generate().unwrap()).unwrap();
    let impatient = client(&simulator);
    assert!(matches!(
        impatient.start(ANN, "203.0.113.7").await,
        Err(BankIdError::Unavailable(reason)) if reason.contains("maintenance")
    ));
    simulator.stop().await;
}

#[actix_web::test]
async fn a_client_without_the_right_certificate_gets_no_handshake() {
    let simulator = running();
    let stranger = SimulatorCertificates::generate().unwrap();
    let foreign = BankIdClient::new(&config(
        &simulator,
        ClientIdentity::Pem(stranger.client_identity_pem()),
    ))
    .unwrap();
    let err = foreign.start(ANN, "203.0.113.7").await.unwrap_err();
    assert!(matches!(err, BankIdError::Unavailable(_)), "{err:?}");
    // And a client that trusts another CA does not talk to the simulator either.
    let mut pinned_elsewhere = config(
        &simulator,
        ClientIdentity::Pem(simulator.certificates.client_identity_pem()),
    );
    pinned_elsewhere.ca_pem = stranger.ca_pem.clone().into_bytes();
    let misled = BankIdClient::new(&pinned_elsewhere).unwrap();
    assert!(matches!(
        misled.start(ANN, "203.0.113.7").await,
        Err(BankIdError::Unavailable(_))
    ));
    // Plain reqwest without a client certificate: the handshake fails.
    let bare = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(
            reqwest::Certificate::from_pem(simulator.certificates.ca_pem.as_bytes()).unwrap(),
        )
        .build()
        .unwrap();
    assert!(
        bare.post(format!("{}auth", simulator.endpoint()))
            .json(&serde_json::json!({"endUserIp": "203.0.113.7"}))
            .send()
            .await
            .is_err()
    );
    simulator.stop().await;
}

#[actix_web::test]
async fn a_pkcs12_identity_works_like_pem_and_a_wrong_password_is_reported() {
    let simulator = running();
    let key = PrivateKeyDer::from_pem_slice(simulator.certificates.client_key_pem.as_bytes()).unwrap();
    let chain: Vec<p12_keystore::Certificate> =
        CertificateDer::pem_slice_iter(simulator.certificates.client_cert_pem.as_bytes())
            .map(|cert| p12_keystore::Certificate::from_der(&cert.unwrap()).unwrap())
            .collect();
    let mut store = p12_keystore::KeyStore::new();
    store.add_entry(
        "limen",
        p12_keystore::KeyStoreEntry::PrivateKeyChain(p12_keystore::PrivateKeyChain::new(
            key.secret_der(),
            [1u8, 2, 3, 4],
            chain,
        )),
    );
    let der = store.writer("qwerty123").write().unwrap();
    let identity = ClientIdentity::Pkcs12 {
        der: der.clone(),
        password: "qwerty123".into(),
    };
    let client = BankIdClient::new(&config(&simulator, identity)).unwrap();
    assert!(client.start(ANN, "203.0.113.7").await.is_ok());
    let wrong = ClientIdentity::Pkcs12 {
        der,
        password: "wrong".into(),
    };
    let err = BankIdClient::new(&config(&simulator, wrong)).err().unwrap();
    assert!(err.to_string().contains("wrong password"), "{err}");
    simulator.stop().await;
}

#[actix_web::test]
async fn the_api_s_connectivity_check_and_unknown_paths_answer_as_bankid_does() {
    let simulator = running();
    let identity = reqwest::Identity::from_pem(&simulator.certificates.client_identity_pem()).unwrap();
    let http = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(
            reqwest::Certificate::from_pem(simulator.certificates.ca_pem.as_bytes()).unwrap(),
        )
        .identity(identity)
        .build()
        .unwrap();
    let get = http
        .get(format!("{}auth", simulator.endpoint()))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    let body: serde_json::Value = get.json().await.unwrap();
    assert_eq!(body["errorCode"], "methodNotAllowed");
    let missing = http
        .post(format!("{}sign/no", simulator.endpoint()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let form = http
        .post(format!("{}auth", simulator.endpoint()))
        .header("content-type", "text/plain")
        .body("endUserIp=1")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);
    simulator.stop().await;
}
