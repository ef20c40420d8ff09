use std::fmt;

/// A plaintext password on its way to the hasher. `Debug` never shows it, so it
/// cannot leak through a log line or an error message.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a plaintext password.
    pub fn new(plain: impl Into<String>) -> Self {
        Self(plain.into())
    }

    /// The plaintext, for the one call that needs it (the hasher).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A stored hash's format and costs, as `PasswordHasher::inspect` names them
/// (`argon2id m=19456 t=2 p=1`, `bcrypt cost=12`): hashes of one profile cost
/// the same to check.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HashProfile(pub String);

impl std::fmt::Display for HashProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_password() {
        let shown = format!("{:?}", Password::new("hunter2"));
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
