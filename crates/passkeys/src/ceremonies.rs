//! `PasskeyCeremonies` over webauthn-rs.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use limen_domain::model::{
    AssertedCredential, CeremonyStart, PasskeyError, VerifiedAssertion, VerifiedCredential,
};
use limen_domain::ports::PasskeyCeremonies;
use serde_json::Value;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder, WebauthnError,
};

use crate::aaguid;

/// Who the passkeys are for: the relying party's id (a domain), its name
/// as authenticators show it, and the origins its pages are served from.
#[derive(Debug, Clone)]
pub struct RelyingParty {
    /// `login.example.org`, or a registrable suffix of it.
    pub id: String,
    /// The name an authenticator shows ("Example AB").
    pub name: String,
    /// `https://login.example.org`, …; every host ends in `id`.
    pub origins: Vec<Url>,
}

/// The ceremonies of one relying party.
pub struct WebauthnCeremonies {
    webauthn: Webauthn,
}

impl WebauthnCeremonies {
    /// Ceremonies for `party`; an origin outside its id is refused.
    pub fn new(party: &RelyingParty) -> Result<Self, String> {
        let (first, rest) = party
            .origins
            .split_first()
            .ok_or_else(|| "passkeys need at least one origin".to_owned())?;
        let mut builder = WebauthnBuilder::new(&party.id, first)
            .map_err(|err| format!("relying party {} with origin {first}: {err}", party.id))?
            .rp_name(&party.name);
        for origin in rest {
            builder = builder.append_allowed_origin(origin);
        }
        let webauthn = builder
            .build()
            .map_err(|err| format!("relying party {}: {err}", party.id))?;
        Ok(Self { webauthn })
    }
}

fn base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn malformed(what: &str, err: impl std::fmt::Display) -> PasskeyError {
    PasskeyError::Malformed(format!("{what}: {err}"))
}

fn internal(what: &str, err: impl std::fmt::Display) -> PasskeyError {
    PasskeyError::Internal(format!("{what}: {err}"))
}

fn refused(err: WebauthnError) -> PasskeyError {
    match err {
        WebauthnError::CredentialPossibleCompromise => PasskeyError::CounterWentBack,
        other => PasskeyError::Refused(other.to_string()),
    }
}

impl PasskeyCeremonies for WebauthnCeremonies {
    fn new_user_handle(&self) -> String {
        Uuid::new_v4().hyphenated().to_string()
    }

    fn start_registration(
        &self,
        user_handle: &str,
        name: &str,
        display_name: &str,
        exclude: &[String],
    ) -> Result<CeremonyStart, PasskeyError> {
        let handle = Uuid::parse_str(user_handle).map_err(|err| internal("a user handle", err))?;
        let exclude = exclude
            .iter()
            .map(|id| URL_SAFE_NO_PAD.decode(id))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| internal("a stored credential id", err))?;
        let (challenge, state) = self
            .webauthn
            .start_passkey_registration(handle, name, display_name, Some(exclude))
            .map_err(refused)?;
        let mut options = serde_json::to_value(&challenge).map_err(|err| internal("the options", err))?;
        // A passkey is a discoverable credential: asked for (webauthn-rs
        // leaves it to the authenticator, for security keys' sake).
        if let Some(selection) = options["publicKey"]["authenticatorSelection"].as_object_mut() {
            selection.insert("residentKey".into(), Value::from("required"));
            selection.insert("requireResidentKey".into(), Value::from(true));
        }
        let state = serde_json::to_string(&state).map_err(|err| internal("the state", err))?;
        Ok(CeremonyStart { options, state })
    }

    fn finish_registration(&self, response: &Value, state: &str) -> Result<VerifiedCredential, PasskeyError> {
        let credential: RegisterPublicKeyCredential = serde_json::from_value(response.clone())
            .map_err(|err| malformed("RegistrationResponseJSON", err))?;
        let state: PasskeyRegistration =
            serde_json::from_str(state).map_err(|err| internal("the state", err))?;
        let passkey = self
            .webauthn
            .finish_passkey_registration(&credential, &state)
            .map_err(refused)?;
        let aaguid = response["response"]["attestationObject"]
            .as_str()
            .and_then(|object| URL_SAFE_NO_PAD.decode(object.trim_end_matches('=')).ok())
            .and_then(|object| aaguid::of(&object));
        Ok(VerifiedCredential {
            credential_id: base64url(passkey.cred_id().as_ref()),
            credential: serde_json::to_string(&passkey).map_err(|err| internal("the credential", err))?,
            aaguid,
        })
    }

    fn start_authentication(&self) -> Result<CeremonyStart, PasskeyError> {
        let (challenge, state) = self
            .webauthn
            .start_discoverable_authentication()
            .map_err(refused)?;
        let mut options = serde_json::to_value(&challenge).map_err(|err| internal("the options", err))?;
        // The page chooses: conditional for autofill, a dialog for its button.
        if let Some(options) = options.as_object_mut() {
            options.remove("mediation");
        }
        let state = serde_json::to_string(&state).map_err(|err| internal("the state", err))?;
        Ok(CeremonyStart { options, state })
    }

    fn identify(&self, response: &Value) -> Result<AssertedCredential, PasskeyError> {
        let credential: PublicKeyCredential = serde_json::from_value(response.clone())
            .map_err(|err| malformed("AuthenticationResponseJSON", err))?;
        let (handle, id) = self
            .webauthn
            .identify_discoverable_authentication(&credential)
            .map_err(|err| malformed("the user handle", err))?;
        Ok(AssertedCredential {
            user_handle: handle.hyphenated().to_string(),
            credential_id: base64url(id),
        })
    }

    fn finish_authentication(
        &self,
        response: &Value,
        state: &str,
        credential: &str,
    ) -> Result<VerifiedAssertion, PasskeyError> {
        let assertion: PublicKeyCredential = serde_json::from_value(response.clone())
            .map_err(|err| malformed("AuthenticationResponseJSON", err))?;
        let state: DiscoverableAuthentication =
            serde_json::from_str(state).map_err(|err| internal("the state", err))?;
        let mut passkey: Passkey =
            serde_json::from_str(credential).map_err(|err| internal("a stored credential", err))?;
        let result = self
            .webauthn
            .finish_discoverable_authentication_v2(&assertion, state, &passkey)
            .map_err(refused)?;
        let updated = match passkey.update_credential(&result) {
            Some(true) => {
                Some(serde_json::to_string(&passkey).map_err(|err| internal("the credential", err))?)
            }
            _ => None,
        };
        Ok(VerifiedAssertion { updated })
    }
}
