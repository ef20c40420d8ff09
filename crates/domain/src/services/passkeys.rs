use std::sync::Arc;

use chrono::Duration;
use serde_json::Value;

use crate::error::{DomainError, StoreError, UniqueField};
use crate::model::AuditKind;
use crate::model::{
    ClientAddress, PasskeyError, StoredPasskey, TokenAttributes, TokenHash, TokenKind, User, UserId,
};
use crate::ports::{Clock, PasskeyCeremonies, PasskeyStore, TokenMint};
use crate::services::{
    Attempts, Audit, AuditEntry, AuthMethod, Authenticated, Counted, Grant, LoggedIn, LoginCompletion,
    SessionService, Users,
};

/// The method's name in the audit trail and the metrics.
const PASSKEY: &str = "passkey";

/// The longest name of a passkey.
pub const MAX_PASSKEY_NAME_CHARS: usize = 64;

/// How passkeys are set up.
#[derive(Debug, Clone)]
pub struct PasskeySettings {
    /// How long a started ceremony waits for its finish (the browser's
    /// prompt; WebAuthn's default timeout is five minutes).
    pub ceremony_ttl: Duration,
}

impl Default for PasskeySettings {
    fn default() -> Self {
        Self {
            ceremony_ttl: Duration::minutes(5),
        }
    }
}

/// The ports and services passkeys work with.
pub struct PasskeyPorts {
    /// The WebAuthn ceremonies; `None` when passkeys are off.
    pub ceremonies: Option<Arc<dyn PasskeyCeremonies>>,
    /// The passkeys, in Limen's own database.
    pub store: Arc<dyn PasskeyStore>,
    /// The owners.
    pub users: Arc<Users>,
    /// Ceremonies as single-use records.
    pub sessions: Arc<SessionService>,
    /// The rules of every login.
    pub completion: Arc<LoginCompletion>,
    /// Failed logins per client address.
    pub attempts: Arc<Attempts>,
    /// Ceremony ids.
    pub mint: Arc<dyn TokenMint>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// Registrations, removals and refused logins.
    pub audit: Arc<Audit>,
}

/// A started ceremony as the client gets it.
#[derive(Debug, Clone, PartialEq)]
pub struct PasskeyCeremony {
    /// Limen's name for the ceremony; its finish presents it.
    pub ceremony: String,
    /// `{"publicKey": …}`: the options for `navigator.credentials`.
    pub options: Value,
}

/// Passkeys (WebAuthn discoverable credentials with user verification) for
/// every user whatever their backend: registration by a logged-in user,
/// login without a username, and their management. A ceremony is a
/// single-use record in `SessionTokens` (so it is shared by every node and
/// its finish spends it atomically), holding the adapter's state; a login
/// ends in the one `LoginCompletion` as two factors.
pub struct PasskeyService {
    ports: PasskeyPorts,
    settings: PasskeySettings,
}

impl PasskeyService {
    /// Wires the service.
    pub fn new(ports: PasskeyPorts, settings: PasskeySettings) -> Self {
        Self { ports, settings }
    }

    /// Whether passkeys are configured.
    pub fn is_enabled(&self) -> bool {
        self.ports.ceremonies.is_some()
    }

    fn ceremonies(&self) -> Result<&dyn PasskeyCeremonies, DomainError> {
        self.ports
            .ceremonies
            .as_deref()
            .ok_or(DomainError::NotEnabled("passkeys"))
    }

    /// The user's passkeys, oldest first.
    pub async fn list(&self, user: UserId) -> Result<Vec<StoredPasskey>, DomainError> {
        Ok(self.ports.store.list_for_user(user).await?)
    }

    /// Starts registering a passkey for `user`, from the session `session`
    /// (its digest), which alone may finish it.
    pub async fn registration_options(
        &self,
        user: &User,
        session: &TokenHash,
    ) -> Result<PasskeyCeremony, DomainError> {
        let ceremonies = self.ceremonies()?;
        let existing = self.ports.store.list_for_user(user.id).await?;
        // One handle per user: a discoverable login names the account by it.
        let handle = existing.first().map_or_else(
            || ceremonies.new_user_handle(),
            |passkey| passkey.user_handle.clone(),
        );
        let exclude: Vec<String> = existing
            .iter()
            .map(|passkey| passkey.credential_id.clone())
            .collect();
        let display = match (&user.first_name, &user.last_name) {
            (Some(first), Some(last)) => format!("{first} {last}"),
            (Some(first), None) => first.clone(),
            _ => user.username.clone(),
        };
        let started = ceremonies
            .start_registration(&handle, &user.username, &display, &exclude)
            .map_err(refused)?;
        let state = serde_json::to_string(&RegistrationState {
            handle,
            state: started.state,
        })
        .map_err(|err| DomainError::Internal(err.to_string()))?;
        let ceremony = self
            .store_ceremony(
                user.id,
                TokenKind::PasskeyRegistration,
                state,
                Some(session.clone()),
            )
            .await?;
        Ok(PasskeyCeremony {
            ceremony,
            options: started.options,
        })
    }

    /// Finishes the registration `ceremony` of `user`'s session `session`
    /// with the browser's `response`, naming the passkey `name`.
    pub async fn register(
        &self,
        user: &User,
        session: &TokenHash,
        ceremony: &str,
        name: &str,
        response: &Value,
    ) -> Result<StoredPasskey, DomainError> {
        let ceremonies = self.ceremonies()?;
        let name = checked_name(name)?;
        let record = self
            .ports
            .sessions
            .find_presented(ceremony, TokenKind::PasskeyRegistration)
            .await?;
        // Only the session that began it: another of the user's sessions, or
        // someone else's, neither finishes nor spends it.
        if record.user_id != user.id || record.attributes.origin.as_ref() != Some(session) {
            return Err(DomainError::InvalidToken);
        }
        self.ports
            .sessions
            .consume(ceremony, TokenKind::PasskeyRegistration)
            .await?;
        let kept: RegistrationState = serde_json::from_str(
            record.attributes.payload.as_deref().unwrap_or_default(),
        )
        .map_err(|err| DomainError::Internal(format!("a passkey registration's state is corrupt: {err}")))?;
        let verified = ceremonies
            .finish_registration(response, &kept.state)
            .map_err(refused)?;
        let passkey = StoredPasskey {
            id: 0,
            user_id: user.id,
            user_handle: kept.handle,
            credential_id: verified.credential_id,
            name,
            credential: verified.credential,
            aaguid: verified.aaguid,
            created_at: self.ports.clock.now(),
            last_used_at: None,
        };
        let stored = self.ports.store.add(&passkey).await.map_err(taken)?;
        self.ports
            .audit
            .record(
                AuditEntry::new(AuditKind::PasskeyRegistered)
                    .user(user)
                    .method(PASSKEY)
                    .detail(&stored.name),
            )
            .await;
        tracing::info!(user_id = %user.id, "passkey registered");
        Ok(stored)
    }

    /// Starts a login with any passkey (no username: the authenticator
    /// offers the user's discoverable credentials), from `client`, whose
    /// failed logins count against its address.
    pub async fn login_options(&self, client: &ClientAddress) -> Result<PasskeyCeremony, DomainError> {
        let ceremonies = self.ceremonies()?;
        if let Some(until) = self.ports.attempts.login_address(client).blocked().await? {
            return Err(DomainError::TooManyAttempts { until });
        }
        let started = ceremonies.start_authentication().map_err(refused)?;
        let ceremony = self
            .store_ceremony(UserId::NONE, TokenKind::PasskeyLogin, started.state, None)
            .await?;
        Ok(PasskeyCeremony {
            ceremony,
            options: started.options,
        })
    }

    /// Finishes the login `ceremony` with the browser's assertion `response`
    /// from `client`, and logs its passkey's owner in with `grant`.
    pub async fn log_in<G: Grant>(
        &self,
        ceremony: &str,
        response: &Value,
        client: &ClientAddress,
        grant: G,
    ) -> Result<LoggedIn<G::Issued>, DomainError> {
        let ceremonies = self.ceremonies()?;
        let address = match self.ports.attempts.login_address(client).admit().await? {
            Counted::Admitted(attempt) => attempt,
            Counted::Blocked { until } => {
                let refused = DomainError::TooManyAttempts { until };
                self.ports.audit.login_failed(PASSKEY, None, "", &refused).await;
                return Err(refused);
            }
            Counted::Full => return Err(DomainError::Busy),
        };
        let proven = self.prove(ceremonies, ceremony, response).await;
        let authenticated = match proven {
            Ok(user) => {
                address.refund().await?;
                Authenticated::uncounted(user, AuthMethod::Passkey)
            }
            Err((err, user)) => {
                self.ports
                    .audit
                    .login_failed(PASSKEY, user.as_ref(), "", &err)
                    .await;
                // A spent or unknown ceremony is no guess at a credential.
                if matches!(err, DomainError::InvalidToken) {
                    address.refund().await?;
                } else {
                    address.fail().await?;
                }
                return Err(err);
            }
        };
        self.ports.completion.complete(authenticated, grant).await
    }

    /// The owner of the passkey the assertion proves, its use recorded; the
    /// error and, when known, the user it concerned.
    async fn prove(
        &self,
        ceremonies: &dyn PasskeyCeremonies,
        ceremony: &str,
        response: &Value,
    ) -> Result<User, (DomainError, Option<User>)> {
        let asserted = ceremonies
            .identify(response)
            .map_err(|err| (refused(err), None))?;
        // Spent first: of parallel finishes of one challenge, one goes on.
        let record = self
            .ports
            .sessions
            .consume(ceremony, TokenKind::PasskeyLogin)
            .await
            .map_err(|err| (err, None))?;
        let Some(passkey) = self
            .ports
            .store
            .find_by_credential(&asserted.credential_id)
            .await
            .map_err(|err| (err.into(), None))?
        else {
            return Err((
                DomainError::PasskeyRefused("no such passkey is registered".into()),
                None,
            ));
        };
        let user = self
            .ports
            .users
            .by_id(passkey.user_id)
            .await
            .map_err(|err| (err, None))?
            .ok_or_else(|| {
                (
                    DomainError::PasskeyRefused("the passkey's user is gone".into()),
                    None,
                )
            })?;
        // WebAuthn §7.2: the user handle must be the credential's owner's.
        if asserted.user_handle != passkey.user_handle {
            return Err((
                DomainError::PasskeyRefused("the user handle is not the passkey owner's".into()),
                Some(user),
            ));
        }
        let state = record.attributes.payload.unwrap_or_default();
        let verified = match ceremonies.finish_authentication(response, &state, &passkey.credential) {
            Ok(verified) => verified,
            Err(PasskeyError::CounterWentBack) => {
                tracing::warn!(user_id = %user.id, passkey = %passkey.name, "a passkey's sign counter went back: a cloned authenticator?");
                return Err((
                    DomainError::PasskeyRefused(
                        "the authenticator's sign counter went back (cloned?)".into(),
                    ),
                    Some(user),
                ));
            }
            Err(err) => return Err((refused(err), Some(user))),
        };
        self.ports
            .store
            .record_use(passkey.id, verified.updated, self.ports.clock.now())
            .await
            .map_err(|err| (err.into(), Some(user.clone())))?;
        Ok(user)
    }

    /// Renames the user's passkey `name`.
    pub async fn rename(&self, user: UserId, name: &str, new_name: &str) -> Result<(), DomainError> {
        let new_name = checked_name(new_name)?;
        match self
            .ports
            .store
            .rename(user, name, &new_name)
            .await
            .map_err(taken)?
        {
            true => Ok(()),
            false => Err(DomainError::UnknownPasskey(name.to_owned())),
        }
    }

    /// Removes the user's passkey `name`. Removing the last way a user without
    /// a password logs in is refused unless `force`.
    pub async fn remove(&self, user: &User, name: &str, force: bool) -> Result<(), DomainError> {
        let passkeys = self.ports.store.list_for_user(user.id).await?;
        if !passkeys.iter().any(|passkey| passkey.name == name) {
            return Err(DomainError::UnknownPasskey(name.to_owned()));
        }
        if passkeys.len() == 1 && user.password_hash.is_none() && !force {
            return Err(DomainError::LastWayIn);
        }
        if !self.ports.store.remove(user.id, name).await? {
            return Err(DomainError::UnknownPasskey(name.to_owned()));
        }
        self.ports
            .audit
            .record(
                AuditEntry::new(AuditKind::PasskeyRemoved)
                    .user(user)
                    .method(PASSKEY)
                    .detail(name),
            )
            .await;
        Ok(())
    }

    async fn store_ceremony(
        &self,
        user: UserId,
        kind: TokenKind,
        state: String,
        session: Option<TokenHash>,
    ) -> Result<String, DomainError> {
        let (ceremony, hash) = self.ports.mint.mint();
        self.ports
            .sessions
            .store(
                user,
                kind,
                hash,
                self.settings.ceremony_ttl,
                TokenAttributes {
                    payload: Some(state),
                    origin: session,
                    ..TokenAttributes::default()
                },
            )
            .await?;
        Ok(ceremony)
    }
}

/// A registration's record: the user handle it uses and the adapter's state.
#[derive(serde::Serialize, serde::Deserialize)]
struct RegistrationState {
    handle: String,
    state: String,
}

/// A passkey's name: trimmed, 1 to 64 characters, no control characters.
fn checked_name(name: &str) -> Result<String, DomainError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_PASSKEY_NAME_CHARS || name.chars().any(char::is_control)
    {
        return Err(DomainError::InvalidInput(format!(
            "name must be 1 to {MAX_PASSKEY_NAME_CHARS} characters without control characters"
        )));
    }
    Ok(name.to_owned())
}

fn refused(err: PasskeyError) -> DomainError {
    match err {
        PasskeyError::Malformed(reason) => DomainError::InvalidInput(format!("credential: {reason}")),
        PasskeyError::Refused(reason) => DomainError::PasskeyRefused(reason),
        PasskeyError::CounterWentBack => {
            DomainError::PasskeyRefused("the authenticator's sign counter went back (cloned?)".into())
        }
        PasskeyError::Internal(reason) => DomainError::Internal(reason),
    }
}

fn taken(err: StoreError) -> DomainError {
    match err {
        StoreError::Duplicate(UniqueField::Credential) => {
            DomainError::PasskeyTaken("this passkey is registered already")
        }
        StoreError::Duplicate(UniqueField::PasskeyName) => {
            DomainError::PasskeyTaken("a passkey by that name exists")
        }
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::IssuedToken;
    use crate::services::AccessGrant;
    use crate::services::fixtures::World;

    fn session() -> TokenHash {
        TokenHash("session-of-ann".into())
    }

    fn client() -> ClientAddress {
        ClientAddress::new("198.51.100.4".parse().unwrap())
    }

    /// Registers a passkey `id` named `name` for `user`.
    async fn register(
        world: &World,
        user: &User,
        id: &str,
        name: &str,
    ) -> Result<StoredPasskey, DomainError> {
        let passkeys = world.services().passkeys;
        let started = passkeys.registration_options(user, &session()).await?;
        let challenge = started.options["publicKey"]["challenge"].clone();
        passkeys
            .register(
                user,
                &session(),
                &started.ceremony,
                name,
                &json!({"id": id, "challenge": challenge}),
            )
            .await
    }

    /// An assertion of credential `id` for the ceremony `started`.
    fn assertion(started: &PasskeyCeremony, id: &str, handle: &str, counter: u64) -> Value {
        json!({
            "id": id, "userHandle": handle, "counter": counter,
            "challenge": started.options["publicKey"]["challenge"],
        })
    }

    async fn log_in(
        world: &World,
        response_of: impl Fn(&PasskeyCeremony) -> Value,
    ) -> Result<LoggedIn<IssuedToken>, DomainError> {
        let passkeys = world.services().passkeys;
        let started = passkeys.login_options(&client()).await?;
        passkeys
            .log_in(
                &started.ceremony,
                &response_of(&started),
                &client(),
                AccessGrant::new(chrono::Duration::hours(1)),
            )
            .await
    }

    #[tokio::test]
    async fn a_registered_passkey_logs_its_owner_in_without_a_second_factor() {
        let world = World::new();
        let ann = world.add_user("ann");
        world.enrol_totp(ann.id);
        let laptop = register(&world, &ann, "cred-laptop", "  Laptop ").await.unwrap();
        assert_eq!(laptop.name, "Laptop");
        assert_eq!(laptop.user_handle, "handle-1");
        assert_eq!(laptop.aaguid.as_deref(), Some("aaguid-1"));
        // A second passkey shares the handle, and excludes the first.
        let passkeys = world.services().passkeys;
        let started = passkeys.registration_options(&ann, &session()).await.unwrap();
        assert_eq!(started.options["publicKey"]["user"]["id"], "handle-1");
        assert_eq!(
            started.options["publicKey"]["excludeCredentials"],
            json!(["cred-laptop"])
        );
        let done = log_in(&world, |started| assertion(started, "cred-laptop", "handle-1", 1))
            .await
            .unwrap();
        assert_eq!(done.user.id, ann.id, "two factors: no TOTP asked");
        let stored = world.passkeys_of(ann.id);
        assert_eq!(stored[0].credential, r#"{"counter":1}"#);
        assert_eq!(stored[0].last_used_at, Some(world.now()));
        let kinds: Vec<AuditKind> = world.audited().iter().map(|(kind, _, _)| *kind).collect();
        assert!(kinds.contains(&AuditKind::PasskeyRegistered), "{kinds:?}");
        assert!(kinds.contains(&AuditKind::LoginSucceeded), "{kinds:?}");
    }

    #[tokio::test]
    async fn a_ceremony_is_finished_once_and_a_registration_only_by_its_session() {
        let world = World::new();
        let ann = world.add_user("ann");
        let bob = world.add_user("bob");
        let passkeys = world.services().passkeys;
        let started = passkeys.registration_options(&ann, &session()).await.unwrap();
        let response = json!({"id": "c1", "challenge": started.options["publicKey"]["challenge"]});
        let other_session = TokenHash("another-session".into());
        for (user, session) in [(&bob, &session()), (&ann, &other_session)] {
            let refused = passkeys
                .register(user, session, &started.ceremony, "Phone", &response)
                .await
                .unwrap_err();
            assert!(matches!(refused, DomainError::InvalidToken), "{refused:?}");
        }
        passkeys
            .register(&ann, &session(), &started.ceremony, "Phone", &response)
            .await
            .unwrap();
        let again = passkeys
            .register(&ann, &session(), &started.ceremony, "Phone 2", &response)
            .await
            .unwrap_err();
        assert!(matches!(again, DomainError::InvalidToken));
        // A login's challenge works once too.
        let login = passkeys.login_options(&client()).await.unwrap();
        let response = assertion(&login, "c1", "handle-1", 5);
        let grant = || AccessGrant::new(chrono::Duration::hours(1));
        passkeys
            .log_in(&login.ceremony, &response, &client(), grant())
            .await
            .unwrap();
        let replay = passkeys
            .log_in(&login.ceremony, &response, &client(), grant())
            .await
            .unwrap_err();
        assert!(matches!(replay, DomainError::InvalidToken), "{replay:?}");
    }

    #[tokio::test]
    async fn assertions_that_do_not_hold_are_refused_audited_and_counted_against_the_address() {
        let world = World::with_rules(|rules| rules.login_address.limit = 3);
        let ann = world.add_user("ann");
        let bob = world.add_user("bob");
        register(&world, &ann, "ann-key", "Key").await.unwrap();
        register(&world, &bob, "bob-key", "Key").await.unwrap();
        // Bob's user handle with Ann's credential (WebAuthn §7.2).
        let wrong_owner = log_in(&world, |s| assertion(s, "ann-key", "handle-2", 1))
            .await
            .unwrap_err();
        assert!(
            matches!(wrong_owner, DomainError::PasskeyRefused(_)),
            "{wrong_owner:?}"
        );
        let unknown = log_in(&world, |s| assertion(s, "nobody", "handle-1", 1))
            .await
            .unwrap_err();
        assert!(matches!(unknown, DomainError::PasskeyRefused(_)));
        log_in(&world, |s| assertion(s, "ann-key", "handle-1", 7))
            .await
            .unwrap();
        // A cloned authenticator: the counter goes back.
        let cloned = log_in(&world, |s| assertion(s, "ann-key", "handle-1", 3))
            .await
            .unwrap_err();
        assert!(
            matches!(&cloned, DomainError::PasskeyRefused(why) if why.contains("counter")),
            "{cloned:?}"
        );
        let refusals = world
            .audited()
            .into_iter()
            .filter(|(kind, _, _)| *kind == AuditKind::LoginFailed)
            .count();
        assert_eq!(refusals, 3);
        // Three failures: the address is throttled, options included.
        let throttled = world
            .services()
            .passkeys
            .login_options(&client())
            .await
            .unwrap_err();
        assert!(
            matches!(throttled, DomainError::TooManyAttempts { .. }),
            "{throttled:?}"
        );
    }

    #[tokio::test]
    async fn passkeys_are_named_renamed_and_removed_but_never_the_last_way_in_unforced() {
        let world = World::new();
        let ann = world.add_user("ann");
        register(&world, &ann, "k1", "Laptop").await.unwrap();
        let taken = register(&world, &ann, "k2", "Laptop").await.unwrap_err();
        assert!(matches!(taken, DomainError::PasskeyTaken(_)), "{taken:?}");
        for bad in ["", "   ", "a\nb", &"x".repeat(65)] {
            let refused = register(&world, &ann, "k3", bad).await.unwrap_err();
            assert!(matches!(refused, DomainError::InvalidInput(_)), "{bad:?}");
        }
        let passkeys = world.services().passkeys;
        passkeys.rename(ann.id, "Laptop", "Work laptop").await.unwrap();
        assert!(matches!(
            passkeys.rename(ann.id, "Laptop", "x").await,
            Err(DomainError::UnknownPasskey(_))
        ));
        // Ann has a password: her only passkey may go.
        passkeys.remove(&ann, "Work laptop", false).await.unwrap();
        let no_password = User {
            password_hash: None,
            ..ann.clone()
        };
        register(&world, &no_password, "k4", "Phone").await.unwrap();
        assert!(matches!(
            passkeys.remove(&no_password, "Phone", false).await,
            Err(DomainError::LastWayIn)
        ));
        passkeys.remove(&no_password, "Phone", true).await.unwrap();
        assert!(world.passkeys_of(ann.id).is_empty());
        let removed = world
            .audited()
            .into_iter()
            .filter(|(kind, _, _)| *kind == AuditKind::PasskeyRemoved)
            .count();
        assert_eq!(removed, 2);
    }
}
