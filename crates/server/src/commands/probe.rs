//! `limen probe`: asks a running Limen whether it is ready, for a container's
//! HEALTHCHECK or a script, with no HTTP client needed in the image.

use std::time::Duration;

use crate::cli::ProbeArgs;
use crate::config::Config;
use crate::error::CliError;
use crate::output::say;

/// GETs the probe URL; Ok when it answers 200 within the timeout.
pub async fn run(config: &Config, args: ProbeArgs) -> Result<(), CliError> {
    let url = match args.url {
        Some(url) => url,
        None => format!("http://{}{}", local_address(&config.listen), args.path),
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(args.timeout_secs.max(1)))
        .build()
        .map_err(|err| CliError::Usage(format!("cannot build an HTTP client: {err}")))?;
    let answer = client
        .get(&url)
        .send()
        .await
        .map_err(|err| CliError::Usage(format!("{url}: no answer: {err}")))?;
    let status = answer.status();
    if status.is_success() {
        say!("{url}: {status}");
        Ok(())
    } else {
        let body = answer.text().await.unwrap_or_default();
        Err(CliError::Usage(format!("{url}: {status} {}", body.trim())))
    }
}

/// `listen` as an address this machine can connect to: a wildcard host
/// (`0.0.0.0`, `[::]`) becomes the loopback address of its family.
fn local_address(listen: &str) -> String {
    match listen.rsplit_once(':') {
        Some(("0.0.0.0" | "", port)) => format!("127.0.0.1:{port}"),
        Some(("[::]", port)) => format!("[::1]:{port}"),
        _ => listen.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_become_loopback() {
        assert_eq!(local_address("0.0.0.0:8080"), "127.0.0.1:8080");
        assert_eq!(local_address("[::]:8080"), "[::1]:8080");
        assert_eq!(local_address(":8080"), "127.0.0.1:8080");
        assert_eq!(local_address("10.0.0.5:9000"), "10.0.0.5:9000");
        assert_eq!(local_address("localhost:8080"), "localhost:8080");
    }
}
