//! A world for the services' unit tests: mockall doubles of every port, each
//! answering from one shared in-memory state, so that a test states what
//! happened ("the account is locked", "the token is revoked") instead of the
//! order of port calls. The rate limiter applies `model::RateState`'s
//! transitions, the reference the real adapters are tested against.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::error::{HashError, StoreError, UniqueField};
use crate::model::{
    AccountState, AdminToken, Admission, AssertedCredential, AuditEvent, AuditKind, BankIdCollect,
    BankIdError, BankIdOrder, CeremonyStart, DirectoryCapabilities, DirectoryEntry, DirectoryVerdict,
    HashProfile, IdentityLink, Invalidation, OpenIdError, OpenIdIdentity, OpenIdRequest, PasskeyError,
    ProviderClient, RateState, Role, StoredPasskey, StoredTotp, TokenHash, TokenId, TokenRecord, TotpParams,
    TotpProvisioning, User, UserFields, UserId, VerifiedAssertion, VerifiedCredential,
};
use crate::ports::{
    InvalidationListener, MockAccountStates, MockAdminTokenStore, MockAuditLog, MockBankIdProvider,
    MockClock, MockInvalidations, MockKeyPairGenerator, MockMailer, MockOpenIdProvider,
    MockPasskeyCeremonies, MockPasskeyStore, MockPasswordHasher, MockPayloadSigner, MockRateLimiter,
    MockSecondFactorStore, MockSecretCipher, MockSessionTokens, MockTokenCatalog, MockTokenMint,
    MockTotpGenerator, MockUserDirectory, OpenIdProvider, OutgoingEmail, PasswordCheck, PayloadSigner,
    Verification,
};
use crate::services::{
    AccessTokenFormat, AttemptRules, CacheSettings, CompletionPolicy, EmailLanguage, OpenIdProviderPolicy,
    OpenIdSettings, PayloadSettings, Ports, ProviderSettings, RegistrationSettings, Services, Settings,
};

#[derive(Default)]
struct State {
    now: DateTime<Utc>,
    entries: Vec<DirectoryEntry>,
    next_entry: u64,
    accounts: HashMap<i64, AccountState>,
    sealed_keys: HashMap<i64, String>,
    next_account: i64,
    tokens: HashMap<String, TokenRecord>,
    next_token: i64,
    token_lookups: usize,
    touches: usize,
    directory_lookups: usize,
    limits: HashMap<String, RateState>,
    totp: HashMap<i64, StoredTotp>,
    recovery: HashMap<i64, Vec<(String, bool)>>,
    verifications: Vec<String>,
    hashes_made: usize,
    hasher_busy: bool,
    hash_times: HashMap<String, std::time::Duration>,
    session_numbers: Vec<i32>,
    mints: u64,
    mails: Vec<OutgoingEmail>,
    mail_fails: bool,
    bankid_started: Vec<(String, String)>,
    bankid_script: Vec<BankIdCollect>,
    bankid_start_error: Option<BankIdError>,
    bankid_collect_error: Option<BankIdError>,
    openid_requests: usize,
    openid_answer: Option<Result<OpenIdIdentity, OpenIdError>>,
    openid_sends_iss: bool,
    openid_exchanges: Vec<(String, String, String, String)>,
    published: Vec<Invalidation>,
    channel_down: bool,
    audit: Vec<AuditEvent>,
    identities: Vec<IdentityLink>,
    /// A directory that checks passwords itself: each entry's password, and
    /// the state that refuses it whatever the password.
    directory_passwords: HashMap<String, String>,
    directory_refusals: HashMap<String, DirectoryVerdict>,
    password_checks: usize,
    passkeys: Vec<StoredPasskey>,
    next_passkey: i64,
    next_handle: u64,
    admin_tokens: Vec<AdminToken>,
}

/// Shared state behind every double, and the settings of the services built.
pub struct World {
    state: Arc<Mutex<State>>,
    /// What the invalidation channel delivers to: the services' cache.
    listeners: Arc<Mutex<Vec<InvalidationListener>>>,
    settings: Mutex<Settings>,
    read_only: bool,
    /// The directory checks and sets passwords itself, as LDAP does.
    checks_passwords: bool,
}

fn new_account(state: &mut State, directory: &str, external_id: &str) -> AccountState {
    state.next_account += 1;
    let account = AccountState {
        user_id: UserId(state.next_account),
        directory: directory.to_owned(),
        external_id: external_id.to_owned(),
        role: Role::User,
        disabled: false,
        email_verified_at: None,
        last_login_at: None,
        public_key: None,
        created_at: state.now,
        updated_at: state.now,
        version: 1,
        scim_external_id: None,
    };
    state.accounts.insert(state.next_account, account.clone());
    account
}

impl World {
    /// The hash every unknown user is verified against.
    pub const DUMMY_HASH: &'static str = "hash:\u{0}no one's password:current";
    /// The test directory's name.
    pub const DIRECTORY: &'static str = "test";

    /// A writable directory and the default rules.
    pub fn new() -> Self {
        Self::build(false, Settings::default())
    }

    /// A directory that refuses (panics at) every write.
    pub fn read_only() -> Self {
        Self::build(true, Settings::default())
    }

    /// Limen as an OpenID Provider with two clients: `wiki` (confidential,
    /// secret `wiki-secret`, PKCE required) and `cli` (public, a loopback
    /// redirect, RS256 ID tokens); ID tokens are "<alg>:<claims>".
    pub fn with_provider() -> Self {
        Self::with_provider_settings(|_| {})
    }

    /// `with_provider`, its settings changed by `change`.
    pub fn with_provider_settings(change: impl FnOnce(&mut ProviderSettings)) -> Self {
        let client = |client_id: &str, secret: Option<&str>, redirect: &str| ProviderClient {
            client_id: client_id.into(),
            secret_digest: secret.map(|secret| TokenHash(format!("digest:{secret}"))),
            redirect_uris: vec![redirect.into()],
            scopes: vec![
                "openid".into(),
                "email".into(),
                "profile".into(),
                "offline_access".into(),
            ],
            require_pkce: true,
            id_token_alg: None,
            post_logout_redirect_uris: vec![format!("https://{client_id}.example/bye")],
        };
        let mut provider = ProviderSettings {
            issuer: "https://login.example/oidc".into(),
            site_name: "Example".into(),
            clients: vec![
                client("wiki", Some("wiki-secret"), "https://wiki.example/cb"),
                ProviderClient {
                    id_token_alg: Some("RS256".into()),
                    ..client("cli", None, "http://127.0.0.1/cb")
                },
            ],
            default_alg: "ES256".into(),
            code_ttl: Duration::seconds(60),
            access_token_ttl: Duration::minutes(10),
            id_token_ttl: Duration::minutes(5),
            refresh_token_ttl: Duration::days(30),
            session_ttl: Duration::hours(8),
            access_token_format: AccessTokenFormat::Opaque,
        };
        change(&mut provider);
        Self::build(
            false,
            Settings {
                provider: Some(provider),
                ..Settings::default()
            },
        )
    }

    /// Default rules but this completion policy.
    pub fn with_policy(policy: CompletionPolicy) -> Self {
        Self::build(
            false,
            Settings {
                completion: policy,
                ..Settings::default()
            },
        )
    }

    /// Limen's public URL, the `iss` of OpenID payloads.
    pub const ISSUER: &'static str = "https://login.example";

    /// Changes the settings of the services built from now on.
    pub fn change_settings(&self, change: impl FnOnce(&mut Settings)) {
        change(&mut self.settings.lock().unwrap());
    }

    /// The consumers OpenID logins may return to.
    pub const CONSUMERS: [&'static str; 2] = ["https://portal.example/back", "https://other.example/cb"];

    /// Default rules and these OpenID providers (the first is the default).
    pub fn with_openid(providers: Vec<OpenIdProviderPolicy>) -> Self {
        Self::build(
            false,
            Settings {
                openid: OpenIdSettings {
                    providers,
                    consumer_urls: Self::CONSUMERS.iter().map(|url| (*url).to_owned()).collect(),
                    payload: PayloadSettings {
                        issuer: Self::ISSUER.into(),
                        ttl: Duration::minutes(2),
                        user_fields: UserFields::default(),
                        token_ttl: None,
                    },
                },
                ..Settings::default()
            },
        )
    }

    /// A directory that refuses every write, and these OpenID providers.
    pub fn read_only_with_openid(providers: Vec<OpenIdProviderPolicy>) -> Self {
        let world = Self::with_openid(providers);
        Self {
            read_only: true,
            ..world
        }
    }

    /// Default rules and a cache of validated tokens.
    pub fn with_cache(bounds: CacheSettings) -> Self {
        Self::build(
            false,
            Settings {
                validation_cache: Some(bounds),
                ..Settings::default()
            },
        )
    }

    /// Default rules changed by `change`.
    pub fn with_rules(change: impl FnOnce(&mut AttemptRules)) -> Self {
        let mut settings = Settings::default();
        change(&mut settings.attempts);
        Self::build(false, settings)
    }

    fn build(read_only: bool, mut settings: Settings) -> Self {
        settings.registration = RegistrationSettings {
            verification_url: "https://login.example/verify?token={token}".into(),
            verification_ttl: Duration::hours(24),
            site_name: "Gradido".into(),
            language: EmailLanguage::English,
        };
        let state = State {
            now: Utc
                .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                .single()
                .unwrap_or_default(),
            ..State::default()
        };
        Self {
            state: Arc::new(Mutex::new(state)),
            listeners: Arc::default(),
            settings: Mutex::new(settings),
            read_only,
            checks_passwords: false,
        }
    }

    /// A directory that keeps no hash Limen reads and checks passwords
    /// itself, as LDAP does; it takes new passwords as such. A user's
    /// password is `pw-<name>`; a new password containing "reused" is turned
    /// down by its policy.
    pub fn checking_passwords() -> Self {
        Self {
            checks_passwords: true,
            ..Self::build(true, Settings::default())
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// The services over fresh doubles of the shared state.
    pub fn services(&self) -> Services {
        let settings = self.settings.lock().unwrap().clone();
        Services::new(self.ports(), settings)
    }

    fn ports(&self) -> Ports {
        Ports {
            directory: Arc::new(self.directory()),
            accounts: Arc::new(self.accounts()),
            tokens: Arc::new(self.tokens()),
            catalog: Arc::new(self.catalog()),
            factors: Arc::new(self.factors()),
            passkeys: Arc::new(self.passkey_store()),
            passkey_ceremonies: Some(Arc::new(passkey_ceremonies(self.state.clone()))),
            lockouts: Arc::new(self.limiter()),
            throttles: Arc::new(self.limiter()),
            hasher: Arc::new(self.hasher()),
            mint: Arc::new(self.mint()),
            clock: Arc::new(self.clock()),
            totp: Arc::new(totp()),
            cipher: Arc::new(cipher()),
            keys: Arc::new(keys()),
            mailer: Arc::new(self.mailer()),
            bankid: Some(Arc::new(self.bankid())),
            openid: self.openid(),
            payload_signers: Self::CONSUMERS
                .iter()
                .map(|url| {
                    (
                        (*url).to_owned(),
                        Arc::new(payload_signer()) as Arc<dyn PayloadSigner>,
                    )
                })
                .collect(),
            provider_signers: if self.settings.lock().unwrap().provider.is_some() {
                ["ES256", "RS256"]
                    .into_iter()
                    .map(|alg| {
                        let mut signer = MockPayloadSigner::new();
                        signer
                            .expect_sign()
                            .returning(move |payload| format!("{alg}:{}", String::from_utf8_lossy(payload)));
                        signer
                            .expect_public_jwk()
                            .returning(move || Some(format!(r#"{{"alg":"{alg}"}}"#)));
                        signer.expect_verify().returning(move |jws| {
                            jws.strip_prefix(&format!("{alg}:"))
                                .map(|claims| claims.as_bytes().to_vec())
                        });
                        // Typed: "<alg>+<typ>.<base64url claims>.", shaped as a JWS.
                        signer.expect_sign_typed().returning(move |typ, payload| {
                            format!("{alg}+{typ}.{}.", URL_SAFE_NO_PAD.encode(payload))
                        });
                        signer.expect_verify_typed().returning(move |typ, jws| {
                            jws.strip_prefix(&format!("{alg}+{typ}."))
                                .and_then(|rest| rest.strip_suffix('.'))
                                .and_then(|claims| URL_SAFE_NO_PAD.decode(claims).ok())
                        });
                        (alg.to_owned(), Arc::new(signer) as Arc<dyn PayloadSigner>)
                    })
                    .collect()
            } else {
                BTreeMap::new()
            },
            provider_retired_keys: Vec::new(),
            invalidations: Arc::new(self.invalidations()),
            audit: Arc::new(self.audit_log()),
            admin_tokens: Arc::new(self.admin_tokens()),
        }
    }

    fn admin_tokens(&self) -> MockAdminTokenStore {
        let mut store = MockAdminTokenStore::new();
        let state = self.state.clone();
        store.expect_create().returning(move |new| {
            let mut state = state.lock().unwrap();
            if state.admin_tokens.iter().any(|token| token.name == new.name) {
                return Err(StoreError::Duplicate(UniqueField::AdminTokenName));
            }
            let token = AdminToken {
                id: i64::try_from(state.admin_tokens.len()).unwrap_or(0) + 1,
                name: new.name.clone(),
                hash: new.hash.clone(),
                scopes: new.scopes.clone(),
                created_at: new.created_at,
                expires_at: new.expires_at,
                last_used_at: None,
                revoked_at: None,
            };
            state.admin_tokens.push(token.clone());
            Ok(token)
        });
        let state = self.state.clone();
        store.expect_find().returning(move |hash| {
            let state = state.lock().unwrap();
            Ok(state
                .admin_tokens
                .iter()
                .find(|token| &token.hash == hash)
                .cloned())
        });
        let state = self.state.clone();
        store.expect_list().returning(move || {
            let state = state.lock().unwrap();
            Ok(state.admin_tokens.iter().rev().cloned().collect())
        });
        let state = self.state.clone();
        store.expect_revoke().returning(move |name, at| {
            let mut state = state.lock().unwrap();
            let live = state
                .admin_tokens
                .iter_mut()
                .find(|token| token.name == name && token.revoked_at.is_none());
            Ok(live.map(|token| token.revoked_at = Some(at)).is_some())
        });
        let state = self.state.clone();
        store.expect_touch().returning(move |id, at| {
            let mut state = state.lock().unwrap();
            if let Some(token) = state.admin_tokens.iter_mut().find(|token| token.id == id) {
                token.last_used_at = Some(at);
            }
            Ok(())
        });
        store
    }

    fn clock(&self) -> MockClock {
        let state = self.state.clone();
        let mut clock = MockClock::new();
        clock.expect_now().returning(move || state.lock().unwrap().now);
        clock
    }

    fn directory(&self) -> MockUserDirectory {
        let mut directory = MockUserDirectory::new();
        directory.expect_name().return_const(Self::DIRECTORY.to_owned());
        directory
            .expect_capabilities()
            .return_const(if self.checks_passwords {
                DirectoryCapabilities {
                    checks_passwords: true,
                    set_password: true,
                    ..DirectoryCapabilities::READ_ONLY
                }
            } else if self.read_only {
                DirectoryCapabilities::READ_ONLY
            } else {
                DirectoryCapabilities::ALL
            });
        let find = |state: Arc<Mutex<State>>, matches: fn(&DirectoryEntry, &str) -> bool| {
            move |key: &str| {
                let mut state = state.lock().unwrap();
                state.directory_lookups += 1;
                Ok(state.entries.iter().find(|entry| matches(entry, key)).cloned())
            }
        };
        directory
            .expect_find_by_id()
            .returning(find(self.state.clone(), |entry, key| entry.external_id == key));
        directory
            .expect_find_by_username()
            .returning(find(self.state.clone(), |entry, key| entry.username == key));
        directory
            .expect_find_by_email()
            .returning(find(self.state.clone(), |entry, key| entry.email == key));
        directory
            .expect_find_by_personal_number()
            .returning(find(self.state.clone(), |entry, key| {
                entry.personal_number.as_deref() == Some(key)
            }));
        let state = self.state.clone();
        directory.expect_list().returning(move |after, limit| {
            let state = state.lock().unwrap();
            let mut entries: Vec<_> = state
                .entries
                .iter()
                .filter(|entry| after.as_ref().is_none_or(|after| &entry.external_id > after))
                .cloned()
                .collect();
            entries.sort_by(|a, b| a.external_id.cmp(&b.external_id));
            entries.truncate(limit as usize);
            Ok(entries)
        });
        if self.checks_passwords {
            let state = self.state.clone();
            directory.expect_check_password().returning(move |id, password| {
                let mut state = state.lock().unwrap();
                state.password_checks += 1;
                if let Some(refusal) = state.directory_refusals.get(id) {
                    return Ok(*refusal);
                }
                Ok(match state.directory_passwords.get(id) {
                    Some(known) if known == password.expose() => DirectoryVerdict::Match,
                    _ => DirectoryVerdict::Mismatch,
                })
            });
            let state = self.state.clone();
            directory.expect_set_password().returning(move |id, password| {
                if password.expose().contains("reused") {
                    return Err(StoreError::Refused("password in history".into()));
                }
                let mut state = state.lock().unwrap();
                state
                    .directory_passwords
                    .insert(id.to_owned(), password.expose().to_owned());
                Ok(())
            });
        }
        if self.read_only {
            directory
                .expect_create()
                .returning(|_| panic!("a read-only directory was asked to create a user"));
            directory
                .expect_set_password_hash()
                .returning(|_, _| panic!("a read-only directory was asked to store a hash"));
            directory
                .expect_delete()
                .returning(|_| panic!("a read-only directory was asked to delete a user"));
            directory
                .expect_update_profile()
                .returning(|_, _| Err(StoreError::ReadOnly));
            return directory;
        }
        let state = self.state.clone();
        directory.expect_create().returning(move |new| {
            let mut state = state.lock().unwrap();
            if state.entries.iter().any(|entry| entry.username == new.username) {
                return Err(StoreError::Duplicate(UniqueField::Username));
            }
            if state.entries.iter().any(|entry| entry.email == new.email) {
                return Err(StoreError::Duplicate(UniqueField::Email));
            }
            state.next_entry += 1;
            let entry = DirectoryEntry {
                external_id: format!("ext-{:03}", state.next_entry),
                username: new.username,
                email: new.email,
                first_name: new.first_name,
                last_name: new.last_name,
                personal_number: new.personal_number,
                password_hash: new.password_hash,
                enabled: true,
                created_at: Some(new.created_at),
                read_at: None,
            };
            state.entries.push(entry.clone());
            Ok(entry)
        });
        let state = self.state.clone();
        directory.expect_set_password_hash().returning(move |id, hash| {
            let mut state = state.lock().unwrap();
            let entry = state
                .entries
                .iter_mut()
                .find(|entry| entry.external_id == id)
                .ok_or(StoreError::NotFound)?;
            entry.password_hash = Some(hash.to_owned());
            Ok(())
        });
        let state = self.state.clone();
        directory.expect_update_profile().returning(move |id, change| {
            let mut state = state.lock().unwrap();
            if let Some(email) = &change.email
                && state
                    .entries
                    .iter()
                    .any(|entry| entry.email == *email && entry.external_id != id)
            {
                return Err(StoreError::Duplicate(UniqueField::Email));
            }
            let entry = state
                .entries
                .iter_mut()
                .find(|entry| entry.external_id == id)
                .ok_or(StoreError::NotFound)?;
            if let Some(username) = &change.username {
                entry.username.clone_from(username);
            }
            if let Some(email) = &change.email {
                entry.email.clone_from(email);
            }
            if let Some(first_name) = &change.first_name {
                entry.first_name.clone_from(first_name);
            }
            if let Some(last_name) = &change.last_name {
                entry.last_name.clone_from(last_name);
            }
            if let Some(personal_number) = &change.personal_number {
                entry.personal_number.clone_from(personal_number);
            }
            Ok(entry.clone())
        });
        let state = self.state.clone();
        directory.expect_delete().returning(move |id| {
            state
                .lock()
                .unwrap()
                .entries
                .retain(|entry| entry.external_id != id);
            Ok(())
        });
        directory
    }

    fn accounts(&self) -> MockAccountStates {
        let mut accounts = MockAccountStates::new();
        let state = self.state.clone();
        accounts
            .expect_link()
            .returning(move |directory, external_id, _| {
                let mut state = state.lock().unwrap();
                let found = state
                    .accounts
                    .values()
                    .find(|account| account.directory == directory && account.external_id == external_id)
                    .cloned();
                Ok(found.unwrap_or_else(|| new_account(&mut state, directory, external_id)))
            });
        let state = self.state.clone();
        accounts
            .expect_find()
            .returning(move |id| Ok(state.lock().unwrap().accounts.get(&id.0).cloned()));
        let state = self.state.clone();
        accounts
            .expect_find_by_scim_external_id()
            .returning(move |external| {
                let state = state.lock().unwrap();
                let mut found: Vec<UserId> = state
                    .accounts
                    .values()
                    .filter(|account| account.scim_external_id.as_deref() == Some(external))
                    .map(|account| account.user_id)
                    .collect();
                found.sort();
                Ok(found)
            });
        let state = self.state.clone();
        accounts.expect_update().returning(move |id, patch, at| {
            let mut state = state.lock().unwrap();
            if let Some(pair) = &patch.key_pair {
                state.sealed_keys.insert(id.0, pair.sealed_private.clone());
            }
            let account = state.accounts.get_mut(&id.0).ok_or(StoreError::NotFound)?;
            if patch
                .expected_version
                .is_some_and(|version| version != account.version)
            {
                return Err(StoreError::Stale);
            }
            account.updated_at = at;
            account.version += 1;
            if let Some(external) = patch.scim_external_id {
                account.scim_external_id = external;
            }
            if let Some(role) = patch.role {
                account.role = role;
            }
            if let Some(disabled) = patch.disabled {
                account.disabled = disabled;
            }
            if let Some(at) = patch.email_verified_at {
                account.email_verified_at = Some(at);
            }
            if let Some(pair) = patch.key_pair {
                account.public_key = Some(pair.public_hex);
            }
            Ok(())
        });
        let state = self.state.clone();
        accounts.expect_record_login().returning(move |id, at| {
            let mut state = state.lock().unwrap();
            let account = state.accounts.get_mut(&id.0).ok_or(StoreError::NotFound)?;
            account.last_login_at = Some(at);
            account.version += 1;
            Ok(())
        });
        let state = self.state.clone();
        accounts.expect_delete().returning(move |id| {
            let mut state = state.lock().unwrap();
            state.accounts.remove(&id.0);
            state.sealed_keys.remove(&id.0);
            state.identities.retain(|link| link.user_id != id);
            Ok(())
        });
        let state = self.state.clone();
        accounts.expect_list_sealed_keys().returning(move || {
            let state = state.lock().unwrap();
            Ok(state
                .sealed_keys
                .iter()
                .map(|(id, sealed)| (UserId(*id), sealed.clone()))
                .collect())
        });
        let state = self.state.clone();
        accounts
            .expect_replace_sealed_key()
            .returning(move |id, old, new| {
                let mut state = state.lock().unwrap();
                match state.sealed_keys.get_mut(&id.0) {
                    Some(sealed) if sealed == old => {
                        *sealed = new.to_owned();
                        Ok(true)
                    }
                    _ => Ok(false),
                }
            });
        let state = self.state.clone();
        accounts.expect_find_identity().returning(move |issuer, subject| {
            let state = state.lock().unwrap();
            Ok(state
                .identities
                .iter()
                .find(|link| link.issuer == issuer && link.subject == subject)
                .map(|link| link.user_id))
        });
        let state = self.state.clone();
        accounts.expect_add_identity().returning(move |link| {
            let mut state = state.lock().unwrap();
            let taken = state.identities.iter().any(|each| {
                each.issuer == link.issuer && (each.subject == link.subject || each.user_id == link.user_id)
            });
            if !taken {
                state.identities.push(link.clone());
            }
            Ok(!taken)
        });
        let state = self.state.clone();
        accounts.expect_identities().returning(move |user| {
            let state = state.lock().unwrap();
            Ok(state
                .identities
                .iter()
                .filter(|link| link.user_id == user)
                .cloned()
                .collect())
        });
        let state = self.state.clone();
        accounts.expect_remove_identity().returning(move |user, issuer| {
            let mut state = state.lock().unwrap();
            let before = state.identities.len();
            state
                .identities
                .retain(|link| !(link.user_id == user && link.issuer == issuer));
            Ok(state.identities.len() < before)
        });
        accounts
    }

    fn tokens(&self) -> MockSessionTokens {
        let mut tokens = MockSessionTokens::new();
        let state = self.state.clone();
        tokens.expect_issue().returning(move |new| {
            let mut state = state.lock().unwrap();
            if state.tokens.contains_key(&new.hash.0) {
                return Err(StoreError::Duplicate(UniqueField::Token));
            }
            state.next_token += 1;
            let record = TokenRecord {
                id: TokenId(state.next_token),
                user_id: new.user_id,
                kind: new.kind,
                hash: new.hash.clone(),
                created_at: new.created_at,
                expires_at: new.expires_at,
                last_used_at: None,
                revoked_at: None,
                attributes: new.attributes,
                enabled: true,
                version: 0,
            };
            state.tokens.insert(new.hash.0, record.clone());
            Ok(record)
        });
        let state = self.state.clone();
        tokens.expect_find().returning(move |hash| {
            let mut state = state.lock().unwrap();
            state.token_lookups += 1;
            Ok(state.tokens.get(&hash.0).cloned())
        });
        let state = self.state.clone();
        tokens.expect_touch().returning(move |hash, at| {
            let mut state = state.lock().unwrap();
            state.touches += 1;
            if let Some(token) = state.tokens.get_mut(&hash.0) {
                token.last_used_at = Some(at);
            }
            Ok(())
        });
        let state = self.state.clone();
        tokens.expect_revoke().returning(move |hash, at| {
            let mut state = state.lock().unwrap();
            match state.tokens.get_mut(&hash.0) {
                Some(token) if token.revoked_at.is_none() => {
                    token.revoked_at = Some(at);
                    Ok(true)
                }
                _ => Ok(false),
            }
        });
        let state = self.state.clone();
        tokens
            .expect_revoke_all_for_user()
            .returning(move |user, except, at| {
                let mut state = state.lock().unwrap();
                let mut count = 0;
                for token in state.tokens.values_mut() {
                    let kept = except.as_ref() == Some(&token.hash);
                    if token.user_id == user && token.revoked_at.is_none() && token.expires_at > at && !kept {
                        token.revoked_at = Some(at);
                        count += 1;
                    }
                }
                Ok(count)
            });
        let state = self.state.clone();
        tokens.expect_consume().returning(move |hash, kind, at| {
            let mut state = state.lock().unwrap();
            match state.tokens.get_mut(&hash.0) {
                Some(token) if token.kind == kind && token.is_live_at(at) => {
                    token.revoked_at = Some(at);
                    Ok(Some(token.clone()))
                }
                _ => Ok(None),
            }
        });
        let state = self.state.clone();
        tokens.expect_delete_all_for_user().returning(move |user| {
            let mut state = state.lock().unwrap();
            let before = state.tokens.len();
            state.tokens.retain(|_, token| token.user_id != user);
            Ok((before - state.tokens.len()) as u64)
        });
        tokens
    }

    fn catalog(&self) -> MockTokenCatalog {
        let mut catalog = MockTokenCatalog::new();
        let state = self.state.clone();
        catalog.expect_list_for_user().returning(move |user, kind| {
            let state = state.lock().unwrap();
            let mut found: Vec<_> = state
                .tokens
                .values()
                .filter(|token| token.user_id == user && token.kind == kind)
                .cloned()
                .collect();
            found.sort_by_key(|token| std::cmp::Reverse(token.id.0));
            Ok(found)
        });
        let state = self.state.clone();
        catalog.expect_find_by_id().returning(move |id| {
            let state = state.lock().unwrap();
            Ok(state.tokens.values().find(|token| token.id == id).cloned())
        });
        let state = self.state.clone();
        catalog.expect_set_enabled().returning(move |id, enabled| {
            let mut state = state.lock().unwrap();
            let token = state
                .tokens
                .values_mut()
                .find(|token| token.id == id)
                .ok_or(StoreError::NotFound)?;
            token.enabled = enabled;
            token.version += 1;
            Ok(())
        });
        catalog
    }

    /// The passkeys in the shared state, with the SQL store's uniqueness.
    fn passkey_store(&self) -> MockPasskeyStore {
        let mut store = MockPasskeyStore::new();
        let state = self.state.clone();
        store.expect_add().returning(move |passkey| {
            let mut state = state.lock().unwrap();
            if state
                .passkeys
                .iter()
                .any(|p| p.credential_id == passkey.credential_id)
            {
                return Err(StoreError::Duplicate(UniqueField::Credential));
            }
            if state
                .passkeys
                .iter()
                .any(|p| p.user_id == passkey.user_id && p.name == passkey.name)
            {
                return Err(StoreError::Duplicate(UniqueField::PasskeyName));
            }
            state.next_passkey += 1;
            let stored = StoredPasskey {
                id: state.next_passkey,
                ..passkey.clone()
            };
            state.passkeys.push(stored.clone());
            Ok(stored)
        });
        let state = self.state.clone();
        store.expect_list_for_user().returning(move |user| {
            Ok(state
                .lock()
                .unwrap()
                .passkeys
                .iter()
                .filter(|p| p.user_id == user)
                .cloned()
                .collect())
        });
        let state = self.state.clone();
        store.expect_find_by_credential().returning(move |id| {
            Ok(state
                .lock()
                .unwrap()
                .passkeys
                .iter()
                .find(|p| p.credential_id == id)
                .cloned())
        });
        let state = self.state.clone();
        store.expect_record_use().returning(move |id, credential, at| {
            let mut state = state.lock().unwrap();
            let passkey = state
                .passkeys
                .iter_mut()
                .find(|p| p.id == id)
                .ok_or(StoreError::NotFound)?;
            passkey.last_used_at = Some(at);
            if let Some(credential) = credential {
                passkey.credential = credential;
            }
            Ok(())
        });
        let state = self.state.clone();
        store.expect_rename().returning(move |user, name, new_name| {
            let mut state = state.lock().unwrap();
            if state
                .passkeys
                .iter()
                .any(|p| p.user_id == user && p.name == new_name)
            {
                return Err(StoreError::Duplicate(UniqueField::PasskeyName));
            }
            Ok(
                match state
                    .passkeys
                    .iter_mut()
                    .find(|p| p.user_id == user && p.name == name)
                {
                    Some(passkey) => {
                        passkey.name = new_name.to_owned();
                        true
                    }
                    None => false,
                },
            )
        });
        let state = self.state.clone();
        store.expect_remove().returning(move |user, name| {
            let mut state = state.lock().unwrap();
            let before = state.passkeys.len();
            state.passkeys.retain(|p| !(p.user_id == user && p.name == name));
            Ok(state.passkeys.len() < before)
        });
        let state = self.state.clone();
        store.expect_remove_all_for_user().returning(move |user| {
            let mut state = state.lock().unwrap();
            let before = state.passkeys.len();
            state.passkeys.retain(|p| p.user_id != user);
            Ok((before - state.passkeys.len()) as u64)
        });
        store
    }

    /// The user's passkeys as stored.
    pub fn passkeys_of(&self, user: UserId) -> Vec<StoredPasskey> {
        self.lock()
            .passkeys
            .iter()
            .filter(|p| p.user_id == user)
            .cloned()
            .collect()
    }

    fn factors(&self) -> MockSecondFactorStore {
        let mut factors = MockSecondFactorStore::new();
        let state = self.state.clone();
        factors
            .expect_find_totp()
            .returning(move |user| Ok(state.lock().unwrap().totp.get(&user.0).cloned()));
        let state = self.state.clone();
        factors.expect_put_pending_totp().returning(move |user, totp| {
            state.lock().unwrap().totp.insert(user.0, totp.clone());
            Ok(())
        });
        let state = self.state.clone();
        factors
            .expect_confirm_totp()
            .returning(move |user, step, hashes, _| {
                let mut state = state.lock().unwrap();
                let totp = state.totp.get_mut(&user.0).ok_or(StoreError::NotFound)?;
                totp.confirmed = true;
                totp.last_used_step = Some(step);
                state
                    .recovery
                    .insert(user.0, hashes.into_iter().map(|hash| (hash, false)).collect());
                Ok(())
            });
        let state = self.state.clone();
        factors.expect_claim_totp_step().returning(move |user, step| {
            let mut state = state.lock().unwrap();
            let totp = state.totp.get_mut(&user.0).ok_or(StoreError::NotFound)?;
            if totp.last_used_step.is_some_and(|last| step <= last) {
                return Ok(false);
            }
            totp.last_used_step = Some(step);
            Ok(true)
        });
        let state = self.state.clone();
        factors.expect_delete_totp().returning(move |user| {
            let mut state = state.lock().unwrap();
            state.totp.remove(&user.0);
            state.recovery.remove(&user.0);
            Ok(())
        });
        let state = self.state.clone();
        factors.expect_list_sealed_secrets().returning(move || {
            let state = state.lock().unwrap();
            Ok(state
                .totp
                .iter()
                .map(|(id, totp)| (UserId(*id), totp.sealed_secret.clone()))
                .collect())
        });
        let state = self.state.clone();
        factors
            .expect_replace_sealed_secret()
            .returning(move |user, old, new| {
                let mut state = state.lock().unwrap();
                match state.totp.get_mut(&user.0) {
                    Some(totp) if totp.sealed_secret == old => {
                        totp.sealed_secret = new.to_owned();
                        Ok(true)
                    }
                    _ => Ok(false),
                }
            });
        let state = self.state.clone();
        factors
            .expect_use_recovery_code()
            .returning(move |user, hash, _| {
                let mut state = state.lock().unwrap();
                let codes = state.recovery.entry(user.0).or_default();
                match codes.iter_mut().find(|(stored, used)| stored == hash && !*used) {
                    Some(code) => {
                        code.1 = true;
                        Ok(true)
                    }
                    None => Ok(false),
                }
            });
        factors
    }

    fn limiter(&self) -> MockRateLimiter {
        let mut limiter = MockRateLimiter::new();
        let state = self.state.clone();
        limiter.expect_admit().returning(move |key, rule, now| {
            let mut state = state.lock().unwrap();
            match RateState::admit(state.limits.get(key), rule, now) {
                Ok(next) => {
                    state.limits.insert(key.to_owned(), next);
                    Ok(Admission::Admitted)
                }
                Err(refused) => Ok(refused),
            }
        });
        let state = self.state.clone();
        limiter.expect_settle_failure().returning(move |key, rule, now| {
            let mut state = state.lock().unwrap();
            let Some(current) = state.limits.get(key).copied() else {
                return Ok(None);
            };
            let (next, block) = current.settle_failure(rule, now);
            state.limits.insert(key.to_owned(), next);
            Ok(block)
        });
        let state = self.state.clone();
        limiter.expect_refund().returning(move |key, rule, now| {
            let mut state = state.lock().unwrap();
            if let Some(current) = state.limits.get(key).copied() {
                state.limits.insert(key.to_owned(), current.refund(rule, now));
            }
            Ok(())
        });
        let state = self.state.clone();
        limiter.expect_clear().returning(move |key, now| {
            let mut state = state.lock().unwrap();
            match state.limits.get(key).and_then(|current| current.clear(now)) {
                Some(kept) => state.limits.insert(key.to_owned(), kept),
                None => state.limits.remove(key),
            };
            Ok(())
        });
        let state = self.state.clone();
        limiter.expect_reset().returning(move |key| {
            state.lock().unwrap().limits.remove(key);
            Ok(())
        });
        let state = self.state.clone();
        limiter
            .expect_state()
            .returning(move |key| Ok(state.lock().unwrap().limits.get(key).copied()));
        limiter.expect_purge_expired().returning(|_| Ok(0));
        limiter
    }

    fn hasher(&self) -> MockPasswordHasher {
        let mut hasher = MockPasswordHasher::new();
        hasher
            .expect_dummy_hash()
            .return_const(Self::DUMMY_HASH.to_owned());
        let state = self.state.clone();
        hasher.expect_hash().returning(move |password| {
            state.lock().unwrap().hashes_made += 1;
            Ok(format!("hash:{}:current", password.expose()))
        });
        // A hash `hash:<password>:<profile>` checks in the time set for its
        // profile; `unusable:<reason>` is refused by `inspect`.
        let inspect = |hash: &str| -> Result<(String, String), HashError> {
            if let Some(reason) = hash.strip_prefix("unusable:") {
                return Err(HashError::Unusable(reason.to_owned()));
            }
            let rest = hash
                .strip_prefix("hash:")
                .ok_or_else(|| HashError::Unusable(format!("not a test hash: {hash}")))?;
            let (right, profile) = rest.rsplit_once(':').unwrap_or((rest, "current"));
            Ok((right.to_owned(), profile.to_owned()))
        };
        hasher
            .expect_inspect()
            .returning(move |hash| inspect(hash).map(|(_, profile)| HashProfile(profile)));
        let state = self.state.clone();
        hasher.expect_verify().returning(move |password, hash| {
            let mut state = state.lock().unwrap();
            if state.hasher_busy {
                return Err(HashError::Busy);
            }
            let (right, profile) = inspect(hash)?;
            state.verifications.push(hash.to_owned());
            let check = if right == password.expose() {
                PasswordCheck::Match {
                    needs_rehash: profile != "current",
                }
            } else {
                PasswordCheck::Mismatch
            };
            let ran = state.hash_times.get(&profile).copied().unwrap_or_default();
            Ok(Verification { check, ran })
        });
        hasher
    }

    fn mint(&self) -> MockTokenMint {
        let mut mint = MockTokenMint::new();
        let state = self.state.clone();
        mint.expect_mint().returning(move || {
            let mut state = state.lock().unwrap();
            state.mints += 1;
            let plaintext = format!("token-{}", state.mints);
            let hash = TokenHash(format!("digest:{plaintext}"));
            (plaintext, hash)
        });
        let state = self.state.clone();
        mint.expect_recovery_code().returning(move || {
            let mut state = state.lock().unwrap();
            state.mints += 1;
            format!("ABCD-EFGH-IJKL-{:04}", state.mints)
        });
        let state = self.state.clone();
        mint.expect_session_number().returning(move || {
            let mut state = state.lock().unwrap();
            if state.session_numbers.is_empty() {
                state.mints += 1;
                i32::try_from(state.mints).unwrap_or(1)
            } else {
                state.session_numbers.remove(0)
            }
        });
        let state = self.state.clone();
        mint.expect_uuid().returning(move || {
            let mut state = state.lock().unwrap();
            state.mints += 1;
            format!("00000000-0000-4000-8000-{:012}", state.mints)
        });
        mint.expect_digest()
            .returning(|plaintext| TokenHash(format!("digest:{plaintext}")));
        mint
    }

    /// A BankID whose orders are numbered (`order-1`, `qr-token-1`, …) and
    /// whose collects follow the script (pending `outstandingTransaction` when
    /// it runs out); its QR codes show their HMAC's inputs.
    fn bankid(&self) -> MockBankIdProvider {
        let mut bankid = MockBankIdProvider::new();
        let state = self.state.clone();
        bankid.expect_start().returning(move |number, ip| {
            let mut state = state.lock().unwrap();
            if let Some(err) = state.bankid_start_error.take() {
                return Err(err);
            }
            state.bankid_started.push((number.to_owned(), ip.to_owned()));
            let n = state.bankid_started.len();
            Ok(BankIdOrder {
                order_ref: format!("order-{n}"),
                auto_start_token: format!("auto-{n}"),
                qr_start_token: format!("qr-token-{n}"),
                qr_start_secret: format!("qr-secret-{n}"),
            })
        });
        let state = self.state.clone();
        bankid.expect_collect().returning(move |_| {
            let mut state = state.lock().unwrap();
            if let Some(err) = state.bankid_collect_error.take() {
                return Err(err);
            }
            if state.bankid_script.is_empty() {
                return Ok(BankIdCollect::Pending {
                    hint: "outstandingTransaction".into(),
                });
            }
            Ok(state.bankid_script.remove(0))
        });
        bankid.expect_cancel().returning(|_| Ok(()));
        bankid.expect_animated_qr().returning(|order, seconds| {
            format!(
                "bankid.{}.{seconds}.hmac({})",
                order.qr_start_token, order.qr_start_secret
            )
        });
        bankid
    }

    /// An in-process channel: published changes are recorded and delivered
    /// to the subscribed caches; it can be made to go down.
    fn audit_log(&self) -> MockAuditLog {
        let mut log = MockAuditLog::new();
        let state = self.state.clone();
        log.expect_append().returning(move |event| {
            state.lock().unwrap().audit.push(event.clone());
            Ok(())
        });
        log
    }

    fn invalidations(&self) -> MockInvalidations {
        let mut channel = MockInvalidations::new();
        let (state, listeners) = (self.state.clone(), self.listeners.clone());
        channel.expect_publish().returning(move |change| {
            state.lock().unwrap().published.push(change.clone());
            for listener in listeners.lock().unwrap().iter() {
                listener(&change);
            }
            Ok(())
        });
        let listeners = self.listeners.clone();
        channel
            .expect_subscribe()
            .returning(move |listener| listeners.lock().unwrap().push(listener));
        let state = self.state.clone();
        channel
            .expect_is_live()
            .returning(move || !state.lock().unwrap().channel_down);
        channel
    }

    /// One double per configured OpenID provider: authorization requests
    /// are numbered, exchanges are recorded and answered as scripted
    /// (`openid_answers`), a refused code when nothing is.
    fn openid(&self) -> BTreeMap<String, Arc<dyn OpenIdProvider>> {
        let settings = self.settings.lock().unwrap();
        let mut providers: BTreeMap<String, Arc<dyn OpenIdProvider>> = BTreeMap::new();
        for policy in &settings.openid.providers {
            let mut provider = MockOpenIdProvider::new();
            let (state, id) = (self.state.clone(), policy.id.clone());
            provider
                .expect_authorization_request()
                .returning(move |own_state| {
                    let mut state = state.lock().unwrap();
                    state.openid_requests += 1;
                    let n = state.openid_requests;
                    Ok(OpenIdRequest {
                        url: format!("https://{id}.test/auth?state={own_state}"),
                        nonce: format!("nonce-{n}"),
                        pkce_verifier: format!("verifier-{n}"),
                        issuer_in_callback: state.openid_sends_iss,
                    })
                });
            let (state, id) = (self.state.clone(), policy.id.clone());
            provider
                .expect_identify()
                .returning(move |code, nonce, verifier| {
                    let mut state = state.lock().unwrap();
                    state.openid_exchanges.push((
                        id.clone(),
                        code.to_owned(),
                        nonce.to_owned(),
                        verifier.to_owned(),
                    ));
                    state
                        .openid_answer
                        .clone()
                        .unwrap_or_else(|| Err(OpenIdError::CodeRefused("nothing scripted".into())))
                });
            providers.insert(policy.id.clone(), Arc::new(provider));
        }
        providers
    }

    fn mailer(&self) -> MockMailer {
        let mut mailer = MockMailer::new();
        let state = self.state.clone();
        mailer.expect_send().returning(move |email| {
            let mut state = state.lock().unwrap();
            if state.mail_fails {
                return Err("connection refused".into());
            }
            state.mails.push(email);
            Ok(())
        });
        mailer
    }

    // Arranging the world.

    /// A directory user `name` (password `pw-<name>`), linked to an account.
    pub fn add_user(&self, name: &str) -> User {
        let external_id = {
            let mut state = self.lock();
            state.next_entry += 1;
            format!("ext-{:03}", state.next_entry)
        };
        let entry = self.add_directory_user(&external_id, name);
        let mut state = self.lock();
        let account = new_account(&mut state, Self::DIRECTORY, &external_id);
        User::assemble(entry, account)
    }

    /// A directory user Limen has not seen yet.
    pub fn add_directory_user(&self, external_id: &str, name: &str) -> DirectoryEntry {
        let entry = DirectoryEntry {
            external_id: external_id.to_owned(),
            username: name.to_owned(),
            email: format!("{name}@example.com"),
            first_name: Some("Ann".into()),
            last_name: None,
            personal_number: None,
            password_hash: (!self.checks_passwords).then(|| format!("hash:pw-{name}:current")),
            enabled: true,
            created_at: None,
            read_at: None,
        };
        let mut state = self.lock();
        if self.checks_passwords {
            state
                .directory_passwords
                .insert(external_id.to_owned(), format!("pw-{name}"));
        }
        state.entries.push(entry.clone());
        entry
    }

    /// A user with a personal number.
    pub fn add_user_with_personal_number(&self, name: &str, personal_number: &str) -> User {
        let user = self.add_user(name);
        self.edit_entry(&user.external_id, |entry| {
            entry.personal_number = Some(personal_number.to_owned());
        });
        User {
            personal_number: Some(personal_number.to_owned()),
            ..user
        }
    }

    /// What BankID's collects answer, in order.
    pub fn bankid_script(&self, script: &[BankIdCollect]) {
        self.lock().bankid_script = script.to_vec();
    }

    /// The next start fails so.
    pub fn bankid_start_fails(&self, err: BankIdError) {
        self.lock().bankid_start_error = Some(err);
    }

    /// What every OpenID code exchange answers from now on.
    /// The providers' discovery says their callbacks carry `iss` (RFC 9207).
    pub fn providers_send_iss(&self) {
        self.lock().openid_sends_iss = true;
    }

    pub fn openid_answers(&self, answer: Result<OpenIdIdentity, OpenIdError>) {
        self.lock().openid_answer = Some(answer);
    }

    /// Every OpenID code exchange: (provider, code, nonce, PKCE verifier).
    pub fn openid_exchanges(&self) -> Vec<(String, String, String, String)> {
        self.lock().openid_exchanges.clone()
    }

    /// The audit events recorded so far, as `(kind, user, detail)`.
    pub fn audited(&self) -> Vec<(AuditKind, Option<UserId>, Option<String>)> {
        self.lock()
            .audit
            .iter()
            .map(|event| (event.kind, event.user_id, event.detail.clone()))
            .collect()
    }

    /// Every change published on the invalidation channel.
    pub fn published(&self) -> Vec<Invalidation> {
        self.lock().published.clone()
    }

    /// Delivers `change` as if another node had published it.
    pub fn hear(&self, change: Invalidation) {
        for listener in self.listeners.lock().unwrap().iter() {
            listener(&change);
        }
    }

    /// Takes the invalidation channel down (the cache must be bypassed) or up.
    pub fn set_channel_down(&self, down: bool) {
        self.lock().channel_down = down;
        if down {
            self.hear(Invalidation::Everything);
        }
    }

    /// The next collect fails so.
    pub fn bankid_collect_fails(&self, err: BankIdError) {
        self.lock().bankid_collect_error = Some(err);
    }

    /// The (personal number, end user address) of every start BankID saw.
    pub fn bankid_started(&self) -> Vec<(String, String)> {
        self.lock().bankid_started.clone()
    }

    /// Removes a user from the directory (not from Limen's accounts).
    pub fn remove_directory_user(&self, external_id: &str) {
        self.lock()
            .entries
            .retain(|entry| entry.external_id != external_id);
    }

    /// Makes an account belong to another directory.
    pub fn move_account_to_directory(&self, user: UserId, directory: &str) {
        if let Some(account) = self.lock().accounts.get_mut(&user.0) {
            account.directory = directory.to_owned();
        }
    }

    /// Disables (or enables) the account in Limen.
    pub fn set_disabled(&self, user: UserId, disabled: bool) {
        if let Some(account) = self.lock().accounts.get_mut(&user.0) {
            account.disabled = disabled;
        }
    }

    /// Gives the account a role.
    pub fn set_role(&self, user: UserId, role: Role) {
        if let Some(account) = self.lock().accounts.get_mut(&user.0) {
            account.role = role;
        }
    }

    /// Marks the account's e-mail address verified now.
    pub fn verify_email(&self, user: UserId) {
        let mut state = self.lock();
        let now = state.now;
        if let Some(account) = state.accounts.get_mut(&user.0) {
            account.email_verified_at = Some(now);
        }
    }

    /// Removes the user's password hash.
    pub fn clear_password(&self, external_id: &str) {
        self.edit_entry(external_id, |entry| entry.password_hash = None);
    }

    /// The password a directory that checks passwords holds for an entry.
    pub fn directory_password(&self, external_id: &str) -> Option<String> {
        self.lock().directory_passwords.get(external_id).cloned()
    }

    /// The directory's own state refuses the entry (`Locked` or `Disabled`).
    pub fn refuse_in_directory(&self, external_id: &str, refusal: DirectoryVerdict) {
        self.lock()
            .directory_refusals
            .insert(external_id.to_owned(), refusal);
    }

    /// How many passwords the directory has checked.
    pub fn password_checks(&self) -> usize {
        self.lock().password_checks
    }

    /// Replaces the user's stored hash as it is.
    pub fn set_password_hash(&self, external_id: &str, hash: &str) {
        self.edit_entry(external_id, |entry| entry.password_hash = Some(hash.to_owned()));
    }

    /// How long the fake hasher takes for hashes of `profile`
    /// (`hash:<password>:<profile>`; the dummy's is `current`).
    pub fn set_hash_time(&self, profile: &str, ran: std::time::Duration) {
        self.lock().hash_times.insert(profile.to_owned(), ran);
    }

    /// Makes the user's hash one made with outdated parameters.
    pub fn mark_outdated(&self, external_id: &str) {
        self.edit_entry(external_id, |entry| {
            if let Some(hash) = &mut entry.password_hash {
                *hash = hash.replace(":current", ":outdated");
            }
        });
    }

    fn edit_entry(&self, external_id: &str, edit: impl FnOnce(&mut DirectoryEntry)) {
        if let Some(entry) = self
            .lock()
            .entries
            .iter_mut()
            .find(|entry| entry.external_id == external_id)
        {
            edit(entry);
        }
    }

    /// A confirmed TOTP enrolment (secret `secret`, no step used yet).
    pub fn enrol_totp(&self, user: UserId) {
        let mut state = self.lock();
        let now = state.now;
        state.totp.insert(
            user.0,
            StoredTotp {
                sealed_secret: format!("sealed[user:{user}]:secret"),
                params: TotpParams::default(),
                confirmed: true,
                last_used_step: None,
                created_at: now,
            },
        );
    }

    /// Stores a sealed TOTP secret as it is (an unconfirmed enrolment).
    pub fn put_sealed_secret(&self, user: UserId, sealed: &str) {
        let mut state = self.lock();
        let now = state.now;
        state.totp.insert(
            user.0,
            StoredTotp {
                sealed_secret: sealed.to_owned(),
                params: TotpParams::default(),
                confirmed: false,
                last_used_step: None,
                created_at: now,
            },
        );
    }

    /// Stores a sealed private key as it is.
    pub fn put_sealed_key(&self, user: UserId, sealed: &str) {
        self.lock().sealed_keys.insert(user.0, sealed.to_owned());
    }

    /// Sets a key's count in a window opened now.
    pub fn set_failures(&self, key: &str, hits: u32) {
        let mut state = self.lock();
        let now = state.now;
        let entry = state.limits.entry(key.to_owned()).or_insert(RateState {
            hits: 0,
            window_started_at: now,
            blocked_until: None,
        });
        entry.hits = hits;
        entry.window_started_at = now;
    }

    /// Blocks a key for `duration` from now.
    pub fn block(&self, key: &str, duration: Duration) {
        let mut state = self.lock();
        let now = state.now;
        let entry = state.limits.entry(key.to_owned()).or_insert(RateState {
            hits: 0,
            window_started_at: now,
            blocked_until: None,
        });
        entry.blocked_until = Some(now + duration);
    }

    /// The next session numbers the mint draws.
    pub fn next_session_numbers(&self, numbers: &[i32]) {
        self.lock().session_numbers = numbers.to_vec();
    }

    /// Every verification fails with `Busy`.
    pub fn hasher_is_busy(&self) {
        self.lock().hasher_busy = true;
    }

    /// Every e-mail fails to send.
    pub fn mail_fails(&self) {
        self.lock().mail_fails = true;
    }

    /// The language of the next services' verification e-mails.
    pub fn set_registration_language(&self, language: EmailLanguage) {
        self.settings.lock().unwrap().registration.language = language;
    }

    /// Moves the clock.
    pub fn advance(&self, by: Duration) {
        self.lock().now += by;
    }

    // Reading the world.

    /// Now, by the world's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.lock().now
    }

    /// The current 30-second TOTP step.
    pub fn step(&self) -> u64 {
        u64::try_from(self.now().timestamp()).unwrap_or(0) / 30
    }

    /// The digest the mint makes of `plaintext`.
    pub fn digest(&self, plaintext: &str) -> TokenHash {
        TokenHash(format!("digest:{plaintext}"))
    }

    /// The plaintext of a token the world's mint made.
    pub fn plaintext_of(&self, hash: &TokenHash) -> String {
        hash.0.trim_start_matches("digest:").to_owned()
    }

    /// The rate-limit key of an unknown name.
    pub fn name_key(&self, name: &str) -> String {
        format!("name:digest:login-name:{name}")
    }

    /// The rate-limit key of a pending token's codes.
    pub fn second_factor_key(&self, pending: &str) -> String {
        format!("second-factor:digest:{pending}")
    }

    /// A key's counted attempts (0 when it has no state).
    pub fn failures(&self, key: &str) -> u32 {
        self.lock().limits.get(key).map_or(0, |state| state.hits)
    }

    /// Whether a key is blocked now.
    pub fn is_blocked(&self, key: &str) -> bool {
        let state = self.lock();
        state
            .limits
            .get(key)
            .is_some_and(|limit| limit.blocked_at(state.now).is_some())
    }

    /// The stored token with this digest.
    pub fn token(&self, hash: &TokenHash) -> TokenRecord {
        self.lock().tokens.get(&hash.0).cloned().unwrap()
    }

    /// How many tokens of `user` are stored.
    pub fn tokens_of(&self, user: UserId) -> usize {
        self.lock()
            .tokens
            .values()
            .filter(|token| token.user_id == user)
            .count()
    }

    /// Lookups of tokens by digest so far.
    pub fn token_lookups(&self) -> usize {
        self.lock().token_lookups
    }

    /// Last-use writes so far.
    pub fn touches(&self) -> usize {
        self.lock().touches
    }

    /// Lookups in the directory so far.
    pub fn directory_lookups(&self) -> usize {
        self.lock().directory_lookups
    }

    /// The hashes passwords were verified against, in order.
    pub fn verifications(&self) -> Vec<String> {
        self.lock().verifications.clone()
    }

    /// Hashes made so far.
    pub fn hashes_made(&self) -> usize {
        self.lock().hashes_made
    }

    /// The account with this id.
    pub fn account(&self, user: UserId) -> AccountState {
        self.lock().accounts.get(&user.0).cloned().unwrap()
    }

    /// Whether an account with this id exists.
    pub fn has_account(&self, user: UserId) -> bool {
        self.lock().accounts.contains_key(&user.0)
    }

    /// How many accounts exist.
    pub fn account_count(&self) -> usize {
        self.lock().accounts.len()
    }

    /// How many users the directory holds.
    pub fn directory_size(&self) -> usize {
        self.lock().entries.len()
    }

    /// The stored hash of a directory user.
    pub fn password_hash(&self, external_id: &str) -> String {
        self.lock()
            .entries
            .iter()
            .find(|entry| entry.external_id == external_id)
            .and_then(|entry| entry.password_hash.clone())
            .unwrap_or_default()
    }

    /// Whether the user has a TOTP enrolment.
    pub fn has_totp(&self, user: UserId) -> bool {
        self.lock().totp.contains_key(&user.0)
    }

    /// The user's stored sealed TOTP secret.
    pub fn sealed_secret(&self, user: UserId) -> String {
        self.lock()
            .totp
            .get(&user.0)
            .map(|totp| totp.sealed_secret.clone())
            .unwrap_or_default()
    }

    /// The user's stored sealed private key.
    pub fn sealed_key(&self, user: UserId) -> String {
        self.lock().sealed_keys.get(&user.0).cloned().unwrap_or_default()
    }

    /// The e-mails sent so far.
    pub fn mails(&self) -> Vec<OutgoingEmail> {
        self.lock().mails.clone()
    }
}

/// WebAuthn ceremonies of a pretend authenticator. Options carry the state
/// as their challenge (`reg-N`, `login-N`); a registration response
/// `{"id", "challenge"}` verifies when its challenge is the state's; an
/// assertion `{"id", "userHandle", "challenge", "counter"}` when its
/// challenge is the state's and its counter is above the stored one (a
/// credential is `{"counter": N}`).
fn passkey_ceremonies(state: Arc<Mutex<State>>) -> MockPasskeyCeremonies {
    let mut ceremonies = MockPasskeyCeremonies::new();
    let handles = state.clone();
    ceremonies.expect_new_user_handle().returning(move || {
        let mut state = handles.lock().unwrap();
        state.next_handle += 1;
        format!("handle-{}", state.next_handle)
    });
    let challenges = state.clone();
    let next = move |kind: &str| {
        let mut state = challenges.lock().unwrap();
        state.mints += 1;
        format!("{kind}-{}", state.mints)
    };
    let registration = next.clone();
    ceremonies
        .expect_start_registration()
        .returning(move |handle, name, _, exclude| {
            let challenge = registration("reg");
            Ok(CeremonyStart {
                options: serde_json::json!({"publicKey": {
                    "challenge": challenge, "user": {"id": handle, "name": name}, "excludeCredentials": exclude,
                }}),
                state: challenge,
            })
        });
    ceremonies
        .expect_finish_registration()
        .returning(|response, state| {
            let id = response["id"]
                .as_str()
                .ok_or_else(|| PasskeyError::Malformed("no id".into()))?;
            if response["challenge"] != state {
                return Err(PasskeyError::Refused("another challenge".into()));
            }
            Ok(VerifiedCredential {
                credential_id: id.to_owned(),
                credential: r#"{"counter":0}"#.to_owned(),
                aaguid: Some("aaguid-1".into()),
            })
        });
    ceremonies.expect_start_authentication().returning(move || {
        let challenge = next("login");
        Ok(CeremonyStart {
            options: serde_json::json!({"publicKey": {"challenge": challenge}}),
            state: challenge,
        })
    });
    ceremonies.expect_identify().returning(|response| {
        match (response["userHandle"].as_str(), response["id"].as_str()) {
            (Some(handle), Some(id)) => Ok(AssertedCredential {
                user_handle: handle.to_owned(),
                credential_id: id.to_owned(),
            }),
            _ => Err(PasskeyError::Malformed("no id or user handle".into())),
        }
    });
    ceremonies
        .expect_finish_authentication()
        .returning(|response, state, credential| {
            if response["challenge"] != state {
                return Err(PasskeyError::Refused("another challenge".into()));
            }
            let stored: serde_json::Value = serde_json::from_str(credential).unwrap();
            let counter = response["counter"].as_u64().unwrap_or(0);
            if counter <= stored["counter"].as_u64().unwrap_or(0) {
                return Err(PasskeyError::CounterWentBack);
            }
            Ok(VerifiedAssertion {
                updated: Some(format!(r#"{{"counter":{counter}}}"#)),
            })
        });
    ceremonies
}

/// "Signs" a payload as `signed:<the JSON>`, so tests read its claims back.
fn payload_signer() -> MockPayloadSigner {
    let mut signer = MockPayloadSigner::new();
    signer
        .expect_sign()
        .returning(|payload| format!("signed:{}", String::from_utf8_lossy(payload)));
    signer.expect_public_jwk().returning(|| None);
    signer
}

fn totp() -> MockTotpGenerator {
    let mut totp = MockTotpGenerator::new();
    totp.expect_new_secret().returning(|| b"secret".to_vec());
    totp.expect_code().returning(|secret, _, step| {
        assert_eq!(secret, b"secret", "the secret was opened for its owner");
        Ok(format!("{:06}", step % 1_000_000))
    });
    totp.expect_provisioning()
        .returning(|_, params, issuer, account| {
            Ok(TotpProvisioning {
                key: "ONSWG4TFOQ".into(),
                uri: format!("otpauth://totp/{issuer}:{account}"),
                qr_data_uri: "data:image/png;base64,".into(),
                params,
            })
        });
    totp
}

/// Seals as `sealed[<context>]:<secret>`; opens that for the same context only,
/// and `legacy:<secret>` (a form the current cipher no longer writes) anywhere.
fn cipher() -> MockSecretCipher {
    let mut cipher = MockSecretCipher::new();
    cipher.expect_seal().returning(|secret, context| {
        Ok(format!(
            "sealed[{}]:{}",
            String::from_utf8_lossy(context),
            String::from_utf8_lossy(secret)
        ))
    });
    cipher.expect_open().returning(|sealed, context| {
        let prefix = format!("sealed[{}]:", String::from_utf8_lossy(context));
        sealed
            .strip_prefix(&prefix)
            .or_else(|| sealed.strip_prefix("legacy:"))
            .map(|secret| secret.as_bytes().to_vec())
            .ok_or_else(|| format!("cannot open {sealed:?} for this context"))
    });
    cipher
        .expect_is_current()
        .returning(|sealed| sealed.starts_with("sealed["));
    cipher
}

fn keys() -> MockKeyPairGenerator {
    let mut keys = MockKeyPairGenerator::new();
    keys.expect_generate()
        .returning(|| ([0xab; 32], b"private-key".to_vec()));
    keys
}
