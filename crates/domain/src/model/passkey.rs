use chrono::{DateTime, Utc};

use super::UserId;

/// A passkey as Limen keeps it, in its own database whatever the user backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPasskey {
    /// Its row.
    pub id: i64,
    /// Its owner.
    pub user_id: UserId,
    /// The owner's WebAuthn user handle (a UUID, the same for every passkey
    /// of the user): what a discoverable login's authenticator names.
    pub user_handle: String,
    /// The credential id, base64url.
    pub credential_id: String,
    /// The owner's name for it ("Laptop", "Phone").
    pub name: String,
    /// The public key, its algorithm, sign counter and backup flags, as the
    /// ceremonies adapter serialises them.
    pub credential: String,
    /// The authenticator model's AAGUID, when it says.
    pub aaguid: Option<String>,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last logged its owner in.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A credential a registration ceremony verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCredential {
    /// Its id, base64url.
    pub credential_id: String,
    /// The adapter's serialised credential.
    pub credential: String,
    /// The authenticator model's AAGUID, when it says (not all-zero).
    pub aaguid: Option<String>,
}

/// A started ceremony: the options for the browser (WebAuthn Level 3's JSON
/// encoding, `{"publicKey": {...}}`) and the state its finish needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CeremonyStart {
    /// `{"publicKey": PublicKeyCredential…OptionsJSON}`, with `mediation`
    /// for a login.
    pub options: serde_json::Value,
    /// The adapter's serialised state (the challenge and what it expects).
    pub state: String,
}

/// Who a discoverable assertion says it is, before it is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertedCredential {
    /// The user handle the authenticator returned.
    pub user_handle: String,
    /// The credential id, base64url.
    pub credential_id: String,
}

/// What a verified assertion changes in its credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    /// The credential with its new sign counter and backup flags, when they
    /// changed.
    pub updated: Option<String>,
}

/// Why a ceremony's response was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasskeyError {
    /// The response is not a WebAuthn response of this kind.
    #[error("the credential is not a WebAuthn response: {0}")]
    Malformed(String),
    /// It does not verify: another challenge, origin or rp id, a bad
    /// signature, no user verification.
    #[error("the credential does not verify: {0}")]
    Refused(String),
    /// The authenticator's sign counter went back: a cloned authenticator.
    #[error("the authenticator's sign counter went back (a cloned authenticator?)")]
    CounterWentBack,
    /// Limen itself failed (a state that does not read back).
    #[error("passkey ceremony failed: {0}")]
    Internal(String),
}
