use chrono::{DateTime, Utc};

/// A user's numeric id, as the source documents show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub i64);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What a user may do beyond their own account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// An ordinary user.
    #[default]
    User,
    /// Support staff: may manage other users' second factors.
    Support,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Support => "support",
        }
    }

    /// Parses a stored or typed name.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "user" => Some(Role::User),
            "support" => Some(Role::Support),
            _ => None,
        }
    }
}

/// Brute-force bookkeeping of one account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockState {
    /// Failed password attempts inside the current window.
    pub failed_attempts: u32,
    /// When the current counting window opened (the first failure in it).
    pub window_started_at: Option<DateTime<Utc>>,
    /// The account refuses logins until this instant.
    pub locked_until: Option<DateTime<Utc>>,
}

impl LockState {
    /// Whether the account is locked at `now`.
    pub fn is_locked_at(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }
}

/// A user as the stores return it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Stable numeric id.
    pub id: UserId,
    /// Unique login name, stored lower-case.
    pub username: String,
    /// Unique e-mail address, stored lower-case.
    pub email: String,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Swedish personal number (12 digits), for BankID.
    pub personal_number: Option<String>,
    /// PHC-format password hash; `None` for users who log in only through a provider.
    pub password_hash: Option<String>,
    /// Disabled users cannot log in and their tokens stop working.
    pub enabled: bool,
    /// Brute-force bookkeeping.
    pub lock: LockState,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
    /// When the profile (names, password, enabled) last changed.
    pub updated_at: DateTime<Utc>,
    /// When the user last logged in successfully.
    pub last_login_at: Option<DateTime<Utc>>,
    /// When the user proved the e-mail address theirs (the verification link).
    pub email_verified_at: Option<DateTime<Utc>>,
    /// Hex of the user's Ed25519 public key, generated at registration.
    pub public_key: Option<String>,
    /// What the user may do beyond their own account.
    pub role: Role,

    /// Incremented on every write, for optimistic locking.
    pub version: i64,
}

impl User {
    /// "First Last", or whichever part exists, or the username.
    pub fn full_name(&self) -> String {
        let parts: Vec<&str> = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .filter(|part| !part.is_empty())
            .collect();
        if parts.is_empty() {
            self.username.clone()
        } else {
            parts.join(" ")
        }
    }
}

/// A key pair as stored: the public half in hex, the private half sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKeyPair {
    /// Hex of the 32-byte Ed25519 public key.
    pub public_hex: String,
    /// The private key, sealed by the `SecretCipher`.
    pub sealed_private: String,
}

/// What a store needs to create a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// Unique login name, already normalised.
    pub username: String,
    /// Unique e-mail address, already normalised.
    pub email: String,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Swedish personal number, already validated.
    pub personal_number: Option<String>,
    /// PHC-format hash of the initial password.
    pub password_hash: Option<String>,
    /// The user's key pair, generated at registration (the `gradido` dialect).
    pub key_pair: Option<StoredKeyPair>,
    /// Creation time, from the domain's clock.
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(first: Option<&str>, last: Option<&str>) -> User {
        let now = Utc::now();
        User {
            id: UserId(1),
            username: "jdoe".into(),
            email: "j@example.com".into(),
            first_name: first.map(Into::into),
            last_name: last.map(Into::into),
            personal_number: None,
            password_hash: None,
            enabled: true,
            lock: LockState::default(),
            created_at: now,
            updated_at: now,
            last_login_at: None,
            email_verified_at: None,
            public_key: None,
            role: Role::User,
            version: 1,
        }
    }

    #[test]
    fn full_name_joins_the_parts_that_exist() {
        assert_eq!(user(Some("John"), Some("Doe")).full_name(), "John Doe");
        assert_eq!(user(None, Some("Doe")).full_name(), "Doe");
        assert_eq!(user(Some(""), None).full_name(), "jdoe");
    }

    #[test]
    fn a_lock_in_the_past_is_no_lock() {
        let now = Utc::now();
        let lock = LockState {
            locked_until: Some(now - chrono::Duration::seconds(1)),
            ..LockState::default()
        };
        assert!(!lock.is_locked_at(now));
        let lock = LockState {
            locked_until: Some(now + chrono::Duration::seconds(1)),
            ..LockState::default()
        };
        assert!(lock.is_locked_at(now));
    }
}
