//! `limen serve`.

use std::time::Duration;

use actix_web::{App, HttpServer};
use limen_http::RequestSpan;
use tracing_actix_web::TracingLogger;

use crate::cli::ServeArgs;
use crate::config::Config;
use crate::error::CliError;
use crate::wiring::Core;

/// Serves until SIGTERM or Ctrl-C, then lets in-flight requests finish.
pub async fn run(mut config: Config, args: ServeArgs) -> Result<(), CliError> {
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    let core = Core::start(&config).await?;
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
    core.database.close().await?;
    Ok(())
}
