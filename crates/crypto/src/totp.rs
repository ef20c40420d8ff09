use limen_domain::model::{TotpAlgorithm, TotpParams, TotpProvisioning};
use limen_domain::ports::TotpGenerator;
use totp_rs::{Algorithm, TOTP};

/// Bytes of a new shared secret: 160 bits, as RFC 4226 recommends for HMAC-SHA1.
const SECRET_BYTES: usize = 20;

/// RFC 6238 through `totp-rs`; QR codes as PNG data URIs.
#[derive(Debug, Default, Clone, Copy)]
pub struct RfcTotp;

fn algorithm(algorithm: TotpAlgorithm) -> Algorithm {
    match algorithm {
        TotpAlgorithm::Sha1 => Algorithm::SHA1,
        TotpAlgorithm::Sha256 => Algorithm::SHA256,
        TotpAlgorithm::Sha512 => Algorithm::SHA512,
    }
}

fn totp(secret: &[u8], params: TotpParams, issuer: Option<String>, account: String) -> Result<TOTP, String> {
    let digits = usize::try_from(params.digits).map_err(|err| err.to_string())?;
    if !(6..=8).contains(&digits) {
        return Err(format!("TOTP codes must have 6 to 8 digits, not {digits}"));
    }
    if params.period == 0 {
        return Err("the TOTP period must be positive".into());
    }
    // Unchecked: the checked constructor refuses secrets under 128 bits and ':'
    // in names, and both are validated here or harmless for code computation.
    Ok(TOTP::new_unchecked(
        algorithm(params.algorithm),
        digits,
        1,
        params.period,
        secret.to_vec(),
        issuer,
        account,
    ))
}

impl TotpGenerator for RfcTotp {
    fn new_secret(&self) -> Vec<u8> {
        let mut secret = vec![0u8; SECRET_BYTES];
        #[allow(clippy::expect_used)]
        getrandom::fill(&mut secret).expect("the operating system's random source failed");
        secret
    }

    fn code(&self, secret: &[u8], params: TotpParams, step: u64) -> Result<String, String> {
        let totp = totp(secret, params, None, String::new())?;
        Ok(totp.generate(step.saturating_mul(params.period)))
    }

    fn provisioning(
        &self,
        secret: &[u8],
        params: TotpParams,
        issuer: &str,
        account: &str,
    ) -> Result<TotpProvisioning, String> {
        // ':' separates issuer and account in the URI's label.
        let issuer = issuer.replace(':', " ");
        let account = account.replace(':', " ");
        let totp = totp(secret, params, Some(issuer), account)?;
        let qr = totp.get_qr_base64()?;
        Ok(TotpProvisioning {
            key: crate::base32::encode(secret),
            uri: totp.get_url(),
            qr_data_uri: format!("data:image/png;base64,{qr}"),
            params,
        })
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::*;

    fn params(algorithm: TotpAlgorithm) -> TotpParams {
        TotpParams {
            algorithm,
            digits: 8,
            period: 30,
        }
    }

    /// RFC 6238 appendix B: the seeds are the ASCII digits repeated to the hash's size.
    #[test]
    fn rfc_6238_test_vectors() {
        let sha1 = b"12345678901234567890".to_vec();
        let sha256 = b"12345678901234567890123456789012".to_vec();
        let sha512 = b"1234567890123456789012345678901234567890123456789012345678901234".to_vec();
        let vectors: [(u64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1_111_111_109, "07081804", "68084774", "25091201"),
            (1_111_111_111, "14050471", "67062674", "99943326"),
            (1_234_567_890, "89005924", "91819424", "93441116"),
            (2_000_000_000, "69279037", "90698825", "38618901"),
            (20_000_000_000, "65353130", "77737706", "47863826"),
        ];
        for (time, expected_sha1, expected_sha256, expected_sha512) in vectors {
            let step = time / 30;
            assert_eq!(
                RfcTotp.code(&sha1, params(TotpAlgorithm::Sha1), step).unwrap(),
                expected_sha1
            );
            assert_eq!(
                RfcTotp
                    .code(&sha256, params(TotpAlgorithm::Sha256), step)
                    .unwrap(),
                expected_sha256
            );
            assert_eq!(
                RfcTotp
                    .code(&sha512, params(TotpAlgorithm::Sha512), step)
                    .unwrap(),
                expected_sha512
            );
        }
    }

    #[test]
    fn provisioning_carries_the_key_uri_and_a_png() {
        let secret = RfcTotp.new_secret();
        assert_eq!(secret.len(), 20);
        let provisioning = RfcTotp
            .provisioning(&secret, TotpParams::default(), "Limen", "ann@example.com")
            .unwrap();
        assert_eq!(provisioning.key, crate::base32::encode(&secret));
        assert!(
            provisioning
                .uri
                .starts_with("otpauth://totp/Limen:ann%40example.com?"),
            "{}",
            provisioning.uri
        );
        assert!(provisioning.uri.contains(&format!("secret={}", provisioning.key)));
        assert!(provisioning.uri.contains("issuer=Limen"));
        let png = provisioning
            .qr_data_uri
            .strip_prefix("data:image/png;base64,")
            .unwrap();
        let bytes = base64::engine::general_purpose::STANDARD.decode(png).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    }

    #[test]
    fn impossible_parameters_are_errors() {
        let secret = RfcTotp.new_secret();
        for params in [
            TotpParams {
                digits: 5,
                ..TotpParams::default()
            },
            TotpParams {
                digits: 9,
                ..TotpParams::default()
            },
            TotpParams {
                period: 0,
                ..TotpParams::default()
            },
        ] {
            assert!(RfcTotp.code(&secret, params, 1).is_err(), "{params:?}");
        }
    }
}
