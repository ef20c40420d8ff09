use std::time::Duration;

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use limen_domain::ports::{Mailer, OutgoingEmail};

use crate::message::{build, sender};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// No TLS: only for a relay on the same host or in tests.
    None,
    /// Plain connection upgraded with STARTTLS (port 587); refused if the server
    /// does not offer it.
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// How to reach the SMTP server.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// Server host name (also the name its certificate must carry).
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Connection protection.
    pub security: SmtpSecurity,
    /// User name and password, when the server wants authentication.
    pub credentials: Option<(String, String)>,
    /// The sender address (`Name <address>` allowed).
    pub from: String,
    /// How long to wait for the server.
    pub timeout: Duration,
    /// A PEM certificate to trust besides the public roots (an internal CA).
    pub extra_root_pem: Option<Vec<u8>>,
}

/// Hands messages to an SMTP server with lettre.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// Builds the transport; connections are made per message, from a pool.
    pub fn new(config: &SmtpConfig) -> Result<Self, String> {
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .timeout(Some(config.timeout));
        builder = match config.security {
            SmtpSecurity::None => builder,
            SmtpSecurity::StartTls => builder.tls(Tls::Required(tls_parameters(config)?)),
            SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls_parameters(config)?)),
        };
        if let Some((user, password)) = &config.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Self {
            transport: builder.build(),
            from: sender(&config.from)?,
        })
    }
}

/// Certificate checks against the public roots, plus the configured extra root.
fn tls_parameters(config: &SmtpConfig) -> Result<TlsParameters, String> {
    let mut builder = TlsParameters::builder(config.host.clone());
    if let Some(pem) = &config.extra_root_pem {
        let certificate = Certificate::from_pem(pem)
            .map_err(|err| format!("the extra root certificate is not PEM: {err}"))?;
        builder = builder.add_root_certificate(certificate);
    }
    builder
        .build()
        .map_err(|err| format!("cannot set up TLS to {}: {err}", config.host))
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, email: OutgoingEmail) -> Result<(), String> {
        let message = build(&self.from, &email)?;
        self.transport
            .send(message)
            .await
            .map_err(|err| format!("the SMTP server did not take the message: {err}"))?;
        tracing::info!("e-mail handed to the SMTP server");
        Ok(())
    }
}
