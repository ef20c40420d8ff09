//! `[mail]`, `[mail.smtp]` and `[registration]`: e-mail and sign-up.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::SecretString;

/// How e-mail leaves Limen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    /// Each message becomes an `.eml` file in `outbox_dir` (development).
    Outbox,
    /// Messages go to the SMTP server of `[mail.smtp]`.
    Smtp,
}

/// `[mail]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailSection {
    /// `outbox` or `smtp`.
    pub transport: MailTransport,
    /// The sender, `Name <address>` or a bare address.
    pub from: String,
    /// Where the outbox transport writes messages.
    pub outbox_dir: PathBuf,
    /// `[mail.smtp]`.
    pub smtp: SmtpSection,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurityName {
    /// STARTTLS on a plain connection (port 587); required, not opportunistic.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS: only for a relay on the same host.
    None,
}

/// `[mail.smtp]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSection {
    /// Server host name.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// `starttls`, `tls` or `none`.
    pub security: SmtpSecurityName,
    /// User name, when the server wants authentication.
    pub username: Option<String>,
    /// Password for `username`.
    #[serde(skip_serializing)]
    pub password: Option<SecretString>,
    /// A file holding the password.
    pub password_file: Option<PathBuf>,
    /// Seconds to wait for the server.
    pub timeout_secs: u64,
    /// A PEM file with a CA certificate to trust besides the public roots.
    pub ca_file: Option<PathBuf>,
}

/// `[registration]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistrationSection {
    /// The link of the verification e-mail, `{token}` standing for the token;
    /// `<public_url>/account/checkEmail/{token}` when unset.
    pub verification_url: Option<String>,
    /// Seconds the verification link works.
    pub verification_ttl_secs: i64,
    /// The service's name in e-mails.
    pub site_name: String,
    /// `en` or `de`.
    pub language: String,
    /// Refuse logins until the e-mail address is verified (the original
    /// `gradido` server lets unverified users log in).
    pub require_verified_email: bool,
}

impl Default for RegistrationSection {
    fn default() -> Self {
        Self {
            verification_url: None,
            verification_ttl_secs: 24 * 3600,
            site_name: "Limen".into(),
            language: "en".into(),
            require_verified_email: false,
        }
    }
}

impl Default for MailSection {
    fn default() -> Self {
        Self {
            transport: MailTransport::Outbox,
            from: "Limen <noreply@localhost>".into(),
            outbox_dir: PathBuf::from("outbox"),
            smtp: SmtpSection::default(),
        }
    }
}

impl Default for SmtpSection {
    fn default() -> Self {
        Self {
            host: "localhost".into(),
            port: 587,
            security: SmtpSecurityName::Starttls,
            username: None,
            password: None,
            password_file: None,
            timeout_secs: 10,
            ca_file: None,
        }
    }
}
