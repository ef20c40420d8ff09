//! The audit trail: every security event is written as a JSON log line under
//! the `limen::audit` target and kept in the `AuditLog`, with the context of
//! the request or command it happened in; the logins among them are tallied
//! for the metrics.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, SecondsFormat, Utc};

use crate::error::DomainError;
use crate::model::{AuditContext, AuditEvent, AuditKind, AuditQuery, User, UserId, audit_text};
use crate::ports::{AuditLog, Clock};

/// The log target of audit lines, which the server always writes as JSON.
pub const AUDIT_TARGET: &str = "limen::audit";

/// An event about to be recorded: its own fields, before `Audit` adds the
/// time and the context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    kind: AuditKind,
    user_id: Option<UserId>,
    username: Option<String>,
    method: Option<&'static str>,
    detail: Option<String>,
    /// A refused login's reason, for the tally.
    reason: Option<&'static str>,
}

impl AuditEntry {
    /// An event of `kind`, about no one yet.
    pub fn new(kind: AuditKind) -> Self {
        Self {
            kind,
            user_id: None,
            username: None,
            method: None,
            detail: None,
            reason: None,
        }
    }

    /// About `user`.
    pub fn user(mut self, user: &User) -> Self {
        self.user_id = Some(user.id);
        self.username = Some(user.username.clone());
        self
    }

    /// About the user with this id.
    pub fn user_id(mut self, user: UserId) -> Self {
        self.user_id = Some(user);
        self
    }

    /// About the name someone gave (which may be no one's).
    pub fn name(mut self, name: &str) -> Self {
        self.username = Some(audit_text(name));
        self
    }

    /// How someone proved who they are.
    pub fn method(mut self, method: &'static str) -> Self {
        self.method = Some(method);
        self
    }

    /// The rest.
    pub fn detail(mut self, detail: impl AsRef<str>) -> Self {
        self.detail = Some(audit_text(detail.as_ref()));
        self
    }
}

/// One line of the logins tally: through which API, how, and how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LoginTally {
    /// The dialect, or `none` outside a request.
    pub dialect: &'static str,
    /// The method, or `unknown`.
    pub method: &'static str,
    /// `success`, `second_factor_required`, a failure's reason, `busy` or `error`.
    pub outcome: &'static str,
}

/// What this node has recorded since it started, for the metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditStats {
    /// Login attempts by dialect, method and outcome.
    pub logins: Vec<(LoginTally, u64)>,
    /// Events by kind.
    pub events: Vec<(AuditKind, u64)>,
    /// Events the audit log could not keep (their log line stands).
    pub store_failures: u64,
}

#[derive(Default)]
struct Tally {
    logins: BTreeMap<LoginTally, u64>,
    events: BTreeMap<AuditKind, u64>,
    store_failures: u64,
}

/// The ports the audit trail writes to.
pub struct AuditPorts {
    /// Where events are kept.
    pub log: Arc<dyn AuditLog>,
    /// The time.
    pub clock: Arc<dyn Clock>,
}

/// Records security events.
pub struct Audit {
    ports: AuditPorts,
    tally: Mutex<Tally>,
    /// When each throttled address's refusal was last recorded.
    throttled: Mutex<HashMap<String, DateTime<Utc>>>,
}

/// A throttled address's refusals are recorded once in this long (per node):
/// they cost the client nothing to send, and each would otherwise be a row.
const THROTTLED_QUIET: Duration = Duration::minutes(1);

/// The most throttled addresses remembered; past it the memory starts over.
const THROTTLED_REMEMBERED: usize = 10_000;

/// The reason stored for a refused login, or `None` when the error is not the
/// client's doing (a store down, hashing at capacity): those are no security
/// event, only a tally.
fn failure_reason(error: &DomainError) -> Option<&'static str> {
    Some(match error {
        DomainError::InvalidCredentials => "wrong_credentials",
        DomainError::AccountLocked { .. } => "locked",
        DomainError::TooManyAttempts { .. } => "throttled",
        DomainError::AccountDisabled => "disabled",
        DomainError::PasswordExpired => "password_expired",
        DomainError::EmailNotVerified => "email_not_verified",
        DomainError::SecondFactorRequired => "second_factor_unsupported",
        DomainError::InvalidSecondFactor => "wrong_second_factor",
        DomainError::InvalidToken => "invalid_token",
        DomainError::NoUserForPersonalNumber => "unknown_personal_number",
        DomainError::Forbidden(_) => "forbidden",
        DomainError::ProviderDenied(_) => "provider_denied",
        DomainError::OpenIdRefused(_) => "provider_refused",
        DomainError::NoMatchingUser => "no_matching_user",
        DomainError::UnknownProvider => "unknown_provider",
        DomainError::PasskeyRefused(_) => "passkey_refused",
        _ => return None,
    })
}

impl Audit {
    /// Wires the service.
    pub fn new(ports: AuditPorts) -> Self {
        Self {
            ports,
            tally: Mutex::new(Tally::default()),
            throttled: Mutex::new(HashMap::new()),
        }
    }

    /// The stored events `query` asks for, the newest first.
    pub async fn events(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>, DomainError> {
        Ok(self.ports.log.list(query).await?)
    }

    /// Logs and keeps `entry`. A log that cannot keep it does not undo what
    /// happened (a login is not refused for it): the JSON line, written first,
    /// stands, and the failure is logged and counted.
    pub async fn record(&self, entry: AuditEntry) {
        let context = AuditContext::current();
        let event = AuditEvent {
            id: None,
            at: self.ports.clock.now(),
            kind: entry.kind,
            user_id: entry.user_id,
            username: entry.username,
            actor: context.actor.to_stored(),
            client: context.client.0.map(|address| address.to_string()),
            dialect: context.dialect.map(str::to_owned),
            method: entry.method.map(str::to_owned),
            detail: entry.detail,
            request_id: context.request_id.clone(),
        };
        tracing::info!(
            target: AUDIT_TARGET,
            at = %event.at.to_rfc3339_opts(SecondsFormat::Micros, true),
            kind = event.kind.as_str(),
            user_id = event.user_id.map(|id| id.0),
            username = event.username.as_deref(),
            actor = %event.actor,
            client = event.client.as_deref(),
            dialect = event.dialect.as_deref(),
            method = event.method.as_deref(),
            detail = event.detail.as_deref(),
            request_id = event.request_id.as_deref(),
            "audit"
        );
        let outcome = match entry.kind {
            AuditKind::LoginSucceeded => Some("success"),
            AuditKind::SecondFactorRequired => Some("second_factor_required"),
            AuditKind::LoginFailed => Some(entry.reason.unwrap_or("error")),
            _ => None,
        };
        {
            let mut tally = self.tally();
            *tally.events.entry(entry.kind).or_default() += 1;
            if let Some(outcome) = outcome {
                *tally
                    .logins
                    .entry(login_tally(&context, entry.method, outcome))
                    .or_default() += 1;
            }
        }
        if let Err(err) = self.ports.log.append(&event).await {
            self.tally().store_failures += 1;
            tracing::error!(kind = event.kind.as_str(), error = %err, "could not keep an audit event; its log line stands");
        }
    }

    /// Records a refused login by `method` of `user` (when known) or of the
    /// name given. Errors that are not the client's doing are only tallied.
    pub async fn login_failed(
        &self,
        method: &'static str,
        user: Option<&User>,
        name: &str,
        error: &DomainError,
    ) {
        match failure_reason(error) {
            Some(reason) => self.login_refused(method, user, name, reason, reason).await,
            None => {
                let outcome = if matches!(error, DomainError::Busy) {
                    "busy"
                } else {
                    "error"
                };
                let context = AuditContext::current();
                *self
                    .tally()
                    .logins
                    .entry(login_tally(&context, Some(method), outcome))
                    .or_default() += 1;
            }
        }
    }

    /// Records a refused login for `reason` (tallied), told in `detail`.
    pub async fn login_refused(
        &self,
        method: &'static str,
        user: Option<&User>,
        name: &str,
        reason: &'static str,
        detail: &str,
    ) {
        let mut entry = AuditEntry::new(AuditKind::LoginFailed)
            .method(method)
            .detail(detail);
        entry.reason = Some(reason);
        if reason == "throttled" && self.recently_throttled() {
            let context = AuditContext::current();
            *self
                .tally()
                .logins
                .entry(login_tally(&context, Some(method), reason))
                .or_default() += 1;
            return;
        }
        let entry = match user {
            Some(user) => entry.user(user),
            None if name.is_empty() => entry,
            None => entry.name(name),
        };
        self.record(entry).await;
    }

    /// Whether the current client's throttled refusals were recorded within
    /// `THROTTLED_QUIET`; if not, this one will be, and is remembered.
    fn recently_throttled(&self) -> bool {
        let key = AuditContext::current().client.throttle_key();
        let now = self.ports.clock.now();
        let mut recorded = self.throttled.lock().unwrap_or_else(PoisonError::into_inner);
        if recorded.get(&key).is_some_and(|at| now - *at < THROTTLED_QUIET) {
            return true;
        }
        if recorded.len() >= THROTTLED_REMEMBERED {
            recorded.retain(|_, at| now - *at < THROTTLED_QUIET);
            if recorded.len() >= THROTTLED_REMEMBERED {
                recorded.clear();
            }
        }
        recorded.insert(key, now);
        false
    }

    /// What has been recorded since this node started.
    pub fn stats(&self) -> AuditStats {
        let tally = self.tally();
        AuditStats {
            logins: tally.logins.iter().map(|(key, count)| (*key, *count)).collect(),
            events: tally.events.iter().map(|(kind, count)| (*kind, *count)).collect(),
            store_failures: tally.store_failures,
        }
    }

    fn tally(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.tally.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn login_tally(context: &AuditContext, method: Option<&'static str>, outcome: &'static str) -> LoginTally {
    LoginTally {
        dialect: context.dialect.unwrap_or("none"),
        method: method.unwrap_or("unknown"),
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use chrono::TimeZone;

    use super::*;
    use crate::error::StoreError;
    use crate::model::{Actor, ClientAddress};
    use crate::ports::{MockAuditLog, MockClock};

    fn audit(log: MockAuditLog) -> Audit {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .returning(|| chrono::Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap());
        Audit::new(AuditPorts {
            log: Arc::new(log),
            clock: Arc::new(clock),
        })
    }

    fn request(dialect: &'static str) -> AuditContext {
        AuditContext {
            actor: Actor::Request,
            client: ClientAddress::new("192.0.2.7".parse::<IpAddr>().unwrap()),
            dialect: Some(dialect),
            request_id: Some("req-1".into()),
        }
    }

    #[tokio::test]
    async fn an_event_carries_the_context_it_was_recorded_in() {
        let kept = Arc::new(Mutex::new(Vec::new()));
        let mut log = MockAuditLog::new();
        let sink = kept.clone();
        log.expect_append().returning(move |event| {
            sink.lock().unwrap().push(event.clone());
            Ok(())
        });
        let audit = audit(log);
        request("lime")
            .scope(audit.login_failed("password", None, "ann", &DomainError::InvalidCredentials))
            .await;
        let kept = kept.lock().unwrap();
        let event = &kept[0];
        assert_eq!(event.kind, AuditKind::LoginFailed);
        assert_eq!(event.username.as_deref(), Some("ann"));
        assert_eq!(event.actor, "request");
        assert_eq!(event.client.as_deref(), Some("192.0.2.7"));
        assert_eq!(event.dialect.as_deref(), Some("lime"));
        assert_eq!(event.method.as_deref(), Some("password"));
        assert_eq!(event.detail.as_deref(), Some("wrong_credentials"));
        assert_eq!(event.request_id.as_deref(), Some("req-1"));
    }

    #[tokio::test]
    async fn logins_are_tallied_by_dialect_method_and_outcome() {
        let mut log = MockAuditLog::new();
        log.expect_append().returning(|_| Ok(()));
        let audit = audit(log);
        for _ in 0..2 {
            request("flow")
                .scope(audit.login_failed("password", None, "ann", &DomainError::InvalidCredentials))
                .await;
        }
        request("flow")
            .scope(audit.login_failed("password", None, "ann", &DomainError::Busy))
            .await;
        request("lime")
            .scope(audit.record(AuditEntry::new(AuditKind::LoginSucceeded).method("bankid")))
            .await;
        let stats = audit.stats();
        let count = |dialect, method, outcome| {
            stats
                .logins
                .iter()
                .find(|(key, _)| {
                    *key == LoginTally {
                        dialect,
                        method,
                        outcome,
                    }
                })
                .map(|(_, count)| *count)
        };
        assert_eq!(count("flow", "password", "wrong_credentials"), Some(2));
        assert_eq!(count("flow", "password", "busy"), Some(1));
        assert_eq!(count("lime", "bankid", "success"), Some(1));
        // A busy hasher is no security event: only the two refusals and the
        // login were kept.
        assert_eq!(
            stats.events,
            vec![(AuditKind::LoginSucceeded, 1), (AuditKind::LoginFailed, 2)]
        );
    }

    #[tokio::test]
    async fn a_throttled_address_is_recorded_once_a_minute_and_counted_every_time() {
        let mut log = MockAuditLog::new();
        log.expect_append().times(2).returning(|_| Ok(()));
        let audit = audit(log);
        let throttled = DomainError::TooManyAttempts {
            until: {
                let now = chrono::Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
                crate::RetryAt::new(now + chrono::Duration::minutes(5), now)
            },
        };
        for _ in 0..50 {
            request("flow")
                .scope(audit.login_failed("password", None, "ann", &throttled))
                .await;
        }
        // Another address is recorded on its own.
        let elsewhere = AuditContext {
            client: ClientAddress::new("198.51.100.1".parse::<IpAddr>().unwrap()),
            ..request("flow")
        };
        elsewhere
            .scope(audit.login_failed("password", None, "ann", &throttled))
            .await;
        let stats = audit.stats();
        assert_eq!(stats.events, vec![(AuditKind::LoginFailed, 2)]);
        let tallied: u64 = stats.logins.iter().map(|(_, count)| count).sum();
        assert_eq!(tallied, 51);
    }

    #[tokio::test]
    async fn a_log_that_cannot_keep_the_event_does_not_fail_the_caller() {
        let mut log = MockAuditLog::new();
        log.expect_append()
            .returning(|_| Err(StoreError::Unavailable("down".into())));
        let audit = audit(log);
        audit
            .record(AuditEntry::new(AuditKind::AccountUnlocked).name("ann"))
            .await;
        assert_eq!(audit.stats().store_failures, 1);
    }

    mod life {
        use chrono::Duration;

        use crate::model::{AuditKind, ClientAddress, Password, TokenKind};
        use crate::services::fixtures::World;
        use crate::services::{AccessGrant, LoginOutcome, TokenRequest};

        fn kinds(world: &World) -> Vec<AuditKind> {
            world.audited().into_iter().map(|(kind, ..)| kind).collect()
        }

        /// Every kind of event a user's life brings is recorded, with the user
        /// it concerns, in the order it happened.
        #[tokio::test]
        async fn every_security_event_is_recorded_with_its_user() {
            let world = World::with_rules(|rules| rules.account_lockout.limit = 2);
            let ann = world.add_user("ann");
            let services = world.services();
            let client = ClientAddress::unknown();
            let login = |password: &'static str| {
                let services = services.clone();
                async move {
                    services
                        .password_login
                        .login_or_pending(
                            "ann",
                            &Password::new(password),
                            &client,
                            AccessGrant::new(Duration::hours(1)),
                            Duration::minutes(5),
                        )
                        .await
                }
            };

            login("wrong").await.unwrap_err();
            login("wrong").await.unwrap_err();
            services
                .accounts
                .unlock(&services.accounts.find("ann").await.unwrap())
                .await
                .unwrap();
            let LoginOutcome::LoggedIn(_) = login("pw-ann").await.unwrap() else {
                panic!("ann logs in");
            };
            let session = {
                let token = services
                    .sessions
                    .issue(ann.id, TokenKind::Access, Duration::hours(1))
                    .await
                    .unwrap();
                services.sessions.authenticate(&token.plaintext).await.unwrap()
            };
            services
                .two_factor
                .start_enrolment(&ann, &ann, &Password::new("pw-ann"), &client)
                .await
                .unwrap();
            let code = format!("{:06}", world.step() % 1_000_000);
            services
                .two_factor
                .confirm_enrolment(&session, &ann, &code)
                .await
                .unwrap();
            let LoginOutcome::SecondFactorRequired { pending, .. } = login("pw-ann").await.unwrap() else {
                panic!("a second factor is asked for");
            };
            services
                .two_factor
                .complete_login(&pending.plaintext, "000000", AccessGrant::new(Duration::hours(1)))
                .await
                .unwrap_err();
            services.two_factor.reset(ann.id).await.unwrap();
            services
                .accounts
                .set_password("ann", &Password::new("a new long passphrase"))
                .await
                .unwrap();
            let reset = services.password_reset.request("ann").await.unwrap().unwrap();
            services
                .password_reset
                .reset(&reset, "ann", &Password::new("pw-ann-again"), &client)
                .await
                .unwrap();
            let token = services
                .api_tokens
                .create("ann", TokenRequest::default())
                .await
                .unwrap();
            services.api_tokens.revoke(token.record.id).await.unwrap();
            // Enrolled again, and removed by its owner with password and code.
            services
                .two_factor
                .start_enrolment(&ann, &ann, &Password::new("pw-ann-again"), &client)
                .await
                .unwrap();
            world.advance(Duration::seconds(60));
            let code = || format!("{:06}", world.step() % 1_000_000);
            services
                .two_factor
                .confirm_enrolment(&session, &ann, &code())
                .await
                .unwrap();
            world.advance(Duration::seconds(60));
            services
                .two_factor
                .disable(
                    &ann,
                    &ann,
                    Some(&Password::new("pw-ann-again")),
                    Some(&code()),
                    &client,
                )
                .await
                .unwrap();

            use AuditKind::*;
            assert_eq!(
                kinds(&world),
                vec![
                    LoginFailed,
                    AccountLocked,
                    LoginFailed,
                    AccountUnlocked,
                    LoginSucceeded,
                    SecondFactorEnabled,
                    TokenRevoked,
                    SecondFactorRequired,
                    LoginFailed,
                    SecondFactorReset,
                    PasswordChanged,
                    TokenRevoked,
                    PasswordResetRequested,
                    PasswordReset,
                    TokenRevoked,
                    TokenCreated,
                    TokenRevoked,
                    SecondFactorEnabled,
                    TokenRevoked,
                    SecondFactorDisabled,
                ]
            );
            assert!(
                world.audited().iter().all(|(_, user, _)| *user == Some(ann.id)),
                "{:?}",
                world.audited()
            );
            let details: Vec<Option<String>> =
                world.audited().into_iter().map(|(.., detail)| detail).collect();
            assert_eq!(details[0].as_deref(), Some("wrong_credentials"));
            assert_eq!(details[2].as_deref(), Some("locked"));
            assert_eq!(details[8].as_deref(), Some("wrong_second_factor"));
        }

        #[tokio::test]
        async fn a_name_no_one_has_is_recorded_as_given() {
            let world = World::new();
            world
                .services()
                .password_login
                .login(
                    "  Nobody ",
                    &Password::new("guess"),
                    &ClientAddress::unknown(),
                    AccessGrant::new(Duration::hours(1)),
                )
                .await
                .unwrap_err();
            assert_eq!(
                world.audited(),
                vec![(AuditKind::LoginFailed, None, Some("wrong_credentials".into()))]
            );
        }
    }
}
