//! `limen serve`.

use std::sync::Arc;
use std::time::Duration;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer};
use limen_http::{Background, RequestSpan};
use tracing_actix_web::TracingLogger;

use crate::cli::ServeArgs;
use crate::config::Config;
use crate::error::CliError;
use crate::purges;
use crate::tls::ReloadingCertificate;
use crate::wiring::{Core, Purpose};

/// Serves until SIGTERM or Ctrl-C, then lets in-flight requests finish.
pub async fn run(mut config: Config, args: ServeArgs) -> Result<(), CliError> {
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(listen) = args.management_listen {
        config.management.listen = Some(listen);
    }
    refuse_an_exposed_simulator(&config)?;
    // Read before anything starts: a certificate that cannot be used stops the start.
    let certificate = config
        .http
        .tls
        .as_ref()
        .map(ReloadingCertificate::load)
        .transpose()?;
    let core = Core::start(&config, Purpose::Serve).await?;
    if core.seals_secrets {
        // Secrets sealed by an older version, or before a key existed, are
        // sealed again in the current form, bound to their owner.
        let resealed = core.services.two_factor.reseal(true).await?;
        if resealed > 0 {
            tracing::info!(resealed, "secrets sealed in the current form");
        }
    }
    let background = Background::new();
    let state = core.http_state(&config, background.clone())?;
    let purges = purges::start(&core, &config, &state.metrics);
    let management = match config.management.address() {
        Some(address) => Some(management_server(address, state.clone())?),
        None => None,
    };
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(TracingLogger::<RequestSpan>::new())
            .wrap(from_fn(limen_http::record_metrics))
            .wrap(from_fn(limen_http::audit_context))
            // Outside the tracing span, so that the span carries its id.
            .wrap(from_fn(limen_http::request_id))
            .configure(limen_http::configure(state.clone()))
    })
    .shutdown_timeout(config.http.shutdown_timeout_secs);
    if config.http.workers > 0 {
        server = server.workers(config.http.workers);
    }
    let server = server
        .client_request_timeout(Duration::from_secs(10))
        // Limen stops the server itself (`shut_down_on_signal`), so that work
        // left running after an answer finishes before the workers stop.
        .disable_signals();
    let server = match &certificate {
        Some(certificate) => server.bind_rustls_0_23(&config.listen, certificate.server_config()?),
        None => server.bind(&config.listen),
    }
    .map_err(|source| CliError::Io {
        context: format!("cannot listen on {}", config.listen),
        source,
    })?;
    // Installed before the address is announced: a SIGTERM from then on is
    // a graceful shutdown, a SIGHUP a reload of the certificate.
    let signals = Signals::install()?;
    let reloads = match certificate {
        Some(certificate) => Some(actix_web::rt::spawn(reload_on_hangup(
            certificate,
            Signals::hangups()?,
        ))),
        None => None,
    };
    let scheme = if reloads.is_some() { "https" } else { "http" };
    for address in server.addrs() {
        tracing::info!("listening on {scheme}://{address}");
    }
    let server = server.run();
    let management = management.map(|management| {
        let handle = management.handle();
        (actix_web::rt::spawn(management), handle)
    });
    let shutdown = actix_web::rt::spawn(shut_down_on_signal(
        signals,
        server.handle(),
        background,
        Duration::from_secs(config.http.shutdown_timeout_secs),
    ));
    let served = server.await;
    if let Some((running, handle)) = management {
        handle.stop(true).await;
        let _ = running.await;
    }
    served.map_err(|source| CliError::Io {
        context: "server failed".into(),
        source,
    })?;
    shutdown.abort();
    if let Some(reloads) = reloads {
        reloads.abort();
    }
    tracing::info!("shut down");
    drop(purges);
    if let Some(simulator) = core.simulator {
        simulator.stop().await;
    }
    core.database.close().await?;
    Ok(())
}

/// The BankID simulator lets whoever reaches it log in as anyone with a
/// personal number: on a listener other machines can reach it needs
/// `bankid.simulator.allow_non_loopback`, and then it is said loudly.
fn refuse_an_exposed_simulator(config: &Config) -> Result<(), CliError> {
    if config.bankid.mode != crate::config::BankIdMode::Simulator || is_loopback(&config.listen) {
        return Ok(());
    }
    if !config.bankid.simulator.allow_non_loopback {
        return Err(CliError::Usage(format!(
            "bankid.mode = \"simulator\" lets anyone log in as anyone with a personal number, and \
             {} is reachable from other machines: listen on 127.0.0.1 or [::1], or set \
             [bankid.simulator] allow_non_loopback = true for a shared test system",
            config.listen
        )));
    }
    tracing::error!(
        listen = %config.listen,
        "the BankID SIMULATOR is reachable from other machines: anyone who reaches it can log in as \
         anyone with a personal number (bankid.simulator.allow_non_loopback = true); never in production"
    );
    Ok(())
}

/// Whether `listen` (`host:port`) is reachable from this machine only.
fn is_loopback(listen: &str) -> bool {
    match listen.parse::<std::net::SocketAddr>() {
        Ok(address) => address.ip().is_loopback(),
        Err(_) => listen
            .rsplit_once(':')
            .is_some_and(|(host, _)| host.eq_ignore_ascii_case("localhost")),
    }
}

/// The management listener, bound and announced: metrics and health for
/// operators, on an address of its own, plain HTTP, one worker.
fn management_server(address: &str, state: limen_http::AppState) -> Result<actix_web::dev::Server, CliError> {
    let server = HttpServer::new(move || {
        App::new()
            .wrap(TracingLogger::<RequestSpan>::new())
            .wrap(from_fn(limen_http::request_id))
            .configure(limen_http::configure_management(state.clone()))
    })
    .workers(1)
    .disable_signals()
    .bind(address)
    .map_err(|source| CliError::Io {
        context: format!("cannot listen on {address} (management.listen)"),
        source,
    })?;
    for address in server.addrs() {
        tracing::info!("management listener at http://{address}");
    }
    Ok(server.run())
}

/// On SIGTERM or Ctrl-C: stops accepting connections, lets work left running
/// after answers finish (up to `timeout`), then stops the server, which gives
/// in-flight requests up to `shutdown_timeout_secs` as well.
async fn shut_down_on_signal(
    mut signals: Signals,
    server: actix_web::dev::ServerHandle,
    background: Background,
    timeout: Duration,
) {
    let signal = signals.next().await;
    tracing::info!(signal, "stopping: no new connections; finishing work in flight");
    server.pause().await;
    let abandoned = background.finish(timeout).await;
    if abandoned > 0 {
        tracing::warn!(
            abandoned,
            "work still running after an answer was abandoned at shutdown"
        );
    }
    server.stop(true).await;
}

/// The signals that stop `serve`.
struct Signals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    /// Replaces the default handlers (which would end the process at once).
    fn install() -> Result<Self, CliError> {
        use tokio::signal::unix::{SignalKind, signal};
        let install = |kind| {
            signal(kind).map_err(|source| CliError::Io {
                context: "cannot install the signal handlers".into(),
                source,
            })
        };
        Ok(Self {
            terminate: install(SignalKind::terminate())?,
            interrupt: install(SignalKind::interrupt())?,
        })
    }

    /// SIGHUPs, which would otherwise end the process.
    fn hangups() -> Result<tokio::signal::unix::Signal, CliError> {
        use tokio::signal::unix::{SignalKind, signal};
        signal(SignalKind::hangup()).map_err(|source| CliError::Io {
            context: "cannot install the SIGHUP handler".into(),
            source,
        })
    }

    /// The name of the next one to arrive.
    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        }
    }
}

/// Reads the TLS certificate again on every SIGHUP.
async fn reload_on_hangup(certificate: Arc<ReloadingCertificate>, mut hangups: tokio::signal::unix::Signal) {
    while hangups.recv().await.is_some() {
        certificate.reload();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_listeners_count_as_this_machine() {
        for local in ["127.0.0.1:8080", "[::1]:0", "localhost:8080", "127.8.9.1:1"] {
            assert!(is_loopback(local), "{local}");
        }
        for open in [
            "0.0.0.0:8080",
            "[::]:8080",
            "192.0.2.1:80",
            "login.example:443",
            "localhost",
        ] {
            assert!(!is_loopback(open), "{open}");
        }
    }
}
