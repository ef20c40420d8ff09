use lettre::Message;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use limen_domain::ports::OutgoingEmail;

/// Builds the RFC 5322 message; the error names the address that did not parse.
pub fn build(from: &Mailbox, email: &OutgoingEmail) -> Result<Message, String> {
    let to: Mailbox = email
        .to
        .parse()
        .map_err(|err| format!("recipient {:?} is not a valid address: {err}", email.to))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(email.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(email.body.clone())
        .map_err(|err| format!("cannot build the message: {err}"))
}

/// Parses the configured sender.
pub fn sender(from: &str) -> Result<Mailbox, String> {
    from.parse()
        .map_err(|err| format!("sender {from:?} is not a valid address: {err}"))
}

#[cfg(test)]
mod tests {
    use limen_domain::model::validate_email;

    use super::*;

    /// Registration stores nothing when the verification e-mail cannot be
    /// built, and answers 503: so every address it accepts must build.
    #[test]
    fn every_address_limen_accepts_makes_a_message() {
        let from = sender("Limen <limen@example.org>").unwrap();
        let label = "l".repeat(63);
        let local = "x".repeat(64);
        let accepted = [
            "a.b+tag@sub.example.co".to_owned(),
            "!#$%&'*+-/=?^_`{|}~@example.org".to_owned(),
            "åsa.öberg@exempel.se".to_owned(),
            "a@exämple.se".to_owned(),
            format!("{local}@{label}.{label}.se"),
            "0@0.0".to_owned(),
        ];
        for address in accepted {
            let to = validate_email(&address).unwrap_or_else(|err| panic!("{address}: {err}"));
            let email = OutgoingEmail {
                to,
                subject: "Verify".into(),
                body: "Hello".into(),
            };
            build(&from, &email).unwrap_or_else(|err| panic!("{address}: {err}"));
        }
    }
}
