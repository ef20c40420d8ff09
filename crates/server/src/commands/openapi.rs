//! `limen openapi`: the description of every route, for docs/openapi.json and
//! for client generators.

use std::io::Write;
use std::path::Path;

use crate::error::CliError;

/// Writes the description to `output`, or to standard output.
pub fn run(output: Option<&Path>) -> Result<(), CliError> {
    let json = limen_http::openapi_json();
    match output {
        Some(path) => std::fs::write(path, json).map_err(|source| CliError::Io {
            context: format!("writing {}", path.display()),
            source,
        }),
        None => std::io::stdout()
            .lock()
            .write_all(json.as_bytes())
            .map_err(|source| CliError::Io {
                context: "writing to standard output".into(),
                source,
            }),
    }
}
