/// Signs what Limen hands a consumer through the browser (the OpenID login's
/// payload), so that the consumer can trust it: a compact JWS.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait PayloadSigner: Send + Sync {
    /// The compact JWS (`header.payload.signature`, base64url) of `payload`.
    fn sign(&self, payload: &[u8]) -> String;

    /// The public key consumers verify with, as a JSON Web Key; `None` for a
    /// shared secret.
    fn public_jwk(&self) -> Option<String>;

    /// The payload of a compact JWS this key signed (its `kid` and
    /// signature both this key's); `None` for anything else. Limen checks
    /// its own ID tokens coming back (an `id_token_hint`) this way; signers
    /// of consumers' payloads never see their JWS again and verify nothing.
    fn verify(&self, _jws: &str) -> Option<Vec<u8>> {
        None
    }
}
