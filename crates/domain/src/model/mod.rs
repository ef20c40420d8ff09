//! The data the services reason about.

mod identifiers;
mod password;
mod personal_number;
mod second_factor;
mod token;
mod user;

pub use identifiers::{
    MAX_NAME_CHARS, MAX_PASSWORD_CHARS, normalize_identifier, validate_email, validate_name,
    validate_new_password, validate_strong_password, validate_username,
};
pub use password::Password;
pub use personal_number::parse_personal_number;
pub use second_factor::{StoredTotp, TotpAlgorithm, TotpParams, TotpProvisioning};
pub use token::{IssuedToken, NewToken, TokenAttributes, TokenHash, TokenId, TokenKind, TokenRecord};
pub use user::{LockState, NewUser, Role, StoredKeyPair, User, UserId};
