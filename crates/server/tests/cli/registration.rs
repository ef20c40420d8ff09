//! A Gradido client registering, confirming its address from the e-mail, and
//! logging in, against `limen serve` sending mail to a real SMTP server.

use serde_json::{Value, json};

use crate::helpers::{Scratch, Server, SmtpSink, free_port};

fn gradido_server(scratch: &Scratch, smtp_port: u16) -> (Server, std::process::Command) {
    let mut command = scratch.command();
    let port = free_port();
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("LIMEN_MAIL__TRANSPORT", "smtp")
        .env("LIMEN_MAIL__FROM", "Gradido <noreply@gradido.test>")
        .env("LIMEN_MAIL__SMTP__HOST", "127.0.0.1")
        .env("LIMEN_MAIL__SMTP__PORT", smtp_port.to_string())
        .env("LIMEN_MAIL__SMTP__SECURITY", "none")
        .env("LIMEN_REGISTRATION__SITE_NAME", "Gradido")
        .env("LIMEN_REGISTRATION__LANGUAGE", "de")
        .env("LIMEN_DIALECTS__GRADIDO__ALLOW_PASSWORD_VIA_JSON_REQUEST", "true")
        .env("LIMEN_DIALECTS__GRADIDO__GROUP_ALIAS", "gdd1");
    let again = scratch.command();
    (Server::start(command), again)
}

#[tokio::test]
async fn register_confirm_by_email_log_in_and_out() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let scratch = Scratch::new();
    let (server, _) = gradido_server(&scratch, sink.port);
    let http = reqwest::Client::new();
    let created: Value = http
        .post(format!("{}/login_api/createUser", server.base))
        .json(&json!({"email": "max.musterman@gmail.de", "first_name": "Max", "last_name": "Musterman", "emailType": 2, "password": "123abcDE&"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created, json!({"state": "success"}));
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "the e-mail was handed over before the answer");
    let message = &messages[0];
    assert!(message.contains("To: max.musterman@gmail.de"), "{message}");
    assert!(
        message.contains("From: Gradido <noreply@gradido.test>"),
        "{message}"
    );
    assert!(
        message.contains("Subject: Gradido: Bitte bestätige deine E-Mail-Adresse"),
        "{message}"
    );
    assert!(message.contains("Hallo Max Musterman,"), "{message}");
    let prefix = format!("{}/account/checkEmail/", server.base);
    let link = message
        .split_whitespace()
        .find(|word| word.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no link to {prefix}: {message}"))
        .to_owned();
    let login = || {
        http.post(format!("{}/login_api/unsecureLogin", server.base))
            .json(&json!({"email": "max.musterman@gmail.de", "password": "123abcDE&"}))
            .send()
    };
    let before: Value = login().await.unwrap().json().await.unwrap();
    assert_eq!(before["user"]["email_checked"], false);
    let page = http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("is confirmed"));
    let answer: Value = login().await.unwrap().json().await.unwrap();
    assert_eq!(answer["state"], "success");
    assert_eq!(answer["clientIP"], "127.0.0.1");
    assert_eq!(answer["user"]["email_checked"], true);
    assert_eq!(answer["user"]["group_alias"], "gdd1");
    assert_eq!(answer["user"]["public_hex"].as_str().unwrap().len(), 64);
    let logout: Value = http
        .post(format!("{}/login_api/logout", server.base))
        .json(&json!({"session_id": answer["session_id"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(logout, json!({"state": "success"}));
    let log = server.log.clone();
    assert!(server.terminate());
    let log = log.lock().unwrap().clone();
    let code = link.rsplit('/').next().unwrap();
    assert!(
        !log.contains(code),
        "the verification code reached the log: {log}"
    );
    assert!(log.contains("/account/checkEmail/{code}"), "{log}");
}

#[tokio::test]
async fn without_a_mail_server_nothing_is_registered() {
    let scratch = Scratch::new();
    let closed = free_port();
    let (server, _) = gradido_server(&scratch, closed);
    let http = reqwest::Client::new();
    let answer = http
        .post(format!("{}/login_api/createUser", server.base))
        .json(&json!({"email": "max@example.com", "password": "123abcDE&", "emailType": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 503);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["msg"], "email could not be sent");
    assert!(server.terminate());
    assert_eq!(scratch.ok(&["user", "list"], ""), "", "no user was kept");
}
