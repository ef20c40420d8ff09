//! The Relying Party API v6 client: reqwest over rustls, the relying party's
//! certificate presented, only BankID's CA trusted.

use std::time::Duration;

use async_trait::async_trait;
use limen_domain::model::{BankIdCollect, BankIdError, BankIdOrder};
use limen_domain::ports::BankIdProvider;
use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::identity::ClientIdentity;
use crate::wire::{AuthRequest, AuthResponse, CollectResponse, ErrorResponse, OrderRequest, Requirement};
use crate::{BankIdConfigError, animated_qr};

/// BankID's test service.
pub const TEST_ENDPOINT: &str = "https://appapi2.test.bankid.com/rp/v6.0/";
/// BankID's production service.
pub const PRODUCTION_ENDPOINT: &str = "https://appapi2.bankid.com/rp/v6.0/";

/// How to reach BankID.
#[derive(Debug, Clone)]
pub struct BankIdClientConfig {
    /// The API's base URL, ending in `/rp/v6.0/`.
    pub endpoint: String,
    /// The relying party's certificate.
    pub identity: ClientIdentity,
    /// PEM of the CA BankID's server certificate must chain to: the only root
    /// trusted (pinned).
    pub ca_pem: Vec<u8>,
    /// How long one call may take.
    pub timeout: Duration,
    /// How often a call failing for a passing reason is tried again.
    pub retries: u32,
}

/// `BankIdProvider` over the Relying Party API v6.
pub struct BankIdClient {
    http: reqwest::Client,
    endpoint: String,
    retries: u32,
}

/// How one call went wrong.
enum CallError {
    /// BankID answered with an error body (or an unusable answer).
    Answer {
        status: StatusCode,
        code: String,
        details: String,
    },
    /// No answer: the connection or the TLS handshake failed, or it timed out.
    Transport(String),
}

impl BankIdClient {
    /// A client for `config`; fails on an unusable certificate or CA.
    pub fn new(config: &BankIdClientConfig) -> Result<Self, BankIdConfigError> {
        let identity = reqwest::Identity::from_pem(&config.identity.to_pem()?).map_err(|err| {
            BankIdConfigError::Identity(format!("the client certificate is unusable: {err}"))
        })?;
        let ca = reqwest::Certificate::from_pem(&config.ca_pem)
            .map_err(|err| BankIdConfigError::Ca(format!("the CA certificate is unusable: {err}")))?;
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca)
            .identity(identity)
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .map_err(|err| BankIdConfigError::Identity(format!("cannot build the HTTPS client: {err}")))?;
        let mut endpoint = config.endpoint.clone();
        if !endpoint.ends_with('/') {
            endpoint.push('/');
        }
        if !endpoint.starts_with("https://") {
            return Err(BankIdConfigError::Endpoint(format!(
                "{endpoint} is not an https:// URL"
            )));
        }
        Ok(Self {
            http,
            endpoint,
            retries: config.retries,
        })
    }

    async fn call<B: Serialize, T: DeserializeOwned>(&self, method: &str, body: &B) -> Result<T, CallError> {
        let answer = self
            .http
            .post(format!("{}{method}", self.endpoint))
            .json(body)
            .send()
            .await
            .map_err(|err| CallError::Transport(describe(&err)))?;
        let status = answer.status();
        let bytes = answer
            .bytes()
            .await
            .map_err(|err| CallError::Transport(describe(&err)))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|err| CallError::Answer {
                status,
                code: "malformedAnswer".into(),
                details: format!("{method} answered JSON Limen cannot read: {err}"),
            });
        }
        let error: Option<ErrorResponse> = serde_json::from_slice(&bytes).ok();
        Err(match error {
            Some(error) => CallError::Answer {
                status,
                code: error.error_code,
                details: error.details,
            },
            None => CallError::Answer {
                status,
                code: String::new(),
                details: format!("{method} answered {status} without an error body"),
            },
        })
    }

    /// `call`, tried again after a pause when it failed for a passing reason
    /// that `retry` accepts.
    async fn call_with_retries<B: Serialize, T: DeserializeOwned>(
        &self,
        method: &str,
        body: &B,
        retry: fn(&CallError) -> bool,
    ) -> Result<T, BankIdError> {
        let mut pause = Duration::from_millis(250);
        let mut attempt = 0;
        loop {
            match self.call(method, body).await {
                Ok(answer) => return Ok(answer),
                Err(err) if attempt < self.retries && retry(&err) => {
                    attempt += 1;
                    tracing::warn!(method, attempt, error = %summary(&err), "BankID call failed; trying again");
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                Err(err) => return Err(classify(method, err)),
            }
        }
    }
}

/// A failure worth trying again: BankID busy or timing out, or no answer.
fn passing(err: &CallError) -> bool {
    match err {
        CallError::Transport(_) => true,
        CallError::Answer { code, .. } => {
            matches!(code.as_str(), "requestTimeout" | "maintenance" | "internalError")
        }
    }
}

/// Starting an order twice would make BankID cancel the first: only a refusal
/// that says nothing was done (maintenance) is tried again.
fn passing_for_start(err: &CallError) -> bool {
    matches!(err, CallError::Answer { code, .. } if code == "maintenance")
}

fn summary(err: &CallError) -> String {
    match err {
        CallError::Answer {
            status,
            code,
            details,
        } => format!("{status} {code}: {details}"),
        CallError::Transport(reason) => reason.clone(),
    }
}

fn classify(method: &str, err: CallError) -> BankIdError {
    match err {
        CallError::Answer { code, .. } if code == "alreadyInProgress" => BankIdError::AlreadyInProgress,
        CallError::Answer { code, details, .. } if code == "invalidParameters" || code == "notFound" => {
            BankIdError::Refused(format!("{code}: {details}"))
        }
        CallError::Answer {
            status,
            code,
            details,
        } if code == "unauthorized" || status == StatusCode::UNAUTHORIZED => {
            // The relying party's certificate or agreement: an operator must act.
            tracing::error!(method, %details, "BankID refused Limen's client certificate ({code})");
            BankIdError::Unavailable(format!("{method}: BankID refused the relying party certificate"))
        }
        CallError::Answer {
            status,
            code,
            details,
        } => {
            tracing::warn!(method, %status, %code, %details, "BankID failed");
            BankIdError::Unavailable(format!("{method}: {status} {code}"))
        }
        CallError::Transport(reason) => {
            tracing::warn!(method, %reason, "BankID could not be reached");
            BankIdError::Unavailable(format!("{method}: {reason}"))
        }
    }
}

/// A transport error with its causes, for the log.
fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[async_trait]
impl BankIdProvider for BankIdClient {
    async fn start(&self, personal_number: &str, end_user_ip: &str) -> Result<BankIdOrder, BankIdError> {
        let request = AuthRequest {
            end_user_ip: end_user_ip.to_owned(),
            requirement: Some(Requirement {
                personal_number: Some(personal_number.to_owned()),
            }),
        };
        let answer: AuthResponse = self
            .call_with_retries("auth", &request, passing_for_start)
            .await?;
        Ok(BankIdOrder {
            order_ref: answer.order_ref,
            auto_start_token: answer.auto_start_token,
            qr_start_token: answer.qr_start_token,
            qr_start_secret: answer.qr_start_secret,
        })
    }

    async fn collect(&self, order_ref: &str) -> Result<BankIdCollect, BankIdError> {
        let request = OrderRequest {
            order_ref: order_ref.to_owned(),
        };
        let answer: CollectResponse = self.call_with_retries("collect", &request, passing).await?;
        let hint = answer.hint_code.unwrap_or_default();
        match answer.status.as_str() {
            "pending" => Ok(BankIdCollect::Pending { hint }),
            "failed" => Ok(BankIdCollect::Failed { hint }),
            "complete" => {
                let data = answer.completion_data.ok_or_else(|| {
                    BankIdError::Unavailable("collect: a complete order without completionData".into())
                })?;
                Ok(BankIdCollect::Complete {
                    personal_number: data.user.personal_number,
                    given_name: data.user.given_name,
                    surname: data.user.surname,
                })
            }
            other => Err(BankIdError::Unavailable(format!(
                "collect: an unknown status {other:?}"
            ))),
        }
    }

    async fn cancel(&self, order_ref: &str) -> Result<(), BankIdError> {
        let request = OrderRequest {
            order_ref: order_ref.to_owned(),
        };
        let _: serde_json::Value = self.call_with_retries("cancel", &request, passing).await?;
        Ok(())
    }

    fn animated_qr(&self, order: &BankIdOrder, seconds: u64) -> String {
        animated_qr(&order.qr_start_token, &order.qr_start_secret, seconds)
    }
}
