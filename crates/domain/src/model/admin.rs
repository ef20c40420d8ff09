//! Operators' credentials for the administration API and SCIM.

use chrono::{DateTime, Utc};

use super::TokenHash;

/// What an admin token may do. Names are what `limen token create --admin
/// --scopes` takes and what the API documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AdminScope {
    /// Read users, their sessions and tokens.
    UsersRead,
    /// Create, change, enable, disable, unlock and delete users; end their sessions.
    UsersWrite,
    /// Read tokens.
    TokensRead,
    /// Create and revoke tokens.
    TokensWrite,
    /// Read the audit trail.
    AuditRead,
    /// Read the running configuration (secrets masked) and readiness.
    ConfigRead,
    /// Provision users over SCIM 2.0.
    Scim,
}

impl AdminScope {
    /// Every scope, in the order of their documentation.
    pub const ALL: [AdminScope; 7] = [
        AdminScope::UsersRead,
        AdminScope::UsersWrite,
        AdminScope::TokensRead,
        AdminScope::TokensWrite,
        AdminScope::AuditRead,
        AdminScope::ConfigRead,
        AdminScope::Scim,
    ];

    /// The scope's name.
    pub fn as_str(self) -> &'static str {
        match self {
            AdminScope::UsersRead => "users:read",
            AdminScope::UsersWrite => "users:write",
            AdminScope::TokensRead => "tokens:read",
            AdminScope::TokensWrite => "tokens:write",
            AdminScope::AuditRead => "audit:read",
            AdminScope::ConfigRead => "config:read",
            AdminScope::Scim => "scim",
        }
    }

    /// Parses a scope's name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == name.trim())
    }

    /// Parses a list separated by commas or white space; `Err` names the
    /// first unknown scope. Duplicates are dropped, order is the documented one.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, String> {
        let mut scopes = Vec::new();
        for name in text.split([',', ' ', '\t', '\n']).filter(|name| !name.is_empty()) {
            let scope = Self::parse(name).ok_or_else(|| name.to_owned())?;
            scopes.push(scope);
        }
        scopes.sort();
        scopes.dedup();
        Ok(scopes)
    }

    /// The stored form: names separated by a space.
    pub fn join(scopes: &[Self]) -> String {
        scopes
            .iter()
            .map(|scope| scope.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// An admin token as stored: never its secret, only the digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminToken {
    /// Row id.
    pub id: i64,
    /// The operator's name for it (unique), the actor of what it changes.
    pub name: String,
    /// Digest of the secret.
    pub hash: TokenHash,
    /// What it may do.
    pub scopes: Vec<AdminScope>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// It stops working then; `None` for never.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last presented (at most once a minute recorded).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl AdminToken {
    /// Neither revoked nor expired at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }

    /// Whether it carries `scope`.
    pub fn allows(&self, scope: AdminScope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// A new admin token to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAdminToken {
    /// Its unique name.
    pub name: String,
    /// Digest of the secret.
    pub hash: TokenHash,
    /// What it may do.
    pub scopes: Vec<AdminScope>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_lists_parse_in_any_separator_and_order_and_name_the_unknown() {
        assert_eq!(
            AdminScope::parse_list("scim, users:read,users:read audit:read").unwrap(),
            vec![AdminScope::UsersRead, AdminScope::AuditRead, AdminScope::Scim]
        );
        assert_eq!(AdminScope::parse_list("users:read,root").unwrap_err(), "root");
        for scope in AdminScope::ALL {
            assert_eq!(AdminScope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(
            AdminScope::join(&[AdminScope::UsersRead, AdminScope::Scim]),
            "users:read scim"
        );
    }
}
