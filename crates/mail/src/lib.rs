//! Limen's `Mailer` adapters: `SmtpMailer` hands messages to an SMTP server
//! (plain, STARTTLS or implicit TLS, with optional authentication);
//! `FileOutbox` writes them as `.eml` files into a folder, for development.

mod message;
mod outbox;
mod smtp;

pub use outbox::FileOutbox;
pub use smtp::{SmtpConfig, SmtpMailer, SmtpSecurity};
