//! Times are stored as microseconds since the Unix epoch (see the migrations crate).

use chrono::{DateTime, Utc};
use limen_domain::StoreError;

/// The stored form of a time.
pub fn to_micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// A stored time, or an error naming the column that held garbage.
pub fn from_micros(micros: i64, column: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| StoreError::Unavailable(format!("column {column} holds an impossible time: {micros}")))
}

/// A stored optional time.
pub fn from_micros_opt(micros: Option<i64>, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    micros.map(|value| from_micros(value, column)).transpose()
}
