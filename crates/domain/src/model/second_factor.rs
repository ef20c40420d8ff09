use chrono::{DateTime, Utc};

/// The HMAC hash of a TOTP configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpAlgorithm {
    /// HMAC-SHA1: what every authenticator app supports (RFC 6238's default).
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

impl TotpAlgorithm {
    /// The name used in `otpauth://` URIs and in the `flow` dialect's answers.
    pub fn as_str(self) -> &'static str {
        match self {
            TotpAlgorithm::Sha1 => "SHA1",
            TotpAlgorithm::Sha256 => "SHA256",
            TotpAlgorithm::Sha512 => "SHA512",
        }
    }

    /// Parses `SHA1`, `SHA256` or `SHA512` (case-insensitive, `-` allowed).
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().replace('-', "").as_str() {
            "SHA1" => Some(TotpAlgorithm::Sha1),
            "SHA256" => Some(TotpAlgorithm::Sha256),
            "SHA512" => Some(TotpAlgorithm::Sha512),
            _ => None,
        }
    }
}

/// How codes are computed for one enrolment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TotpParams {
    /// HMAC hash.
    pub algorithm: TotpAlgorithm,
    /// Code length, 6 to 8.
    pub digits: u32,
    /// Seconds per time step.
    pub period: u64,
}

impl Default for TotpParams {
    fn default() -> Self {
        Self {
            algorithm: TotpAlgorithm::Sha1,
            digits: 6,
            period: 30,
        }
    }
}

/// A user's TOTP enrolment as stored: the secret sealed by the `SecretCipher`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTotp {
    /// The sealed shared secret.
    pub sealed_secret: String,
    /// How codes are computed.
    pub params: TotpParams,
    /// Only a confirmed enrolment is asked for at login.
    pub confirmed: bool,
    /// The last time step whose code was accepted; codes of it and earlier steps
    /// are refused (no replay).
    pub last_used_step: Option<u64>,
    /// When enrolment started.
    pub created_at: DateTime<Utc>,
}

/// What an authenticator app needs to be set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpProvisioning {
    /// The secret, base32 without padding.
    pub key: String,
    /// The `otpauth://totp/…` URI.
    pub uri: String,
    /// A PNG QR code of `uri`, as a `data:image/png;base64,…` URI.
    pub qr_data_uri: String,
    /// How codes are computed.
    pub params: TotpParams,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_names_round_trip() {
        for algorithm in [TotpAlgorithm::Sha1, TotpAlgorithm::Sha256, TotpAlgorithm::Sha512] {
            assert_eq!(TotpAlgorithm::parse(algorithm.as_str()), Some(algorithm));
        }
        assert_eq!(TotpAlgorithm::parse("sha-256"), Some(TotpAlgorithm::Sha256));
        assert_eq!(TotpAlgorithm::parse("md5"), None);
    }
}
