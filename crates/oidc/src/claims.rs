//! The claims Limen reads, and the client type that keeps custom ones.

use std::collections::BTreeMap;

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreClaimName, CoreClaimType, CoreClientAuthMethod,
    CoreErrorResponseType, CoreGenderClaim, CoreGrantType, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreSubjectIdentifierType,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AdditionalProviderMetadata, Client, EmptyExtraTokenFields, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IdTokenClaims, IdTokenFields, ProviderMetadata, StandardErrorResponse,
    StandardTokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};

/// Claims beyond the standard ones (a custom identifying claim, `oid`, …),
/// kept as the provider sent them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExtraClaims {
    #[serde(flatten)]
    claims: BTreeMap<String, serde_json::Value>,
}

impl AdditionalClaims for ExtraClaims {}

/// What Limen reads of a discovery document beyond the core fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExtraMetadata {
    /// RFC 9207: the provider's authorization responses carry `iss`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_response_iss_parameter_supported: Option<bool>,
}

impl AdditionalProviderMetadata for ExtraMetadata {}

/// A provider's discovery document, with what Limen reads beyond the core.
pub type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

type IdTokenFieldsWithExtras = IdTokenFields<
    ExtraClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// The token endpoint's answer, with the ID token's custom claims kept.
pub type TokenAnswer = StandardTokenResponse<IdTokenFieldsWithExtras, CoreTokenType>;

/// A client made from discovered metadata: authorization endpoint known,
/// token and userinfo endpoints as the provider declares them.
pub type RelyingParty = Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenAnswer,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The claims both an ID token and a userinfo answer carry, as `(name,
/// value)`. A macro because openidconnect gives the two types the same
/// accessors but no common trait.
macro_rules! standard_claims {
    ($claims:expr) => {{
        let claims = $claims;
        [
            ("email", claims.email().map(|email| email.as_str().to_owned())),
            (
                "email_verified",
                claims.email_verified().map(|verified| verified.to_string()),
            ),
            (
                "preferred_username",
                claims.preferred_username().map(|name| name.as_str().to_owned()),
            ),
            (
                "given_name",
                claims
                    .given_name()
                    .and_then(|name| name.get(None))
                    .map(|name| name.as_str().to_owned()),
            ),
            (
                "family_name",
                claims
                    .family_name()
                    .and_then(|name| name.get(None))
                    .map(|name| name.as_str().to_owned()),
            ),
            (
                "name",
                claims
                    .name()
                    .and_then(|name| name.get(None))
                    .map(|name| name.as_str().to_owned()),
            ),
        ]
    }};
}

/// The string and boolean claims of a verified ID token, by name.
pub fn from_id_token(claims: &IdTokenClaims<ExtraClaims, CoreGenderClaim>) -> BTreeMap<String, String> {
    with_standard(
        flatten(&claims.additional_claims().claims),
        standard_claims!(claims),
    )
}

/// The string and boolean claims of a userinfo answer, by name.
pub fn from_userinfo(claims: &UserInfoClaims<ExtraClaims, CoreGenderClaim>) -> BTreeMap<String, String> {
    with_standard(
        flatten(&claims.additional_claims().claims),
        standard_claims!(claims),
    )
}

/// `found` with the standard claims that are present put over it.
fn with_standard(
    mut found: BTreeMap<String, String>,
    standard: [(&str, Option<String>); 6],
) -> BTreeMap<String, String> {
    for (key, value) in standard {
        if let Some(value) = value {
            found.insert(key.to_owned(), value);
        }
    }
    found
}

/// Strings, booleans and numbers as text; arrays and objects are left out.
fn flatten(claims: &BTreeMap<String, serde_json::Value>) -> BTreeMap<String, String> {
    claims
        .iter()
        .filter_map(|(name, value)| {
            let text = match value {
                serde_json::Value::String(text) => text.clone(),
                serde_json::Value::Bool(flag) => flag.to_string(),
                serde_json::Value::Number(number) => number.to_string(),
                _ => return None,
            };
            Some((name.clone(), text))
        })
        .collect()
}
