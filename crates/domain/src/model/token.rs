use chrono::{DateTime, Duration, Utc};

use super::UserId;

/// A token's row id (never shown to clients as a credential).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenId(pub i64);

/// The SHA-256 of a token, hex encoded: the only form in which a token is stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(pub String);

/// What a token is good for. Each kind is accepted only where it belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A session or API access token.
    Access,
    /// Proof that the password was right, good only for presenting the second
    /// factor (short-lived, a few attempts).
    PendingSecondFactor,
    /// Long-lived, bound to a client id, exchanged for access tokens.
    RememberMe,
    /// A session named by a 32-bit number (the `gradido` dialect), bound to the
    /// client address it was created from.
    NumericSession,
    /// The link of a verification e-mail.
    EmailVerification,
    /// A password reset token, mailed to the user (single use).
    PasswordReset,
    /// A BankID order in progress, named by an unguessable transaction id
    /// (single use: consumed by the collect that completes it).
    BankIdOrder,
    /// An OpenID login waiting for the provider's callback, named by the
    /// `state` sent to the provider (single use: consumed by the callback).
    OpenIdState,
    /// An authorization code Limen as an OpenID Provider handed a client
    /// (single use: consumed by the token endpoint's exchange).
    AuthorizationCode,
    /// A refresh token of an OpenID Provider client (single use: each
    /// refresh spends it and issues the next of its family).
    ProviderRefresh,
    /// A browser's session with Limen as an OpenID Provider (its cookie):
    /// single sign-on to every client until it ends.
    BrowserSession,
    /// A passkey registration under way: its challenge, bound to the session
    /// that began it (single use: consumed by its finish).
    PasskeyRegistration,
    /// A passkey login under way: its challenge (single use: consumed by the
    /// assertion that answers it).
    PasskeyLogin,
}

impl TokenKind {
    /// The stable name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::PendingSecondFactor => "pending_second_factor",
            TokenKind::RememberMe => "remember_me",
            TokenKind::NumericSession => "numeric_session",
            TokenKind::EmailVerification => "email_verification",
            TokenKind::PasswordReset => "password_reset",
            TokenKind::BankIdOrder => "bankid_order",
            TokenKind::OpenIdState => "openid_state",
            TokenKind::AuthorizationCode => "authorization_code",
            TokenKind::ProviderRefresh => "provider_refresh",
            TokenKind::BrowserSession => "browser_session",
            TokenKind::PasskeyRegistration => "passkey_registration",
            TokenKind::PasskeyLogin => "passkey_login",
        }
    }

    /// Every kind.
    pub const ALL: [TokenKind; 13] = [
        TokenKind::Access,
        TokenKind::PendingSecondFactor,
        TokenKind::RememberMe,
        TokenKind::NumericSession,
        TokenKind::EmailVerification,
        TokenKind::PasswordReset,
        TokenKind::BankIdOrder,
        TokenKind::OpenIdState,
        TokenKind::AuthorizationCode,
        TokenKind::ProviderRefresh,
        TokenKind::BrowserSession,
        TokenKind::PasskeyRegistration,
        TokenKind::PasskeyLogin,
    ];

    /// How long a token's record is kept after it expired. A day for what
    /// operators look back at (`limen token list` shows what expired
    /// recently); nothing for the short-lived state of a login under way (a
    /// pending second step, a BankID order, an OpenID state), which a client
    /// can make without logging in and which no one needs once it expired.
    pub fn kept_after_expiry(self) -> Duration {
        match self {
            TokenKind::PendingSecondFactor
            | TokenKind::BankIdOrder
            | TokenKind::OpenIdState
            | TokenKind::AuthorizationCode
            | TokenKind::PasskeyRegistration
            | TokenKind::PasskeyLogin => Duration::zero(),
            _ => Duration::days(1),
        }
    }

    /// Parses a stored name; `None` for a name this version does not know.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "access" => Some(TokenKind::Access),
            "pending_second_factor" => Some(TokenKind::PendingSecondFactor),
            "remember_me" => Some(TokenKind::RememberMe),
            "numeric_session" => Some(TokenKind::NumericSession),
            "email_verification" => Some(TokenKind::EmailVerification),
            "password_reset" => Some(TokenKind::PasswordReset),
            "bankid_order" => Some(TokenKind::BankIdOrder),
            "openid_state" => Some(TokenKind::OpenIdState),
            "authorization_code" => Some(TokenKind::AuthorizationCode),
            "provider_refresh" => Some(TokenKind::ProviderRefresh),
            "browser_session" => Some(TokenKind::BrowserSession),
            "passkey_registration" => Some(TokenKind::PasskeyRegistration),
            "passkey_login" => Some(TokenKind::PasskeyLogin),
            _ => None,
        }
    }
}

/// A token as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Row id.
    pub id: TokenId,
    /// Owner.
    pub user_id: UserId,
    /// What it may be used for.
    pub kind: TokenKind,
    /// SHA-256 of the token.
    pub hash: TokenHash,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was last presented (coalesced, so it may lag by a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked (or consumed), if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The optional attributes given at issue.
    pub attributes: TokenAttributes,
    /// A disabled token is refused until enabled again.
    pub enabled: bool,
    /// Incremented on every change of the token's own settings.
    pub version: i64,
}

impl TokenRecord {
    /// Whether the token may be used at `now`: enabled, not revoked, not expired.
    pub fn is_live_at(&self, now: DateTime<Utc>) -> bool {
        self.enabled && self.revoked_at.is_none() && self.expires_at > now
    }
}

/// What a token may carry besides its owner and lifetime.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenAttributes {
    /// A note for operators and API users ("CI deploy key").
    pub note: Option<String>,
    /// The client a remember-me token is bound to.
    pub client_id: Option<String>,
    /// The client address a numeric session is bound to.
    pub bound_address: Option<String>,
    /// The digest of the remember-me token this access token was issued with or
    /// exchanged for; ending the session ends that token too.
    pub origin: Option<TokenHash>,
    /// What a single-use record carries (a BankID order's references), sealed.
    pub payload: Option<String>,
}

/// What a store needs to record a freshly minted token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    /// Owner.
    pub user_id: UserId,
    /// What it may be used for.
    pub kind: TokenKind,
    /// SHA-256 of the token.
    pub hash: TokenHash,
    /// Issue time.
    pub created_at: DateTime<Utc>,
    /// Expiry time.
    pub expires_at: DateTime<Utc>,
    /// Note, client binding, address binding.
    pub attributes: TokenAttributes,
}

/// A token just issued: the plaintext goes to the client once and is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The secret to hand to the client.
    pub plaintext: String,
    /// The stored record.
    pub record: TokenRecord,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_stored_names() {
        assert_eq!(
            TokenKind::parse(TokenKind::Access.as_str()),
            Some(TokenKind::Access)
        );
        assert_eq!(TokenKind::parse("bogus"), None);
    }

    #[test]
    fn revoked_or_expired_tokens_are_not_live() {
        let now = Utc::now();
        let record = TokenRecord {
            id: TokenId(1),
            user_id: UserId(1),
            kind: TokenKind::Access,
            hash: TokenHash("ab".into()),
            created_at: now,
            expires_at: now + chrono::Duration::seconds(10),
            last_used_at: None,
            revoked_at: None,
            attributes: TokenAttributes::default(),
            enabled: true,
            version: 0,
        };
        assert!(record.is_live_at(now));
        let disabled = TokenRecord {
            enabled: false,
            ..record.clone()
        };
        assert!(!disabled.is_live_at(now));
        assert!(!record.is_live_at(now + chrono::Duration::seconds(10)));
        let revoked = TokenRecord {
            revoked_at: Some(now),
            ..record
        };
        assert!(!revoked.is_live_at(now));
    }
}
