//! The WebAuthn ceremonies of Limen's passkeys (`PasskeyCeremonies`), over
//! webauthn-rs: registration of a discoverable credential with user
//! verification, and discoverable login. The challenges' single use and the
//! credentials' storage are the domain's; this crate only computes.

mod aaguid;
mod ceremonies;

pub use ceremonies::{RelyingParty, WebauthnCeremonies};
/// URLs as the ceremonies take them.
pub use webauthn_rs::prelude::Url;
