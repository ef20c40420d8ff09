//! HTTP tests of every dialect, in-process against a real SQLite database.

mod flow;
mod health;
mod helpers;
