//! Counted attempts on Redis: `<prefix>r:<key>` is a hash of `hits`,
//! `start` (the window's start) and `blocked` (microseconds; empty when not
//! blocked), expiring when the state no longer matters. Each transition of
//! `model::RateState` is one script, so that it is atomic across nodes.

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use limen_domain::StoreError;
use limen_domain::model::{Admission, Block, RateRule, RateState};
use limen_domain::ports::RateLimiter;
use redis::Script;

use crate::connection::{RedisStore, unavailable};

/// Shared by the scripts: the state, and saving it with its expiry
/// (`RateState::expires_at`: the window's end, or the block's if later).
const COMMON: &str = r"
local now, limit, window, block_for = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local s = redis.call('HMGET', KEYS[1], 'hits', 'start', 'blocked')
local hits, start, blocked = tonumber(s[1]), tonumber(s[2]), tonumber(s[3])
-- Whole numbers written out: Lua would turn a time in microseconds into 1.9e+15.
local function int(n) return string.format('%.0f', n) end
local function save(h, st, bl)
  redis.call('HSET', KEYS[1], 'hits', int(h), 'start', int(st), 'blocked', bl and int(bl) or '')
  local expires = st + window
  if bl and bl > expires then expires = bl end
  redis.call('PEXPIREAT', KEYS[1], int(math.ceil(expires / 1000)))
end
";

/// `RateState::admit`: {'admitted'}, {'blocked', until} or {'full'}.
static ADMIT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{COMMON}
if hits == nil then save(1, now, nil) return {{'admitted'}} end
if blocked and blocked > now then return {{'blocked', int(blocked)}} end
if not (now - start < window) then save(1, now, nil) return {{'admitted'}} end
if hits >= limit then return {{'full'}} end
save(hits + 1, start, nil)
return {{'admitted'}}"
    ))
});

/// `RateState::settle_failure`: {} or {until, started (1/0)}.
static SETTLE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{COMMON}
if hits == nil then return {{}} end
if blocked and blocked > now then return {{int(blocked), '0'}} end
if now - start < window and hits >= limit then
  local blocked_until = now + block_for
  save(0, start, blocked_until)
  return {{int(blocked_until), '1'}}
end
return {{}}"
    ))
});

/// `RateState::refund`.
static REFUND: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{COMMON}
if hits ~= nil and now - start < window and hits > 0 then
  redis.call('HSET', KEYS[1], 'hits', int(hits - 1))
end
return 1"
    ))
});

/// `RateState::clear`: the count goes, an active block stays.
static CLEAR: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{COMMON}
if hits == nil then return 1 end
if blocked and blocked > now then
  redis.call('HSET', KEYS[1], 'hits', 0)
else
  redis.call('DEL', KEYS[1])
end
return 1"
    ))
});

/// `RateLimiter` on Redis.
#[derive(Clone)]
pub struct RedisRateLimiter {
    store: RedisStore,
}

fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

fn from_micros(value: &str) -> Result<DateTime<Utc>, StoreError> {
    value
        .parse::<i64>()
        .ok()
        .and_then(DateTime::<Utc>::from_timestamp_micros)
        .ok_or_else(|| StoreError::Unavailable(format!("Redis holds a malformed time {value:?}")))
}

impl RedisRateLimiter {
    pub(crate) fn new(store: RedisStore) -> Self {
        Self { store }
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        script: &Script,
        key: &str,
        rule: Option<&RateRule>,
        now: DateTime<Utc>,
    ) -> Result<T, StoreError> {
        let (limit, window, block_for) = rule.map_or((0, 0, 0), |rule| {
            (
                i64::from(rule.limit),
                rule.window.num_microseconds().unwrap_or(i64::MAX),
                rule.block_for.num_microseconds().unwrap_or(i64::MAX),
            )
        });
        let mut connection = self.store.connection.clone();
        script
            .key(self.store.key(&format!("r:{key}")))
            .arg(micros(now))
            .arg(limit)
            .arg(window)
            .arg(block_for)
            .invoke_async(&mut connection)
            .await
            .map_err(|err| unavailable("counting an attempt", &err))
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn admit(&self, key: &str, rule: &RateRule, now: DateTime<Utc>) -> Result<Admission, StoreError> {
        let answer: Vec<String> = self.run(&ADMIT, key, Some(rule), now).await?;
        match answer.as_slice() {
            [admitted] if admitted == "admitted" => Ok(Admission::Admitted),
            [full] if full == "full" => Ok(Admission::Full),
            [blocked, until] if blocked == "blocked" => Ok(Admission::Blocked {
                until: from_micros(until)?,
            }),
            other => Err(StoreError::Unavailable(format!(
                "unexpected answer from Redis: {other:?}"
            ))),
        }
    }

    async fn settle_failure(
        &self,
        key: &str,
        rule: &RateRule,
        now: DateTime<Utc>,
    ) -> Result<Option<Block>, StoreError> {
        let answer: Vec<String> = self.run(&SETTLE, key, Some(rule), now).await?;
        match answer.as_slice() {
            [] => Ok(None),
            [until, started] => Ok(Some(Block {
                until: from_micros(until)?,
                started: started == "1",
            })),
            other => Err(StoreError::Unavailable(format!(
                "unexpected answer from Redis: {other:?}"
            ))),
        }
    }

    async fn refund(&self, key: &str, rule: &RateRule, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.run::<i64>(&REFUND, key, Some(rule), now).await.map(|_| ())
    }

    async fn clear(&self, key: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.run::<i64>(&CLEAR, key, None, now).await.map(|_| ())
    }

    async fn reset(&self, key: &str) -> Result<(), StoreError> {
        let mut connection = self.store.connection.clone();
        redis::cmd("DEL")
            .arg(self.store.key(&format!("r:{key}")))
            .query_async::<i64>(&mut connection)
            .await
            .map(|_| ())
            .map_err(|err| unavailable("resetting a count", &err))
    }

    async fn state(&self, key: &str) -> Result<Option<RateState>, StoreError> {
        let mut connection = self.store.connection.clone();
        let fields: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(self.store.key(&format!("r:{key}")))
            .arg("hits")
            .arg("start")
            .arg("blocked")
            .query_async(&mut connection)
            .await
            .map_err(|err| unavailable("reading a count", &err))?;
        let [Some(hits), Some(start), blocked] = fields.as_slice() else {
            return Ok(None);
        };
        Ok(Some(RateState {
            hits: hits.parse().unwrap_or(0),
            window_started_at: from_micros(start)?,
            blocked_until: match blocked.as_deref() {
                None | Some("") => None,
                Some(until) => Some(from_micros(until)?),
            },
        }))
    }

    async fn purge_expired(&self, _now: DateTime<Utc>) -> Result<u64, StoreError> {
        // Redis forgets each state itself when it expires.
        Ok(0)
    }
}
