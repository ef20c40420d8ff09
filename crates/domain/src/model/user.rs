use chrono::{DateTime, Utc};

/// A user's numeric id in Limen, as the source documents show it. Assigned by
/// Limen on first sight of a directory user; for Limen's own directory it equals
/// the directory's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub i64);

impl UserId {
    /// The owner of a record not yet bound to any user (a BankID order before
    /// it completes); no user has it, since Limen's ids start at 1.
    pub const NONE: UserId = UserId(0);
}

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

/// A user as the customer's directory knows them: identity data that Limen reads
/// and, where the directory allows it, writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    /// The directory's own id of the user, as text whatever its type.
    pub external_id: String,
    /// Login name, normalised (trimmed, lower-case).
    pub username: String,
    /// E-mail address, normalised; empty when the directory has none.
    pub email: String,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Swedish personal number (12 digits), for BankID.
    pub personal_number: Option<String>,
    /// Password hash in its stored format; `None` for users without a password.
    pub password_hash: Option<String>,
    /// The directory's own notion of an active account.
    pub enabled: bool,
    /// When the directory created the user, if it records that.
    pub created_at: Option<DateTime<Utc>>,
    /// When this was read from its source, for an entry the adapter kept a
    /// while (a CRM's answers); `None` for one read just now. What is built
    /// on it (a cached token validation) is then trusted only as long as if
    /// it had been read then.
    pub read_at: Option<DateTime<Utc>>,
}

/// New identity data for a user: `None` keeps a field, `Some(None)` clears an
/// optional one. The username never changes: other systems know users by it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileChange {
    /// A new login name.
    pub username: Option<String>,
    /// A new e-mail address.
    pub email: Option<String>,
    /// A new given name, or none.
    pub first_name: Option<Option<String>>,
    /// A new family name, or none.
    pub last_name: Option<Option<String>>,
    /// A new personal number, or none.
    pub personal_number: Option<Option<String>>,
}

impl ProfileChange {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// What a directory needs to create a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDirectoryEntry {
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
    /// Hash of the initial password.
    pub password_hash: Option<String>,
    /// Creation time, from the domain's clock.
    pub created_at: DateTime<Utc>,
}

/// Which writes a directory accepts. Reading is always possible; a read-only
/// directory is normal (a customer's table, a CRM).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DirectoryCapabilities {
    /// New users can be created (registration, `limen user add`).
    pub create: bool,
    /// Password hashes can be replaced (password change, reset, rehash on login).
    pub set_password_hash: bool,
    /// Users can be deleted.
    pub delete: bool,
    /// E-mail addresses, names and personal numbers can be changed
    /// (`UserDirectory::update_profile`).
    pub update_profile: bool,
    /// The directory checks passwords itself (an LDAP bind as the user) and
    /// keeps no hash Limen reads: `UserDirectory::check_password` answers.
    pub checks_passwords: bool,
    /// The directory takes a new password as such and keeps it its own way
    /// (LDAP's Password Modify): `UserDirectory::set_password`.
    pub set_password: bool,
}

impl DirectoryCapabilities {
    /// Everything: Limen's own table.
    pub const ALL: Self = Self {
        create: true,
        set_password_hash: true,
        delete: true,
        update_profile: true,
        checks_passwords: false,
        set_password: false,
    };
    /// Nothing but reading.
    pub const READ_ONLY: Self = Self {
        create: false,
        set_password_hash: false,
        delete: false,
        update_profile: false,
        checks_passwords: false,
        set_password: false,
    };

    /// Whether a user's password can be changed at all (as a hash or as such).
    pub fn changes_passwords(self) -> bool {
        self.set_password_hash || self.set_password
    }
}

/// A directory's answer to a password it checked itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryVerdict {
    /// The password is the user's.
    Match,
    /// It is not (or the entry cannot log in, which the directory does not
    /// tell apart from a wrong password).
    Mismatch,
    /// The directory's own lockout holds the account (OpenLDAP's ppolicy,
    /// Active Directory's lockout), whatever the password; it lifts by itself.
    Locked,
    /// The directory has disabled the account (or it has expired).
    Disabled,
    /// The password is right but has expired, or must be changed before
    /// any login (Active Directory's "must change at next logon").
    PasswordExpired,
}

/// A key pair as stored: the public half in hex, the private half sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKeyPair {
    /// Hex of the 32-byte Ed25519 public key.
    pub public_hex: String,
    /// The private key, sealed by the `SecretCipher` with the user id as
    /// associated data.
    pub sealed_private: String,
}

/// What Limen owns about a user, whatever the directory: always in Limen's own
/// database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountState {
    /// Limen's id of the user.
    pub user_id: UserId,
    /// The directory the user lives in.
    pub directory: String,
    /// The directory's id of the user.
    pub external_id: String,
    /// What the user may do beyond their own account.
    pub role: Role,
    /// An operator disabled the account in Limen (whatever the directory says).
    pub disabled: bool,
    /// When the user proved the e-mail address theirs.
    pub email_verified_at: Option<DateTime<Utc>>,
    /// When the user last logged in successfully.
    pub last_login_at: Option<DateTime<Utc>>,
    /// Hex of the user's Ed25519 public key, when one was generated.
    pub public_key: Option<String>,
    /// When Limen first saw the user.
    pub created_at: DateTime<Utc>,
    /// When Limen last changed the account (role, enabled state, password,
    /// verification).
    pub updated_at: DateTime<Utc>,
    /// Grows with every change of the account and every login.
    pub version: i64,
    /// The id a SCIM client gave the user (its `externalId`).
    pub scim_external_id: Option<String>,
}

/// A change to an account's state; `None` fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountPatch {
    /// A new role.
    pub role: Option<Role>,
    /// Disable (true) or enable (false) the account in Limen.
    pub disabled: Option<bool>,
    /// Record that the e-mail address was verified at this time.
    pub email_verified_at: Option<DateTime<Utc>>,
    /// Store this key pair.
    pub key_pair: Option<StoredKeyPair>,
    /// Set (or with `Some(None)` clear) the SCIM client's id of the user.
    pub scim_external_id: Option<Option<String>>,
    /// Change the account only if its version is still this one; the store
    /// answers `StoreError::Stale` otherwise. Every change grows the version.
    pub expected_version: Option<i64>,
}

/// A user as the services see one: the directory's entry joined with Limen's
/// account state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Limen's id.
    pub id: UserId,
    /// The directory's id.
    pub external_id: String,
    /// Unique login name, lower-case.
    pub username: String,
    /// E-mail address, lower-case; empty when the directory has none.
    pub email: String,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Swedish personal number (12 digits), for BankID.
    pub personal_number: Option<String>,
    /// Password hash; `None` for users who log in only through a provider.
    pub password_hash: Option<String>,
    /// Enabled in the directory and not disabled in Limen. Disabled users cannot
    /// log in and their tokens stop working.
    pub enabled: bool,
    /// When the user was created (in the directory, else first seen by Limen).
    pub created_at: DateTime<Utc>,
    /// When the user last logged in successfully.
    pub last_login_at: Option<DateTime<Utc>>,
    /// When the user proved the e-mail address theirs (the verification link).
    pub email_verified_at: Option<DateTime<Utc>>,
    /// Hex of the user's Ed25519 public key, generated at registration.
    pub public_key: Option<String>,
    /// What the user may do beyond their own account.
    pub role: Role,
    /// When Limen last changed the account.
    pub updated_at: DateTime<Utc>,
    /// Grows with every change of the account and every login.
    pub version: i64,
    /// Disabled by an operator in Limen (`enabled` is false then, whatever
    /// the directory says).
    pub disabled_in_limen: bool,
    /// The id a SCIM client gave the user (its `externalId`).
    pub scim_external_id: Option<String>,
    /// When the directory's part was read from its source, when the
    /// directory answered from a cache of its own.
    pub read_at: Option<DateTime<Utc>>,
}

impl User {
    /// Joins a directory entry with the account state Limen keeps for it.
    pub fn assemble(entry: DirectoryEntry, account: AccountState) -> Self {
        Self {
            id: account.user_id,
            external_id: entry.external_id,
            username: entry.username,
            email: entry.email,
            first_name: entry.first_name,
            last_name: entry.last_name,
            personal_number: entry.personal_number,
            password_hash: entry.password_hash,
            enabled: entry.enabled && !account.disabled,
            created_at: entry.created_at.unwrap_or(account.created_at),
            last_login_at: account.last_login_at,
            email_verified_at: account.email_verified_at,
            public_key: account.public_key,
            role: account.role,
            updated_at: account.updated_at,
            version: account.version,
            disabled_in_limen: account.disabled,
            scim_external_id: account.scim_external_id,
            read_at: entry.read_at,
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(first: Option<&str>, last: Option<&str>) -> DirectoryEntry {
        DirectoryEntry {
            external_id: "7".into(),
            username: "jdoe".into(),
            email: "j@example.com".into(),
            first_name: first.map(Into::into),
            last_name: last.map(Into::into),
            personal_number: None,
            password_hash: None,
            enabled: true,
            created_at: None,
            read_at: None,
        }
    }

    fn account(disabled: bool) -> AccountState {
        AccountState {
            user_id: UserId(1),
            directory: "limen".into(),
            external_id: "7".into(),
            role: Role::Support,
            disabled,
            email_verified_at: None,
            last_login_at: None,
            public_key: None,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
            version: 1,
            scim_external_id: None,
        }
    }

    #[test]
    fn full_name_joins_the_parts_that_exist() {
        let user = |first, last| User::assemble(entry(first, last), account(false));
        assert_eq!(user(Some("John"), Some("Doe")).full_name(), "John Doe");
        assert_eq!(user(None, Some("Doe")).full_name(), "Doe");
        assert_eq!(user(Some(""), None).full_name(), "jdoe");
    }

    #[test]
    fn a_user_is_enabled_only_if_both_the_directory_and_limen_say_so() {
        assert!(User::assemble(entry(None, None), account(false)).enabled);
        assert!(!User::assemble(entry(None, None), account(true)).enabled);
        let mut off = entry(None, None);
        off.enabled = false;
        assert!(!User::assemble(off, account(false)).enabled);
    }

    #[test]
    fn the_assembled_user_takes_limen_s_id_and_the_directory_s_identity() {
        let user = User::assemble(entry(Some("Ann"), None), account(false));
        assert_eq!(user.id, UserId(1));
        assert_eq!(user.external_id, "7");
        assert_eq!(user.role, Role::Support);
        assert_eq!(user.created_at, DateTime::<Utc>::UNIX_EPOCH);
    }
}
