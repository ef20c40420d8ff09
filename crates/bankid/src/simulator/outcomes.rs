//! What the simulator does with an order, per personal number.

use std::collections::HashMap;

/// How an order ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The person identifies themselves.
    Complete,
    /// The person cancels in the app (`userCancel`).
    UserCancel,
    /// Nobody acts before the order expires (`expiredTransaction`).
    Expired,
    /// The app could not be started or the QR code not read (`startFailed`).
    StartFailed,
    /// The person's BankID is blocked or too old (`certificateErr`).
    CertificateError,
    /// Another order for the person is running: `/auth` is refused
    /// (`alreadyInProgress`).
    AlreadyInProgress,
}

/// An ending and how many collects answer "pending" before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// The final state.
    pub ending: Ending,
    /// Pending collects first.
    pub pending_collects: u32,
}

impl Outcome {
    /// Parses `complete`, `user_cancel`, `expired`, `start_failed`,
    /// `certificate_error` or `already_in_progress`, optionally followed by
    /// `:N` for the number of pending collects (default `default_pending`).
    pub fn parse(text: &str, default_pending: u32) -> Result<Self, String> {
        let (name, pending) = match text.trim().split_once(':') {
            Some((name, count)) => (
                name,
                count
                    .trim()
                    .parse()
                    .map_err(|_| format!("{text:?}: the count after ':' must be a number"))?,
            ),
            None => (text.trim(), default_pending),
        };
        let ending = match name {
            "complete" => Ending::Complete,
            "user_cancel" => Ending::UserCancel,
            "expired" => Ending::Expired,
            "start_failed" => Ending::StartFailed,
            "certificate_error" => Ending::CertificateError,
            "already_in_progress" => Ending::AlreadyInProgress,
            other => {
                return Err(format!(
                    "{other:?} is not an outcome; use complete, user_cancel, expired, start_failed, \
                     certificate_error or already_in_progress"
                ));
            }
        };
        Ok(Self {
            ending,
            pending_collects: pending,
        })
    }

    /// The hint codes of the pending collects, in order: waiting for the app,
    /// the app started, waiting for the security code.
    pub fn pending_hint(&self, collect: u32) -> &'static str {
        let left = self.pending_collects.saturating_sub(collect);
        match left {
            1 => "userSign",
            2 => "started",
            _ => "outstandingTransaction",
        }
    }

    /// The failed state's hint code, for endings that fail.
    pub fn failure_hint(&self) -> Option<&'static str> {
        match self.ending {
            Ending::Complete | Ending::AlreadyInProgress => None,
            Ending::UserCancel => Some("userCancel"),
            Ending::Expired => Some("expiredTransaction"),
            Ending::StartFailed => Some("startFailed"),
            Ending::CertificateError => Some("certificateErr"),
        }
    }
}

/// The script: an outcome per personal number, and one for everyone else.
#[derive(Debug, Clone)]
pub struct SimulatorScript {
    /// For personal numbers without one of their own.
    pub default: Outcome,
    /// Per 12-digit personal number.
    pub by_personal_number: HashMap<String, Outcome>,
    /// The name completed orders report.
    pub given_name: String,
    /// The surname completed orders report.
    pub surname: String,
    /// The first this many calls answer 503 `maintenance` (a BankID having a
    /// bad moment), to see that a relying party tries again.
    pub maintenance_answers: u32,
}

impl Default for SimulatorScript {
    fn default() -> Self {
        Self {
            default: Outcome {
                ending: Ending::Complete,
                pending_collects: 3,
            },
            by_personal_number: HashMap::new(),
            given_name: "Test".into(),
            surname: "Testsson".into(),
            maintenance_answers: 0,
        }
    }
}

impl SimulatorScript {
    /// The outcome of an order for `personal_number`.
    pub fn outcome(&self, personal_number: &str) -> Outcome {
        self.by_personal_number
            .get(personal_number)
            .copied()
            .unwrap_or(self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_parse_with_and_without_a_count() {
        assert_eq!(
            Outcome::parse("complete", 3),
            Ok(Outcome {
                ending: Ending::Complete,
                pending_collects: 3
            })
        );
        assert_eq!(
            Outcome::parse("user_cancel:0", 3).map(|o| o.pending_collects),
            Ok(0)
        );
        assert!(Outcome::parse("explode", 3).is_err());
        assert!(Outcome::parse("complete:x", 3).is_err());
    }

    #[test]
    fn pending_collects_walk_from_waiting_to_the_security_code() {
        let outcome = Outcome::parse("complete:4", 0).unwrap();
        let hints: Vec<_> = (0..4).map(|n| outcome.pending_hint(n)).collect();
        assert_eq!(
            hints,
            [
                "outstandingTransaction",
                "outstandingTransaction",
                "started",
                "userSign"
            ]
        );
    }
}
