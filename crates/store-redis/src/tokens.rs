//! Tokens on Redis.
//!
//! `<prefix>t:<digest>` is a hash of the token's fields, expiring when
//! `TokenKind::kept_after_expiry` says (a day after the token for most kinds,
//! so that operators still see what expired recently);
//! `<prefix>u:<user id>` is the set of a user's digests ("log out everywhere"
//! without scanning); `<prefix>id:<id>` names the digest of a token id (the
//! operators' catalog); `<prefix>next_id` numbers tokens. Times are
//! microseconds since the epoch; an absent value is an empty string.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use limen_domain::StoreError;
use limen_domain::error::UniqueField;
use limen_domain::model::{NewToken, TokenAttributes, TokenHash, TokenId, TokenKind, TokenRecord, UserId};
use limen_domain::ports::{SessionTokens, TokenCatalog};
use std::sync::LazyLock;

use redis::Script;

use crate::connection::{RedisStore, unavailable};

/// Records a token unless its digest is taken; its id, or nothing. A token
/// of no user yet (user 0: a BankID order, an OpenID state) joins no user's
/// set, which would otherwise grow by one member per login started.
/// KEYS: token, user set, id counter. ARGV: digest, fields…, expire-at ms, now ms, prefix.
static ISSUE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local id = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], 'id', id, 'user', ARGV[2], 'kind', ARGV[3], 'created', ARGV[4],
  'expires', ARGV[5], 'last_used', '', 'revoked', '', 'enabled', '1', 'version', '0',
  'note', ARGV[6], 'client_id', ARGV[7], 'bound_address', ARGV[8], 'origin', ARGV[9], 'payload', ARGV[10])
redis.call('PEXPIREAT', KEYS[1], ARGV[11])
if ARGV[2] ~= '0' then
  redis.call('SADD', KEYS[2], ARGV[1])
  local left = redis.call('PTTL', KEYS[2])
  if left < 0 or tonumber(ARGV[12]) + left < tonumber(ARGV[11]) then
    redis.call('PEXPIREAT', KEYS[2], ARGV[11])
  end
end
redis.call('SET', ARGV[13] .. 'id:' .. id, ARGV[1], 'PXAT', ARGV[11])
return id
",
    )
});

/// Records a use of an existing token. KEYS: token. ARGV: at.
static TOUCH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'last_used', ARGV[1]) end
return 1
",
    )
});

/// Revokes a token that is not revoked yet; 1 when it did. KEYS: token. ARGV: at.
static REVOKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local revoked = redis.call('HGET', KEYS[1], 'revoked')
if revoked == false or revoked ~= '' then return 0 end
redis.call('HSET', KEYS[1], 'revoked', ARGV[1])
return 1
",
    )
});

/// Revokes every live token of a user but one; how many. Forgets digests
/// whose record is gone. KEYS: user set. ARGV: kept digest or '', at, prefix.
static REVOKE_ALL: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local count = 0
for _, digest in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[3] .. 't:' .. digest
  local fields = redis.call('HMGET', key, 'revoked', 'expires')
  if fields[1] == false then
    redis.call('SREM', KEYS[1], digest)
  elseif digest ~= ARGV[1] and fields[1] == '' and tonumber(fields[2]) > tonumber(ARGV[2]) then
    redis.call('HSET', key, 'revoked', ARGV[2])
    count = count + 1
  end
end
return count
",
    )
});

/// Spends a live token of one kind: its fields, or nothing.
/// KEYS: token. ARGV: kind, at.
static CONSUME: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local f = redis.call('HMGET', KEYS[1], 'kind', 'revoked', 'expires', 'enabled')
if f[1] == false or f[1] ~= ARGV[1] or f[2] ~= '' or tonumber(f[3]) <= tonumber(ARGV[2]) or f[4] ~= '1' then
  return false
end
redis.call('HSET', KEYS[1], 'revoked', ARGV[2])
return redis.call('HGETALL', KEYS[1])
",
    )
});

/// Deletes every token of a user; how many. KEYS: user set. ARGV: prefix.
static DELETE_ALL: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local count = 0
for _, digest in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. 't:' .. digest
  local id = redis.call('HGET', key, 'id')
  if id then
    redis.call('DEL', ARGV[1] .. 'id:' .. id)
    count = count + redis.call('DEL', key)
  end
end
redis.call('DEL', KEYS[1])
return count
",
    )
});

/// Enables or disables the token with an id; 0 when there is none.
/// KEYS: id key. ARGV: '1' or '0', prefix.
static SET_ENABLED: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local digest = redis.call('GET', KEYS[1])
if digest == false then return 0 end
local key = ARGV[2] .. 't:' .. digest
if redis.call('EXISTS', key) == 0 then return 0 end
redis.call('HSET', key, 'enabled', ARGV[1])
redis.call('HINCRBY', key, 'version', 1)
return 1
",
    )
});

/// `SessionTokens` and `TokenCatalog` on Redis.
#[derive(Clone)]
pub struct RedisTokenStore {
    store: RedisStore,
}

fn micros(at: DateTime<Utc>) -> String {
    at.timestamp_micros().to_string()
}

fn optional(value: Option<&str>) -> String {
    value.unwrap_or_default().to_owned()
}

impl RedisTokenStore {
    pub(crate) fn new(store: RedisStore) -> Self {
        Self { store }
    }

    fn token_key(&self, hash: &TokenHash) -> String {
        self.store.key(&format!("t:{}", hash.0))
    }

    fn user_key(&self, user: UserId) -> String {
        self.store.key(&format!("u:{}", user.0))
    }

    async fn fields(&self, key: &str) -> Result<Option<HashMap<String, String>>, StoreError> {
        let mut connection = self.store.connection.clone();
        let fields: HashMap<String, String> = redis::cmd("HGETALL")
            .arg(key)
            .query_async(&mut connection)
            .await
            .map_err(|err| unavailable("reading a token", &err))?;
        Ok((!fields.is_empty()).then_some(fields))
    }
}

/// The record of a token's fields.
fn record(fields: &HashMap<String, String>) -> Result<TokenRecord, StoreError> {
    let text = |name: &str| fields.get(name).map(String::as_str).unwrap_or_default();
    let malformed = |name: &str| StoreError::Unavailable(format!("Redis holds a malformed token ({name})"));
    let number = |name: &str| text(name).parse::<i64>().map_err(|_| malformed(name));
    let time = |name: &str| -> Result<Option<DateTime<Utc>>, StoreError> {
        match text(name) {
            "" => Ok(None),
            value => value
                .parse::<i64>()
                .ok()
                .and_then(DateTime::<Utc>::from_timestamp_micros)
                .map(Some)
                .ok_or_else(|| malformed(name)),
        }
    };
    let attribute = |name: &str| Some(text(name).to_owned()).filter(|value| !value.is_empty());
    Ok(TokenRecord {
        id: TokenId(number("id")?),
        user_id: UserId(number("user")?),
        kind: TokenKind::parse(text("kind")).ok_or_else(|| malformed("kind"))?,
        hash: TokenHash(String::new()),
        created_at: time("created")?.ok_or_else(|| malformed("created"))?,
        expires_at: time("expires")?.ok_or_else(|| malformed("expires"))?,
        last_used_at: time("last_used")?,
        revoked_at: time("revoked")?,
        attributes: TokenAttributes {
            note: attribute("note"),
            client_id: attribute("client_id"),
            bound_address: attribute("bound_address"),
            origin: attribute("origin").map(TokenHash),
            payload: attribute("payload"),
        },
        enabled: text("enabled") == "1",
        version: number("version")?,
    })
}

/// The fields of an `HGETALL` answered by a script, as a map.
fn pairs(flat: Vec<String>) -> HashMap<String, String> {
    let mut map = HashMap::new();
    let mut items = flat.into_iter();
    while let (Some(name), Some(value)) = (items.next(), items.next()) {
        map.insert(name, value);
    }
    map
}

#[async_trait]
impl SessionTokens for RedisTokenStore {
    async fn issue(&self, token: NewToken) -> Result<TokenRecord, StoreError> {
        let keep_until = (token.expires_at + token.kind.kept_after_expiry()).timestamp_millis();
        let attributes = &token.attributes;
        let mut connection = self.store.connection.clone();
        let id: Option<i64> = ISSUE
            .key(self.token_key(&token.hash))
            .key(self.user_key(token.user_id))
            .key(self.store.key("next_id"))
            .arg(&token.hash.0)
            .arg(token.user_id.0)
            .arg(token.kind.as_str())
            .arg(micros(token.created_at))
            .arg(micros(token.expires_at))
            .arg(optional(attributes.note.as_deref()))
            .arg(optional(attributes.client_id.as_deref()))
            .arg(optional(attributes.bound_address.as_deref()))
            .arg(optional(
                attributes.origin.as_ref().map(|origin| origin.0.as_str()),
            ))
            .arg(optional(attributes.payload.as_deref()))
            .arg(keep_until)
            .arg(Utc::now().timestamp_millis())
            .arg(&self.store.prefix)
            .invoke_async(&mut connection)
            .await
            .map_err(|err| unavailable("issuing a token", &err))?;
        let id = id.ok_or(StoreError::Duplicate(UniqueField::Token))?;
        Ok(TokenRecord {
            id: TokenId(id),
            user_id: token.user_id,
            kind: token.kind,
            hash: token.hash,
            created_at: token.created_at,
            expires_at: token.expires_at,
            last_used_at: None,
            revoked_at: None,
            attributes: token.attributes,
            enabled: true,
            version: 0,
        })
    }

    async fn find(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        let Some(fields) = self.fields(&self.token_key(hash)).await? else {
            return Ok(None);
        };
        let mut found = record(&fields)?;
        found.hash = hash.clone();
        Ok(Some(found))
    }

    async fn touch(&self, hash: &TokenHash, at: DateTime<Utc>) -> Result<(), StoreError> {
        let mut connection = self.store.connection.clone();
        TOUCH
            .key(self.token_key(hash))
            .arg(micros(at))
            .invoke_async::<i64>(&mut connection)
            .await
            .map(|_| ())
            .map_err(|err| unavailable("recording a token's use", &err))
    }

    async fn revoke(&self, hash: &TokenHash, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut connection = self.store.connection.clone();
        let done: i64 = REVOKE
            .key(self.token_key(hash))
            .arg(micros(at))
            .invoke_async(&mut connection)
            .await
            .map_err(|err| unavailable("revoking a token", &err))?;
        Ok(done == 1)
    }

    async fn revoke_all_for_user(
        &self,
        user: UserId,
        except: Option<TokenHash>,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut connection = self.store.connection.clone();
        let count: i64 = REVOKE_ALL
            .key(self.user_key(user))
            .arg(except.map(|hash| hash.0).unwrap_or_default())
            .arg(micros(at))
            .arg(&self.store.prefix)
            .invoke_async(&mut connection)
            .await
            .map_err(|err| unavailable("revoking a user's tokens", &err))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn consume(
        &self,
        hash: &TokenHash,
        kind: TokenKind,
        at: DateTime<Utc>,
    ) -> Result<Option<TokenRecord>, StoreError> {
        let mut connection = self.store.connection.clone();
        let fields: Option<Vec<String>> = CONSUME
            .key(self.token_key(hash))
            .arg(kind.as_str())
            .arg(micros(at))
            .invoke_async(&mut connection)
            .await
            .map_err(|err| unavailable("spending a token", &err))?;
        let Some(fields) = fields else {
            return Ok(None);
        };
        let mut spent = record(&pairs(fields))?;
        spent.hash = hash.clone();
        Ok(Some(spent))
    }

    async fn delete_all_for_user(&self, user: UserId) -> Result<u64, StoreError> {
        let mut connection = self.store.connection.clone();
        let count: i64 = DELETE_ALL
            .key(self.user_key(user))
            .arg(&self.store.prefix)
            .invoke_async(&mut connection)
            .await
            .map_err(|err| unavailable("deleting a user's tokens", &err))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Every key carries its TTL (a day past the token's expiry), so Redis
    /// forgets expired tokens by itself and there is nothing to purge.
    async fn purge_expired(&self, _before: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(0)
    }
}

#[async_trait]
impl TokenCatalog for RedisTokenStore {
    async fn list_for_user(&self, user: UserId, kind: TokenKind) -> Result<Vec<TokenRecord>, StoreError> {
        let mut connection = self.store.connection.clone();
        let digests: Vec<String> = redis::cmd("SMEMBERS")
            .arg(self.user_key(user))
            .query_async(&mut connection)
            .await
            .map_err(|err| unavailable("listing a user's tokens", &err))?;
        let mut found = Vec::new();
        for digest in digests {
            let hash = TokenHash(digest);
            if let Some(token) = self.find(&hash).await?
                && token.kind == kind
            {
                found.push(token);
            }
        }
        found.sort_by_key(|token| std::cmp::Reverse((token.created_at, token.id.0)));
        Ok(found)
    }

    async fn find_by_id(&self, id: TokenId) -> Result<Option<TokenRecord>, StoreError> {
        let mut connection = self.store.connection.clone();
        let digest: Option<String> = redis::cmd("GET")
            .arg(self.store.key(&format!("id:{}", id.0)))
            .query_async(&mut connection)
            .await
            .map_err(|err| unavailable("finding a token by id", &err))?;
        match digest {
            Some(digest) => self.find(&TokenHash(digest)).await,
            None => Ok(None),
        }
    }

    async fn set_enabled(&self, id: TokenId, enabled: bool) -> Result<(), StoreError> {
        let mut connection = self.store.connection.clone();
        let done: i64 = SET_ENABLED
            .key(self.store.key(&format!("id:{}", id.0)))
            .arg(if enabled { "1" } else { "0" })
            .arg(&self.store.prefix)
            .invoke_async(&mut connection)
            .await
            .map_err(|err| unavailable("enabling a token", &err))?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
