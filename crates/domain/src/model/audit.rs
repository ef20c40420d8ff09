//! Security events: what happened, to whom, by whose hand, from where.

use chrono::{DateTime, Utc};

use crate::model::{ClientAddress, UserId};

/// What happened. Each kind has a stable dotted name, the one stored and logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AuditKind {
    /// A login completed and a token was handed out.
    LoginSucceeded,
    /// A login was refused (the reason is in `detail`).
    LoginFailed,
    /// The first step of a login passed; the second factor is awaited.
    SecondFactorRequired,
    /// Repeated failures locked an account.
    AccountLocked,
    /// An operator lifted a lock.
    AccountUnlocked,
    /// An operator disabled an account in Limen.
    AccountDisabled,
    /// An operator enabled an account in Limen again.
    AccountEnabled,
    /// A password was set by its owner or an operator.
    PasswordChanged,
    /// A password-reset e-mail was asked for.
    PasswordResetRequested,
    /// A password was set with a reset token.
    PasswordReset,
    /// A second factor was enrolled and confirmed.
    SecondFactorEnabled,
    /// A second factor was removed by its owner or an administrator.
    SecondFactorDisabled,
    /// An operator removed a user's second factor.
    SecondFactorReset,
    /// A named token was created.
    TokenCreated,
    /// Tokens were revoked (logout, log out everywhere, an operator).
    TokenRevoked,
    /// An operator ran an administration command.
    AdminCommand,
    /// A passkey was registered.
    PasskeyRegistered,
    /// A passkey was removed.
    PasskeyRemoved,
    /// A call of the administration API or SCIM changed something.
    AdminRequest,
    /// An admin token was created.
    AdminTokenCreated,
    /// An admin token was revoked.
    AdminTokenRevoked,
}

impl AuditKind {
    /// Every kind, in the order of their names' documentation.
    pub const ALL: [AuditKind; 21] = [
        AuditKind::LoginSucceeded,
        AuditKind::LoginFailed,
        AuditKind::SecondFactorRequired,
        AuditKind::AccountLocked,
        AuditKind::AccountUnlocked,
        AuditKind::AccountDisabled,
        AuditKind::AccountEnabled,
        AuditKind::PasswordChanged,
        AuditKind::PasswordResetRequested,
        AuditKind::PasswordReset,
        AuditKind::SecondFactorEnabled,
        AuditKind::SecondFactorDisabled,
        AuditKind::SecondFactorReset,
        AuditKind::TokenCreated,
        AuditKind::TokenRevoked,
        AuditKind::AdminCommand,
        AuditKind::PasskeyRegistered,
        AuditKind::PasskeyRemoved,
        AuditKind::AdminRequest,
        AuditKind::AdminTokenCreated,
        AuditKind::AdminTokenRevoked,
    ];

    /// The stored and logged name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::LoginSucceeded => "login.succeeded",
            AuditKind::LoginFailed => "login.failed",
            AuditKind::SecondFactorRequired => "login.second_factor_required",
            AuditKind::AccountLocked => "account.locked",
            AuditKind::AccountUnlocked => "account.unlocked",
            AuditKind::AccountDisabled => "account.disabled",
            AuditKind::AccountEnabled => "account.enabled",
            AuditKind::PasswordChanged => "password.changed",
            AuditKind::PasswordResetRequested => "password.reset_requested",
            AuditKind::PasswordReset => "password.reset",
            AuditKind::SecondFactorEnabled => "second_factor.enabled",
            AuditKind::SecondFactorDisabled => "second_factor.disabled",
            AuditKind::SecondFactorReset => "second_factor.reset",
            AuditKind::TokenCreated => "token.created",
            AuditKind::TokenRevoked => "token.revoked",
            AuditKind::AdminCommand => "admin.command",
            AuditKind::PasskeyRegistered => "passkey.registered",
            AuditKind::PasskeyRemoved => "passkey.removed",
            AuditKind::AdminRequest => "admin.request",
            AuditKind::AdminTokenCreated => "admin_token.created",
            AuditKind::AdminTokenRevoked => "admin_token.revoked",
        }
    }

    /// The kind of a stored name.
    pub fn parse(name: &str) -> Option<AuditKind> {
        AuditKind::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl std::fmt::Display for AuditKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Actor {
    /// Whoever sent an HTTP request (the user it concerns, or someone
    /// claiming to be).
    Request,
    /// An operator at the command line, by their operating-system user name.
    Operator(String),
    /// A call of the administration API or SCIM, by the admin token's name.
    AdminToken(String),
    /// Limen itself, outside any request or command.
    #[default]
    System,
}

impl Actor {
    /// The stored form: `request`, `cli:<os user>`, `admin:<token name>` or `system`.
    pub fn to_stored(&self) -> String {
        match self {
            Actor::Request => "request".to_owned(),
            Actor::Operator(name) => format!("cli:{name}"),
            Actor::AdminToken(name) => format!("admin:{name}"),
            Actor::System => "system".to_owned(),
        }
    }
}

/// Longest text kept in a free-text field of an event (a name someone typed,
/// a detail); the rest is cut, so that a client cannot fill the log.
pub const MAX_AUDIT_TEXT_CHARS: usize = 255;

/// One security event, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// The stored event's id, growing with every event; `None` before it is stored.
    pub id: Option<i64>,
    /// When.
    pub at: DateTime<Utc>,
    /// What.
    pub kind: AuditKind,
    /// The user it concerns, when known.
    pub user_id: Option<UserId>,
    /// The user's name, or the name someone tried to log in with.
    pub username: Option<String>,
    /// Who caused it (`Actor::to_stored`).
    pub actor: String,
    /// The client's address, for events caused by a request.
    pub client: Option<String>,
    /// The API the request came through (`flow`, `lime`, ...).
    pub dialect: Option<String>,
    /// How someone proved (or failed to prove) who they are.
    pub method: Option<String>,
    /// The rest: a failure's reason, a token's kind, a command line.
    pub detail: Option<String>,
    /// The request's `X-Request-Id`, to find its log lines.
    pub request_id: Option<String>,
}

/// Which events to read back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditQuery {
    /// Events of this user, and events naming this user name.
    pub user: Option<(Option<UserId>, String)>,
    /// Events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Events before this time.
    pub until: Option<DateTime<Utc>>,
    /// Events of this kind only.
    pub kind: Option<AuditKind>,
    /// Events after this one (its time and id) in the newest-first order:
    /// the next page of a listing.
    pub before: Option<(DateTime<Utc>, i64)>,
    /// At most this many, the newest.
    pub limit: u64,
}

/// Where the events being recorded come from: set once per HTTP request and
/// per administration command, read by whatever records an event within it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditContext {
    /// Who is acting.
    pub actor: Actor,
    /// The client's address.
    pub client: ClientAddress,
    /// The API the request came through.
    pub dialect: Option<&'static str>,
    /// The request's id.
    pub request_id: Option<String>,
}

tokio::task_local! {
    static CONTEXT: AuditContext;
}

impl AuditContext {
    /// Runs `work` with this context: every event it records carries it. A
    /// task-local, like a tracing span, because the context belongs to the
    /// request, not to any one use case's signature.
    pub async fn scope<F: Future>(self, work: F) -> F::Output {
        CONTEXT.scope(self, work).await
    }

    /// The context of the running request or command; `System` outside any.
    pub fn current() -> AuditContext {
        CONTEXT.try_with(Clone::clone).unwrap_or_default()
    }
}

/// `text` cut to `MAX_AUDIT_TEXT_CHARS` characters, control characters replaced,
/// so that what a client typed can neither fill the log nor forge a line of it.
pub fn audit_text(text: &str) -> String {
    text.chars()
        .take(MAX_AUDIT_TEXT_CHARS)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_name() {
        for kind in AuditKind::ALL {
            assert_eq!(AuditKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(AuditKind::parse("login"), None);
    }

    #[test]
    fn typed_text_is_cut_and_cannot_break_a_line() {
        assert_eq!(audit_text("ann\nforged"), "ann\u{fffd}forged");
        assert_eq!(
            audit_text(&"x".repeat(1000)).chars().count(),
            MAX_AUDIT_TEXT_CHARS
        );
    }

    #[tokio::test]
    async fn the_context_holds_inside_its_scope_only() {
        let context = AuditContext {
            actor: Actor::Operator("root".into()),
            dialect: Some("flow"),
            ..AuditContext::default()
        };
        let inside = context.clone().scope(async { AuditContext::current() }).await;
        assert_eq!(inside, context);
        assert_eq!(AuditContext::current().actor, Actor::System);
    }
}
