//! The directory: users as limeobjects of the configured limetype.

use std::time::Instant;

use async_trait::async_trait;
use limen_domain::StoreError;
use limen_domain::model::{DirectoryCapabilities, DirectoryEntry, NewDirectoryEntry};
use limen_domain::ports::{CallObserver, UserDirectory};
use serde_json::Value;

use crate::client::Client;
use crate::config::LimeCrmConfig;
use limen_domain::entry_cache::EntryCache;

/// A Lime CRM system as Limen's user directory.
pub struct LimeCrmDirectory {
    config: LimeCrmConfig,
    client: Client,
    cache: EntryCache,
}

impl LimeCrmDirectory {
    /// A directory over the configured CRM; nothing is asked yet (`ping` asks).
    pub fn new(config: LimeCrmConfig) -> Result<Self, String> {
        config.check()?;
        let client = Client::new(&config)?;
        let cache = EntryCache::new(config.cache_ttl, config.cache_max_entries);
        Ok(Self {
            config,
            client,
            cache,
        })
    }

    /// Tells `observer` how long each request to the CRM took (with its
    /// retries) and whether it failed.
    pub fn observe(&mut self, observer: CallObserver) {
        self.client.observer = Some(observer);
    }

    fn objects(&self) -> String {
        format!("limeobject/{}/", self.config.limetype)
    }

    /// The one user whose `property` equals `value` (ignoring case, as Lime's
    /// SQL Server does, and checked again here: the CRM's filter is not
    /// trusted to be exact); an error when several are.
    async fn find_by(
        &self,
        property: &str,
        value: &str,
        fold_case: bool,
    ) -> Result<Option<DirectoryEntry>, StoreError> {
        let query = serde_urlencoded::to_string([(property, value), ("_limit", "10")])
            .map_err(|err| StoreError::Unavailable(format!("cannot build a Lime CRM query: {err}")))?;
        let Some(answer) = self.client.get(&format!("{}?{query}", self.objects())).await? else {
            return Err(StoreError::Unavailable(format!(
                "Lime CRM does not know the limetype {:?}",
                self.config.limetype
            )));
        };
        let found: Vec<&Value> = objects_of(&answer)?
            .iter()
            .filter(|object| {
                text(object.get(property)).is_some_and(|stored| {
                    if fold_case {
                        stored.to_lowercase() == value.to_lowercase()
                    } else {
                        stored == value
                    }
                })
            })
            .collect();
        match found.as_slice() {
            [] => Ok(None),
            [object] => Ok(Some(self.entry(object)?)),
            _ => Err(StoreError::Ambiguous(format!(
                "several {} objects have the same {property}; Limen refuses to choose one",
                self.config.limetype
            ))),
        }
    }

    fn entry(&self, object: &Value) -> Result<DirectoryEntry, StoreError> {
        let properties = &self.config.properties;
        let get = |name: &Option<String>| name.as_ref().and_then(|name| text(object.get(name)));
        let external_id = text(object.get("_id"))
            .ok_or_else(|| StoreError::Unavailable("a Lime CRM object has no _id".into()))?;
        let enabled = match (&properties.enabled, &properties.disabled) {
            (Some(enabled), _) => text(object.get(enabled)).is_some_and(|value| self.is_active(&value)),
            (None, Some(disabled)) => !text(object.get(disabled)).is_some_and(|value| truthy(&value)),
            (None, None) => true,
        };
        Ok(DirectoryEntry {
            external_id,
            username: text(object.get(&properties.username))
                .unwrap_or_default()
                .to_lowercase(),
            email: get(&properties.email).unwrap_or_default().to_lowercase(),
            first_name: get(&properties.first_name),
            last_name: get(&properties.last_name),
            personal_number: get(&properties.personal_number),
            password_hash: get(&properties.password_hash),
            enabled,
            created_at: None,
            read_at: None,
        })
    }

    fn is_active(&self, value: &str) -> bool {
        if self.config.enabled_values.is_empty() {
            truthy(value)
        } else {
            self.config
                .enabled_values
                .iter()
                .any(|active| active.eq_ignore_ascii_case(value))
        }
    }
}

fn truthy(value: &str) -> bool {
    matches!(value.to_ascii_lowercase().as_str(), "true" | "1" | "yes")
}

/// A property's value as text: strings as they are, booleans and numbers
/// written out, an option by its key; `None` for null, empty or anything else.
fn text(value: Option<&Value>) -> Option<String> {
    let text = match value? {
        Value::String(text) => text.trim().to_owned(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        Value::Object(option) => option.get("key").and_then(Value::as_str)?.to_owned(),
        _ => return None,
    };
    Some(text).filter(|text| !text.is_empty())
}

/// The objects of a HAL list answer.
fn objects_of(answer: &Value) -> Result<&Vec<Value>, StoreError> {
    match answer.pointer("/_embedded/limeobjects") {
        Some(Value::Array(objects)) => Ok(objects),
        // An empty answer may leave `_embedded` out.
        None if answer.get("_links").is_some() => {
            static EMPTY: Vec<Value> = Vec::new();
            Ok(&EMPTY)
        }
        _ => Err(StoreError::Unavailable(
            "Lime CRM's list answer has no _embedded.limeobjects".into(),
        )),
    }
}

#[async_trait]
impl UserDirectory for LimeCrmDirectory {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn capabilities(&self) -> DirectoryCapabilities {
        DirectoryCapabilities {
            set_password_hash: self.config.writable,
            ..DirectoryCapabilities::READ_ONLY
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        // The API's root answers 200 to a valid key (what Lime's own clients check).
        match self.client.get("").await? {
            Some(_) => Ok(()),
            None => Err(StoreError::Unavailable(format!(
                "Lime CRM has no API at {}",
                self.config.url
            ))),
        }
    }

    async fn find_by_id(&self, external_id: &str) -> Result<Option<DirectoryEntry>, StoreError> {
        if external_id.is_empty() || !external_id.chars().all(|c| c.is_ascii_digit()) {
            return Ok(None);
        }
        if let Some(kept) = self.cache.get(external_id, Instant::now()) {
            return Ok(kept);
        }
        let entry = match self
            .client
            .get(&format!("{}{external_id}/", self.objects()))
            .await?
        {
            // Stamped with when it was read, which its kept copy carries: a
            // token validation built on it is trusted only as long as if it
            // had been made then, so the two caches do not add up.
            Some(object) => Some(DirectoryEntry {
                read_at: Some(chrono::Utc::now()),
                ..self.entry(&object)?
            }),
            None => None,
        };
        self.cache.put(external_id, entry.clone(), Instant::now());
        Ok(entry)
    }

    async fn find_by_username(&self, username: &str) -> Result<Option<DirectoryEntry>, StoreError> {
        let property = self.config.properties.username.clone();
        self.find_by(&property, username, true).await
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<DirectoryEntry>, StoreError> {
        match self.config.properties.email.clone() {
            Some(property) => self.find_by(&property, email, true).await,
            None => Ok(None),
        }
    }

    async fn find_by_personal_number(
        &self,
        personal_number: &str,
    ) -> Result<Option<DirectoryEntry>, StoreError> {
        match self.config.properties.personal_number.clone() {
            Some(property) => self.find_by(&property, personal_number, false).await,
            None => Ok(None),
        }
    }

    async fn create(&self, _entry: NewDirectoryEntry) -> Result<DirectoryEntry, StoreError> {
        Err(StoreError::ReadOnly)
    }

    async fn set_password_hash(&self, external_id: &str, hash: &str) -> Result<(), StoreError> {
        let (true, Some(property)) = (
            self.config.writable,
            self.config.properties.password_hash.as_ref(),
        ) else {
            return Err(StoreError::ReadOnly);
        };
        if !external_id.chars().all(|c| c.is_ascii_digit()) {
            return Err(StoreError::NotFound);
        }
        let body = serde_json::json!({ property: hash });
        let answer = self
            .client
            .put(&format!("{}{external_id}/", self.objects()), body)
            .await?;
        self.cache.forget(external_id);
        answer.map(|_| ()).ok_or(StoreError::NotFound)
    }

    async fn delete(&self, _external_id: &str) -> Result<(), StoreError> {
        Err(StoreError::ReadOnly)
    }

    async fn list(&self, after: Option<String>, limit: u32) -> Result<Vec<DirectoryEntry>, StoreError> {
        // Ordered by id, starting past `after` with Lime's `min-` filter.
        let first = after
            .as_deref()
            .and_then(|id| id.parse::<u64>().ok())
            .map_or(0, |id| id + 1);
        let limit = limit.clamp(1, 50).to_string();
        let first = first.to_string();
        let query = serde_urlencoded::to_string([
            ("_sort", "_id"),
            ("_limit", limit.as_str()),
            ("min-_id", first.as_str()),
        ])
        .map_err(|err| StoreError::Unavailable(format!("cannot build a Lime CRM query: {err}")))?;
        let Some(answer) = self.client.get(&format!("{}?{query}", self.objects())).await? else {
            return Err(StoreError::Unavailable(format!(
                "Lime CRM does not know the limetype {:?}",
                self.config.limetype
            )));
        };
        objects_of(&answer)?
            .iter()
            .map(|object| self.entry(object))
            .collect()
    }
}
