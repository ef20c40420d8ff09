use std::path::PathBuf;

use async_trait::async_trait;
use lettre::message::Mailbox;
use limen_domain::ports::{Mailer, OutgoingEmail};

use crate::message::{build, sender};

/// Writes each message as an `.eml` file into a folder (created if missing), for
/// development and for deployments that relay mail by other means.
pub struct FileOutbox {
    dir: PathBuf,
    from: Mailbox,
}

impl FileOutbox {
    /// An outbox in `dir`, with messages from `from`.
    pub fn new(dir: impl Into<PathBuf>, from: &str) -> Result<Self, String> {
        Ok(Self {
            dir: dir.into(),
            from: sender(from)?,
        })
    }
}

#[async_trait]
impl Mailer for FileOutbox {
    async fn send(&self, email: OutgoingEmail) -> Result<(), String> {
        let message = build(&self.from, &email)?;
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|err| format!("cannot create the outbox {}: {err}", self.dir.display()))?;
        let name = format!(
            "{}-{}.eml",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
            uuid::Uuid::new_v4().simple()
        );
        let path = self.dir.join(name);
        let written = write_private(&path, message.formatted()).await;
        written.map_err(|err| format!("cannot write {}: {err}", path.display()))?;
        tracing::info!(path = %path.display(), "e-mail written to the outbox");
        Ok(())
    }
}

/// Writes a new file only its owner can read (0600): messages carry reset
/// tokens and verification links.
async fn write_private(path: &std::path::Path, contents: Vec<u8>) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .await?;
    file.write_all(&contents).await?;
    file.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn messages_land_in_the_folder_as_eml_files_only_their_owner_reads() {
        let dir = std::env::temp_dir().join(format!("limen-outbox-{}", uuid::Uuid::new_v4().simple()));
        let outbox = FileOutbox::new(&dir, "Limen <noreply@example.com>").unwrap();
        outbox
            .send(OutgoingEmail {
                to: "max@example.com".into(),
                subject: "Hello".into(),
                body: "Open https://example.com/verify?token=abc\n".into(),
            })
            .await
            .unwrap();
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(files.len(), 1);
        use std::os::unix::fs::PermissionsExt;
        let mode = files[0]
            .as_ref()
            .unwrap()
            .metadata()
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "readable by its owner only: {mode:o}");
        let text = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
        assert!(text.contains("To: max@example.com"), "{text}");
        assert!(text.contains("Subject: Hello"));
        assert!(text.contains("token=abc"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_bad_recipient_is_an_error() {
        let outbox = FileOutbox::new(std::env::temp_dir(), "noreply@example.com").unwrap();
        let err = outbox
            .send(OutgoingEmail {
                to: "not an address".into(),
                subject: "x".into(),
                body: "x".into(),
            })
            .await
            .unwrap_err();
        assert!(err.contains("not a valid address"), "{err}");
    }
}
