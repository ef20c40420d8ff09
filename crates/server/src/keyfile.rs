//! The secrets key Limen generates for itself on SQLite, in a file beside the
//! database, readable by its owner only.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::error::CliError;

/// A fresh key: base64 of 32 random bytes.
pub fn generate() -> Result<String, CliError> {
    limen_crypto::generate_key().map_err(CliError::Usage)
}

/// The key in `path`, created (mode 0600) if the file does not exist. Two
/// processes starting at once agree on one key: each writes its own temporary
/// file and links it into place, and the one that loses reads the winner's.
pub fn read_or_create(path: &Path) -> Result<String, CliError> {
    let io = |context: String| move |source| CliError::Io { context, source };
    if path.exists() {
        return read(path);
    }
    let temporary = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)
        .map_err(io(format!(
            "cannot create the secrets key file {}",
            temporary.display()
        )))?;
    let key = generate()?;
    file.write_all(format!("{key}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io(format!(
            "cannot write the secrets key file {}",
            temporary.display()
        )))?;
    let linked = fs::hard_link(&temporary, path);
    let _ = fs::remove_file(&temporary);
    match linked {
        Ok(()) => {
            tracing::warn!(
                path = %path.display(),
                "no secrets_key configured: generated one; back this file up with the database, \
                 sealed secrets cannot be opened without it"
            );
            Ok(key)
        }
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => read(path),
        Err(source) => Err(CliError::Io {
            context: format!("cannot put the secrets key file in place at {}", path.display()),
            source,
        }),
    }
}

fn read(path: &Path) -> Result<String, CliError> {
    let key = fs::read_to_string(path).map_err(|source| CliError::Io {
        context: format!("cannot read the secrets key file {}", path.display()),
        source,
    })?;
    Ok(key.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn the_key_is_made_once_readable_by_its_owner_only_and_then_reused() {
        let dir = std::env::temp_dir().join(format!("limen-keyfile-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("limen.db.secrets-key");
        let _ = fs::remove_file(&path);
        let first = read_or_create(&path).unwrap();
        assert!(limen_crypto::parse_key(&first).is_ok());
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(read_or_create(&path).unwrap(), first);
        let _ = fs::remove_dir_all(&dir);
    }
}
