//! Swedish BankID (Relying Party API v6) as the domain sees it: an order, what
//! a collect finds, and the status names and user messages clients show.

/// An order BankID started.
#[derive(Clone, PartialEq, Eq)]
pub struct BankIdOrder {
    /// BankID's reference of the order, for collect and cancel.
    pub order_ref: String,
    /// Starts the BankID app on the same device.
    pub auto_start_token: String,
    /// The public half of the animated QR code.
    pub qr_start_token: String,
    /// The secret the QR code's HMAC is keyed with; it never leaves Limen.
    pub qr_start_secret: String,
}

impl std::fmt::Debug for BankIdOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BankIdOrder")
            .field("order_ref", &self.order_ref)
            .field("qr_start_secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// What collecting an order found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankIdCollect {
    /// Still going; `hint` is BankID's hint code (`outstandingTransaction`, …).
    Pending {
        /// BankID's hint code.
        hint: String,
    },
    /// Ended without an identification.
    Failed {
        /// BankID's hint code (`userCancel`, …).
        hint: String,
    },
    /// The person identified themselves.
    Complete {
        /// The identified person's 12-digit personal number.
        personal_number: String,
        /// Given name, as BankID knows it.
        given_name: String,
        /// Surname, as BankID knows it.
        surname: String,
    },
}

/// Why BankID did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BankIdError {
    /// An order for this person is already running (`alreadyInProgress`).
    #[error("an identification for this personal number is already in progress")]
    AlreadyInProgress,
    /// BankID refused the request (`invalidParameters`, `notFound`: an order
    /// that is finished or too old).
    #[error("BankID refused the request: {0}")]
    Refused(String),
    /// BankID could not be reached or failed (timeouts, maintenance, internal
    /// errors, a rejected client certificate); the cause is for the log.
    #[error("BankID is unavailable: {0}")]
    Unavailable(String),
}

/// A status as the Lime add-on names it (BankID's older upper-case names),
/// with the user message BankID recommends for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BankIdStatus {
    /// `OUTSTANDING_TRANSACTION`, `USER_SIGN`, `COMPLETE`, `USER_CANCEL`, …
    pub name: &'static str,
    /// BankID's recommended message, `RFA1`, `RFA9`, …
    pub message: UserMessage,
}

/// One of BankID's recommended user messages, in Swedish and English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserMessage {
    /// Its code in BankID's guidelines.
    pub code: &'static str,
    /// Swedish.
    pub sv: &'static str,
    /// English.
    pub en: &'static str,
}

const RFA1: UserMessage = UserMessage {
    code: "RFA1",
    sv: "Starta BankID-appen.",
    en: "Start your BankID app.",
};
const RFA3: UserMessage = UserMessage {
    code: "RFA3",
    sv: "Åtgärden avbruten. Försök igen.",
    en: "Action cancelled. Please try again.",
};
const RFA4: UserMessage = UserMessage {
    code: "RFA4",
    sv: "En identifiering eller underskrift för det här personnumret är redan påbörjad. Försök igen.",
    en: "An identification or signing for this personal number is already started. Please try again.",
};
const RFA5: UserMessage = UserMessage {
    code: "RFA5",
    sv: "Internt tekniskt fel. Försök igen.",
    en: "Internal error. Please try again.",
};
const RFA6: UserMessage = UserMessage {
    code: "RFA6",
    sv: "Åtgärden avbruten.",
    en: "Action cancelled.",
};
const RFA8: UserMessage = UserMessage {
    code: "RFA8",
    sv: "BankID-appen svarar inte. Kontrollera att den är startad och att du har internetanslutning. \
         Om du inte har något giltigt BankID kan du skaffa ett hos din bank. Försök sedan igen.",
    en: "The BankID app is not responding. Please check that it's started and that you have internet \
         access. If you don't have a valid BankID you can get one from your bank. Try again.",
};
const RFA9: UserMessage = UserMessage {
    code: "RFA9",
    sv: "Skriv in din säkerhetskod i BankID-appen och välj Identifiera eller Skriv under.",
    en: "Enter your security code in the BankID app and select Identify or Sign.",
};
const RFA15A: UserMessage = UserMessage {
    code: "RFA15A",
    sv: "Söker efter BankID, det kan ta en liten stund… Om det har gått några sekunder och inget BankID \
         har hittats har du sannolikt inget BankID som går att använda för den aktuella identifieringen \
         i den här datorn. Om du har ett BankID-kort, sätt in det i kortläsaren. Om du inte har något \
         BankID kan du skaffa ett hos din bank.",
    en: "Searching for BankID, it may take a little while… If a few seconds have passed and still no \
         BankID has been found, you probably don't have a BankID which can be used for this \
         identification on this computer. If you have a BankID card, please insert it into your card \
         reader. If you don't have a BankID you can get one from your bank.",
};
const RFA16: UserMessage = UserMessage {
    code: "RFA16",
    sv: "Det BankID du försöker använda är för gammalt eller spärrat. Använd ett annat BankID eller \
         skaffa ett nytt hos din bank.",
    en: "The BankID you are trying to use is blocked or too old. Please use another BankID or get a new \
         one from your bank.",
};
const RFA17B: UserMessage = UserMessage {
    code: "RFA17B",
    sv: "Misslyckades att läsa av QR-koden. Starta BankID-appen och läs av QR-koden. Kontrollera att \
         BankID-appen är uppdaterad. Om du inte har BankID-appen måste du installera den och skaffa ett \
         BankID hos din bank. Installera appen från din appbutik eller https://install.bankid.com.",
    en: "Failed to scan the QR code. Start the BankID app and scan the QR code. Check that the BankID app \
         is up to date. If you don't have the BankID app, you need to install it and get a BankID from \
         your bank. Install the app from your app store or https://install.bankid.com.",
};
const RFA21: UserMessage = UserMessage {
    code: "RFA21",
    sv: "Identifiering eller underskrift pågår.",
    en: "Identification or signing in progress.",
};
const RFA22: UserMessage = UserMessage {
    code: "RFA22",
    sv: "Okänt fel. Försök igen.",
    en: "Unknown error. Please try again.",
};
const RFA23: UserMessage = UserMessage {
    code: "RFA23",
    sv: "Fotografera och läs av din ID-handling med BankID-appen.",
    en: "Process your machine-readable travel document using the BankID app.",
};

impl BankIdStatus {
    /// The status of a pending order with this hint code. Unknown codes are
    /// tolerated, as BankID asks.
    pub fn pending(hint: &str) -> Self {
        let (name, message) = match hint {
            "outstandingTransaction" => ("OUTSTANDING_TRANSACTION", RFA1),
            "noClient" => ("NO_CLIENT", RFA1),
            "started" => ("STARTED", RFA15A),
            "userSign" => ("USER_SIGN", RFA9),
            "userMrtd" => ("USER_MRTD", RFA23),
            "userCallConfirm" => ("USER_CALL_CONFIRM", RFA21),
            _ => ("OUTSTANDING_TRANSACTION", RFA21),
        };
        Self { name, message }
    }

    /// The status of a failed order with this hint code.
    pub fn failed(hint: &str) -> Self {
        let (name, message) = match hint {
            "expiredTransaction" => ("EXPIRED_TRANSACTION", RFA8),
            "userCancel" => ("USER_CANCEL", RFA6),
            "cancelled" => ("CANCELLED", RFA3),
            "startFailed" => ("START_FAILED", RFA17B),
            "certificateErr" => ("CERTIFICATE_ERR", RFA16),
            _ => ("FAILED", RFA22),
        };
        Self { name, message }
    }

    /// A completed identification.
    pub const COMPLETE: Self = Self {
        name: "COMPLETE",
        message: UserMessage {
            code: "",
            sv: "Identifieringen är klar.",
            en: "Identification complete.",
        },
    };

    /// An order refused because one for the person is already running.
    pub const ALREADY_IN_PROGRESS: Self = Self {
        name: "ALREADY_IN_PROGRESS",
        message: RFA4,
    };

    /// BankID could not be reached or failed.
    pub const UNAVAILABLE: Self = Self {
        name: "INTERNAL_ERROR",
        message: RFA5,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_hints_keep_the_add_on_s_names_and_unknown_ones_are_tolerated() {
        assert_eq!(
            BankIdStatus::pending("outstandingTransaction").name,
            "OUTSTANDING_TRANSACTION"
        );
        assert_eq!(BankIdStatus::pending("noClient").name, "NO_CLIENT");
        assert_eq!(BankIdStatus::pending("started").name, "STARTED");
        assert_eq!(BankIdStatus::pending("userSign").message.code, "RFA9");
        assert_eq!(BankIdStatus::pending("somethingNew").message.code, "RFA21");
        assert_eq!(BankIdStatus::failed("userCancel").name, "USER_CANCEL");
        assert_eq!(BankIdStatus::failed("startFailed").message.code, "RFA17B");
        assert_eq!(BankIdStatus::failed("somethingNew").message.code, "RFA22");
    }

    #[test]
    fn the_qr_secret_stays_out_of_debug_output() {
        let order = BankIdOrder {
            order_ref: "ref".into(),
            auto_start_token: "auto".into(),
            qr_start_token: "qr".into(),
            qr_start_secret: "very-secret".into(),
        };
        assert!(!format!("{order:?}").contains("very-secret"));
    }
}
