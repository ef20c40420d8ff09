use std::sync::Arc;

use chrono::Duration;

use crate::error::DomainError;
use crate::model::{
    AccountPatch, ClientAddress, NewDirectoryEntry, Password, StoredKeyPair, TokenKind, User, validate_email,
    validate_name, validate_strong_password,
};
use crate::ports::{Clock, KeyPairGenerator, Mailer, OutgoingEmail, PasswordHasher, SecretCipher};
use crate::services::{AccountService, HashAdmission, SessionService, Users};

/// Who registered the account; it decides the text of the verification e-mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationKind {
    /// The user registered themselves.
    SelfRegistered,
    /// An administrator registered the user.
    ByAdmin,
}

/// A registration request.
#[derive(Debug, Clone)]
pub struct Registration {
    /// E-mail address, also the username.
    pub email: String,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// The chosen password (the strong policy applies).
    pub password: Password,
    /// Who registered.
    pub kind: RegistrationKind,
}

/// The language of the verification e-mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmailLanguage {
    /// English.
    #[default]
    English,
    /// German, as the `gradido` original writes its e-mails.
    German,
}

impl EmailLanguage {
    /// Parses `en` or `de`.
    pub fn parse(code: &str) -> Option<Self> {
        match code.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Self::English),
            "de" => Some(Self::German),
            _ => None,
        }
    }
}

/// Settings of registration.
#[derive(Debug, Clone)]
pub struct RegistrationSettings {
    /// The verification link; `{token}` is replaced by the token.
    pub verification_url: String,
    /// How long the link works.
    pub verification_ttl: Duration,
    /// The service's name in e-mails.
    pub site_name: String,
    /// The language of the e-mail.
    pub language: EmailLanguage,
}

impl Default for RegistrationSettings {
    fn default() -> Self {
        Self {
            verification_url: "http://127.0.0.1:8080/account/checkEmail/{token}".into(),
            verification_ttl: Duration::hours(24),
            site_name: "Limen".into(),
            language: EmailLanguage::English,
        }
    }
}

/// Self-registration with e-mail verification: creates the account with a fresh
/// Ed25519 key pair (the private half sealed for the user), and mails a
/// single-use link.
pub struct RegistrationService {
    ports: RegistrationPorts,
    settings: RegistrationSettings,
}

/// The ports and services registration works with.
pub struct RegistrationPorts {
    /// The directory and the accounts.
    pub users: Arc<Users>,
    /// Removes an account whose e-mail could not be sent.
    pub accounts: Arc<AccountService>,
    /// Password hashing.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Each address's share of the hashing queue.
    pub admission: Arc<HashAdmission>,
    /// Key pairs.
    pub keys: Arc<dyn KeyPairGenerator>,
    /// Sealing of private keys.
    pub cipher: Arc<dyn SecretCipher>,
    /// The verification e-mail.
    pub mailer: Arc<dyn Mailer>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// Issues and spends verification tokens.
    pub sessions: Arc<SessionService>,
}

impl RegistrationService {
    /// Wires the service.
    pub fn new(ports: RegistrationPorts, settings: RegistrationSettings) -> Self {
        Self { ports, settings }
    }

    /// Registers an account and sends the verification e-mail. Invalid input
    /// writes nothing; if the e-mail cannot be handed over, the account is removed
    /// again, so that the address can register once the mail server is back.
    pub async fn register(
        &self,
        registration: Registration,
        client: &ClientAddress,
    ) -> Result<User, DomainError> {
        let email = validate_email(&registration.email)?;
        let first_name = validate_name("first name", registration.first_name.as_deref())?;
        let last_name = validate_name("last name", registration.last_name.as_deref())?;
        validate_strong_password(registration.password.expose())?;
        if !self.ports.users.capabilities().create {
            return Err(DomainError::ReadOnlyDirectory);
        }
        let directory = self.ports.users.directory();
        if directory.find_by_email(&email).await?.is_some()
            || directory.find_by_username(&email).await?.is_some()
        {
            return Err(DomainError::EmailTaken);
        }
        let password_hash = {
            let _ticket = self.ports.admission.enter(client)?;
            self.ports.hasher.hash(&registration.password).await?
        };
        let entry = directory
            .create(NewDirectoryEntry {
                username: email.clone(),
                email,
                first_name,
                last_name,
                personal_number: None,
                password_hash: Some(password_hash),
                created_at: self.ports.clock.now(),
            })
            .await?;
        let user = self.ports.users.resolve(entry).await?;
        let result = match self.store_key_pair(&user).await {
            Ok(user) => self
                .send_verification(&user, registration.kind)
                .await
                .map(|()| user),
            Err(err) => Err(err),
        };
        match result {
            Ok(user) => {
                tracing::info!(user_id = %user.id, "user registered; verification e-mail sent");
                Ok(user)
            }
            Err(err) => {
                if let Err(cleanup) = self.ports.accounts.delete(&user).await {
                    tracing::error!(user_id = %user.id, error = %cleanup, "could not remove a user whose registration failed");
                }
                Err(err)
            }
        }
    }

    /// Generates the user's key pair and stores it, the private half sealed for them.
    async fn store_key_pair(&self, user: &User) -> Result<User, DomainError> {
        let (public, private) = self.ports.keys.generate();
        let context = format!("user:{}", user.id).into_bytes();
        let sealed_private = self
            .ports
            .cipher
            .seal(&private, &context)
            .map_err(DomainError::Internal)?;
        let public_hex: String = public.iter().map(|b| format!("{b:02x}")).collect();
        let patch = AccountPatch {
            key_pair: Some(StoredKeyPair {
                public_hex: public_hex.clone(),
                sealed_private,
            }),
            ..AccountPatch::default()
        };
        self.ports
            .users
            .accounts()
            .update(user.id, patch, self.ports.clock.now())
            .await?;
        Ok(User {
            public_key: Some(public_hex),
            ..user.clone()
        })
    }

    async fn send_verification(&self, user: &User, kind: RegistrationKind) -> Result<(), DomainError> {
        let token = self
            .ports
            .sessions
            .issue(
                user.id,
                TokenKind::EmailVerification,
                self.settings.verification_ttl,
            )
            .await?;
        let link = self
            .settings
            .verification_url
            .replace("{token}", &token.plaintext);
        let (subject, body) = verification_email(&self.settings, user, kind, &link);
        self.ports
            .mailer
            .send(OutgoingEmail {
                to: user.email.clone(),
                subject,
                body,
            })
            .await
            .map_err(DomainError::MailUndeliverable)
    }

    /// Marks the e-mail address of the link's user as verified; the link works
    /// once, even when opened twice at the same moment.
    pub async fn verify_email(&self, plaintext: &str) -> Result<User, DomainError> {
        let token = self
            .ports
            .sessions
            .consume(plaintext, TokenKind::EmailVerification)
            .await?;
        let patch = AccountPatch {
            email_verified_at: Some(self.ports.clock.now()),
            ..AccountPatch::default()
        };
        self.ports
            .users
            .accounts()
            .update(token.user_id, patch, self.ports.clock.now())
            .await?;
        self.ports.sessions.user_changed(token.user_id).await;
        self.ports
            .users
            .by_id(token.user_id)
            .await?
            .ok_or(DomainError::InvalidToken)
    }
}

/// The subject and plain-text body of the verification e-mail.
fn verification_email(
    settings: &RegistrationSettings,
    user: &User,
    kind: RegistrationKind,
    link: &str,
) -> (String, String) {
    let site = &settings.site_name;
    let hours = settings.verification_ttl.num_hours().max(1);
    let name = [user.first_name.as_deref(), user.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    match settings.language {
        EmailLanguage::English => {
            let greeting = if name.is_empty() {
                "Hello,".to_owned()
            } else {
                format!("Hello {name},")
            };
            let reason = match kind {
                RegistrationKind::SelfRegistered => {
                    format!("you (or someone else) just registered an account at {site} with this address.")
                }
                RegistrationKind::ByAdmin => {
                    format!(
                        "an administrator of {site} just registered an account for you with this address."
                    )
                }
            };
            (
                format!("{site}: please confirm your e-mail address"),
                format!(
                    "{greeting}\n\n{reason} Please confirm the address by opening this link:\n\n{link}\n\n\
                     The link works once and for {hours} hours. If you did not expect this e-mail, ignore it.\n"
                ),
            )
        }
        EmailLanguage::German => {
            let greeting = if name.is_empty() {
                "Hallo,".to_owned()
            } else {
                format!("Hallo {name},")
            };
            let reason = match kind {
                RegistrationKind::SelfRegistered => {
                    format!(
                        "du (oder jemand anderes) hast dich soeben mit dieser Adresse bei {site} registriert."
                    )
                }
                RegistrationKind::ByAdmin => {
                    format!(
                        "ein Administrator von {site} hat soeben ein Konto mit dieser Adresse für dich angelegt."
                    )
                }
            };
            (
                format!("{site}: Bitte bestätige deine E-Mail-Adresse"),
                format!(
                    "{greeting}\n\n{reason} Bitte bestätige die Adresse über diesen Link:\n\n{link}\n\n\
                     Der Link funktioniert einmal und {hours} Stunden lang. Wenn du diese E-Mail nicht \
                     erwartet hast, ignoriere sie einfach.\n"
                ),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::fixtures::World;

    fn registration(kind: RegistrationKind) -> Registration {
        Registration {
            email: "Max.Musterman@gmail.de".into(),
            first_name: Some("Max".into()),
            last_name: Some("Musterman".into()),
            password: Password::new("123abcDE&"),
            kind,
        }
    }

    fn client() -> ClientAddress {
        ClientAddress::unknown()
    }

    #[tokio::test]
    async fn registration_stores_the_sealed_key_pair_and_mails_a_link_whose_text_follows_the_kind() {
        for (kind, phrase) in [
            (
                RegistrationKind::SelfRegistered,
                "just registered an account at Gradido",
            ),
            (
                RegistrationKind::ByAdmin,
                "an administrator of Gradido just registered an account for you",
            ),
        ] {
            let world = World::new();
            let user = world
                .services()
                .registration
                .register(registration(kind), &client())
                .await
                .unwrap();
            assert_eq!(user.username, "max.musterman@gmail.de");
            assert_eq!(user.public_key.as_deref(), Some("ab".repeat(32).as_str()));
            assert_eq!(
                world.sealed_key(user.id),
                format!("sealed[user:{}]:private-key", user.id)
            );
            let mails = world.mails();
            assert_eq!(mails.len(), 1);
            assert!(mails[0].body.contains(phrase), "{}", mails[0].body);
            assert!(mails[0].body.contains("https://login.example/verify?token="));
        }
    }

    #[tokio::test]
    async fn the_german_email_greets_by_name_in_german() {
        let world = World::new();
        world.set_registration_language(EmailLanguage::German);
        world
            .services()
            .registration
            .register(registration(RegistrationKind::ByAdmin), &client())
            .await
            .unwrap();
        let mail = &world.mails()[0];
        assert_eq!(mail.subject, "Gradido: Bitte bestätige deine E-Mail-Adresse");
        assert!(mail.body.starts_with("Hallo Max Musterman,"));
        assert!(mail.body.contains("für dich angelegt"));
    }

    #[tokio::test]
    async fn weak_passwords_bad_addresses_and_taken_addresses_write_nothing() {
        let world = World::new();
        world.add_user("max");
        let mut weak = registration(RegistrationKind::SelfRegistered);
        weak.password = Password::new("password");
        let mut bad = registration(RegistrationKind::SelfRegistered);
        bad.email = "max@".into();
        let service = world.services().registration;
        for case in [weak, bad] {
            assert!(matches!(
                service.register(case, &client()).await,
                Err(DomainError::InvalidInput(_))
            ));
        }
        let mut taken = registration(RegistrationKind::SelfRegistered);
        taken.email = "MAX@example.com".into();
        assert!(matches!(
            service.register(taken, &client()).await,
            Err(DomainError::EmailTaken)
        ));
        assert_eq!(world.directory_size(), 1);
        assert!(world.mails().is_empty());
    }

    #[tokio::test]
    async fn an_undeliverable_email_removes_the_account_again() {
        let world = World::new();
        world.mail_fails();
        let err = world
            .services()
            .registration
            .register(registration(RegistrationKind::SelfRegistered), &client())
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::MailUndeliverable(_)));
        assert_eq!(world.directory_size(), 0);
        assert_eq!(world.account_count(), 0);
    }

    #[tokio::test]
    async fn the_link_verifies_once() {
        let world = World::new();
        let user = world
            .services()
            .registration
            .register(registration(RegistrationKind::SelfRegistered), &client())
            .await
            .unwrap();
        let link = world.mails()[0].body.clone();
        let token = link
            .split("token=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap()
            .to_owned();
        let service = world.services().registration;
        let verified = service.verify_email(&token).await.unwrap();
        assert_eq!(verified.id, user.id);
        assert_eq!(verified.email_verified_at, Some(world.now()));
        assert!(matches!(
            service.verify_email(&token).await,
            Err(DomainError::InvalidToken)
        ));
    }
}
