//! `limen config check`: the configuration loaded and validated as `serve`
//! would, without connecting to anything or binding a port.

use serde::Serialize;

use crate::config::{Config, ExposeSecret};
use crate::error::CliError;
use crate::output::say;

/// Prints what the valid configuration amounts to, with no secret in it. An
/// invalid one never gets here: loading it already failed with the reason.
pub fn check(config: &Config) -> Result<(), CliError> {
    let redis = config
        .redis_url
        .as_ref()
        .map(ExposeSecret::expose_secret)
        .filter(|_| config.uses_redis())
        .map_or_else(|| "not used".to_owned(), limen_domain::redact_url);
    let lines = [
        ("listen", config.listen.clone()),
        (
            "management",
            config
                .management
                .address()
                .map_or_else(|| "off".to_owned(), |address| format!("http://{address}")),
        ),
        (
            "public_url",
            config
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", config.listen)),
        ),
        (
            "database",
            limen_domain::redact_url(config.database_url.expose_secret()),
        ),
        ("users", name(&config.users.backend)),
        ("tokens", name(&config.tokens.backend)),
        ("rate_limit", name(&config.rate_limit.backend)),
        ("redis", redis),
        ("nodes", name(&config.cluster.nodes)),
        (
            "cache",
            if config.cache.enabled {
                format!(
                    "on, at most {} tokens, trusted for at most {} s",
                    config.cache.max_entries, config.cache.max_staleness_secs
                )
            } else {
                "off".into()
            },
        ),
        (
            "secrets_key",
            match (&config.secrets_key, config.allow_unsealed_secrets) {
                (Some(_), _) => format!("set (and {} previous)", config.previous_secrets_keys.len()),
                (None, true) => "none: secrets stored unsealed (allow_unsealed_secrets)".into(),
                (None, false) => "none: generated beside an SQLite database, required otherwise".into(),
            },
        ),
        ("mail", name(&config.mail.transport)),
        ("bankid", name(&config.bankid.mode)),
        ("oidc providers", config.oidc.providers.len().to_string()),
        (
            "log",
            format!("{} ({})", config.log_level, name(&config.log_format)),
        ),
    ];
    say!("configuration is valid");
    for (key, value) in lines {
        say!("  {key:<15} {value}");
    }
    Ok(())
}

/// The name the configuration file uses for `value`.
fn name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}
