/// Makes the signing key pairs some dialects give their users.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait KeyPairGenerator: Send + Sync {
    /// A fresh Ed25519 key pair: (32-byte public key, 32-byte private seed).
    fn generate(&self) -> ([u8; 32], Vec<u8>);
}
