use async_trait::async_trait;

use crate::model::{BankIdCollect, BankIdError, BankIdOrder};

/// Swedish BankID's Relying Party API: start an identification, collect its
/// progress, cancel it. Shaped by the flow, not by BankID's wire format.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait BankIdProvider: Send + Sync {
    /// Starts an identification of the person with this 12-digit personal
    /// number, from the device at `end_user_ip`.
    async fn start(&self, personal_number: &str, end_user_ip: &str) -> Result<BankIdOrder, BankIdError>;

    /// The order's progress.
    async fn collect(&self, order_ref: &str) -> Result<BankIdCollect, BankIdError>;

    /// Cancels a pending order.
    async fn cancel(&self, order_ref: &str) -> Result<(), BankIdError>;

    /// The animated QR code's content `seconds` after the order started:
    /// `bankid.<qrStartToken>.<seconds>.<HMAC-SHA256(qrStartSecret, seconds)>`.
    fn animated_qr(&self, order: &BankIdOrder, seconds: u64) -> String;
}
