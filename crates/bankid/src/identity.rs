//! The relying party's client certificate, from PEM or PKCS#12.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::BankIdConfigError;

/// The client certificate and private key Limen presents to BankID.
#[derive(Clone)]
pub enum ClientIdentity {
    /// PEM: the certificate (and any chain) and an unencrypted private key,
    /// in one file or concatenated.
    Pem(Vec<u8>),
    /// PKCS#12 (`.p12`, `.pfx`), as BankID hands certificates out, with its password.
    Pkcs12 {
        /// The file's bytes.
        der: Vec<u8>,
        /// Its password.
        password: String,
    },
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientIdentity::Pem(_) => f.write_str("ClientIdentity::Pem(<redacted>)"),
            ClientIdentity::Pkcs12 { .. } => f.write_str("ClientIdentity::Pkcs12(<redacted>)"),
        }
    }
}

impl ClientIdentity {
    /// The identity as one PEM bundle (private key, then certificates), the
    /// form rustls takes.
    pub fn to_pem(&self) -> Result<Vec<u8>, BankIdConfigError> {
        match self {
            ClientIdentity::Pem(pem) => {
                let text = String::from_utf8_lossy(pem);
                if !text.contains("PRIVATE KEY-----") || !text.contains("BEGIN CERTIFICATE") {
                    return Err(BankIdConfigError::Identity(
                        "a PEM client identity needs a certificate and an unencrypted private key".into(),
                    ));
                }
                Ok(pem.clone())
            }
            ClientIdentity::Pkcs12 { der, password } => {
                let store = p12_keystore::KeyStore::from_pkcs12(der, password).map_err(|err| {
                    BankIdConfigError::Identity(format!(
                        "cannot open the PKCS#12 client certificate (wrong password?): {err}"
                    ))
                })?;
                let (_, chain) = store.private_key_chain().ok_or_else(|| {
                    BankIdConfigError::Identity("the PKCS#12 file holds no private key".into())
                })?;
                let mut pem = armor("PRIVATE KEY", chain.key());
                for certificate in chain.chain() {
                    pem.push_str(&armor("CERTIFICATE", certificate.as_der()));
                }
                Ok(pem.into_bytes())
            }
        }
    }
}

/// DER as a PEM block.
fn armor(label: &str, der: &[u8]) -> String {
    let encoded = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
