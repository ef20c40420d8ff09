use crate::model::{TotpParams, TotpProvisioning};

/// RFC 6238 arithmetic and authenticator-app provisioning.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait TotpGenerator: Send + Sync {
    /// A fresh random shared secret (160 bits, RFC 4226's recommendation).
    fn new_secret(&self) -> Vec<u8>;

    /// The code for time step `step` (Unix time / period).
    fn code(&self, secret: &[u8], params: TotpParams, step: u64) -> Result<String, String>;

    /// The key, `otpauth://` URI and QR code for an authenticator app.
    fn provisioning(
        &self,
        secret: &[u8],
        params: TotpParams,
        issuer: &str,
        account: &str,
    ) -> Result<TotpProvisioning, String>;
}
