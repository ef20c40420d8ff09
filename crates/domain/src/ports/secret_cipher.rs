/// Seals secrets (TOTP keys, private keys) before they are stored, and opens them
/// after. `context` is bound to the sealed form as associated data (the owner's
/// id), so a sealed secret copied to another user's row does not open there.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait SecretCipher: Send + Sync {
    /// The stored form of `secret`, bound to `context`.
    fn seal(&self, secret: &[u8], context: &[u8]) -> Result<String, String>;

    /// The secret from its stored form; fails for a form it cannot open
    /// (tampered, sealed for another context, or with a key it does not have).
    fn open(&self, sealed: &str, context: &[u8]) -> Result<Vec<u8>, String>;

    /// Whether `sealed` is in the current form under the current key, so that
    /// re-sealing can skip it.
    fn is_current(&self, sealed: &str) -> bool;
}
