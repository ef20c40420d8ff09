//! BankID on the login page: the order started for the typed personal
//! number and shown as its QR code, then collected every second by the
//! page's script (JSON) or by its Continue button (the page again), until
//! the browser goes to the client with a code.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use limen_domain::model::UserMessage;
use limen_domain::services::BankIdProgress;

use super::authorize::{Step, add_session_cookie, code_location, get, hidden, html, login_page, told};
use super::page;
use super::texts::Lang;

/// Starts a BankID order for the personal number and shows its QR code.
pub(super) async fn start(step: &Step<'_>, pairs: &[(String, String)]) -> HttpResponse {
    let number = get(pairs, "personal_number").unwrap_or_default();
    let started = match step
        .state
        .services
        .bankid
        .start(&number, &step.state.client(step.req))
        .await
    {
        Ok(started) => started,
        Err(err) => return step.again(&err, ""),
    };
    let fields = bankid_fields(step, &started.transaction_id, &started.auto_start_token);
    let qr = crate::qr_svg::data_url_of(&started.qr).unwrap_or_default();
    let body = page::bankid(
        &step.page,
        &fields,
        &qr,
        &started.auto_start_token,
        "",
        &step.retry(),
    );
    html(HttpResponse::Ok(), body)
}

/// The BankID page's form: the request, the order, and the link's token.
fn bankid_fields(step: &Step<'_>, transaction: &str, auto_start_token: &str) -> Vec<(String, String)> {
    let mut fields = hidden(&step.params, &step.csrf, None);
    fields.push(("method".into(), "bankid_collect".into()));
    fields.push(("transaction".into(), transaction.to_owned()));
    fields.push(("autostart".into(), auto_start_token.to_owned()));
    fields
}

/// Collects the page's BankID order: its progress for the page's script
/// (JSON), or the page again for a browser without script; on completion
/// the browser goes to the client with a code.
pub(super) async fn collect(step: &Step<'_>, pairs: &[(String, String)]) -> HttpResponse {
    let transaction = get(pairs, "transaction").unwrap_or_default();
    let auto_start_token = get(pairs, "autostart").unwrap_or_default();
    let json = wants_json(step.req);
    let grant = step.provider.code_grant(step.request.clone(), &["bankid"]);
    let lang = step.page.lang;
    match step.state.services.bankid.collect(&transaction, grant).await {
        Ok(BankIdProgress::Pending { status, qr }) => {
            let message = bankid_message(&status.message, lang);
            let qr = crate::qr_svg::data_url_of(&qr).unwrap_or_default();
            if json {
                return progress(StatusCode::OK, "pending", &message, Some(&qr));
            }
            let fields = bankid_fields(step, &transaction, &auto_start_token);
            let body = page::bankid(
                &step.page,
                &fields,
                &qr,
                &auto_start_token,
                &message,
                &step.retry(),
            );
            html(HttpResponse::Ok(), body)
        }
        Ok(BankIdProgress::Failed { status }) => {
            let message = bankid_message(&status.message, lang);
            if json {
                return progress(StatusCode::OK, "failed", &message, None);
            }
            let fields = hidden(&step.params, &step.csrf, None);
            let body = login_page(step.state, &step.page, &step.request, &fields, "", Some(&message));
            html(HttpResponse::Ok(), body)
        }
        Ok(BankIdProgress::Complete { granted, .. }) => {
            if !json {
                return step.logged_in(&granted);
            }
            let location = code_location(step.provider, &step.request, &granted.code);
            let mut answer = HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(serde_json::json!({ "status": "complete", "location": location }));
            add_session_cookie(step.provider, &mut answer, &granted);
            answer
        }
        Err(err) if json => {
            let (status, message) = told(&err, lang);
            progress(status, "failed", &message, None)
        }
        Err(err) => step.again(&err, ""),
    }
}

/// BankID's recommended message in the page's language.
fn bankid_message(message: &UserMessage, lang: Lang) -> String {
    match lang {
        Lang::En => message.en.to_owned(),
        Lang::Sv => message.sv.to_owned(),
    }
}

/// The BankID page's script asks for JSON.
pub(super) fn wants_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"))
}

/// A BankID order's progress for the page's script.
pub(super) fn progress(status: StatusCode, state: &str, message: &str, qr: Option<&str>) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "status": state, "message": message, "qr": qr }))
}
