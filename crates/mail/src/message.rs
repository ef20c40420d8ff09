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
