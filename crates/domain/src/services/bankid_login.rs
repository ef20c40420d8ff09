use std::sync::Arc;

use chrono::Duration;

use crate::error::DomainError;
use crate::model::{
    BankIdCollect, BankIdError, BankIdOrder, BankIdStatus, ClientAddress, TokenAttributes, TokenKind, User,
    UserId, parse_personal_number,
};
use crate::ports::{BankIdProvider, Clock, SecretCipher, TokenMint};
use crate::services::{
    Attempts, Audit, AuthMethod, Authenticated, Grant, LoggedIn, LoginCompletion, SessionService, Users,
};

/// The method's name in the audit trail.
const BANKID: &str = "bankid";

/// How long an order can be collected: longer than BankID keeps one (about three
/// minutes), so that it is BankID that declares it expired.
pub const ORDER_TTL: Duration = Duration::minutes(10);

/// The context an order's references are sealed with.
const ORDER_CONTEXT: &[u8] = b"bankid-order";

/// A started identification, as the client gets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankIdStarted {
    /// Limen's unguessable name for the order (never BankID's `orderRef`).
    pub transaction_id: String,
    /// Starts the BankID app on the same device.
    pub auto_start_token: String,
    /// The animated QR code's first content.
    pub qr: String,
}

/// What collecting an order found.
#[derive(Debug, Clone)]
pub enum BankIdProgress<T> {
    /// Still going.
    Pending {
        /// The status and its user message.
        status: BankIdStatus,
        /// The animated QR code's current content.
        qr: String,
    },
    /// Ended without an identification; the order is spent.
    Failed {
        /// The status and its user message.
        status: BankIdStatus,
    },
    /// The person identified themselves and is logged in.
    Complete {
        /// Who (boxed: a user is large beside the other answers).
        user: Box<User>,
        /// What they got.
        granted: T,
    },
}

/// The BankID identity provider: starts an order for a personal number, and
/// collects it until the person has identified themselves, then logs in the
/// directory user with that personal number through `LoginCompletion`.
///
/// An order is a single-use record in `SessionTokens` named by a transaction
/// id (stored as a digest, 10 minutes), holding BankID's references sealed;
/// the collect that completes it consumes it atomically, so a completion logs
/// in once, on whichever node it is collected.
pub struct BankIdLogin {
    ports: BankIdPorts,
}

/// The ports and services BankID login works with.
pub struct BankIdPorts {
    /// BankID itself (or its simulator); `None` when BankID is off.
    pub provider: Option<Arc<dyn BankIdProvider>>,
    /// The personal number's user.
    pub users: Arc<Users>,
    /// Orders as single-use records.
    pub sessions: Arc<SessionService>,
    /// The rules of every login.
    pub completion: Arc<LoginCompletion>,
    /// Starts per client address.
    pub attempts: Arc<Attempts>,
    /// Seals an order's references.
    pub cipher: Arc<dyn SecretCipher>,
    /// Transaction ids.
    pub mint: Arc<dyn TokenMint>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// The trail of failed orders.
    pub audit: Arc<Audit>,
}

impl BankIdLogin {
    /// Wires the service.
    pub fn new(ports: BankIdPorts) -> Self {
        Self { ports }
    }

    /// Whether BankID is configured.
    pub fn is_enabled(&self) -> bool {
        self.ports.provider.is_some()
    }

    fn provider(&self) -> Result<&dyn BankIdProvider, DomainError> {
        self.ports
            .provider
            .as_deref()
            .ok_or(DomainError::NotEnabled("BankID login"))
    }

    /// Starts an identification of `personal_number` (any form
    /// `parse_personal_number` accepts; a bad one is refused before BankID is
    /// asked) from `client`'s address.
    pub async fn start(
        &self,
        personal_number: &str,
        client: &ClientAddress,
    ) -> Result<BankIdStarted, DomainError> {
        let number =
            parse_personal_number(personal_number, self.ports.clock.now().date_naive()).ok_or_else(|| {
                DomainError::InvalidInput("personal_number is not a valid Swedish personal number".into())
            })?;
        // BankID wants the end user's address; without one, this host's.
        let end_user_ip = client
            .0
            .map_or_else(|| "127.0.0.1".to_owned(), |ip| ip.to_string());
        let provider = self.provider()?;
        self.ports.attempts.bankid_starts(client).spend().await?;
        let order = provider
            .start(&number, &end_user_ip)
            .await
            .map_err(provider_error)?;
        let (transaction_id, hash) = self.ports.mint.mint();
        let payload = self
            .ports
            .cipher
            .seal(&encode(&order), ORDER_CONTEXT)
            .map_err(DomainError::Internal)?;
        self.ports
            .sessions
            .store(
                UserId::NONE,
                TokenKind::BankIdOrder,
                hash,
                ORDER_TTL,
                TokenAttributes {
                    payload: Some(payload),
                    // Whose start to give back when the order completes.
                    bound_address: client.0.map(|ip| ip.to_string()),
                    ..TokenAttributes::default()
                },
            )
            .await?;
        tracing::info!("BankID order started");
        let qr = provider.animated_qr(&order, 0);
        Ok(BankIdStarted {
            transaction_id,
            auto_start_token: order.auto_start_token,
            qr,
        })
    }

    /// Collects the order `transaction_id` names; on completion logs its person
    /// in with `grant`. An unknown, expired or spent transaction is `InvalidToken`.
    pub async fn collect<G: Grant>(
        &self,
        transaction_id: &str,
        grant: G,
    ) -> Result<BankIdProgress<G::Issued>, DomainError> {
        let progress = self.collect_order(transaction_id, grant).await;
        match &progress {
            Ok(BankIdProgress::Failed { status }) => {
                let detail = format!("bankid_failed: {}", status.name);
                self.ports
                    .audit
                    .login_refused(BANKID, None, "", "bankid_failed", &detail)
                    .await;
            }
            // A completed order's refusals are `LoginCompletion`'s to record.
            Err(err @ (DomainError::InvalidToken | DomainError::NoUserForPersonalNumber)) => {
                self.ports.audit.login_failed(BANKID, None, "", err).await;
            }
            _ => {}
        }
        progress
    }

    async fn collect_order<G: Grant>(
        &self,
        transaction_id: &str,
        grant: G,
    ) -> Result<BankIdProgress<G::Issued>, DomainError> {
        let provider = self.provider()?;
        let record = self
            .ports
            .sessions
            .find_presented(transaction_id, TokenKind::BankIdOrder)
            .await?;
        let sealed = record
            .attributes
            .payload
            .as_deref()
            .ok_or_else(|| DomainError::Internal("a BankID order has no references".into()))?;
        let order = decode(
            &self
                .ports
                .cipher
                .open(sealed, ORDER_CONTEXT)
                .map_err(DomainError::Internal)?,
        )?;
        let collected = match provider.collect(&order.order_ref).await {
            Ok(collected) => collected,
            // BankID refuses collecting an order it no longer knows: it
            // expired, or a concurrent collect has just completed it. The record
            // is left alone (it expires by itself), so that a completing collect
            // can still spend it; once spent, the answer is `InvalidToken`.
            Err(BankIdError::Refused(reason)) => {
                tracing::info!(%reason, "BankID no longer knows the order");
                self.ports
                    .sessions
                    .find_presented(transaction_id, TokenKind::BankIdOrder)
                    .await?;
                return Ok(BankIdProgress::Failed {
                    status: BankIdStatus::failed("expiredTransaction"),
                });
            }
            Err(other) => return Err(provider_error(other)),
        };
        match collected {
            BankIdCollect::Pending { hint } => {
                let elapsed = (self.ports.clock.now() - record.created_at).num_seconds().max(0);
                Ok(BankIdProgress::Pending {
                    status: BankIdStatus::pending(&hint),
                    qr: provider.animated_qr(&order, u64::try_from(elapsed).unwrap_or(0)),
                })
            }
            BankIdCollect::Failed { hint } => {
                // Spent: a failed order cannot complete any more.
                let _ = self
                    .ports
                    .sessions
                    .consume(transaction_id, TokenKind::BankIdOrder)
                    .await;
                tracing::info!(%hint, "BankID order failed");
                Ok(BankIdProgress::Failed {
                    status: BankIdStatus::failed(&hint),
                })
            }
            BankIdCollect::Complete { personal_number, .. } => {
                // Of concurrent collects of one completed order, one logs in.
                self.ports
                    .sessions
                    .consume(transaction_id, TokenKind::BankIdOrder)
                    .await?;
                let user = self
                    .ports
                    .users
                    .by_personal_number(&personal_number)
                    .await?
                    .ok_or(DomainError::NoUserForPersonalNumber)?;
                let started_from = ClientAddress(
                    record
                        .attributes
                        .bound_address
                        .as_deref()
                        .and_then(|ip| ip.parse().ok()),
                );
                self.ports
                    .attempts
                    .bankid_starts(&started_from)
                    .give_back()
                    .await?;
                let authenticated = Authenticated::uncounted(user, AuthMethod::BankId);
                let LoggedIn { user, granted } = self.ports.completion.complete(authenticated, grant).await?;
                Ok(BankIdProgress::Complete {
                    user: Box::new(user),
                    granted,
                })
            }
        }
    }
}

fn provider_error(err: BankIdError) -> DomainError {
    match err {
        BankIdError::AlreadyInProgress => DomainError::BankIdInProgress,
        BankIdError::Refused(reason) => {
            DomainError::Internal(format!("BankID refused the request: {reason}"))
        }
        BankIdError::Unavailable(reason) => DomainError::BankIdUnavailable(reason),
    }
}

/// An order's references as sealed: one per line, in a fixed order.
fn encode(order: &BankIdOrder) -> Vec<u8> {
    format!(
        "{}\n{}\n{}\n{}",
        order.order_ref, order.auto_start_token, order.qr_start_token, order.qr_start_secret
    )
    .into_bytes()
}

fn decode(bytes: &[u8]) -> Result<BankIdOrder, DomainError> {
    let corrupt = || DomainError::Internal("a BankID order's references are corrupt".into());
    let text = std::str::from_utf8(bytes).map_err(|_| corrupt())?;
    let mut parts = text.split('\n');
    let mut next = || parts.next().map(str::to_owned).ok_or_else(corrupt);
    Ok(BankIdOrder {
        order_ref: next()?,
        auto_start_token: next()?,
        qr_start_token: next()?,
        qr_start_secret: next()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::IssuedToken;
    use crate::services::AccessGrant;
    use crate::services::fixtures::World;

    const NUMBER: &str = "199908072391";

    fn client() -> ClientAddress {
        ClientAddress::new("203.0.113.7".parse().unwrap())
    }

    async fn started(world: &World) -> BankIdStarted {
        world
            .services()
            .bankid
            .start("19990807-2391", &client())
            .await
            .unwrap()
    }

    async fn collect(world: &World, transaction: &str) -> Result<BankIdProgress<IssuedToken>, DomainError> {
        world
            .services()
            .bankid
            .collect(transaction, AccessGrant::new(Duration::hours(1)))
            .await
    }

    #[tokio::test]
    async fn a_start_normalises_the_number_and_keeps_bankid_s_references_to_itself() {
        let world = World::new();
        let started = started(&world).await;
        assert_eq!(
            world.bankid_started(),
            vec![(NUMBER.to_owned(), "203.0.113.7".to_owned())]
        );
        assert_eq!(started.auto_start_token, "auto-1");
        assert_eq!(started.qr, "bankid.qr-token-1.0.hmac(qr-secret-1)");
        assert!(!started.transaction_id.contains("order-1"));
        let record = world.token(&world.digest(&started.transaction_id));
        assert_eq!(record.kind, TokenKind::BankIdOrder);
        assert_eq!(record.expires_at, world.now() + ORDER_TTL);
        let payload = record.attributes.payload.unwrap();
        assert!(payload.starts_with("sealed[bankid-order]:"), "{payload}");
    }

    #[tokio::test]
    async fn starts_are_counted_per_address_and_a_completed_one_is_given_back() {
        let world = World::with_rules(|rules| rules.bankid_starts.limit = 2);
        world.add_user_with_personal_number("ann", NUMBER);
        world.bankid_script(&[BankIdCollect::Complete {
            personal_number: NUMBER.into(),
            given_name: "Ann".into(),
            surname: "Andersson".into(),
        }]);
        let completed = started(&world).await;
        assert!(matches!(
            collect(&world, &completed.transaction_id).await,
            Ok(BankIdProgress::Complete { .. })
        ));
        started(&world).await;
        started(&world).await;
        let refused = world
            .services()
            .bankid
            .start(NUMBER, &client())
            .await
            .unwrap_err();
        assert!(
            matches!(refused, DomainError::TooManyAttempts { .. }),
            "{refused:?}"
        );
        assert_eq!(
            world.bankid_started().len(),
            3,
            "the refused start never reached BankID"
        );
        let elsewhere = ClientAddress::new("198.51.100.1".parse().unwrap());
        world.services().bankid.start(NUMBER, &elsewhere).await.unwrap();
    }

    #[tokio::test]
    async fn a_bad_personal_number_never_reaches_bankid() {
        let world = World::new();
        for bad in ["199908072390", "not a number", "", "19991307-2391"] {
            let err = world.services().bankid.start(bad, &client()).await.unwrap_err();
            assert!(matches!(err, DomainError::InvalidInput(_)), "{bad}: {err:?}");
        }
        assert!(world.bankid_started().is_empty());
    }

    #[tokio::test]
    async fn pending_collects_show_the_status_and_the_current_qr_code() {
        let world = World::new();
        world.bankid_script(&[BankIdCollect::Pending {
            hint: "userSign".into(),
        }]);
        let started = started(&world).await;
        world.advance(Duration::seconds(3));
        let BankIdProgress::Pending { status, qr } = collect(&world, &started.transaction_id).await.unwrap()
        else {
            panic!("pending expected");
        };
        assert_eq!(status.name, "USER_SIGN");
        assert_eq!(status.message.code, "RFA9");
        assert_eq!(qr, "bankid.qr-token-1.3.hmac(qr-secret-1)");
    }

    #[tokio::test]
    async fn a_completed_order_logs_the_number_s_user_in_once() {
        let world = World::new();
        let ann = world.add_user_with_personal_number("ann", NUMBER);
        world.enrol_totp(ann.id);
        world.bankid_script(&[BankIdCollect::Complete {
            personal_number: NUMBER.into(),
            given_name: "Ann".into(),
            surname: "Andersson".into(),
        }]);
        let started = started(&world).await;
        let BankIdProgress::Complete { user, granted } =
            collect(&world, &started.transaction_id).await.unwrap()
        else {
            panic!("complete expected");
        };
        assert_eq!(user.id, ann.id, "BankID stands in for the second factor too");
        assert_eq!(granted.record.kind, TokenKind::Access);
        assert_eq!(world.account(ann.id).last_login_at, Some(world.now()));
        assert!(matches!(
            collect(&world, &started.transaction_id).await,
            Err(DomainError::InvalidToken)
        ));
    }

    #[tokio::test]
    async fn a_number_no_user_has_completes_no_login() {
        let world = World::new();
        world.bankid_script(&[BankIdCollect::Complete {
            personal_number: NUMBER.into(),
            given_name: "X".into(),
            surname: "Y".into(),
        }]);
        let started = started(&world).await;
        assert!(matches!(
            collect(&world, &started.transaction_id).await,
            Err(DomainError::NoUserForPersonalNumber)
        ));
        assert!(matches!(
            collect(&world, &started.transaction_id).await,
            Err(DomainError::InvalidToken)
        ));
    }

    #[tokio::test]
    async fn an_order_bankid_no_longer_knows_is_expired_but_not_spent_by_that_collect() {
        // A collect racing the one that completed the order finds BankID
        // refusing it; it must not spend the order before the winner does.
        let world = World::new();
        world.add_user_with_personal_number("ann", NUMBER);
        world.bankid_script(&[BankIdCollect::Complete {
            personal_number: NUMBER.into(),
            given_name: "Ann".into(),
            surname: "Andersson".into(),
        }]);
        let started = started(&world).await;
        world.bankid_collect_fails(BankIdError::Refused("invalidParameters: no such order".into()));
        let BankIdProgress::Failed { status } = collect(&world, &started.transaction_id).await.unwrap()
        else {
            panic!("failed expected");
        };
        assert_eq!(status.name, "EXPIRED_TRANSACTION");
        assert!(matches!(
            collect(&world, &started.transaction_id).await,
            Ok(BankIdProgress::Complete { .. })
        ));
        world.bankid_collect_fails(BankIdError::Refused("invalidParameters: no such order".into()));
        assert!(matches!(
            collect(&world, &started.transaction_id).await,
            Err(DomainError::InvalidToken)
        ));
    }

    #[tokio::test]
    async fn a_failed_order_is_reported_and_spent() {
        let world = World::new();
        world.bankid_script(&[BankIdCollect::Failed {
            hint: "userCancel".into(),
        }]);
        let started = started(&world).await;
        let BankIdProgress::Failed { status } = collect(&world, &started.transaction_id).await.unwrap()
        else {
            panic!("failed expected");
        };
        assert_eq!(status.name, "USER_CANCEL");
        assert!(collect(&world, &started.transaction_id).await.is_err());
    }

    #[tokio::test]
    async fn a_locked_or_disabled_user_is_refused_even_with_bankid() {
        let world = World::new();
        let ann = world.add_user_with_personal_number("ann", NUMBER);
        world.block(&format!("account:{}", ann.id), Duration::minutes(10));
        world.bankid_script(&[BankIdCollect::Complete {
            personal_number: NUMBER.into(),
            given_name: "Ann".into(),
            surname: "A".into(),
        }]);
        let started = started(&world).await;
        assert!(matches!(
            collect(&world, &started.transaction_id).await,
            Err(DomainError::AccountLocked { .. })
        ));
    }

    #[tokio::test]
    async fn bankid_s_refusals_become_the_domain_s() {
        let world = World::new();
        world.bankid_start_fails(BankIdError::AlreadyInProgress);
        assert!(matches!(
            world.services().bankid.start(NUMBER, &client()).await,
            Err(DomainError::BankIdInProgress)
        ));
        world.bankid_start_fails(BankIdError::Unavailable("maintenance".into()));
        assert!(matches!(
            world.services().bankid.start(NUMBER, &client()).await,
            Err(DomainError::BankIdUnavailable(_))
        ));
    }

    #[test]
    fn references_survive_sealing_in_their_order() {
        let order = BankIdOrder {
            order_ref: "a".into(),
            auto_start_token: "b".into(),
            qr_start_token: "c".into(),
            qr_start_secret: "d".into(),
        };
        assert_eq!(decode(&encode(&order)).unwrap(), order);
        assert!(decode(b"a\nb").is_err());
    }
}
