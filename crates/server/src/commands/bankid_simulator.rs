//! `limen bankid-simulator`.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use limen_bankid::simulator::{self, SimulatorCertificates};

use crate::cli::SimulatorArgs;
use crate::config::Config;
use crate::error::CliError;
use crate::wiring::simulator_script;

/// Writes `content` to `path`, readable by its owner only when `private`.
fn write(path: &Path, content: &str, private: bool) -> Result<(), CliError> {
    let io = |source| CliError::Io {
        context: format!("cannot write {}", path.display()),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(if private { 0o600 } else { 0o644 })
        .open(path)
        .map_err(io)?;
    file.write_all(content.as_bytes()).map_err(io)
}

/// Serves the simulator until SIGTERM or Ctrl-C.
pub async fn run(config: &Config, args: SimulatorArgs) -> Result<(), CliError> {
    let invalid = |err: limen_bankid::BankIdConfigError| CliError::Usage(format!("bankid simulator: {err}"));
    let certificates = SimulatorCertificates::generate().map_err(invalid)?;
    std::fs::create_dir_all(&args.certificates_dir).map_err(|source| CliError::Io {
        context: format!("cannot create {}", args.certificates_dir.display()),
        source,
    })?;
    let ca = args.certificates_dir.join("ca.pem");
    let client = args.certificates_dir.join("client.pem");
    write(&ca, &certificates.ca_pem, false)?;
    write(
        &client,
        &String::from_utf8_lossy(&certificates.client_identity_pem()),
        true,
    )?;
    let running = simulator::start(&args.listen, simulator_script(config)?, certificates).map_err(invalid)?;
    // Whoever reads these may stop reading: the simulator serves on regardless.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "BankID simulator listening: {}", running.endpoint());
    let _ = writeln!(out, "bankid.ca_file = {:?}", ca.display().to_string());
    let _ = writeln!(
        out,
        "bankid.certificate_file = {:?}",
        client.display().to_string()
    );
    let _ = out.flush();
    drop(out);
    wait_for_shutdown().await?;
    running.stop().await;
    Ok(())
}

async fn wait_for_shutdown() -> Result<(), CliError> {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(|source| {
            CliError::Io {
                context: "cannot listen for SIGTERM".into(),
                source,
            }
        })?;
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
