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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_password() {
        let shown = format!("{:?}", Password::new("hunter2"));
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
