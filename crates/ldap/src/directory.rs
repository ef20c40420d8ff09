//! The directory: users as entries below `base_dn`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use async_trait::async_trait;
use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::exop::PasswordModify;
use ldap3::result::ExopResult;
use ldap3::{LdapConnSettings, Mod, Scope, SearchEntry, ldap_escape};
use limen_domain::StoreError;
use limen_domain::entry_cache::EntryCache;
use limen_domain::model::{
    DirectoryCapabilities, DirectoryEntry, DirectoryVerdict, NewDirectoryEntry, Password,
};
use limen_domain::ports::UserDirectory;

use crate::active_directory;
use crate::config::{Flavor, LdapConfig};
use crate::pool::{Pool, Role};

/// LDAP's result code for a wrong password (or an entry that may not bind).
const INVALID_CREDENTIALS: u32 = 49;
/// A write the directory's rules refuse (ppolicy: too short, in history).
const CONSTRAINT_VIOLATION: u32 = 19;
/// The bound account may not do this.
const INSUFFICIENT_ACCESS: u32 = 50;
/// The server will not (Active Directory's answer to some policy refusals).
const UNWILLING_TO_PERFORM: u32 = 53;

/// `pwdAccountLockedTime` of an account an administrator locked for good
/// (ppolicy); any other value is a lockout that ends by itself.
const LOCKED_FOR_GOOD: &str = "000001010000Z";

/// Most ids whose entry's DN is remembered for the password check that
/// follows a lookup.
const MAX_REMEMBERED_DNS: usize = 10_000;

/// Entries asked for per page when listing.
const PAGE_SIZE: i32 = 200;

/// An LDAP server as Limen's user directory.
pub struct LdapDirectory {
    config: Arc<LdapConfig>,
    searches: Pool,
    binds: Pool,
    /// The DN of each id seen lately: a password check binds as it.
    dns: Mutex<HashMap<String, String>>,
    /// Entries looked up by id, for token validation.
    by_id: EntryCache,
}

impl LdapDirectory {
    /// A directory over the configured servers; nothing is asked yet (`ping` asks).
    pub fn new(config: LdapConfig) -> Result<Self, String> {
        config.check()?;
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(config.timeout)
            .set_starttls(config.start_tls);
        if let Some(pem) = &config.ca_pem {
            settings = settings.set_config(Arc::new(tls_trusting(pem)?));
        }
        let by_id = EntryCache::new(config.cache_ttl, config.cache_max_entries);
        let config = Arc::new(config);
        Ok(Self {
            by_id,
            searches: Pool::new(config.clone(), settings.clone(), Role::Service),
            binds: Pool::new(config.clone(), settings, Role::Binds),
            config,
            dns: Mutex::new(HashMap::new()),
        })
    }

    /// `(&<user_filter>(<condition>))`.
    fn filter(&self, condition: &str) -> String {
        format!("(&{}({condition}))", self.config.user_filter)
    }

    /// The entries `filter` matches below `base_dn`, at most `limit` (an
    /// error past it: a lookup never chooses among several).
    async fn search(&self, filter: &str, limit: usize) -> Result<Vec<SearchEntry>, StoreError> {
        let mut taken = self.searches.take().await?;
        let attributes = self.config.attributes.all();
        let found = taken
            .ldap
            .with_timeout(self.config.timeout)
            .search(&self.config.base_dn, Scope::Subtree, filter, attributes)
            .await
            .and_then(|result| result.success());
        let (entries, _) = found.map_err(|err| unavailable("searching users", &err))?;
        self.searches.give_back(taken);
        if entries.len() > limit {
            return Err(StoreError::Ambiguous(format!(
                "{} LDAP entries match {filter}; Limen refuses to choose one",
                entries.len()
            )));
        }
        Ok(entries.into_iter().map(SearchEntry::construct).collect())
    }

    /// The one entry whose `attribute` equals `value`.
    /// No directory string holds a NUL; escaped, Samba's filter parser still
    /// ends the value there (`ann\0` found `ann`), so such a name is nobody's.
    async fn find_by(&self, attribute: &str, value: &str) -> Result<Option<DirectoryEntry>, StoreError> {
        if value.is_empty() || value.contains('\0') {
            return Ok(None);
        }
        self.find_where(&format!("{attribute}={}", ldap_escape(value)))
            .await
    }

    /// The one entry `condition` (already escaped) matches.
    async fn find_where(&self, condition: &str) -> Result<Option<DirectoryEntry>, StoreError> {
        let found = self.search(&self.filter(condition), 1).await?;
        found
            .into_iter()
            .next()
            .map(|entry| self.entry(entry))
            .transpose()
    }

    /// Whether the id is Active Directory's binary `objectGUID`, shown and
    /// taken in its text form.
    fn id_is_guid(&self) -> bool {
        self.config.attributes.id.eq_ignore_ascii_case("objectGUID")
    }

    /// The entry's id: the configured attribute's first value, or a GUID's text.
    fn id_of(&self, entry: &SearchEntry) -> Option<String> {
        let name = &self.config.attributes.id;
        if !self.id_is_guid() {
            return first(entry, name);
        }
        // ldap3 files a value under `attrs` when its bytes happen to be UTF-8.
        let binary = entry
            .bin_attrs
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .and_then(|(_, values)| values.first().cloned());
        let text = || {
            entry
                .attrs
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .and_then(|(_, values)| values.first())
                .map(|value| value.as_bytes().to_vec())
        };
        binary
            .or_else(text)
            .and_then(|bytes| active_directory::guid_text(&bytes))
    }

    async fn find_by_id_uncached(&self, external_id: &str) -> Result<Option<DirectoryEntry>, StoreError> {
        let attribute = &self.config.attributes.id;
        if !self.id_is_guid() {
            return self.find_by(attribute, external_id).await;
        }
        match active_directory::guid_bytes(external_id) {
            Some(bytes) => {
                let condition = format!("{attribute}={}", active_directory::escaped_bytes(&bytes));
                self.find_where(&condition).await
            }
            None => Ok(None),
        }
    }

    fn entry(&self, entry: SearchEntry) -> Result<DirectoryEntry, StoreError> {
        let names = &self.config.attributes;
        let get = |name: &str| first(&entry, name);
        let external_id = self.id_of(&entry).ok_or_else(|| {
            StoreError::Unavailable(format!("the LDAP entry {} has no {}", entry.dn, names.id))
        })?;
        let enabled = match self.config.flavor {
            Flavor::OpenLdap => get("pwdAccountLockedTime").as_deref() != Some(LOCKED_FOR_GOOD),
            Flavor::ActiveDirectory => active_directory::enabled(get("userAccountControl").as_deref()),
            Flavor::Generic => true,
        };
        let found = DirectoryEntry {
            external_id: external_id.clone(),
            username: get(&names.username).unwrap_or_default().to_lowercase(),
            email: get(&names.email).unwrap_or_default().to_lowercase(),
            first_name: get(&names.first_name),
            last_name: get(&names.last_name),
            personal_number: names.personal_number.as_deref().and_then(get),
            password_hash: None,
            enabled,
            created_at: None,
            read_at: None,
        };
        self.remember_dn(external_id, entry.dn);
        Ok(found)
    }

    fn remember_dn(&self, id: String, dn: String) {
        let mut dns = self.dns.lock().unwrap_or_else(PoisonError::into_inner);
        if dns.len() >= MAX_REMEMBERED_DNS && !dns.contains_key(&id) {
            // Forgotten ones are found again by id when needed.
            dns.clear();
        }
        dns.insert(id, dn);
    }

    /// Why a bind as `dn` failed: Active Directory says it in the
    /// diagnostic text; OpenLDAP's lockout shows as ppolicy's
    /// `pwdAccountLockedTime` on the entry. A wrong password otherwise.
    async fn refusal_of(&self, dn: &str, diagnostic: &str) -> Result<DirectoryVerdict, StoreError> {
        match self.config.flavor {
            Flavor::ActiveDirectory => return Ok(active_directory::bind_refusal(diagnostic)),
            Flavor::Generic => return Ok(DirectoryVerdict::Mismatch),
            Flavor::OpenLdap => {}
        }
        let mut taken = self.searches.take().await?;
        let found = taken
            .ldap
            .with_timeout(self.config.timeout)
            .search(dn, Scope::Base, "(objectClass=*)", vec!["pwdAccountLockedTime"])
            .await
            .and_then(|result| result.success());
        let (entries, _) = found.map_err(|err| unavailable("reading an account's lock", &err))?;
        self.searches.give_back(taken);
        let locked = entries
            .into_iter()
            .next()
            .and_then(|entry| first(&SearchEntry::construct(entry), "pwdAccountLockedTime"));
        Ok(match locked.as_deref() {
            None => DirectoryVerdict::Mismatch,
            Some(LOCKED_FOR_GOOD) => DirectoryVerdict::Disabled,
            Some(_) => DirectoryVerdict::Locked,
        })
    }

    async fn dn_of(&self, external_id: &str) -> Result<Option<String>, StoreError> {
        let known = self
            .dns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(external_id)
            .cloned();
        if known.is_some() {
            return Ok(known);
        }
        // Not through the kept entries: the search is what remembers the DN.
        self.find_by_id_uncached(external_id).await?;
        Ok(self
            .dns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(external_id)
            .cloned())
    }
}

/// The first value of `name` (compared without case, as LDAP names are),
/// trimmed; `None` when absent or empty.
fn first(entry: &SearchEntry, name: &str) -> Option<String> {
    entry
        .attrs
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .and_then(|(_, values)| values.first())
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

fn unavailable(doing: &str, err: &ldap3::LdapError) -> StoreError {
    StoreError::Unavailable(format!("LDAP, {doing}: {err}"))
}

/// A TLS configuration trusting only the certificates of `pem`.
fn tls_trusting(pem: &[u8]) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(pem) {
        let certificate = certificate.map_err(|err| format!("ca_file is not PEM: {err}"))?;
        roots
            .add(certificate)
            .map_err(|err| format!("ca_file holds an unusable certificate: {err}"))?;
    }
    if roots.is_empty() {
        return Err("ca_file holds no certificate".into());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| format!("TLS: {err}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[async_trait]
impl UserDirectory for LdapDirectory {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn capabilities(&self) -> DirectoryCapabilities {
        DirectoryCapabilities {
            checks_passwords: true,
            set_password: self.config.writable,
            ..DirectoryCapabilities::READ_ONLY
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut taken = self.searches.take().await?;
        let answered = taken
            .ldap
            .with_timeout(self.config.timeout)
            .search(&self.config.base_dn, Scope::Base, "(objectClass=*)", vec!["1.1"])
            .await
            .and_then(|result| result.success());
        answered.map_err(|err| unavailable("reading base_dn", &err))?;
        self.searches.give_back(taken);
        Ok(())
    }

    /// Kept a short while (`cache_ttl`): token validation asks on every
    /// request. A bind is never kept.
    async fn find_by_id(&self, external_id: &str) -> Result<Option<DirectoryEntry>, StoreError> {
        if let Some(kept) = self.by_id.get(external_id, Instant::now()) {
            return Ok(kept);
        }
        // Stamped with when it was read, which its kept copy carries, so a
        // validation built on it is trusted only as long as if made then.
        let entry = self
            .find_by_id_uncached(external_id)
            .await?
            .map(|entry| DirectoryEntry {
                read_at: Some(chrono::Utc::now()),
                ..entry
            });
        self.by_id.put(external_id, entry.clone(), Instant::now());
        Ok(entry)
    }

    /// Active Directory's users also log in as `user@domain`
    /// (`userPrincipalName`).
    async fn find_by_username(&self, username: &str) -> Result<Option<DirectoryEntry>, StoreError> {
        let attribute = &self.config.attributes.username;
        if self.config.flavor != Flavor::ActiveDirectory || username.is_empty() || username.contains('\0') {
            return self.find_by(attribute, username).await;
        }
        let value = ldap_escape(username);
        self.find_where(&format!("|({attribute}={value})(userPrincipalName={value})"))
            .await
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<DirectoryEntry>, StoreError> {
        let attribute = self.config.attributes.email.clone();
        self.find_by(&attribute, email).await
    }

    async fn find_by_personal_number(
        &self,
        personal_number: &str,
    ) -> Result<Option<DirectoryEntry>, StoreError> {
        match self.config.attributes.personal_number.clone() {
            Some(attribute) => self.find_by(&attribute, personal_number).await,
            None => Ok(None),
        }
    }

    /// Binds as the user's entry. An empty password never reaches the server:
    /// LDAP takes a bind with a DN and no password as an anonymous one, which
    /// succeeds.
    async fn check_password(
        &self,
        external_id: &str,
        password: &Password,
    ) -> Result<DirectoryVerdict, StoreError> {
        if password.expose().is_empty() {
            return Ok(DirectoryVerdict::Mismatch);
        }
        let Some(dn) = self.dn_of(external_id).await? else {
            return Ok(DirectoryVerdict::Mismatch);
        };
        let mut taken = self.binds.take().await?;
        let bound = taken
            .ldap
            .with_timeout(self.config.timeout)
            .simple_bind(&dn, password.expose())
            .await
            .map_err(|err| unavailable("checking a password", &err))?;
        self.binds.give_back(taken);
        match bound.rc {
            0 => Ok(DirectoryVerdict::Match),
            // A locked entry's bind fails like a wrong password's; its state
            // tells the two apart.
            INVALID_CREDENTIALS => self.refusal_of(&dn, &bound.text).await,
            code => Err(StoreError::Unavailable(format!(
                "LDAP answered a bind with result code {code}: {}",
                bound.text
            ))),
        }
    }

    /// Password Modify (RFC 3062) as the service account, which the
    /// directory must let change `userPassword`; the server hashes the
    /// password by its own rules and applies its password policy.
    async fn set_password(&self, external_id: &str, password: &Password) -> Result<(), StoreError> {
        if !self.config.writable {
            return Err(StoreError::ReadOnly);
        }
        let dn = self.dn_of(external_id).await?.ok_or(StoreError::NotFound)?;
        let mut taken = self.searches.take().await?;
        self.by_id.forget(external_id);
        let ldap = taken.ldap.with_timeout(self.config.timeout);
        let answer = if self.config.flavor == Flavor::ActiveDirectory {
            // AD takes a new password only as unicodePwd, over an encrypted connection.
            let value = active_directory::unicode_pwd(password.expose());
            let change = Mod::Replace(b"unicodePwd".to_vec(), HashSet::from([value]));
            ldap.modify(&dn, vec![change]).await
        } else {
            let modify = PasswordModify {
                user_id: Some(&dn),
                old_pass: None,
                new_pass: Some(password.expose()),
            };
            ldap.extended(modify).await.map(|ExopResult(_, answer)| answer)
        }
        .map_err(|err| unavailable("changing a password", &err))?;
        self.searches.give_back(taken);
        match answer.rc {
            0 => Ok(()),
            CONSTRAINT_VIOLATION | UNWILLING_TO_PERFORM => {
                Err(StoreError::Refused(if answer.text.is_empty() {
                    "the directory's password policy refuses it".into()
                } else {
                    answer.text
                }))
            }
            INSUFFICIENT_ACCESS => Err(StoreError::Unavailable(format!(
                "the service account {} may not change passwords (users.ldap.writable needs write access to userPassword)",
                self.config.bind_dn
            ))),
            code => Err(StoreError::Unavailable(format!(
                "LDAP answered a password change with result code {code}: {}",
                answer.text
            ))),
        }
    }

    async fn create(&self, _entry: NewDirectoryEntry) -> Result<DirectoryEntry, StoreError> {
        Err(StoreError::ReadOnly)
    }

    async fn set_password_hash(&self, _external_id: &str, _hash: &str) -> Result<(), StoreError> {
        Err(StoreError::ReadOnly)
    }

    async fn delete(&self, _external_id: &str) -> Result<(), StoreError> {
        Err(StoreError::ReadOnly)
    }

    /// Reads every entry with the paged-results control (a server's size
    /// limit does not cut the list short), then answers the page in id order.
    async fn list(&self, after: Option<String>, limit: u32) -> Result<Vec<DirectoryEntry>, StoreError> {
        let mut taken = self.searches.take().await?;
        let adapters: Vec<Box<dyn Adapter<_, _>>> = vec![
            Box::new(EntriesOnly::new()),
            Box::new(PagedResults::new(PAGE_SIZE)),
        ];
        let filter = self.filter("objectClass=*");
        let mut stream = taken
            .ldap
            .streaming_search_with(
                adapters,
                &self.config.base_dn,
                Scope::Subtree,
                &filter,
                self.config.attributes.all(),
            )
            .await
            .map_err(|err| unavailable("listing users", &err))?;
        let mut entries = Vec::new();
        while let Some(entry) = stream
            .next()
            .await
            .map_err(|err| unavailable("listing users", &err))?
        {
            entries.push(self.entry(SearchEntry::construct(entry))?);
        }
        stream
            .finish()
            .await
            .success()
            .map_err(|err| unavailable("listing users", &err))?;
        self.searches.give_back(taken);
        entries.sort_by(|a, b| a.external_id.cmp(&b.external_id));
        Ok(entries
            .into_iter()
            .filter(|entry| {
                after
                    .as_deref()
                    .is_none_or(|after| entry.external_id.as_str() > after)
            })
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect())
    }
}
