use std::sync::Arc;

use chrono::Duration;

use crate::error::DomainError;
use crate::model::{
    NewUser, Password, StoredKeyPair, TokenKind, User, validate_email, validate_name,
    validate_strong_password,
};
use crate::ports::{
    Clock, KeyPairGenerator, Mailer, OutgoingEmail, PasswordHasher, SecretCipher, TokenMint, TokenStore,
    UserStore,
};
use crate::services::SessionService;

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
/// Ed25519 key pair (the private half sealed), and mails a single-use link.
pub struct RegistrationService {
    users: Arc<dyn UserStore>,
    tokens: Arc<dyn TokenStore>,
    hasher: Arc<dyn PasswordHasher>,
    keys: Arc<dyn KeyPairGenerator>,
    cipher: Arc<dyn SecretCipher>,
    mailer: Arc<dyn Mailer>,
    mint: Arc<dyn TokenMint>,
    clock: Arc<dyn Clock>,
    sessions: Arc<SessionService>,
    settings: RegistrationSettings,
}

/// The ports registration works with.
pub struct RegistrationPorts {
    /// Users.
    pub users: Arc<dyn UserStore>,
    /// Verification tokens.
    pub tokens: Arc<dyn TokenStore>,
    /// Password hashing.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Key pairs.
    pub keys: Arc<dyn KeyPairGenerator>,
    /// Sealing of private keys.
    pub cipher: Arc<dyn SecretCipher>,
    /// The verification e-mail.
    pub mailer: Arc<dyn Mailer>,
    /// Token digests.
    pub mint: Arc<dyn TokenMint>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// Issues verification tokens.
    pub sessions: Arc<SessionService>,
}

impl RegistrationService {
    /// Wires the service.
    pub fn new(ports: RegistrationPorts, settings: RegistrationSettings) -> Self {
        Self {
            users: ports.users,
            tokens: ports.tokens,
            hasher: ports.hasher,
            keys: ports.keys,
            cipher: ports.cipher,
            mailer: ports.mailer,
            mint: ports.mint,
            clock: ports.clock,
            sessions: ports.sessions,
            settings,
        }
    }

    /// Registers an account and sends the verification e-mail. Invalid input
    /// writes nothing; if the e-mail cannot be handed over, the account is removed
    /// again, so that the address can register once the mail server is back.
    pub async fn register(&self, registration: Registration) -> Result<User, DomainError> {
        let email = validate_email(&registration.email)?;
        let first_name = validate_name("first name", registration.first_name.as_deref())?;
        let last_name = validate_name("last name", registration.last_name.as_deref())?;
        validate_strong_password(registration.password.expose())?;
        if self.users.find_by_email(&email).await?.is_some()
            || self.users.find_by_username(&email).await?.is_some()
        {
            return Err(DomainError::EmailTaken);
        }
        let password_hash = self.hasher.hash(&registration.password).await?;
        let (public, private) = self.keys.generate();
        let sealed_private = self.cipher.seal(&private).map_err(DomainError::Internal)?;
        let user = self
            .users
            .create(NewUser {
                username: email.clone(),
                email: email.clone(),
                first_name,
                last_name,
                personal_number: None,
                password_hash: Some(password_hash),
                key_pair: Some(StoredKeyPair {
                    public_hex: public.iter().map(|b| format!("{b:02x}")).collect(),
                    sealed_private,
                }),
                created_at: self.clock.now(),
            })
            .await?;
        if let Err(err) = self.send_verification(&user, registration.kind).await {
            if let Err(cleanup) = self.users.delete(user.id).await {
                tracing::error!(user_id = %user.id, error = %cleanup, "could not remove a user whose verification e-mail failed");
            }
            return Err(err);
        }
        tracing::info!(user_id = %user.id, "user registered; verification e-mail sent");
        Ok(user)
    }

    async fn send_verification(&self, user: &User, kind: RegistrationKind) -> Result<(), DomainError> {
        let token = self
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
        self.mailer
            .send(OutgoingEmail {
                to: user.email.clone(),
                subject,
                body,
            })
            .await
            .map_err(DomainError::MailUndeliverable)
    }

    /// Marks the e-mail address of the link's user as verified; the link works once.
    pub async fn verify_email(&self, plaintext: &str) -> Result<User, DomainError> {
        let now = self.clock.now();
        let token = self
            .tokens
            .find_by_hash(&self.mint.digest(plaintext))
            .await?
            .filter(|token| token.kind == TokenKind::EmailVerification && token.is_live_at(now))
            .ok_or(DomainError::InvalidToken)?;
        self.tokens.revoke(token.id, now).await?;
        self.users.mark_email_verified(token.user_id, now).await?;
        self.users
            .find_by_id(token.user_id)
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
    use crate::model::TokenHash;
    use crate::ports::{
        MockClock, MockKeyPairGenerator, MockMailer, MockPasswordHasher, MockSecretCipher, MockTokenMint,
        MockTokenStore, MockUserStore,
    };
    use crate::services::fixtures::{at, token, user};

    struct Mocks {
        users: MockUserStore,
        tokens: MockTokenStore,
        mailer: MockMailer,
        language: EmailLanguage,
    }

    impl Mocks {
        fn new() -> Self {
            let mut users = MockUserStore::new();
            users.expect_find_by_email().returning(|_| Ok(None));
            users.expect_find_by_username().returning(|_| Ok(None));
            let mut tokens = MockTokenStore::new();
            tokens.expect_issue().returning(|new| {
                let mut record = token(3, new.user_id.0, 60);
                record.kind = new.kind;
                Ok(record)
            });
            Self {
                users,
                tokens,
                mailer: MockMailer::new(),
                language: EmailLanguage::English,
            }
        }

        fn service(self) -> RegistrationService {
            let mut clock = MockClock::new();
            clock.expect_now().return_const(at(1));
            let clock: Arc<dyn Clock> = Arc::new(clock);
            let mut mint = MockTokenMint::new();
            mint.expect_mint()
                .return_const(("link-token".to_owned(), TokenHash("d".into())));
            mint.expect_digest()
                .returning(|plain| TokenHash(format!("digest-of-{plain}")));
            let mint: Arc<dyn TokenMint> = Arc::new(mint);
            let mut hasher = MockPasswordHasher::new();
            hasher.expect_hash().returning(|_| Ok("argon2".into()));
            let mut keys = MockKeyPairGenerator::new();
            keys.expect_generate().returning(|| ([0xab; 32], vec![7; 32]));
            let mut cipher = MockSecretCipher::new();
            cipher.expect_seal().returning(|_| Ok("sealed-private".into()));
            let users: Arc<dyn UserStore> = Arc::new(self.users);
            let tokens: Arc<dyn TokenStore> = Arc::new(self.tokens);
            let sessions = Arc::new(SessionService::new(
                users.clone(),
                tokens.clone(),
                mint.clone(),
                clock.clone(),
            ));
            RegistrationService::new(
                RegistrationPorts {
                    users,
                    tokens,
                    hasher: Arc::new(hasher),
                    keys: Arc::new(keys),
                    cipher: Arc::new(cipher),
                    mailer: Arc::new(self.mailer),
                    mint,
                    clock,
                    sessions,
                },
                RegistrationSettings {
                    verification_url: "https://login.example/verify?token={token}".into(),
                    verification_ttl: Duration::hours(24),
                    site_name: "Gradido".into(),
                    language: self.language,
                },
            )
        }
    }

    fn registration(kind: RegistrationKind) -> Registration {
        Registration {
            email: "Max.Musterman@gmail.de".into(),
            first_name: Some("Max".into()),
            last_name: Some("Musterman".into()),
            password: Password::new("123abcDE&"),
            kind,
        }
    }

    #[tokio::test]
    async fn registration_stores_the_key_pair_and_mails_a_link_whose_text_follows_the_kind() {
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
            let mut mocks = Mocks::new();
            mocks
                .users
                .expect_create()
                .withf(|new| {
                    new.username == "max.musterman@gmail.de"
                        && new.key_pair.as_ref().is_some_and(|pair| {
                            pair.public_hex == "ab".repeat(32) && pair.sealed_private == "sealed-private"
                        })
                })
                .times(1)
                .returning(|_| Ok(user(1, "max")));
            mocks
                .mailer
                .expect_send()
                .withf(move |email| {
                    email
                        .body
                        .contains("https://login.example/verify?token=link-token")
                        && email.body.contains(phrase)
                })
                .times(1)
                .returning(|_| Ok(()));
            mocks.service().register(registration(kind)).await.unwrap();
        }
    }

    #[tokio::test]
    async fn the_german_email_greets_by_name_in_german() {
        let mut mocks = Mocks::new();
        mocks.language = EmailLanguage::German;
        mocks.users.expect_create().returning(|new| {
            let mut created = user(1, "max");
            created.first_name = new.first_name;
            created.last_name = new.last_name;
            Ok(created)
        });
        mocks
            .mailer
            .expect_send()
            .withf(|email| {
                email.subject == "Gradido: Bitte bestätige deine E-Mail-Adresse"
                    && email.body.starts_with("Hallo Max Musterman,")
                    && email.body.contains("für dich angelegt")
            })
            .times(1)
            .returning(|_| Ok(()));
        mocks
            .service()
            .register(registration(RegistrationKind::ByAdmin))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn weak_passwords_bad_addresses_and_taken_addresses_write_nothing() {
        let mut weak = registration(RegistrationKind::SelfRegistered);
        weak.password = Password::new("password");
        let mut bad = registration(RegistrationKind::SelfRegistered);
        bad.email = "max@".into();
        for case in [weak, bad] {
            let mut mocks = Mocks::new();
            mocks.users.expect_create().never();
            mocks.mailer.expect_send().never();
            assert!(matches!(
                mocks.service().register(case).await,
                Err(DomainError::InvalidInput(_))
            ));
        }
        let mut mocks = Mocks::new();
        mocks.users = MockUserStore::new();
        mocks
            .users
            .expect_find_by_email()
            .returning(|_| Ok(Some(user(1, "max"))));
        mocks.users.expect_create().never();
        let err = mocks
            .service()
            .register(registration(RegistrationKind::SelfRegistered))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::EmailTaken));
    }

    #[tokio::test]
    async fn an_undeliverable_email_removes_the_account_again() {
        let mut mocks = Mocks::new();
        mocks.users.expect_create().returning(|_| Ok(user(1, "max")));
        mocks
            .mailer
            .expect_send()
            .returning(|_| Err("connection refused".into()));
        mocks
            .users
            .expect_delete()
            .withf(|id| id.0 == 1)
            .times(1)
            .returning(|_| Ok(()));
        let err = mocks
            .service()
            .register(registration(RegistrationKind::SelfRegistered))
            .await
            .unwrap_err();
        assert!(matches!(err, DomainError::MailUndeliverable(_)));
    }

    #[tokio::test]
    async fn the_link_verifies_once() {
        let mut mocks = Mocks::new();
        mocks.tokens.expect_find_by_hash().returning(|_| {
            let mut record = token(3, 1, 60);
            record.kind = TokenKind::EmailVerification;
            Ok(Some(record))
        });
        mocks.tokens.expect_revoke().times(1).returning(|_, _| Ok(()));
        mocks
            .users
            .expect_mark_email_verified()
            .times(1)
            .returning(|_, _| Ok(()));
        mocks
            .users
            .expect_find_by_id()
            .returning(|id| Ok(Some(user(id.0, "max"))));
        mocks.service().verify_email("link-token").await.unwrap();
    }
}
