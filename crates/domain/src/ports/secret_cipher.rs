/// Seals secrets (TOTP keys) before they are stored, and opens them after.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait SecretCipher: Send + Sync {
    /// The stored form of `secret`.
    fn seal(&self, secret: &[u8]) -> Result<String, String>;

    /// The secret from its stored form; fails for a form it cannot open (tampered,
    /// or sealed with a key it does not have).
    fn open(&self, sealed: &str) -> Result<Vec<u8>, String>;
}
