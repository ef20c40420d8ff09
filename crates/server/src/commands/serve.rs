//! `limen serve`.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpServer};
use limen_domain::ports::RateLimiter;
use limen_http::RequestSpan;
use tracing_actix_web::TracingLogger;

use crate::cli::ServeArgs;
use crate::config::Config;
use crate::error::CliError;
use crate::wiring::{Core, Purpose};

/// Serves until SIGTERM or Ctrl-C, then lets in-flight requests finish.
pub async fn run(mut config: Config, args: ServeArgs) -> Result<(), CliError> {
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    let core = Core::start(&config, Purpose::Serve).await?;
    if core.seals_secrets {
        // Secrets sealed by an older version, or before a key existed, are
        // sealed again in the current form, bound to their owner.
        let resealed = core.services.two_factor.reseal(true).await?;
        if resealed > 0 {
            tracing::info!(resealed, "secrets sealed in the current form");
        }
    }
    let purge = actix_web::rt::spawn(purge_expired_attempts(
        core.lockouts.clone(),
        core.throttles.clone(),
    ));
    let state = core.http_state(&config)?;
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(TracingLogger::<RequestSpan>::new())
            .configure(limen_http::configure(state.clone()))
    })
    .shutdown_timeout(config.http.shutdown_timeout_secs);
    if config.http.workers > 0 {
        server = server.workers(config.http.workers);
    }
    let server = server
        .client_request_timeout(Duration::from_secs(10))
        .bind(&config.listen)
        .map_err(|source| CliError::Io {
            context: format!("cannot listen on {}", config.listen),
            source,
        })?;
    for address in server.addrs() {
        tracing::info!("listening on http://{address}");
    }
    server.run().await.map_err(|source| CliError::Io {
        context: "server failed".into(),
        source,
    })?;
    tracing::info!("shut down");
    purge.abort();
    if let Some(simulator) = core.simulator {
        simulator.stop().await;
    }
    core.database.close().await?;
    Ok(())
}

/// How often counted attempts whose window closed and whose block ended are forgotten.
const PURGE_INTERVAL: Duration = Duration::from_secs(600);

/// Forgets counted attempts that no longer matter, now and then, so that the
/// table (or map) of a busy server stays small.
async fn purge_expired_attempts(lockouts: Arc<dyn RateLimiter>, throttles: Arc<dyn RateLimiter>) {
    let mut interval = tokio::time::interval(PURGE_INTERVAL);
    loop {
        interval.tick().await;
        let now = chrono::Utc::now();
        let mut purged = 0;
        for limiter in [&lockouts, &throttles] {
            match limiter.purge_expired(now).await {
                Ok(count) => purged += count,
                Err(err) => tracing::warn!(error = %err, "could not purge expired attempt counts"),
            }
            if Arc::ptr_eq(&lockouts, &throttles) {
                break;
            }
        }
        if purged > 0 {
            tracing::debug!(purged, "expired attempt counts purged");
        }
    }
}
