//! The ports: what the domain needs from the outside world. Adapter crates
//! implement them; tests use the mockall doubles (`Mock*`).

mod account_states;
mod admin_tokens;
mod audit_log;
mod bankid;
mod call_observer;
mod clock;
mod invalidations;
mod key_pairs;
mod mailer;
mod openid;
mod passkeys;
mod password_hasher;
mod payload_signer;
mod rate_limiter;
mod second_factor_store;
mod secret_cipher;
mod session_tokens;
mod token_catalog;
mod token_mint;
mod totp;
mod user_directory;

pub use account_states::AccountStates;
#[cfg(any(test, feature = "mocks"))]
pub use account_states::MockAccountStates;
pub use admin_tokens::AdminTokenStore;
#[cfg(any(test, feature = "mocks"))]
pub use admin_tokens::MockAdminTokenStore;
pub use audit_log::AuditLog;
#[cfg(any(test, feature = "mocks"))]
pub use audit_log::MockAuditLog;
pub use bankid::BankIdProvider;
#[cfg(any(test, feature = "mocks"))]
pub use bankid::MockBankIdProvider;
pub use call_observer::CallObserver;
#[cfg(any(test, feature = "mocks"))]
pub use clock::MockClock;
pub use clock::{Clock, SystemClock};
#[cfg(any(test, feature = "mocks"))]
pub use invalidations::MockInvalidations;
pub use invalidations::{ChannelListeners, InvalidationListener, Invalidations};
pub use key_pairs::KeyPairGenerator;
#[cfg(any(test, feature = "mocks"))]
pub use key_pairs::MockKeyPairGenerator;
#[cfg(any(test, feature = "mocks"))]
pub use mailer::MockMailer;
pub use mailer::{Mailer, OutgoingEmail};
#[cfg(any(test, feature = "mocks"))]
pub use openid::MockOpenIdProvider;
pub use openid::OpenIdProvider;
#[cfg(any(test, feature = "mocks"))]
pub use passkeys::{MockPasskeyCeremonies, MockPasskeyStore};
pub use passkeys::{PasskeyCeremonies, PasskeyStore};
#[cfg(any(test, feature = "mocks"))]
pub use password_hasher::MockPasswordHasher;
pub use password_hasher::{HashPoolStats, PasswordCheck, PasswordHasher, Verification};
#[cfg(any(test, feature = "mocks"))]
pub use payload_signer::MockPayloadSigner;
pub use payload_signer::PayloadSigner;
#[cfg(any(test, feature = "mocks"))]
pub use rate_limiter::MockRateLimiter;
pub use rate_limiter::RateLimiter;
#[cfg(any(test, feature = "mocks"))]
pub use second_factor_store::MockSecondFactorStore;
pub use second_factor_store::SecondFactorStore;
#[cfg(any(test, feature = "mocks"))]
pub use secret_cipher::MockSecretCipher;
pub use secret_cipher::SecretCipher;
#[cfg(any(test, feature = "mocks"))]
pub use session_tokens::MockSessionTokens;
pub use session_tokens::SessionTokens;
#[cfg(any(test, feature = "mocks"))]
pub use token_catalog::MockTokenCatalog;
pub use token_catalog::TokenCatalog;
#[cfg(any(test, feature = "mocks"))]
pub use token_mint::MockTokenMint;
pub use token_mint::TokenMint;
#[cfg(any(test, feature = "mocks"))]
pub use totp::MockTotpGenerator;
pub use totp::TotpGenerator;
#[cfg(any(test, feature = "mocks"))]
pub use user_directory::MockUserDirectory;
pub use user_directory::UserDirectory;
