use std::sync::Arc;

use chrono::Duration;

use crate::error::DomainError;
use crate::model::{
    AuditKind, ClientAddress, Password, RateRule, TokenKind, User, normalize_identifier,
    validate_new_password,
};
use crate::ports::{Clock, Mailer, OutgoingEmail, PasswordHasher};
use crate::services::{Attempts, Audit, AuditEntry, EmailLanguage, HashAdmission, SessionService, Users};

/// Settings of password reset.
#[derive(Debug, Clone)]
pub struct PasswordResetSettings {
    /// How long a reset token works.
    pub ttl: Duration,
    /// A link to put in the e-mail, `{token}` standing for the token; without
    /// one the e-mail carries the token itself.
    pub reset_url: Option<String>,
    /// The service's name in the e-mail.
    pub site_name: String,
    /// The e-mail's language.
    pub language: EmailLanguage,
    /// Requests one username may make per window.
    pub per_username: RateRule,
    /// Requests one client address may make per window.
    pub per_address: RateRule,
}

impl Default for PasswordResetSettings {
    fn default() -> Self {
        let hour = Duration::hours(1);
        Self {
            ttl: hour,
            reset_url: None,
            site_name: "Limen".into(),
            language: EmailLanguage::English,
            per_username: RateRule {
                limit: 3,
                window: hour,
                block_for: hour,
            },
            per_address: RateRule {
                limit: 20,
                window: hour,
                block_for: hour,
            },
        }
    }
}

/// Password reset by e-mail: a single-use token (a UUID, as the `lime`
/// document shows) mailed to the user, then exchanged with the username for a
/// new password. A request for an unknown username is answered like any other.
pub struct PasswordResetService {
    ports: PasswordResetPorts,
    settings: PasswordResetSettings,
}

/// The ports and services password reset works with.
pub struct PasswordResetPorts {
    /// The directory the new hash goes to, and the accounts.
    pub users: Arc<Users>,
    /// Reset tokens, and revocation of every session afterwards.
    pub sessions: Arc<SessionService>,
    /// Request throttles and the account's lock.
    pub attempts: Arc<Attempts>,
    /// The new password's hash.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Each address's share of the hashing queue.
    pub admission: Arc<HashAdmission>,
    /// The e-mail with the token.
    pub mailer: Arc<dyn Mailer>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// The trail of requests and resets.
    pub audit: Arc<Audit>,
}

impl PasswordResetService {
    /// Wires the service.
    pub fn new(ports: PasswordResetPorts, settings: PasswordResetSettings) -> Self {
        Self { ports, settings }
    }

    /// Checks the throttles of a request for `username` from `client`; the rest
    /// of the request may then run where its duration cannot be observed.
    pub async fn admit_request(&self, username: &str, client: &ClientAddress) -> Result<(), DomainError> {
        let name = normalize_identifier(username);
        if name.is_empty() || name.chars().count() > 254 || name.chars().any(char::is_control) {
            return Err(DomainError::InvalidInput("username is not a username".into()));
        }
        self.ports
            .attempts
            .requests_by_address("reset", client, self.settings.per_address)
            .spend()
            .await?;
        self.ports
            .attempts
            .requests_by_name("reset", &name, self.settings.per_username)
            .spend()
            .await
    }

    /// Issues a reset token for `username` and mails it. Returns the token,
    /// for trusted callers; `None` (and no error) for a username no user has,
    /// a user without an e-mail address, or a directory that takes no new
    /// passwords, so that the answer does not tell them apart.
    pub async fn request(&self, username: &str) -> Result<Option<String>, DomainError> {
        let requested = AuditEntry::new(AuditKind::PasswordResetRequested);
        let Some(user) = self.ports.users.by_username(username).await? else {
            tracing::info!("password reset requested for an unknown username");
            self.ports
                .audit
                .record(
                    requested
                        .name(&normalize_identifier(username))
                        .detail("unknown user"),
                )
                .await;
            return Ok(None);
        };
        let requested = requested.user(&user);
        if user.email.is_empty() || !self.ports.users.capabilities().changes_passwords() || !user.enabled {
            tracing::info!(user_id = %user.id, "password reset requested; this user cannot reset by e-mail");
            self.ports
                .audit
                .record(requested.detail("this user cannot reset by e-mail"))
                .await;
            return Ok(None);
        }
        let token = self
            .ports
            .sessions
            .issue_uuid(user.id, TokenKind::PasswordReset, self.settings.ttl)
            .await?;
        let (subject, body) = reset_email(&self.settings, &user, &token.plaintext);
        let sent = self
            .ports
            .mailer
            .send(OutgoingEmail {
                to: user.email.clone(),
                subject,
                body,
            })
            .await;
        let requested = match sent {
            Ok(()) => {
                tracing::info!(user_id = %user.id, "password reset token mailed");
                requested.detail("mailed")
            }
            Err(cause) => {
                tracing::error!(user_id = %user.id, %cause, "the password reset e-mail could not be sent");
                requested.detail("the e-mail could not be sent")
            }
        };
        self.ports.audit.record(requested).await;
        Ok(Some(token.plaintext))
    }

    /// Sets a new password with a reset token issued to `username`, who must
    /// still be enabled. The token is spent atomically; every session and
    /// remember-me token of the user ends, and a lock on the account is
    /// lifted (the e-mail proved the user).
    pub async fn reset(
        &self,
        token: &str,
        username: &str,
        new_password: &Password,
        client: &ClientAddress,
    ) -> Result<(), DomainError> {
        validate_new_password(new_password.expose())?;
        let capabilities = self.ports.users.capabilities();
        if !capabilities.changes_passwords() {
            return Err(DomainError::ReadOnlyDirectory);
        }
        let record = self
            .ports
            .sessions
            .find_presented(token, TokenKind::PasswordReset)
            .await?;
        let user = self
            .ports
            .users
            .by_username(username)
            .await?
            .filter(|user| user.id == record.user_id)
            // Disabled since the token was issued: it may not set a password
            // (nor lift a lock) now.
            .filter(|user| user.enabled)
            // Another user's token, a disabled user or no such user:
            // refused, and not spent.
            .ok_or(DomainError::InvalidToken)?;
        // A directory that keeps passwords its own way (LDAP) is handed the
        // password after the token is spent, so that two requests with one
        // token never both write; its policy may still refuse the password,
        // and the user then asks for a new link.
        let hash = if capabilities.set_password {
            None
        } else {
            let _ticket = self.ports.admission.enter(client)?;
            Some(self.ports.hasher.hash(new_password).await?)
        };
        self.ports
            .sessions
            .consume(token, TokenKind::PasswordReset)
            .await?;
        match hash {
            Some(hash) => self.ports.users.store_password_hash(&user, &hash).await?,
            None => self.ports.users.store_password(&user, new_password).await?,
        }
        self.ports
            .audit
            .record(AuditEntry::new(AuditKind::PasswordReset).user(&user))
            .await;
        let ended = self.ports.sessions.logout_everywhere(user.id).await?;
        self.ports.attempts.account(user.id).reset().await?;
        tracing::info!(user_id = %user.id, ended, "password reset; sessions ended");
        Ok(())
    }
}

/// The subject and plain-text body of the reset e-mail.
fn reset_email(settings: &PasswordResetSettings, user: &User, token: &str) -> (String, String) {
    let site = &settings.site_name;
    let minutes = settings.ttl.num_minutes().max(1);
    let how = match &settings.reset_url {
        Some(url) => url.replace("{token}", token),
        None => token.to_owned(),
    };
    match settings.language {
        EmailLanguage::English => (
            format!("{site}: reset your password"),
            format!(
                "Hello {},\n\nsomeone (probably you) asked to reset the password of your account at {site}. \
                 To choose a new password, use this:\n\n{how}\n\nIt works once and for {minutes} minutes. \
                 If you did not ask for this, ignore this e-mail: your password stays as it is.\n",
                user.full_name()
            ),
        ),
        EmailLanguage::German => (
            format!("{site}: Passwort zurücksetzen"),
            format!(
                "Hallo {},\n\njemand (vermutlich du) möchte das Passwort deines Kontos bei {site} \
                 zurücksetzen. Um ein neues Passwort zu wählen, verwende dies:\n\n{how}\n\nEs funktioniert \
                 einmal und {minutes} Minuten lang. Wenn du das nicht warst, ignoriere diese E-Mail: dein \
                 Passwort bleibt, wie es ist.\n",
                user.full_name()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::fixtures::World;

    fn client() -> ClientAddress {
        ClientAddress::new("192.0.2.5".parse().unwrap())
    }

    #[tokio::test]
    async fn a_request_mails_a_single_use_uuid_that_sets_a_new_password_and_ends_every_session() {
        let world = World::new();
        let ann = world.add_user("ann");
        let session = world
            .services()
            .sessions
            .issue(ann.id, TokenKind::RememberMe, Duration::days(30))
            .await
            .unwrap();
        world.block(&format!("account:{}", ann.id), Duration::minutes(10));
        let service = world.services().password_reset;
        service.admit_request("ann", &client()).await.unwrap();
        let token = service.request("ANN").await.unwrap().unwrap();
        assert_eq!(token.len(), 36);
        let mail = world.mails().pop().unwrap();
        assert_eq!(mail.to, "ann@example.com");
        assert!(mail.body.contains(&token));
        service
            .reset(&token, "ann", &Password::new("a new password"), &client())
            .await
            .unwrap();
        assert_eq!(
            world.password_hash(&ann.external_id),
            "hash:a new password:current"
        );
        assert!(world.token(&session.record.hash).revoked_at.is_some());
        assert!(!world.is_blocked(&format!("account:{}", ann.id)));
        assert!(matches!(
            service
                .reset(&token, "ann", &Password::new("another password"), &client())
                .await,
            Err(DomainError::InvalidToken)
        ));
    }

    #[tokio::test]
    async fn an_unknown_username_gets_nothing_and_no_error() {
        let world = World::new();
        let service = world.services().password_reset;
        assert_eq!(service.request("nobody").await.unwrap(), None);
        assert!(world.mails().is_empty());
    }

    #[tokio::test]
    async fn another_user_s_token_is_refused_and_not_spent() {
        let world = World::new();
        world.add_user("ann");
        world.add_user("bob");
        let service = world.services().password_reset;
        let token = service.request("ann").await.unwrap().unwrap();
        assert!(matches!(
            service
                .reset(&token, "bob", &Password::new("a new password"), &client())
                .await,
            Err(DomainError::InvalidToken)
        ));
        assert!(
            service
                .reset(&token, "ann", &Password::new("a new password"), &client())
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn a_token_issued_before_the_user_was_disabled_sets_nothing_and_lifts_no_lock() {
        let world = World::new();
        let ann = world.add_user("ann");
        let service = world.services().password_reset;
        let token = service.request("ann").await.unwrap().unwrap();
        world.set_disabled(ann.id, true);
        world.block(&format!("account:{}", ann.id), Duration::minutes(10));
        let before = world.password_hash(&ann.external_id);
        assert!(matches!(
            service
                .reset(&token, "ann", &Password::new("a new password"), &client())
                .await,
            Err(DomainError::InvalidToken)
        ));
        assert_eq!(world.password_hash(&ann.external_id), before);
        assert!(world.is_blocked(&format!("account:{}", ann.id)), "the lock stays");
    }

    #[tokio::test]
    async fn expired_tokens_and_weak_passwords_change_nothing() {
        let world = World::new();
        let ann = world.add_user("ann");
        let service = world.services().password_reset;
        let token = service.request("ann").await.unwrap().unwrap();
        assert!(matches!(
            service
                .reset(&token, "ann", &Password::new("short"), &client())
                .await,
            Err(DomainError::InvalidInput(_))
        ));
        world.advance(Duration::minutes(61));
        assert!(matches!(
            service
                .reset(&token, "ann", &Password::new("long enough now"), &client())
                .await,
            Err(DomainError::InvalidToken)
        ));
        assert_eq!(world.password_hash(&ann.external_id), "hash:pw-ann:current");
    }

    #[tokio::test]
    async fn requests_are_throttled_per_username_and_per_address() {
        let world = World::new();
        let service = world.services().password_reset;
        for _ in 0..3 {
            service.admit_request("ann", &client()).await.unwrap();
        }
        assert!(matches!(
            service.admit_request("ann", &client()).await,
            Err(DomainError::TooManyAttempts { .. })
        ));
        let other = ClientAddress::new("192.0.2.6".parse().unwrap());
        assert!(matches!(
            service.admit_request("ANN", &other).await,
            Err(DomainError::TooManyAttempts { .. })
        ));
        assert!(service.admit_request("bob", &other).await.is_ok());
    }

    #[tokio::test]
    async fn a_read_only_directory_issues_no_token_and_refuses_a_reset() {
        let world = World::read_only();
        world.add_user("ann");
        let service = world.services().password_reset;
        assert_eq!(service.request("ann").await.unwrap(), None);
        assert!(matches!(
            service
                .reset("x", "ann", &Password::new("long enough now"), &client())
                .await,
            Err(DomainError::ReadOnlyDirectory)
        ));
    }

    #[tokio::test]
    async fn a_directory_that_keeps_passwords_is_handed_the_new_one_and_its_refusal_is_the_users_to_read() {
        let world = World::checking_passwords();
        let ann = world.add_user("ann");
        let service = world.services().password_reset;
        let token = service.request("ann").await.unwrap().unwrap();
        service
            .reset(&token, "ann", &Password::new("a brand new one"), &client())
            .await
            .unwrap();
        assert_eq!(
            world.directory_password(&ann.external_id).as_deref(),
            Some("a brand new one")
        );
        assert_eq!(world.hashes_made(), 0);
        let token = service.request("ann").await.unwrap().unwrap();
        let refused = service
            .reset(&token, "ann", &Password::new("a reused password"), &client())
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, DomainError::InvalidInput(reason) if reason.contains("password in history")),
            "{refused:?}"
        );
        assert_eq!(
            world.directory_password(&ann.external_id).as_deref(),
            Some("a brand new one")
        );
    }
}
