use std::sync::Arc;

use chrono::Duration;

use crate::error::DomainError;
use crate::model::{AuditKind, ClientAddress, Password, TokenKind, User};
use crate::services::{
    Attempts, Audit, AuditEntry, Counted, NumberedSessionGrant, PasswordLogin, SessionService,
};

/// A session named by a number, as the `gradido` dialect has them.
#[derive(Debug, Clone)]
pub struct NumericSession {
    /// Who logged in.
    pub user: User,
    /// The session number handed to the client.
    pub number: i32,
}

/// The services numbered sessions work with.
pub struct NumericSessionPorts {
    /// Password logins.
    pub passwords: Arc<PasswordLogin>,
    /// Issues and checks sessions.
    pub sessions: Arc<SessionService>,
    /// Counted guesses of session numbers.
    pub attempts: Arc<Attempts>,
    /// The trail of refusals.
    pub audit: Arc<Audit>,
}

/// Sessions named by a random 32-bit number, which the `gradido` API uses in
/// place of a token. A 32-bit number can be guessed, so each session is bound to
/// the client address it was created from, and wrong numbers are counted per
/// address (`AttemptRules::session_numbers`).
pub struct NumericSessionService {
    ports: NumericSessionPorts,
}

impl NumericSessionService {
    /// Wires the service.
    pub fn new(ports: NumericSessionPorts) -> Self {
        Self { ports }
    }

    /// Logs in with e-mail and password from `client`, for a session of `ttl`.
    /// Users with a second factor are refused: this API has no step to present it.
    pub async fn login(
        &self,
        email: &str,
        password: &Password,
        client: &ClientAddress,
        ttl: Duration,
    ) -> Result<NumericSession, DomainError> {
        let grant = NumberedSessionGrant { ttl, client: *client };
        let logged_in = self.ports.passwords.login(email, password, client, grant).await?;
        Ok(NumericSession {
            user: logged_in.user,
            number: logged_in.granted,
        })
    }

    /// Ends session `number` if it was created from `client`'s address. Unknown
    /// numbers, and numbers of sessions bound elsewhere, count against the address.
    pub async fn logout(&self, number: i32, client: &ClientAddress) -> Result<(), DomainError> {
        let attempt = match self.ports.attempts.session_numbers(client).admit().await? {
            Counted::Admitted(attempt) => attempt,
            Counted::Blocked { until } => return Err(DomainError::TooManyAttempts { until }),
            Counted::Full => return Err(DomainError::Busy),
        };
        let found = self
            .ports
            .sessions
            .find_live(
                &self.ports.sessions.number_digest(number),
                TokenKind::NumericSession,
            )
            .await
            .ok()
            .filter(|token| token.attributes.bound_address.as_deref() == Some(client.as_text().as_str()));
        let Some(token) = found else {
            attempt.fail().await?;
            return Err(DomainError::InvalidToken);
        };
        attempt.refund().await?;
        self.ports.sessions.revoke(&token.hash).await?;
        let entry = AuditEntry::new(AuditKind::TokenRevoked)
            .user_id(token.user_id)
            .detail("logout of a numbered session");
        self.ports.audit.record(entry).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::fixtures::World;

    fn from(address: &str) -> ClientAddress {
        ClientAddress::new(address.parse().unwrap())
    }

    #[tokio::test]
    async fn a_session_is_bound_to_the_address_it_was_opened_from() {
        let world = World::new();
        world.add_user("ann");
        let service = world.services().numeric_sessions;
        let session = service
            .login(
                "ann@example.com",
                &Password::new("pw-ann"),
                &from("192.0.2.1"),
                Duration::minutes(15),
            )
            .await
            .unwrap();
        assert!(matches!(
            service.logout(session.number, &from("192.0.2.2")).await,
            Err(DomainError::InvalidToken)
        ));
        service.logout(session.number, &from("192.0.2.1")).await.unwrap();
        assert!(service.logout(session.number, &from("192.0.2.1")).await.is_err());
    }

    #[tokio::test]
    async fn wrong_numbers_are_throttled_per_address() {
        let world = World::with_rules(|rules| rules.session_numbers.limit = 3);
        let service = world.services().numeric_sessions;
        for number in 1..=3 {
            assert!(matches!(
                service.logout(number, &from("192.0.2.1")).await,
                Err(DomainError::InvalidToken)
            ));
        }
        assert!(matches!(
            service.logout(4, &from("192.0.2.1")).await,
            Err(DomainError::TooManyAttempts { .. })
        ));
        assert!(matches!(
            service.logout(4, &from("192.0.2.2")).await,
            Err(DomainError::InvalidToken)
        ));
    }
}
