//! `GET /bankid/demo/`: a page that logs in with BankID through the dialect's
//! own endpoints, for a person to watch the flow work with the simulator: the
//! animated QR code, refreshed every second, and the progress messages. It
//! exists only while BankID is the simulator.

use actix_web::http::header::{self, ContentType};
use actix_web::{HttpResponse, ResponseError, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::LimeError;
use crate::AppState;

/// Longest text the QR endpoint draws; a BankID QR code is about 120 characters.
const MAX_QR_TEXT: usize = 512;

fn not_here() -> HttpResponse {
    LimeError::not_found("The BankID demo exists only while BankID is the simulator.").error_response()
}

/// The demo page.
#[utoipa::path(
    get,
    path = "/bankid/demo/",
    operation_id = "lime_bankid_demo",
    tag = "lime",
    responses(
        (status = 200, description = "The demo page", body = String, content_type = "text/html"),
        (status = 404, description = "BankID is not the simulator", body = super::error::ErrorBody),
    ),
)]
pub async fn page(state: web::Data<AppState>) -> HttpResponse {
    let lime = &state.settings.lime;
    if !lime.bankid_demo {
        return not_here();
    }
    let header_name = serde_json::to_string(&lime.api_key_header).unwrap_or_else(|_| "\"X-API-Key\"".into());
    // The key is typed into the page when the dialect asks for one, never
    // taken from its URL, which browser history and access logs keep.
    let key_field = if lime.api_keys.is_empty() { "hidden" } else { "" };
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(
            PAGE.replace("__API_KEY_HEADER__", &header_name)
                .replace("__API_KEY_FIELD__", key_field),
        )
}

/// What to draw.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct QrQuery {
    /// The text of the QR code (at most 512 characters).
    #[param(min_length = 1, max_length = 512)]
    data: String,
}

/// A QR code of `data` as SVG, for the demo page.
#[utoipa::path(
    get,
    path = "/bankid/demo/qr.svg",
    operation_id = "lime_bankid_demo_qr",
    tag = "lime",
    params(QrQuery),
    responses(
        (status = 200, description = "The QR code", body = String, content_type = "image/svg+xml"),
        (status = 400, description = "No text, or too long", body = super::error::ErrorBody),
        (status = 404, description = "BankID is not the simulator", body = super::error::ErrorBody),
    ),
)]
pub async fn qr(state: web::Data<AppState>, query: Option<web::Query<QrQuery>>) -> HttpResponse {
    if !state.settings.lime.bankid_demo {
        return not_here();
    }
    let Some(query) =
        query.filter(|query| !query.data.is_empty() && query.data.chars().count() <= MAX_QR_TEXT)
    else {
        return LimeError::bad_request(format!("data must be 1 to {MAX_QR_TEXT} characters."))
            .error_response();
    };
    match crate::qr_svg::svg_of(&query.data) {
        Some(image) => HttpResponse::Ok()
            .content_type("image/svg+xml")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(image),
        None => LimeError::bad_request("The text does not fit a QR code.").error_response(),
    }
}

const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Limen: BankID demo (simulator)</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 36rem; color: #222; }
  img { width: 240px; height: 240px; image-rendering: pixelated; display: block; margin: 1rem 0; }
  #status { font-weight: bold; }
  .warning { background: #fff3cd; padding: .5rem; }
</style>
</head>
<body>
<h1>Log in with BankID</h1>
<p class="warning">BankID here is Limen's simulator: no real BankID is involved.</p>
<form id="start">
  <label>Personal number <input id="personal_number" name="personal_number" placeholder="199908072391"></label>
  <label __API_KEY_FIELD__>API key <input id="api_key" name="api_key" type="password" autocomplete="off"></label>
  <button type="submit">Log in</button>
</form>
<img id="qr" alt="BankID QR code" hidden>
<p id="status"></p>
<p id="message"></p>
<pre id="user"></pre>
<script>
const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
async function post(path, body) {
  const headers = { 'Content-Type': 'application/json' };
  if ($('api_key').value) { headers[__API_KEY_HEADER__] = $('api_key').value; }
  const answer = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body) });
  return answer.json();
}
function show(status, message) {
  $('status').textContent = status || '';
  $('message').textContent = message || '';
}
function showQr(data) {
  $('qr').src = 'qr.svg?data=' + encodeURIComponent(data);
  $('qr').hidden = false;
}
async function poll(transaction) {
  const answer = await post('/bankid/collect/', { transaction_id: transaction });
  show(answer.progressStatus, answer.message ? answer.message.en : answer.error);
  if (answer.progressStatus === 'COMPLETE') {
    $('qr').hidden = true;
    $('user').textContent = JSON.stringify(answer.user, null, 2);
    return;
  }
  if (!answer.success) { $('qr').hidden = true; return; }
  showQr(answer.qr);
  setTimeout(() => poll(transaction), 1000);
}
async function start(number) {
  $('user').textContent = '';
  const answer = await post('/login/', { type: 'bankid', personal_number: number });
  if (!answer.success) { show(answer.progressStatus || 'ERROR', answer.error); return; }
  show('STARTED', 'Scan the QR code with the BankID app.');
  showQr(answer.qr);
  setTimeout(() => poll(answer.transaction_id), 1000);
}
$('start').addEventListener('submit', (event) => { event.preventDefault(); start($('personal_number').value); });
if (params.get('personal_number')) {
  $('personal_number').value = params.get('personal_number');
  start(params.get('personal_number'));
}
</script>
</body>
</html>
"#;
