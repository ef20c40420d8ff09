//! `[users]`: where users live, and each backend's settings.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::secret::read_secret;
use super::{ConfigError, ExposeSecret, SecretString};

/// Where users live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UsersBackend {
    /// Limen's own `users` table in its database.
    Limen,
    /// A customer's existing table, mapped column by column (`[users.mapped_sql]`).
    MappedSql,
    /// A Lime CRM system over its REST API (`[users.limecrm]`).
    Limecrm,
    /// An LDAP directory: OpenLDAP, Active Directory, FreeIPA, lldap (`[users.ldap]`).
    Ldap,
}

impl UsersBackend {
    /// The name configuration uses.
    pub fn name(self) -> &'static str {
        match self {
            Self::Limen => "limen",
            Self::MappedSql => "mapped-sql",
            Self::Limecrm => "limecrm",
            Self::Ldap => "ldap",
        }
    }
}

/// `[users]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UsersSection {
    /// Which directory holds the users.
    pub backend: UsersBackend,
    /// `[users.mapped_sql]`.
    pub mapped_sql: MappedSqlSection,
    /// `[users.limecrm]`.
    pub limecrm: LimeCrmSection,
    /// `[users.ldap]`.
    pub ldap: LdapSection,
}

impl Default for UsersSection {
    fn default() -> Self {
        Self {
            backend: UsersBackend::Limen,
            mapped_sql: MappedSqlSection::default(),
            limecrm: LimeCrmSection::default(),
            ldap: LdapSection::default(),
        }
    }
}

/// `[users.mapped_sql]`: a customer's table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MappedSqlSection {
    /// The name the table's users are linked to Limen's accounts under.
    pub name: String,
    /// The customer's database: `postgres://…`, `mysql://…` or `sqlite://…`.
    #[serde(skip_serializing)]
    pub url: Option<SecretString>,
    /// A file holding `url` (it may carry a password).
    pub url_file: Option<PathBuf>,
    /// The table, optionally `schema.table`.
    pub table: String,
    /// Limen may write password hashes into `columns.password_hash`.
    pub writable: bool,
    /// Compare `lower(column)` for usernames and e-mail addresses.
    pub case_insensitive: bool,
    /// For a text `enabled` column: the values that mean active.
    pub enabled_values: Vec<String>,
    /// Pooled connections to the customer's database per Limen process.
    pub max_connections: u32,
    /// `[users.mapped_sql.columns]`: Limen field = customer column.
    pub columns: MappedColumns,
}

impl Default for MappedSqlSection {
    fn default() -> Self {
        Self {
            name: "mapped-sql".into(),
            url: None,
            url_file: None,
            table: String::new(),
            writable: false,
            case_insensitive: true,
            enabled_values: Vec::new(),
            max_connections: 8,
            columns: MappedColumns::default(),
        }
    }
}

/// `[users.mapped_sql.columns]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MappedColumns {
    /// The user's id, of any type.
    pub id: String,
    /// The login name.
    pub username: String,
    /// The e-mail address.
    pub email: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Swedish personal number (12 digits).
    pub personal_number: Option<String>,
    /// The password hash.
    pub password_hash: Option<String>,
    /// Whether the account is active.
    pub enabled: Option<String>,
}

/// `[users.limecrm]`: a Lime CRM system.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimeCrmSection {
    /// The name users are linked to Limen's accounts under.
    pub name: String,
    /// The REST API's base URL, `https://<host>/<application>/api/v1/`.
    pub url: String,
    /// The API key of a Lime API user that may read the limetype.
    #[serde(skip_serializing)]
    pub api_key: Option<SecretString>,
    /// A file holding `api_key`.
    pub api_key_file: Option<PathBuf>,
    /// The limetype holding the users.
    pub limetype: String,
    /// Limen may write password hashes into `properties.password_hash`.
    pub writable: bool,
    /// For `properties.enabled`: the values meaning active.
    pub enabled_values: Vec<String>,
    /// Seconds one request may take.
    pub timeout_secs: u64,
    /// Further attempts after a timeout or a 5xx answer.
    pub retries: u32,
    /// Consecutive failures that stop Limen asking the CRM for a while.
    pub breaker_failures: u32,
    /// How long, in seconds.
    pub breaker_open_secs: u64,
    /// How long a user looked up by id (token validation) is kept, in seconds; 0 keeps none.
    pub cache_ttl_secs: u64,
    /// The most users kept.
    pub cache_max_entries: usize,
    /// `[users.limecrm.properties]`: Limen attribute = limetype property.
    pub properties: limen_limecrm::Properties,
}

impl Default for LimeCrmSection {
    fn default() -> Self {
        Self {
            name: "limecrm".into(),
            url: String::new(),
            api_key: None,
            api_key_file: None,
            limetype: "person".into(),
            writable: false,
            enabled_values: Vec::new(),
            timeout_secs: 5,
            retries: 2,
            breaker_failures: 5,
            breaker_open_secs: 30,
            cache_ttl_secs: 30,
            cache_max_entries: 10_000,
            properties: limen_limecrm::Properties::default(),
        }
    }
}

/// `[users.ldap]`: an LDAP directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LdapSection {
    /// The name users are linked to Limen's accounts under.
    pub name: String,
    /// `ldap://` or `ldaps://` URL of the server.
    pub url: Option<String>,
    /// Several servers, tried in order (instead of `url`).
    pub urls: Vec<String>,
    /// StartTLS on an `ldap://` URL.
    pub start_tls: bool,
    /// PEM file of the only roots trusted for LDAPS and StartTLS; the system's when unset.
    pub ca_file: Option<PathBuf>,
    /// The service account that searches.
    pub bind_dn: String,
    /// Its password.
    #[serde(skip_serializing)]
    pub bind_password: Option<SecretString>,
    /// A file holding `bind_password`.
    pub bind_password_file: Option<PathBuf>,
    /// Where users are searched (with the subtree below it).
    pub base_dn: String,
    /// ANDed with every lookup; the flavor's when unset.
    pub user_filter: Option<String>,
    /// `openldap`, `active_directory` or `generic`: the attributes' defaults,
    /// how account state is read and how a password is written.
    pub flavor: LdapFlavor,
    /// Password changes and resets are written to the directory.
    pub writable: bool,
    /// Connections for searches per Limen process (and as many for password binds).
    pub max_connections: usize,
    /// Seconds a connection or an operation may take.
    pub timeout_secs: u64,
    /// How long a user looked up by id (token validation) is kept, in seconds; 0 keeps none.
    pub cache_ttl_secs: u64,
    /// The most users kept.
    pub cache_max_entries: usize,
    /// `[users.ldap.attributes]`: Limen field = LDAP attribute; unset ones take the flavor's default.
    pub attributes: LdapAttributes,
}

/// `users.ldap.flavor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LdapFlavor {
    /// OpenLDAP, with ppolicy's account lock read.
    Openldap,
    /// Active Directory or Samba AD: objectGUID, sAMAccountName, userAccountControl, unicodePwd.
    ActiveDirectory,
    /// Any other server (FreeIPA, lldap, 389): the same attributes, no account state.
    Generic,
}

/// `[users.ldap.attributes]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LdapAttributes {
    /// A stable id of the entry (default `entryUUID`; AD: `objectGUID`).
    pub id: Option<String>,
    /// The login name (default `uid`; AD: `sAMAccountName`).
    pub username: Option<String>,
    /// The e-mail address (default `mail`).
    pub email: Option<String>,
    /// Given name (default `givenName`).
    pub first_name: Option<String>,
    /// Family name (default `sn`).
    pub last_name: Option<String>,
    /// Swedish personal number, for BankID (none by default).
    pub personal_number: Option<String>,
}

impl Default for LdapSection {
    fn default() -> Self {
        Self {
            name: "ldap".into(),
            url: None,
            urls: Vec::new(),
            start_tls: false,
            ca_file: None,
            bind_dn: String::new(),
            bind_password: None,
            bind_password_file: None,
            base_dn: String::new(),
            user_filter: None,
            flavor: LdapFlavor::Openldap,
            writable: false,
            max_connections: 8,
            timeout_secs: 5,
            cache_ttl_secs: 30,
            cache_max_entries: 10_000,
            attributes: LdapAttributes::default(),
        }
    }
}

impl LdapSection {
    /// The adapter's configuration; reads `ca_file`.
    pub fn adapter_config(&self) -> Result<limen_ldap::LdapConfig, ConfigError> {
        let flavor = match self.flavor {
            LdapFlavor::Openldap => limen_ldap::Flavor::OpenLdap,
            LdapFlavor::Generic => limen_ldap::Flavor::Generic,
            LdapFlavor::ActiveDirectory => limen_ldap::Flavor::ActiveDirectory,
        };
        let user_filter = self.user_filter.clone().unwrap_or_else(|| {
            match flavor {
                limen_ldap::Flavor::ActiveDirectory => "(&(objectCategory=person)(objectClass=user))",
                _ => "(objectClass=inetOrgPerson)",
            }
            .to_owned()
        });
        let defaults = limen_ldap::Attributes::of(flavor);
        let given = &self.attributes;
        let pick = |given: &Option<String>, default: String| given.clone().unwrap_or(default);
        let ca_pem = match &self.ca_file {
            Some(path) => Some(std::fs::read(path).map_err(|err| {
                ConfigError::Invalid(format!("users.ldap.ca_file {}: {err}", path.display()))
            })?),
            None => None,
        };
        let config = limen_ldap::LdapConfig {
            name: self.name.clone(),
            urls: self.url.iter().chain(&self.urls).cloned().collect(),
            start_tls: self.start_tls,
            ca_pem,
            bind_dn: self.bind_dn.clone(),
            bind_password: self
                .bind_password
                .as_ref()
                .map(|password| password.expose_secret().to_owned())
                .unwrap_or_default(),
            base_dn: self.base_dn.clone(),
            user_filter,
            flavor,
            attributes: limen_ldap::Attributes {
                id: pick(&given.id, defaults.id),
                username: pick(&given.username, defaults.username),
                email: pick(&given.email, defaults.email),
                first_name: pick(&given.first_name, defaults.first_name),
                last_name: pick(&given.last_name, defaults.last_name),
                personal_number: given.personal_number.clone().or(defaults.personal_number),
            },
            writable: self.writable,
            max_connections: self.max_connections,
            timeout: std::time::Duration::from_secs(self.timeout_secs.max(1)),
            cache_ttl: std::time::Duration::from_secs(self.cache_ttl_secs),
            cache_max_entries: self.cache_max_entries,
        };
        config
            .check()
            .map_err(|reason| ConfigError::Invalid(format!("users.ldap: {reason}")))?;
        if config.bind_password.is_empty() {
            return Err(ConfigError::Invalid(
                "users.ldap.bind_password (or bind_password_file) is required".into(),
            ));
        }
        Ok(config)
    }
}

impl UsersSection {
    /// Reads `url_file` and `api_key_file`.
    pub(super) fn read_secret_files(&mut self) -> Result<(), ConfigError> {
        if let Some(path) = &self.limecrm.api_key_file {
            self.limecrm.api_key = Some(read_secret("users.limecrm.api_key_file", path)?);
        }
        if let Some(path) = &self.ldap.bind_password_file {
            self.ldap.bind_password = Some(read_secret("users.ldap.bind_password_file", path)?);
        }
        if let Some(path) = &self.mapped_sql.url_file {
            self.mapped_sql.url = Some(read_secret("users.mapped_sql.url_file", path)?);
        }
        Ok(())
    }

    /// What can be checked before connecting.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.backend == UsersBackend::Ldap {
            return self.ldap.adapter_config().map(|_| ());
        }
        if self.backend == UsersBackend::Limecrm {
            return self
                .lime_config()
                .check()
                .map_err(|reason| ConfigError::Invalid(format!("users.limecrm: {reason}")));
        }
        if self.backend != UsersBackend::MappedSql {
            return Ok(());
        }
        let mapped = &self.mapped_sql;
        let missing = [
            (
                "url (or url_file)",
                mapped.url.as_ref().map_or("", ExposeSecret::expose_secret),
            ),
            ("table", mapped.table.as_str()),
            ("columns.id", mapped.columns.id.as_str()),
            ("columns.username", mapped.columns.username.as_str()),
        ];
        if let Some((key, _)) = missing.iter().find(|(_, value)| value.trim().is_empty()) {
            return Err(ConfigError::Invalid(format!(
                "users.mapped_sql.{key} is required with users.backend = \"mapped-sql\""
            )));
        }
        Ok(())
    }

    /// The CRM's configuration for the adapter.
    pub fn lime_config(&self) -> limen_limecrm::LimeCrmConfig {
        let lime = &self.limecrm;
        let properties = &lime.properties;
        limen_limecrm::LimeCrmConfig {
            name: lime.name.clone(),
            url: lime.url.clone(),
            api_key: lime
                .api_key
                .as_ref()
                .map(|key| key.expose_secret().to_owned())
                .unwrap_or_default(),
            limetype: lime.limetype.clone(),
            properties: limen_limecrm::Properties {
                // `enabled` replaces the default `inactive`.
                disabled: if properties.enabled.is_some() {
                    None
                } else {
                    properties.disabled.clone()
                },
                ..properties.clone()
            },
            enabled_values: lime.enabled_values.clone(),
            writable: lime.writable,
            timeout: std::time::Duration::from_secs(lime.timeout_secs.max(1)),
            retries: lime.retries,
            breaker_failures: lime.breaker_failures,
            breaker_open: std::time::Duration::from_secs(lime.breaker_open_secs),
            cache_ttl: std::time::Duration::from_secs(lime.cache_ttl_secs),
            cache_max_entries: lime.cache_max_entries,
        }
    }

    /// The mapped table's configuration for the adapter.
    pub fn mapped_config(&self) -> limen_mapped_sql::MappedConfig {
        let mapped = &self.mapped_sql;
        let columns = &mapped.columns;
        limen_mapped_sql::MappedConfig {
            name: mapped.name.clone(),
            url: mapped
                .url
                .as_ref()
                .map(|url| url.expose_secret().to_owned())
                .unwrap_or_default(),
            table: mapped.table.clone(),
            writable: mapped.writable,
            case_insensitive: mapped.case_insensitive,
            columns: limen_mapped_sql::Columns {
                id: columns.id.clone(),
                username: columns.username.clone(),
                email: columns.email.clone(),
                first_name: columns.first_name.clone(),
                last_name: columns.last_name.clone(),
                personal_number: columns.personal_number.clone(),
                password_hash: columns.password_hash.clone(),
                enabled: columns.enabled.clone(),
            },
            enabled_values: mapped.enabled_values.clone(),
            max_connections: mapped.max_connections,
        }
    }
}
