//! Native TLS for `serve` (`[http.tls]`): the certificate and key are read at
//! start and again on SIGHUP. A reload swaps what new handshakes get; open
//! connections keep the session they have, so none is dropped, and a file
//! that cannot be read or does not match keeps the certificate in use.

use std::fmt;
use std::sync::{Arc, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::config::TlsSection;
use crate::error::CliError;

/// The certificate every handshake is given, replaceable while serving.
pub struct ReloadingCertificate {
    files: TlsSection,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
}

impl fmt::Debug for ReloadingCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReloadingCertificate")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl ReloadingCertificate {
    /// Reads the files; an error names the file and what is wrong with it.
    pub fn load(files: &TlsSection) -> Result<Arc<Self>, CliError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let current = read(files, &provider)?;
        Ok(Arc::new(Self {
            files: files.clone(),
            provider,
            current: RwLock::new(current),
        }))
    }

    /// Reads the files again and uses them for new handshakes; on failure
    /// the certificate in use stays and the reason is logged.
    pub fn reload(&self) {
        match read(&self.files, &self.provider) {
            Ok(fresh) => {
                match self.current.write() {
                    Ok(mut current) => *current = fresh,
                    Err(poisoned) => *poisoned.into_inner() = fresh,
                }
                tracing::info!(cert_file = %self.files.cert_file.display(), "TLS certificate reloaded");
            }
            Err(err) => tracing::error!(%err, "TLS certificate not reloaded; the one in use stays"),
        }
    }

    /// The rustls configuration of the listener: TLS 1.2 and 1.3, no client
    /// certificates (actix-web offers HTTP/1.1 by ALPN itself).
    pub fn server_config(self: &Arc<Self>) -> Result<rustls::ServerConfig, CliError> {
        Ok(rustls::ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|err| CliError::Usage(format!("TLS: {err}")))?
            .with_no_client_auth()
            .with_cert_resolver(self.clone()))
    }
}

impl ResolvesServerCert for ReloadingCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let current = match self.current.read() {
            Ok(current) => current,
            Err(poisoned) => poisoned.into_inner(),
        };
        Some(current.clone())
    }
}

/// The certificate chain and key of `files`, checked to belong together.
fn read(files: &TlsSection, provider: &CryptoProvider) -> Result<Arc<CertifiedKey>, CliError> {
    let unusable = |which: &std::path::Path, why: String| {
        CliError::Usage(format!("http.tls: {}: {why}", which.display()))
    };
    let chain = CertificateDer::pem_file_iter(&files.cert_file)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|err| unusable(&files.cert_file, err.to_string()))?;
    if chain.is_empty() {
        return Err(unusable(&files.cert_file, "no certificate in it".into()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key_file)
        .map_err(|err| unusable(&files.key_file, err.to_string()))?;
    let key = provider
        .key_provider
        .load_private_key(key)
        .map_err(|err| unusable(&files.key_file, err.to_string()))?;
    let certified = CertifiedKey::new(chain, key);
    certified.keys_match().map_err(|err| {
        unusable(
            &files.key_file,
            format!("is not the key of {}: {err}", files.cert_file.display()),
        )
    })?;
    Ok(Arc::new(certified))
}
