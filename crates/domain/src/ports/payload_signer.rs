/// Signs what Limen hands a consumer through the browser (the OpenID login's
/// payload), so that the consumer can trust it: a compact JWS.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait PayloadSigner: Send + Sync {
    /// The compact JWS (`header.payload.signature`, base64url) of `payload`,
    /// with `typ` in its header (`JWT`; `at+jwt` for an access token, RFC 9068).
    fn sign_typed(&self, typ: &str, payload: &[u8]) -> String;

    /// `sign_typed` as a plain `JWT`.
    fn sign(&self, payload: &[u8]) -> String {
        self.sign_typed("JWT", payload)
    }

    /// The public key consumers verify with, as a JSON Web Key; `None` for a
    /// shared secret.
    fn public_jwk(&self) -> Option<String>;

    /// The payload of a compact JWS this key signed (its `kid` and
    /// signature both this key's); `None` for anything else. Limen checks
    /// its own ID tokens coming back (an `id_token_hint`) this way; signers
    /// of consumers' payloads never see their JWS again and verify nothing.
    fn verify(&self, jws: &str) -> Option<Vec<u8>> {
        self.verify_typed("JWT", jws)
    }

    /// `verify` of a JWS whose header's `typ` is `typ`: an access token is
    /// never taken for an ID token, nor the other way round (RFC 9068 §4).
    fn verify_typed(&self, _typ: &str, _jws: &str) -> Option<Vec<u8>> {
        None
    }
}
