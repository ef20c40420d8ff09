use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::Duration;
use ipnet::IpNet;
use limen_domain::DomainError;
use limen_domain::model::ClientAddress;
use limen_domain::services::{HashAdmission, HashTicket, Services};

/// Asks every backend whether it answers, each on its own.
pub type ReadinessCheck =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Vec<Dependency>> + Send>> + Send + Sync>;

/// One backend's answer to a readiness check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// `database`, `redis` or `directory`.
    pub name: &'static str,
    /// Why it does not answer, for operators; `None` when it does.
    pub error: Option<String>,
}

impl Dependency {
    /// The dependency `name` as `result` found it.
    pub fn checked<E: std::fmt::Display>(name: &'static str, result: Result<(), E>) -> Self {
        Self {
            name,
            error: result.err().map(|err| err.to_string()),
        }
    }
}

/// The `flow` dialect's documented numbers.
#[derive(Debug, Clone, Copy)]
pub struct FlowSettings {
    /// Lifetime of a token from a login without `rememberMe` (documented: 1 hour).
    pub token_ttl: Duration,
    /// Lifetime of a token from a login with `rememberMe` (documented: 1 week).
    pub remember_me_ttl: Duration,
}

impl Default for FlowSettings {
    fn default() -> Self {
        Self {
            token_ttl: Duration::hours(1),
            remember_me_ttl: Duration::weeks(1),
        }
    }
}

/// The `bimplus` dialect's numbers.
#[derive(Debug, Clone, Copy)]
pub struct BimplusSettings {
    /// Lifetime of an access token, reported as `expires_in` (documented: 28799).
    pub access_ttl: Duration,
    /// Lifetime of a remember-me token, reported as `remember_me_expires_in`
    /// (documented: 2591999, 30 days less a second).
    pub remember_me_ttl: Duration,
}

impl Default for BimplusSettings {
    fn default() -> Self {
        Self {
            access_ttl: Duration::seconds(28_799),
            remember_me_ttl: Duration::seconds(2_591_999),
        }
    }
}

/// The `gradido` dialect's switches.
#[derive(Debug, Clone)]
pub struct GradidoSettings {
    /// The original's `unsecure.allow_passwort_via_json_request`: without it the
    /// JSON login answers 403.
    pub allow_password_via_json_request: bool,
    /// The original's `unsecure.allow_cors_all`: `Access-Control-Allow-Origin: *`.
    pub allow_cors_all: bool,
    /// The `group_alias` reported for every user.
    pub group_alias: String,
    /// How long a session lives.
    pub session_ttl: Duration,
}

impl Default for GradidoSettings {
    fn default() -> Self {
        Self {
            allow_password_via_json_request: false,
            allow_cors_all: false,
            group_alias: String::new(),
            session_ttl: Duration::minutes(15),
        }
    }
}

/// The `lime` dialect's settings.
#[derive(Debug, Clone)]
pub struct LimeSettings {
    /// When not empty, every `lime` endpoint requires one of these keys.
    pub api_keys: Vec<String>,
    /// The header that carries the key.
    pub api_key_header: String,
    /// Lifetime of the access token a login hands out.
    pub token_ttl: Duration,
    /// Which user field fills each key of the answers' `user` object.
    pub user_fields: limen_domain::model::UserFields,
    /// Whether `GET /bankid/demo/` serves its page (BankID is the simulator).
    pub bankid_demo: bool,
}

impl Default for LimeSettings {
    fn default() -> Self {
        Self {
            api_keys: Vec::new(),
            api_key_header: "X-API-Key".into(),
            token_ttl: Duration::hours(1),
            user_fields: limen_domain::model::UserFields::default(),
            bankid_demo: false,
        }
    }
}

/// The operator's look of the hosted pages (`[branding]`).
#[derive(Debug, Clone, Default)]
pub struct Branding {
    /// The logo's media type and bytes, served at `/oidc/logo`.
    pub logo: Option<(&'static str, actix_web::web::Bytes)>,
    /// `#rrggbb`: buttons, links and focus rings.
    pub accent: Option<String>,
}

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest accepted request body; larger ones get 413 without being read.
    pub max_body_bytes: usize,
    /// `/metrics` on the main listener too, not only on the management one.
    pub metrics_on_main_listener: bool,
    /// The administration API on the management listener.
    pub admin_api: bool,
    /// SCIM on the management listener.
    pub scim: bool,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// The `flow` dialect.
    pub flow: FlowSettings,
    /// The `bimplus` dialect.
    pub bimplus: BimplusSettings,
    /// The `gradido` dialect.
    pub gradido: GradidoSettings,
    /// The `lime` dialect.
    pub lime: LimeSettings,
    /// The hosted pages' logo and accent colour.
    pub branding: Branding,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            metrics_on_main_listener: false,
            admin_api: true,
            scim: true,
            trusted_proxies: Vec::new(),
            flow: FlowSettings::default(),
            bimplus: BimplusSettings::default(),
            gradido: GradidoSettings::default(),
            lime: LimeSettings::default(),
            branding: Branding::default(),
        }
    }
}

/// What every handler can reach: the domain services and the settings.
#[derive(Clone)]
pub struct AppState {
    /// Every domain service.
    pub services: Services,
    /// Backend reachability, for `/readyz`.
    pub readiness: ReadinessCheck,
    /// HTTP settings.
    pub settings: HttpSettings,
    /// The running configuration with every secret masked, for the
    /// administration API.
    pub configuration: Arc<serde_json::Value>,
    /// Work left running after an answer (a password-reset e-mail).
    pub background: crate::Background,
    /// Logins in flight, per address and in all; entered before a login's body is read.
    pub login_gate: Arc<HashAdmission>,
    /// This process's metrics (`GET /metrics`).
    pub metrics: Arc<crate::Metrics>,
}

impl AppState {
    /// The client of `req`: the peer, or the client a trusted proxy names.
    pub fn client(&self, req: &actix_web::HttpRequest) -> ClientAddress {
        crate::client_address::client(req, &self.settings.trusted_proxies)
    }

    /// A place for one login of `req`'s client, held until the answer; `Busy`
    /// when its address or the node has too many in flight. Taken before the
    /// body is read, so that shedding a storm's surplus costs almost nothing.
    pub fn admit_login(&self, req: &actix_web::HttpRequest) -> Result<HashTicket, DomainError> {
        self.login_gate.enter(&self.client(req)).inspect_err(|_| {
            self.metrics.login_shed(&crate::route_pattern::route_pattern(req));
        })
    }
}
