use limen_domain::StoreError;
use limen_domain::error::UniqueField;
use sea_orm::{DbErr, SqlErr};

/// Translates a sea-orm error into the domain's, keeping the context for logs.
/// Unique indexes are named after their column (`ux_users_email`), and every
/// engine names either the index or the column in its message.
pub fn store_error(context: &str, err: DbErr) -> StoreError {
    if let Some(SqlErr::UniqueConstraintViolation(message)) = err.sql_err() {
        let field = if message.contains("admin_tokens") && !message.contains("token_hash") {
            Some(UniqueField::AdminTokenName)
        } else if message.contains("username") {
            Some(UniqueField::Username)
        } else if message.contains("email") {
            Some(UniqueField::Email)
        } else if message.contains("personal_number") {
            Some(UniqueField::PersonalNumber)
        } else if message.contains("token_hash") {
            Some(UniqueField::Token)
        } else {
            None
        };
        if let Some(field) = field {
            return StoreError::Duplicate(field);
        }
    }
    StoreError::Unavailable(format!("{context}: {err}"))
}

/// Whether the error is a unique-key violation (of any index).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}
