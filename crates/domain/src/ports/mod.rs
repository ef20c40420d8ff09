//! The ports: what the domain needs from the outside world. Adapter crates
//! implement them; tests use the mockall doubles (`Mock*`).

mod clock;
mod key_pairs;
mod mailer;
mod password_hasher;
mod second_factor_store;
mod secret_cipher;
mod token_mint;
mod token_store;
mod totp;
mod user_store;

#[cfg(any(test, feature = "mocks"))]
pub use clock::MockClock;
pub use clock::{Clock, SystemClock};
pub use key_pairs::KeyPairGenerator;
#[cfg(any(test, feature = "mocks"))]
pub use key_pairs::MockKeyPairGenerator;
#[cfg(any(test, feature = "mocks"))]
pub use mailer::MockMailer;
pub use mailer::{Mailer, OutgoingEmail};
#[cfg(any(test, feature = "mocks"))]
pub use password_hasher::MockPasswordHasher;
pub use password_hasher::{PasswordCheck, PasswordHasher};
#[cfg(any(test, feature = "mocks"))]
pub use second_factor_store::MockSecondFactorStore;
pub use second_factor_store::SecondFactorStore;
#[cfg(any(test, feature = "mocks"))]
pub use secret_cipher::MockSecretCipher;
pub use secret_cipher::SecretCipher;
#[cfg(any(test, feature = "mocks"))]
pub use token_mint::MockTokenMint;
pub use token_mint::TokenMint;
#[cfg(any(test, feature = "mocks"))]
pub use token_store::MockTokenStore;
pub use token_store::TokenStore;
#[cfg(any(test, feature = "mocks"))]
pub use totp::MockTotpGenerator;
pub use totp::TotpGenerator;
#[cfg(any(test, feature = "mocks"))]
pub use user_store::MockUserStore;
pub use user_store::UserStore;
