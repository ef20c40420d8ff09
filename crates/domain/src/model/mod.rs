//! The data the services reason about.

mod admin;
mod audit;
mod authorization;
mod bankid;
mod client;
mod identifiers;
mod invalidation;
mod openid;
mod passkey;
mod password;
mod personal_number;
mod rate;
mod second_factor;
mod token;
mod user;
mod user_fields;

pub use admin::{AdminScope, AdminToken, NewAdminToken};
pub use audit::{Actor, AuditContext, AuditEvent, AuditKind, AuditQuery, MAX_AUDIT_TEXT_CHARS, audit_text};
pub use authorization::{
    AuthorizationParams, AuthorizationRefusal, AuthorizationRequest, ProviderClient, TokenAnswer,
    TokenRefusal, Untrusted,
};
pub use bankid::{BankIdCollect, BankIdError, BankIdOrder, BankIdStatus, UserMessage};
pub use client::ClientAddress;
pub use identifiers::{
    MAX_EMAIL_CHARS, MAX_NAME_CHARS, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, normalize_identifier,
    validate_email, validate_name, validate_new_password, validate_strong_password, validate_username,
};
pub use invalidation::Invalidation;
pub use openid::{IdentityLink, OpenIdError, OpenIdIdentity, OpenIdRequest};
pub use passkey::{
    AssertedCredential, CeremonyStart, PasskeyError, StoredPasskey, VerifiedAssertion, VerifiedCredential,
};
pub use password::{HashProfile, Password};
pub use personal_number::parse_personal_number;
pub use rate::{Admission, Block, RateRule, RateState};
pub use second_factor::{StoredTotp, TotpAlgorithm, TotpParams, TotpProvisioning};
pub use token::{IssuedToken, NewToken, TokenAttributes, TokenHash, TokenId, TokenKind, TokenRecord};
pub use user::{
    AccountPatch, AccountState, DirectoryCapabilities, DirectoryEntry, DirectoryVerdict, NewDirectoryEntry,
    ProfileChange, Role, StoredKeyPair, User, UserId,
};
pub use user_fields::{UserField, UserFields};
