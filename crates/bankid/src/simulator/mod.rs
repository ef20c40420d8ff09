//! A BankID Relying Party API v6 server for development and tests: HTTPS with
//! mutual TLS (only clients with a certificate of its CA get a handshake), the
//! real API's paths, bodies and error bodies, and orders that follow a script
//! per personal number. Like BankID, a second order for a person with one
//! running is refused with `alreadyInProgress` and cancels the first; a
//! finished order is forgotten.

mod certificates;
mod outcomes;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::web::{self, Bytes};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::de::DeserializeOwned;

pub use certificates::SimulatorCertificates;
pub use outcomes::{Ending, Outcome, SimulatorScript};

use crate::BankIdConfigError;
use crate::wire::{
    AuthRequest, AuthResponse, CollectResponse, CompletedUser, CompletionData, Device, ErrorResponse,
    OrderRequest,
};

struct Order {
    personal_number: String,
    end_user_ip: String,
    outcome: Outcome,
    collects: u32,
    cancelled: bool,
}

#[derive(Default)]
struct Orders {
    by_ref: HashMap<String, Order>,
    running: HashMap<String, String>,
}

struct Simulator {
    script: SimulatorScript,
    orders: Mutex<Orders>,
    maintenance_left: std::sync::atomic::AtomicU32,
}

impl Simulator {
    /// A 503 `maintenance` while the script asks for one.
    fn in_maintenance(&self) -> Option<HttpResponse> {
        use std::sync::atomic::Ordering;
        self.maintenance_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1))
            .ok()
            .map(|_| {
                error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "maintenance",
                    "Service unavailable",
                )
            })
    }

    fn orders(&self) -> std::sync::MutexGuard<'_, Orders> {
        self.orders.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A simulator serving on a port of this machine.
pub struct RunningSimulator {
    /// Where it listens.
    pub address: SocketAddr,
    /// The certificates of this run: the client identity and the CA a
    /// relying party needs.
    pub certificates: SimulatorCertificates,
    handle: ServerHandle,
}

impl RunningSimulator {
    /// The API's base URL, as a relying party configures it.
    pub fn endpoint(&self) -> String {
        format!("https://localhost:{}/rp/v6.0/", self.address.port())
    }

    /// Stops serving.
    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}

fn error(status: StatusCode, code: &str, details: &str) -> HttpResponse {
    HttpResponse::build(status).json(ErrorResponse {
        error_code: code.to_owned(),
        details: details.to_owned(),
    })
}

/// The body as `T`, or the answer BankID gives for a body it cannot use.
fn body<T: DeserializeOwned>(req: &HttpRequest, bytes: &Bytes) -> Result<T, Box<HttpResponse>> {
    let json = req
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if !json {
        return Err(Box::new(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupportedMediaType",
            "Content-Type must be application/json",
        )));
    }
    serde_json::from_slice(bytes).map_err(|err| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "invalidParameters",
            &format!("Invalid body: {err}"),
        ))
    })
}

async fn auth(req: HttpRequest, bytes: Bytes, simulator: web::Data<Simulator>) -> HttpResponse {
    if let Some(answer) = simulator.in_maintenance() {
        return answer;
    }
    let request: AuthRequest = match body(&req, &bytes) {
        Ok(request) => request,
        Err(answer) => return *answer,
    };
    if request.end_user_ip.trim().is_empty() {
        return error(StatusCode::BAD_REQUEST, "invalidParameters", "Invalid endUserIp");
    }
    let Some(personal_number) = request
        .requirement
        .and_then(|requirement| requirement.personal_number)
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalidParameters",
            "This simulator needs requirement.personalNumber",
        );
    };
    if personal_number.len() != 12 || !personal_number.bytes().all(|b| b.is_ascii_digit()) {
        return error(
            StatusCode::BAD_REQUEST,
            "invalidParameters",
            "Invalid personalNumber",
        );
    }
    let outcome = simulator.script.outcome(&personal_number);
    let mut orders = simulator.orders();
    if outcome.ending == Ending::AlreadyInProgress {
        return error(
            StatusCode::BAD_REQUEST,
            "alreadyInProgress",
            "Order already in progress for pno",
        );
    }
    if let Some(running) = orders.running.remove(&personal_number) {
        // As BankID does: the running order is cancelled, and this one refused.
        if let Some(order) = orders.by_ref.get_mut(&running) {
            order.cancelled = true;
        }
        return error(
            StatusCode::BAD_REQUEST,
            "alreadyInProgress",
            "Order already in progress for pno",
        );
    }
    let order_ref = uuid::Uuid::new_v4().to_string();
    orders.running.insert(personal_number.clone(), order_ref.clone());
    orders.by_ref.insert(
        order_ref.clone(),
        Order {
            personal_number,
            end_user_ip: request.end_user_ip,
            outcome,
            collects: 0,
            cancelled: false,
        },
    );
    HttpResponse::Ok().json(AuthResponse {
        order_ref,
        auto_start_token: uuid::Uuid::new_v4().to_string(),
        qr_start_token: uuid::Uuid::new_v4().to_string(),
        qr_start_secret: uuid::Uuid::new_v4().to_string(),
    })
}

async fn collect(req: HttpRequest, bytes: Bytes, simulator: web::Data<Simulator>) -> HttpResponse {
    if let Some(answer) = simulator.in_maintenance() {
        return answer;
    }
    let request: OrderRequest = match body(&req, &bytes) {
        Ok(request) => request,
        Err(answer) => return *answer,
    };
    let mut orders = simulator.orders();
    let Some(order) = orders.by_ref.get_mut(&request.order_ref) else {
        return error(StatusCode::BAD_REQUEST, "invalidParameters", "No such order");
    };
    let pending = |hint: &str| CollectResponse {
        order_ref: request.order_ref.clone(),
        status: "pending".into(),
        hint_code: Some(hint.to_owned()),
        completion_data: None,
    };
    if !order.cancelled && order.collects < order.outcome.pending_collects {
        let hint = order.outcome.pending_hint(order.collects);
        order.collects += 1;
        return HttpResponse::Ok().json(pending(hint));
    }
    // The final state is told once; then the order is forgotten.
    let Some(order) = orders.by_ref.remove(&request.order_ref) else {
        return error(StatusCode::BAD_REQUEST, "invalidParameters", "No such order");
    };
    if orders.running.get(&order.personal_number) == Some(&request.order_ref) {
        orders.running.remove(&order.personal_number);
    }
    let failed = |hint: &str| CollectResponse {
        order_ref: request.order_ref.clone(),
        status: "failed".into(),
        hint_code: Some(hint.to_owned()),
        completion_data: None,
    };
    if order.cancelled {
        return HttpResponse::Ok().json(failed("cancelled"));
    }
    match order.outcome.failure_hint() {
        Some(hint) => HttpResponse::Ok().json(failed(hint)),
        None => {
            let script = &simulator.script;
            HttpResponse::Ok().json(CollectResponse {
                order_ref: request.order_ref.clone(),
                status: "complete".into(),
                hint_code: None,
                completion_data: Some(CompletionData {
                    user: CompletedUser {
                        personal_number: order.personal_number,
                        name: format!("{} {}", script.given_name, script.surname),
                        given_name: script.given_name.clone(),
                        surname: script.surname.clone(),
                    },
                    device: Some(Device {
                        ip_address: order.end_user_ip,
                        uhi: None,
                    }),
                    bank_id_issue_date: Some("2020-01-01".into()),
                    signature: None,
                    ocsp_response: None,
                }),
            })
        }
    }
}

async fn cancel(req: HttpRequest, bytes: Bytes, simulator: web::Data<Simulator>) -> HttpResponse {
    let request: OrderRequest = match body(&req, &bytes) {
        Ok(request) => request,
        Err(answer) => return *answer,
    };
    let mut orders = simulator.orders();
    match orders.by_ref.remove(&request.order_ref) {
        Some(order) => {
            if orders.running.get(&order.personal_number) == Some(&request.order_ref) {
                orders.running.remove(&order.personal_number);
            }
            HttpResponse::Ok().content_type(ContentType::json()).body("{}")
        }
        None => error(StatusCode::BAD_REQUEST, "invalidParameters", "No such order"),
    }
}

async fn method_not_allowed() -> HttpResponse {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "methodNotAllowed",
        "Method not allowed",
    )
}

async fn not_found() -> HttpResponse {
    error(StatusCode::NOT_FOUND, "notFound", "Not found")
}

fn pem_error(what: &str) -> impl Fn(rustls::pki_types::pem::Error) -> BankIdConfigError + '_ {
    move |err| BankIdConfigError::Identity(format!("the simulator's {what} is unusable: {err}"))
}

/// The simulator's TLS: its server certificate, and client certificates
/// required and checked against its CA.
fn tls_config(certificates: &SimulatorCertificates) -> Result<rustls::ServerConfig, BankIdConfigError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(certificates.ca_pem.as_bytes()) {
        roots
            .add(ca.map_err(pem_error("CA"))?)
            .map_err(|err| BankIdConfigError::Ca(format!("the simulator's CA is unusable: {err}")))?;
    }
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|err| BankIdConfigError::Ca(format!("cannot check client certificates: {err}")))?;
    let chain = CertificateDer::pem_slice_iter(certificates.server_cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem_error("server certificate"))?;
    let key = PrivateKeyDer::from_pem_slice(certificates.server_key_pem.as_bytes())
        .map_err(pem_error("server key"))?;
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| BankIdConfigError::Ca(err.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|err| BankIdConfigError::Identity(format!("the simulator's server certificate: {err}")))
}

/// Starts a simulator on `listen` (`127.0.0.1:0` for any free port) following
/// `script`, with `certificates`; it serves until stopped.
pub fn start(
    listen: &str,
    script: SimulatorScript,
    certificates: SimulatorCertificates,
) -> Result<RunningSimulator, BankIdConfigError> {
    let tls = tls_config(&certificates)?;
    let simulator = web::Data::new(Simulator {
        maintenance_left: std::sync::atomic::AtomicU32::new(script.maintenance_answers),
        script,
        orders: Mutex::new(Orders::default()),
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(simulator.clone())
            .service(
                web::scope("/rp/v6.0")
                    .service(
                        web::resource("/auth")
                            .route(web::post().to(auth))
                            .default_service(web::to(method_not_allowed)),
                    )
                    .service(
                        web::resource("/collect")
                            .route(web::post().to(collect))
                            .default_service(web::to(method_not_allowed)),
                    )
                    .service(
                        web::resource("/cancel")
                            .route(web::post().to(cancel))
                            .default_service(web::to(method_not_allowed)),
                    ),
            )
            .default_service(web::to(not_found))
    })
    .workers(1)
    .disable_signals()
    .bind_rustls_0_23(listen, tls)
    .map_err(|err| BankIdConfigError::Endpoint(format!("the simulator cannot listen on {listen}: {err}")))?;
    let address =
        server.addrs().first().copied().ok_or_else(|| {
            BankIdConfigError::Endpoint(format!("the simulator got no address for {listen}"))
        })?;
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    tracing::info!(%address, "BankID simulator listening");
    Ok(RunningSimulator {
        address,
        certificates,
        handle,
    })
}
