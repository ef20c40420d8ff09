use async_trait::async_trait;

/// An e-mail to send: plain text, one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
}

/// Sends e-mail: over SMTP in production, into a folder in development.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one message; the error says why it could not be handed over.
    async fn send(&self, email: OutgoingEmail) -> Result<(), String>;
}
