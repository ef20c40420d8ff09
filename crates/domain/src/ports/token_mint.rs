use crate::model::TokenHash;

/// Makes unguessable tokens and the digests under which they are stored.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait TokenMint: Send + Sync {
    /// A fresh random token (at least 256 bits) and its digest.
    fn mint(&self) -> (String, TokenHash);

    /// A fresh recovery code: 16 base32 characters (80 bits) in groups of four,
    /// `ABCD-EFGH-IJKL-MNOP`.
    fn recovery_code(&self) -> String;

    /// A random non-zero 32-bit session number (the `gradido` dialect's
    /// `session_id`); guessable by design of that API, so its sessions are bound
    /// to an address and wrong guesses are throttled.
    fn session_number(&self) -> i32;

    /// A random UUID (version 4), for APIs whose documents show one (122
    /// random bits; used only for short-lived, single-use tokens).
    fn uuid(&self) -> String;

    /// The digest of a presented token, for lookup.
    fn digest(&self, plaintext: &str) -> TokenHash;
}
