//! What a change makes stale in the nodes' caches of validated tokens.

use crate::model::{TokenHash, UserId};

/// A change every node must forget cached validations for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalidation {
    /// One token was revoked, disabled or spent.
    Token(TokenHash),
    /// Something about a user that validation answers with changed (disabled,
    /// role, password, second factor, tokens revoked).
    User(UserId),
    /// Everything: the notifications may have been missed.
    Everything,
}

impl Invalidation {
    /// The form that travels between nodes: `t:<digest>`, `u:<id>` or `*`.
    pub fn encode(&self) -> String {
        match self {
            Self::Token(hash) => format!("t:{}", hash.0),
            Self::User(user) => format!("u:{}", user.0),
            Self::Everything => "*".into(),
        }
    }

    /// Reads `encode`'s form; `None` for anything else.
    pub fn decode(text: &str) -> Option<Self> {
        match text.split_once(':') {
            Some(("t", digest)) if !digest.is_empty() && digest.len() <= 128 => {
                Some(Self::Token(TokenHash(digest.to_owned())))
            }
            Some(("u", id)) => id.parse().ok().map(|id| Self::User(UserId(id))),
            _ if text == "*" => Some(Self::Everything),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalidations_travel_as_short_text() {
        for change in [
            Invalidation::Token(TokenHash("ab".repeat(32))),
            Invalidation::User(UserId(42)),
            Invalidation::Everything,
        ] {
            assert_eq!(Invalidation::decode(&change.encode()), Some(change));
        }
        for junk in ["", "x:1", "u:abc", "t:", "**"] {
            assert_eq!(Invalidation::decode(junk), None, "{junk}");
        }
    }
}
