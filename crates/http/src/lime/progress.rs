//! BankID's statuses and user messages as the dialect shows them.

use limen_domain::model::UserMessage;
use serde::Serialize;
use utoipa::ToSchema;

/// The message BankID recommends showing the user, in Swedish and English.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[schema(as = LimeBankIdMessage)]
pub(crate) struct Message {
    /// BankID's code of the message (`RFA1`, …); empty when it has none.
    code: &'static str,
    /// Swedish.
    sv: &'static str,
    /// English.
    en: &'static str,
}

impl From<UserMessage> for Message {
    fn from(message: UserMessage) -> Self {
        Self {
            code: message.code,
            sv: message.sv,
            en: message.en,
        }
    }
}
