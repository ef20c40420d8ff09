//! The load generator: a fixed number of keep-alive HTTP/1.1 connections over
//! loopback, each sending its next request as soon as the last one is answered,
//! until a request count or a time bound is reached.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::error::BenchError;
use crate::stats::Summary;

/// One request to send; the generator adds `Host`.
#[derive(Debug, Clone)]
pub struct Call {
    /// HTTP method.
    pub method: Method,
    /// Path and query.
    pub path: String,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// Body (JSON when `headers` say so).
    pub body: Bytes,
}

impl Call {
    /// A GET of `path`.
    pub fn get(path: &str) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// A POST of a JSON body to `path`.
    pub fn post_json(path: &str, body: &serde_json::Value) -> Self {
        Self {
            method: Method::POST,
            path: path.into(),
            headers: vec![("content-type", "application/json".into())],
            body: Bytes::from(body.to_string()),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// Builds the request with sequence number `n` (0, 1, 2, … across all connections).
pub type CallSource = Arc<dyn Fn(u64) -> Call + Send + Sync>;

/// How much load to apply.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// Concurrent connections, each with at most one request in flight.
    pub connections: usize,
    /// Requests to send in all, unless `time_bound` comes first.
    pub requests: u64,
    /// The run stops sending when this much time has passed.
    pub time_bound: Duration,
}

/// Applies `load` to the server at `address` and summarises what came back.
pub async fn drive(address: SocketAddr, load: Load, calls: CallSource) -> Summary {
    drive_spread(&[address], load, calls).await
}

/// `drive` on a runtime and threads of its own. A load that saturates its
/// generator (a login storm, where every shed login costs a new connection)
/// then delays only its own requests: on the shared runtime the answers of a
/// run measured at the same time would wait behind the storm's tasks in the
/// generator, and their latency would be the generator's as much as Limen's.
pub async fn drive_apart(address: SocketAddr, load: Load, calls: CallSource) -> Result<Summary, BenchError> {
    let (done, summary) = tokio::sync::oneshot::channel();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-apart")
        .enable_all()
        .build()
        .map_err(BenchError::io(
            "cannot start a second runtime for the load generator",
        ))?;
    std::thread::Builder::new()
        .name("bench-apart".into())
        .spawn(move || {
            let _ = done.send(runtime.block_on(drive(address, load, calls)));
        })
        .map_err(BenchError::io("cannot start a thread for the load generator"))?;
    summary
        .await
        .map_err(|_| BenchError::Setup("the separate load generator stopped without a summary".into()))
}

/// Applies `load` to several servers at once, the connections dealt over
/// `addresses` in turn (as a load balancer would), and summarises all answers.
pub async fn drive_spread(addresses: &[SocketAddr], load: Load, calls: CallSource) -> Summary {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + load.time_bound;
    let workers: Vec<_> = (0..load.connections.max(1))
        .zip(addresses.iter().cycle())
        .map(|(_, &address)| {
            let next = next.clone();
            let calls = calls.clone();
            tokio::spawn(connection(address, next, load.requests, deadline, calls))
        })
        .collect();
    let mut latencies = Vec::new();
    let mut statuses = BTreeMap::new();
    let mut transport_errors = 0;
    for worker in workers {
        // A worker never panics (it records failures instead); a join error
        // would be a bug in the harness and is counted like a broken connection.
        match worker.await {
            Ok(result) => {
                latencies.extend(result.latencies);
                for (status, count) in result.statuses {
                    *statuses.entry(status).or_insert(0) += count;
                }
                transport_errors += result.transport_errors;
            }
            Err(_) => transport_errors += 1,
        }
    }
    Summary::new(latencies, statuses, transport_errors, started.elapsed())
}

#[derive(Default)]
struct ConnectionResult {
    latencies: Vec<Duration>,
    statuses: BTreeMap<u16, u64>,
    transport_errors: u64,
}

async fn connection(
    address: SocketAddr,
    next: Arc<AtomicU64>,
    requests: u64,
    deadline: Instant,
    calls: CallSource,
) -> ConnectionResult {
    let mut result = ConnectionResult::default();
    let host = address.to_string();
    let mut sender: Option<SendRequest<Full<Bytes>>> = None;
    loop {
        if Instant::now() >= deadline {
            break;
        }
        let n = next.fetch_add(1, Ordering::Relaxed);
        if n >= requests {
            break;
        }
        if sender.is_none() {
            sender = open(address).await;
            if sender.is_none() {
                result.transport_errors += 1;
                // The server is gone or refusing; do not spin.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        }
        let Some(open_sender) = sender.as_mut() else {
            continue;
        };
        let Some(request) = request(&host, calls(n)) else {
            result.transport_errors += 1;
            continue;
        };
        let sent = Instant::now();
        match exchange(open_sender, request).await {
            Some(answer) => {
                result.latencies.push(sent.elapsed());
                *result.statuses.entry(answer.status).or_insert(0) += 1;
            }
            None => {
                result.transport_errors += 1;
                sender = None;
            }
        }
    }
    result
}

async fn open(address: SocketAddr) -> Option<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(address).await.ok()?;
    stream.set_nodelay(true).ok()?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .ok()?;
    tokio::spawn(connection);
    Some(sender)
}

/// `call` as a request to `host`; `None` when a header is not a valid one.
fn request(host: &str, call: Call) -> Option<Request<Full<Bytes>>> {
    let mut builder = Request::builder()
        .method(call.method)
        .uri(call.path)
        .header("host", host);
    for (name, value) in &call.headers {
        builder = builder.header(*name, value);
    }
    builder.body(Full::new(call.body)).ok()
}

/// What came back.
pub struct Answer {
    /// The status.
    pub status: u16,
    /// The `Location` header.
    pub location: Option<String>,
    /// Every `Set-Cookie` header's `name=value`.
    pub cookies: Vec<String>,
    /// The body.
    pub body: Bytes,
}

/// Sends one request and reads the whole answer; `None` when the connection failed.
async fn exchange(sender: &mut SendRequest<Full<Bytes>>, request: Request<Full<Bytes>>) -> Option<Answer> {
    sender.ready().await.ok()?;
    let response = sender.send_request(request).await.ok()?;
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let cookies = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect();
    let body = response.into_body().collect().await.ok()?.to_bytes();
    Some(Answer {
        status,
        location,
        cookies,
        body,
    })
}

/// One keep-alive connection for requests one after another whose answers
/// matter (a login's token), reopened when the server closes it.
pub struct Client {
    address: SocketAddr,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Client {
    /// A client of the server at `address`; connects on the first call.
    pub fn new(address: SocketAddr) -> Self {
        Self {
            address,
            sender: None,
        }
    }

    /// Sends `call` and answers the status and the body.
    pub async fn call(&mut self, call: Call) -> Result<(u16, Bytes), BenchError> {
        self.call_with_headers(call)
            .await
            .map(|answer| (answer.status, answer.body))
    }

    /// `call`, with the answer's `Location` and cookies. A kept-alive
    /// connection the server has closed in the meantime (its keep-alive
    /// timeout, on a machine busy enough to stall this process) is replaced
    /// once by a new one.
    pub async fn call_with_headers(&mut self, call: Call) -> Result<Answer, BenchError> {
        let host = self.address.to_string();
        let failed = || BenchError::Setup(format!("{} {}: no answer from {host}", call.method, call.path));
        let reused = self.sender.as_ref().is_some_and(|sender| !sender.is_closed());
        for _ in 0..if reused { 2 } else { 1 } {
            let request = request(&host, call.clone()).ok_or_else(failed)?;
            if self.sender.as_ref().is_none_or(SendRequest::is_closed) {
                self.sender = open(self.address).await;
            }
            let sender = self.sender.as_mut().ok_or_else(failed)?;
            match exchange(sender, request).await {
                Some(answer) => return Ok(answer),
                None => self.sender = None,
            }
        }
        Err(failed())
    }
}
