//! Requests to the CRM: the API key, timeouts, retries of passing failures,
//! and the circuit breaker around them.

use std::time::{Duration, Instant};

use limen_domain::StoreError;
use limen_domain::ports::CallObserver;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::breaker::Breaker;
use crate::config::LimeCrmConfig;

/// The CRM's HTTP API.
pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
    api_key: String,
    retries: u32,
    breaker: Breaker,
    /// Told of each request's time and failure.
    pub(crate) observer: Option<CallObserver>,
}

/// How one attempt went.
enum Attempt {
    /// A final answer: the body, or `None` for 404.
    Done(Option<Value>),
    /// Worth another try (a timeout, a connection error, a 5xx).
    Passing(String),
    /// Not worth another try (a refused key, a 4xx, a body that is no JSON).
    Failed(String),
}

impl Client {
    pub(crate) fn new(config: &LimeCrmConfig) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|err| format!("cannot build the HTTP client: {err}"))?;
        Ok(Self {
            http,
            base: format!("{}/", config.url.trim_end_matches('/')),
            api_key: config.api_key.clone(),
            retries: config.retries,
            breaker: Breaker::new(config.breaker_failures, config.breaker_open),
            observer: None,
        })
    }

    /// GETs `path` (relative to the API's base); `None` for 404.
    pub(crate) async fn get(&self, path: &str) -> Result<Option<Value>, StoreError> {
        self.send(Method::GET, path, None).await
    }

    /// PUTs `body` to `path`; `None` for 404.
    pub(crate) async fn put(&self, path: &str, body: Value) -> Result<Option<Value>, StoreError> {
        self.send(Method::PUT, path, Some(body)).await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Option<Value>, StoreError> {
        let started = Instant::now();
        let answer = self.send_with_retries(method, path, body).await;
        if let Some(observer) = &self.observer {
            observer(started.elapsed(), answer.is_err());
        }
        answer
    }

    async fn send_with_retries(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Option<Value>, StoreError> {
        if let Err(left) = self.breaker.admit(Instant::now()) {
            return Err(StoreError::Unavailable(format!(
                "Lime CRM is failing; not asking it for another {} s",
                left.as_secs()
            )));
        }
        let mut delay = Duration::from_millis(100);
        let mut attempt = 0;
        loop {
            match self.attempt(method.clone(), path, body.as_ref()).await {
                Attempt::Done(answer) => {
                    self.breaker.succeeded();
                    return Ok(answer);
                }
                Attempt::Failed(reason) => {
                    // The CRM answered: it is up, whatever it thinks of us.
                    self.breaker.succeeded();
                    return Err(StoreError::Unavailable(reason));
                }
                Attempt::Passing(reason) if attempt >= self.retries => {
                    self.breaker.failed(Instant::now());
                    return Err(StoreError::Unavailable(reason));
                }
                Attempt::Passing(reason) => {
                    tracing::debug!(%reason, attempt, "Lime CRM request failed; trying again");
                    attempt += 1;
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
            }
        }
    }

    async fn attempt(&self, method: Method, path: &str, body: Option<&Value>) -> Attempt {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("x-api-key", &self.api_key)
            .header("accept", "application/hal+json, application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        let answer = match request.send().await {
            Ok(answer) => answer,
            Err(err) if err.is_timeout() => {
                return Attempt::Passing("Lime CRM did not answer in time".into());
            }
            Err(err) => return Attempt::Passing(format!("cannot reach Lime CRM: {err}")),
        };
        let status = answer.status();
        match status {
            StatusCode::NOT_FOUND => Attempt::Done(None),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Attempt::Failed(format!(
                "Lime CRM refused the API key ({status}): check users.limecrm.api_key"
            )),
            status if status.is_server_error() => Attempt::Passing(format!("Lime CRM answered {status}")),
            status if !status.is_success() => {
                Attempt::Failed(format!("Lime CRM answered {status} to {path}"))
            }
            _ => match answer.json::<Value>().await {
                Ok(value) => Attempt::Done(Some(value)),
                Err(err) => Attempt::Failed(format!("Lime CRM's answer is not JSON: {err}")),
            },
        }
    }
}
