//! sea-orm entities of Limen's tables.

pub mod token;
pub mod user;
