//! `limen openapi`: the description of every route, for docs/openapi.json and
//! for client generators.

use std::path::Path;

use crate::error::CliError;

/// Writes the description (of the administration API with `admin`) to
/// `output`, or to standard output.
pub fn run(output: Option<&Path>, admin: bool) -> Result<(), CliError> {
    let json = if admin {
        limen_http::admin_openapi_json()
    } else {
        limen_http::openapi_json()
    };
    match output {
        Some(path) => std::fs::write(path, json).map_err(|source| CliError::Io {
            context: format!("writing {}", path.display()),
            source,
        }),
        None => {
            crate::output::text(&json);
            Ok(())
        }
    }
}
