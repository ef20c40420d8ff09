use crate::model::TokenHash;

/// Makes unguessable tokens and the digests under which they are stored.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait TokenMint: Send + Sync {
    /// A fresh random token (at least 256 bits) and its digest.
    fn mint(&self) -> (String, TokenHash);

    /// The digest of a presented token, for lookup.
    fn digest(&self, plaintext: &str) -> TokenHash;
}
