//! Certificates made for one run of the simulator: a CA, the simulator's server
//! certificate (localhost, 127.0.0.1, ::1) and a relying-party client
//! certificate, all signed by that CA. Nothing here is meant to outlive the run.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

use crate::BankIdConfigError;

/// The PEM files of one simulator run.
#[derive(Clone)]
pub struct SimulatorCertificates {
    /// The CA both sides trust.
    pub ca_pem: String,
    /// The simulator's server certificate.
    pub server_cert_pem: String,
    /// Its private key.
    pub server_key_pem: String,
    /// The relying party's client certificate.
    pub client_cert_pem: String,
    /// Its private key.
    pub client_key_pem: String,
}

impl std::fmt::Debug for SimulatorCertificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SimulatorCertificates(<keys redacted>)")
    }
}

fn failed(err: rcgen::Error) -> BankIdConfigError {
    BankIdConfigError::Identity(format!("cannot make the simulator's certificates: {err}"))
}

fn named(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "Limen BankID simulator");
    name.push(DnType::CommonName, common_name);
    name
}

impl SimulatorCertificates {
    /// Fresh certificates, valid for a year.
    pub fn generate() -> Result<Self, BankIdConfigError> {
        let ca_key = KeyPair::generate().map_err(failed)?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
        ca_params.distinguished_name = named("Limen BankID simulator CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = ca_params.self_signed(&ca_key).map_err(failed)?;

        let server_key = KeyPair::generate().map_err(failed)?;
        let mut server_params =
            CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into(), "::1".into()])
                .map_err(failed)?;
        server_params.distinguished_name = named("localhost");
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server = server_params
            .signed_by(&server_key, &ca, &ca_key)
            .map_err(failed)?;

        let client_key = KeyPair::generate().map_err(failed)?;
        let mut client_params = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
        client_params.distinguished_name = named("Limen relying party");
        client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client = client_params
            .signed_by(&client_key, &ca, &ca_key)
            .map_err(failed)?;

        Ok(Self {
            ca_pem: ca.pem(),
            server_cert_pem: server.pem(),
            server_key_pem: server_key.serialize_pem(),
            client_cert_pem: client.pem(),
            client_key_pem: client_key.serialize_pem(),
        })
    }

    /// The client certificate and key as one PEM bundle.
    pub fn client_identity_pem(&self) -> Vec<u8> {
        format!("{}{}", self.client_key_pem, self.client_cert_pem).into_bytes()
    }
}
