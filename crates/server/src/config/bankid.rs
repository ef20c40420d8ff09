//! `[bankid]` and `[bankid.simulator]`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConfigError, SecretString};

/// Where BankID is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BankIdMode {
    /// No BankID login.
    Off,
    /// Limen's simulator, started inside the server: anyone may "identify" as
    /// any personal number. For development only.
    Simulator,
    /// BankID's test service.
    Test,
    /// BankID.
    Production,
}

/// `[bankid]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BankIdSection {
    /// `off`, `simulator`, `test` or `production`.
    pub mode: BankIdMode,
    /// The API's base URL; the mode's BankID service by default.
    pub endpoint: Option<String>,
    /// The relying party's certificate: PEM (certificate and unencrypted key)
    /// or PKCS#12.
    pub certificate_file: Option<PathBuf>,
    /// The PKCS#12 file's password.
    #[serde(skip_serializing)]
    pub certificate_password: Option<SecretString>,
    /// A file holding that password.
    pub certificate_password_file: Option<PathBuf>,
    /// PEM of the CA BankID's server certificate chains to (pinned).
    pub ca_file: Option<PathBuf>,
    /// Seconds one call to BankID may take.
    pub timeout_secs: u64,
    /// How often a call failing for a passing reason is tried again.
    pub retries: u32,
    /// `[bankid.simulator]`.
    pub simulator: BankIdSimulatorSection,
}

impl Default for BankIdSection {
    fn default() -> Self {
        Self {
            mode: BankIdMode::Off,
            endpoint: None,
            certificate_file: None,
            certificate_password: None,
            certificate_password_file: None,
            ca_file: None,
            timeout_secs: 10,
            retries: 2,
            simulator: BankIdSimulatorSection::default(),
        }
    }
}

/// `[bankid.simulator]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BankIdSimulatorSection {
    /// The outcome of orders for personal numbers without one of their own:
    /// `complete`, `user_cancel`, `expired`, `start_failed`,
    /// `certificate_error`, `already_in_progress`, optionally `:N` pending collects.
    pub default_outcome: String,
    /// Pending collects before the outcome, unless an outcome says `:N`.
    pub pending_collects: u32,
    /// Outcomes per personal number.
    pub outcomes: std::collections::BTreeMap<String, String>,
    /// The given name completed orders report.
    pub given_name: String,
    /// The surname completed orders report.
    pub surname: String,
    /// Serve the simulator on a listener other machines can reach. Anyone
    /// who reaches it logs in as anyone with a personal number, so `serve`
    /// refuses that unless this is set (a shared test system).
    pub allow_non_loopback: bool,
}

impl Default for BankIdSimulatorSection {
    fn default() -> Self {
        Self {
            default_outcome: "complete".into(),
            pending_collects: 3,
            outcomes: std::collections::BTreeMap::new(),
            given_name: "Test".into(),
            surname: "Testsson".into(),
            allow_non_loopback: false,
        }
    }
}

impl BankIdSection {
    /// Checks the simulator's outcomes and what test and production mode need.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let bankid = self;
        let invalid = |message: String| Err(ConfigError::Invalid(message));
        let simulator = &bankid.simulator;
        limen_bankid::simulator::Outcome::parse(&simulator.default_outcome, simulator.pending_collects)
            .map_err(|err| ConfigError::Invalid(format!("bankid.simulator.default_outcome: {err}")))?;
        let today = chrono::Utc::now().date_naive();
        for (number, outcome) in &simulator.outcomes {
            if limen_domain::model::parse_personal_number(number, today).is_none() {
                return invalid(format!(
                    "bankid.simulator.outcomes: {number:?} is not a valid personal number"
                ));
            }
            limen_bankid::simulator::Outcome::parse(outcome, simulator.pending_collects)
                .map_err(|err| ConfigError::Invalid(format!("bankid.simulator.outcomes.{number}: {err}")))?;
        }
        if matches!(bankid.mode, BankIdMode::Test | BankIdMode::Production) {
            if bankid.certificate_file.is_none() {
                return invalid("bankid.certificate_file is required in test and production mode".into());
            }
            if bankid.ca_file.is_none() {
                return invalid(
                    "bankid.ca_file is required in test and production mode: the CA BankID's server \
                     certificate chains to (see docs/bankid.md)"
                        .into(),
                );
            }
        }
        if bankid.timeout_secs == 0 {
            return invalid("bankid.timeout_secs must be positive".into());
        }
        Ok(())
    }
}
