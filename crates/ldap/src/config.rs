//! What the operator configures.

use std::time::Duration;

/// The kind of directory server: the defaults of the attributes, how account
/// state is read, and how a password is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// OpenLDAP: `entryUUID`, `uid`, `mail`; ppolicy's lock; Password Modify.
    OpenLdap,
    /// Active Directory (and Samba AD): `objectGUID`, `sAMAccountName` (or
    /// `userPrincipalName`); `userAccountControl` and the bind's diagnostic
    /// code; `unicodePwd`.
    ActiveDirectory,
    /// Any other server (FreeIPA, 389, lldap): OpenLDAP's attributes, no
    /// account state; Password Modify.
    Generic,
}

/// Which LDAP attribute holds each Limen field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attributes {
    /// A stable id that never changes for the entry.
    pub id: String,
    /// The login name.
    pub username: String,
    /// The e-mail address.
    pub email: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Swedish personal number, for BankID; none by default.
    pub personal_number: Option<String>,
}

impl Attributes {
    /// The defaults of `flavor`.
    pub fn of(flavor: Flavor) -> Self {
        match flavor {
            Flavor::OpenLdap | Flavor::Generic => Self {
                id: "entryUUID".into(),
                username: "uid".into(),
                email: "mail".into(),
                first_name: "givenName".into(),
                last_name: "sn".into(),
                personal_number: None,
            },
            Flavor::ActiveDirectory => Self {
                id: "objectGUID".into(),
                username: "sAMAccountName".into(),
                email: "mail".into(),
                first_name: "givenName".into(),
                last_name: "sn".into(),
                personal_number: None,
            },
        }
    }

    /// Every attribute read from an entry.
    pub(crate) fn all(&self) -> Vec<&str> {
        let mut all = vec![
            self.id.as_str(),
            self.username.as_str(),
            self.email.as_str(),
            self.first_name.as_str(),
            self.last_name.as_str(),
            "createTimestamp",
            "pwdAccountLockedTime",
            "userAccountControl",
        ];
        all.extend(self.personal_number.as_deref());
        all
    }
}

/// Where the directory is and how Limen reads it.
#[derive(Clone)]
pub struct LdapConfig {
    /// The name users are linked to Limen's accounts under.
    pub name: String,
    /// `ldap://` or `ldaps://` URLs, tried in order.
    pub urls: Vec<String>,
    /// StartTLS on `ldap://`.
    pub start_tls: bool,
    /// PEM of the only roots trusted for LDAPS and StartTLS; the system's when none.
    pub ca_pem: Option<Vec<u8>>,
    /// The service account that searches.
    pub bind_dn: String,
    /// Its password.
    pub bind_password: String,
    /// Where users are searched, with the subtree below it.
    pub base_dn: String,
    /// ANDed with every lookup, such as `(objectClass=inetOrgPerson)`.
    pub user_filter: String,
    /// The kind of server.
    pub flavor: Flavor,
    /// Which attribute holds each field.
    pub attributes: Attributes,
    /// Password changes and resets are written to the directory (Password
    /// Modify, RFC 3062); otherwise Limen writes nothing to it, ever.
    pub writable: bool,
    /// Connections for searches, and as many again for password binds.
    pub max_connections: usize,
    /// Each connection and operation gives up after this long.
    pub timeout: Duration,
    /// How long an entry looked up by id (token validation) is kept; zero keeps none.
    pub cache_ttl: Duration,
    /// The most entries kept.
    pub cache_max_entries: usize,
}

impl std::fmt::Debug for LdapConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LdapConfig")
            .field("name", &self.name)
            .field("urls", &self.urls)
            .field("start_tls", &self.start_tls)
            .field("bind_dn", &self.bind_dn)
            .field("bind_password", &"<redacted>")
            .field("base_dn", &self.base_dn)
            .field("user_filter", &self.user_filter)
            .field("flavor", &self.flavor)
            .field("writable", &self.writable)
            .finish_non_exhaustive()
    }
}

impl LdapConfig {
    /// What can be checked before connecting.
    pub fn check(&self) -> Result<(), String> {
        if self.urls.is_empty() {
            return Err("url (or urls) is required".into());
        }
        for url in &self.urls {
            if !(url.starts_with("ldap://") || url.starts_with("ldaps://")) {
                return Err(format!("{url:?} is not an ldap:// or ldaps:// URL"));
            }
            if self.start_tls && url.starts_with("ldaps://") {
                return Err(format!("start_tls is for ldap:// URLs, not {url:?}"));
            }
        }
        for (key, value) in [
            ("bind_dn", &self.bind_dn),
            ("base_dn", &self.base_dn),
            ("attributes.id", &self.attributes.id),
            ("attributes.username", &self.attributes.username),
        ] {
            if value.trim().is_empty() {
                return Err(format!("{key} is required"));
            }
        }
        let parenthesised = self.user_filter.starts_with('(') && self.user_filter.ends_with(')');
        if !(self.user_filter.is_empty() || parenthesised) {
            return Err(format!(
                "user_filter {:?} must be one parenthesised filter",
                self.user_filter
            ));
        }
        if self.max_connections == 0 {
            return Err("max_connections must be positive".into());
        }
        Ok(())
    }
}
