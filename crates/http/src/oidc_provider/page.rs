//! The hosted login page: server-rendered HTML; the only script renews
//! BankID's QR code. One `<form>` per step; its inputs are named `username`
//! and `password`, and the second factor's `code`, so that a client that
//! drives the page without a browser (a test, a command-line tool) finds
//! them. Hidden inputs carry the authorization request and the CSRF token;
//! the other ways to log in (BankID, an upstream provider) are forms of
//! their own with a hidden `method`.

use std::fmt::Write as _;

use limen_domain::model::StoredPasskey;

use super::texts::{Lang, Text};
use crate::Branding;

/// Text for HTML, attributes included (double-quoted).
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

const STYLE: &str = "
:root { --accent: #1f5fbf; --page: #eef1f5; --card: #fff; --text: #1b1f24; --muted: #5b6470; --line: #c9d0d9;
  --field: #fff; color-scheme: light dark; }
@media (prefers-color-scheme: dark) {
  :root { --accent: #6ea1ff; --page: #0f1216; --card: #1a1f26; --text: #e7ebf0; --muted: #a3adb9; --line: #3a434f;
    --field: #11151a; }
}
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
  font: 16px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; background: var(--page); color: var(--text); }
main { width: 100%; max-width: 26rem; margin: 1.5rem; padding: 2.25rem 2rem 2rem; background: var(--card);
  border-radius: 14px; box-shadow: 0 1px 3px rgba(0,0,0,.08), 0 12px 32px rgba(0,0,0,.08); }
.brand { margin: 0 0 1.75rem; font-weight: 700; letter-spacing: .01em; color: var(--accent); }
h1 { font-size: 1.5rem; line-height: 1.25; margin: 0 0 .25rem; }
p.lead { margin: 0 0 1.25rem; color: var(--muted); }
label { display: block; font-weight: 600; margin: 1.1rem 0 .35rem; }
input[type=text], input[type=password] { width: 100%; padding: .75rem .85rem; font: inherit; color: var(--text);
  background: var(--field); border: 1px solid var(--line); border-radius: 8px; }
input:focus-visible, button:focus-visible { outline: 3px solid var(--accent); outline-offset: 1px; }
button { width: 100%; margin-top: 1.75rem; padding: .85rem; font: inherit; font-weight: 600; border: 0;
  border-radius: 8px; background: var(--accent); color: #fff; cursor: pointer; }
button:hover { filter: brightness(1.08); }
button.secondary, a.button { display: block; text-align: center; text-decoration: none; background: transparent;
  color: var(--text); border: 1px solid var(--line); margin-top: .75rem; padding: .8rem; border-radius: 8px;
  font-weight: 600; }
button.secondary:hover, a.button:hover { border-color: var(--accent); filter: none; }
.or { display: flex; align-items: center; gap: .75rem; margin: 1.5rem 0 .25rem; color: var(--muted);
  font-size: .875rem; }
.or::before, .or::after { content: ''; flex: 1; border-top: 1px solid var(--line); }
details.bankid summary { display: block; text-align: center; cursor: pointer; list-style: none; margin-top: .75rem;
  padding: .8rem; border: 1px solid var(--line); border-radius: 8px; font-weight: 600; }
details.bankid summary:hover { border-color: var(--accent); }
details.bankid summary::-webkit-details-marker { display: none; }
details.bankid[open] summary { display: none; }
.brand img { display: block; max-height: 48px; max-width: 100%; }
.qr { display: block; width: 232px; height: 232px; margin: 1.25rem auto .5rem; image-rendering: pixelated;
  border-radius: 8px; border: 1px solid var(--line); }
.status { min-height: 1.5rem; margin: .75rem 0 0; text-align: center; font-weight: 600; }
a { color: var(--accent); }
ul.passkeys { list-style: none; padding: 0; margin: 1rem 0 0; }
ul.passkeys li { padding: .9rem 0; border-top: 1px solid var(--line); }
ul.passkeys li:last-child { border-bottom: 1px solid var(--line); }
.passkey { display: flex; flex-direction: column; gap: .15rem; }
.passkey span { color: var(--muted); font-size: .875rem; }
ul.passkeys details summary { cursor: pointer; color: var(--accent); font-size: .875rem; margin-top: .35rem; }
ul.passkeys details button { margin-top: .6rem; }
button.danger { color: #c0392b; }
.notice { margin: 1rem 0 0; padding: .75rem .9rem; border-radius: 8px; background: #2e7d321a; border: 1px solid #2e7d3266; }
.error { margin: 1rem 0 0; padding: .75rem .9rem; border-radius: 8px; background: #c0392b1a; border: 1px solid #c0392b66; }
.foot { margin: 1.75rem 0 0; font-size: .875rem; color: var(--muted); }
@media (max-width: 480px) {
  body { align-items: flex-start; background: var(--card); }
  main { margin: 0; box-shadow: none; border-radius: 0; padding: 2rem 1.25rem; }
}
";

/// Who the page speaks for and in what language.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Page<'a> {
    /// `[registration] site_name`.
    pub(crate) site: &'a str,
    /// The browser's language.
    pub(crate) lang: Lang,
    /// The operator's logo and accent colour.
    pub(crate) branding: &'a Branding,
}

/// The other ways to log in the login page offers.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Alternatives<'a> {
    /// BankID is configured.
    pub(crate) bankid: bool,
    /// Each upstream OpenID provider's id and name.
    pub(crate) upstream: &'a [(String, String)],
    /// Passkeys are on: a button, and the browser's autofill in the username field.
    pub(crate) passkeys: bool,
}

impl Page<'_> {
    fn say(&self, text: Text<'_>) -> String {
        escape(&self.lang.say(text))
    }
}

fn document(page: &Page<'_>, title: &str, body: &str) -> String {
    let site = escape(page.site);
    // Checked at start-up to be `#rrggbb`; it wins over both colour schemes.
    let accent = page
        .branding
        .accent
        .as_deref()
        .map(|accent| format!(":root {{ --accent: {accent}; }}"))
        .unwrap_or_default();
    let brand = if page.branding.logo.is_some() {
        format!("<img src=\"/oidc/logo\" alt=\"{site}\">")
    } else {
        site.clone()
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · {site}</title><style>{STYLE}{accent}</style></head>\
         <body><main><p class=\"brand\">{brand}</p>{body}</main></body></html>\n",
        lang = page.lang.code(),
    )
}

fn hidden(fields: &[(String, String)]) -> String {
    let mut inputs = String::new();
    for (name, value) in fields {
        let _ = write!(
            inputs,
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(name),
            escape(value)
        );
    }
    inputs
}

fn error_box(error: Option<&str>) -> String {
    error
        .map(|error| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(error)))
        .unwrap_or_default()
}

/// `fields` and one more hidden input.
fn with(fields: &[(String, String)], name: &str, value: &str) -> String {
    let mut all = fields.to_vec();
    all.push((name.to_owned(), value.to_owned()));
    hidden(&all)
}

/// The other ways to log in, each a form of its own.
fn alternatives(page: &Page<'_>, fields: &[(String, String)], offered: &Alternatives<'_>) -> String {
    if !offered.bankid && offered.upstream.is_empty() && !offered.passkeys {
        return String::new();
    }
    let mut html = format!("<p class=\"or\">{}</p>", page.say(Text::Or));
    if offered.passkeys {
        // Shown by the script where the browser has WebAuthn; it fills the
        // form with the assertion and sends it.
        let mut all = fields.to_vec();
        all.push(("method".into(), "passkey".into()));
        let _ = write!(
            html,
            "<button type=\"button\" id=\"passkey-button\" class=\"secondary\" data-failed=\"{failed}\" hidden>{label}</button>\
             <p id=\"passkey-error\" class=\"error\" role=\"alert\" hidden></p>\
             <form id=\"passkey-form\" method=\"post\" action=\"/oidc/authorize\">{hidden}\
             <input type=\"hidden\" name=\"ceremony\" value=\"\"><input type=\"hidden\" name=\"credential\" value=\"\">\
             </form><script src=\"/oidc/assets/passkey.js\" defer></script>",
            label = page.say(Text::SignInWithPasskey),
            failed = page.say(Text::PasskeyFailed),
            hidden = hidden(&all),
        );
    }
    if offered.bankid {
        // The personal number is asked for only once BankID is chosen.
        let _ = write!(
            html,
            "<details class=\"bankid\"><summary>{title}</summary>\
             <form method=\"post\" action=\"/oidc/authorize\">{hidden}\
             <label for=\"personal_number\">{label}</label>\
             <input type=\"text\" id=\"personal_number\" name=\"personal_number\" inputmode=\"numeric\" \
             autocomplete=\"off\" placeholder=\"{hint}\" required>\
             <button type=\"submit\">{title}</button></form></details>",
            title = page.say(Text::LogInWithBankId),
            hidden = with(fields, "method", "bankid"),
            label = page.say(Text::PersonalNumber),
            hint = page.say(Text::PersonalNumberHint),
        );
    }
    for (id, name) in offered.upstream {
        let mut all = fields.to_vec();
        all.push(("method".into(), "upstream".into()));
        all.push(("provider".into(), id.clone()));
        let _ = write!(
            html,
            "<form method=\"post\" action=\"/oidc/authorize\">{}\
             <button type=\"submit\" class=\"secondary\">{}</button></form>",
            hidden(&all),
            page.say(Text::ContinueWith(name)),
        );
    }
    html
}

/// The password step for `client` (its id, as the page names it), and the
/// other ways to log in.
pub(crate) fn login(
    page: &Page<'_>,
    client: &str,
    fields: &[(String, String)],
    username: &str,
    error: Option<&str>,
    offered: &Alternatives<'_>,
) -> String {
    let title = page.say(Text::LogIn);
    let body = format!(
        "<h1>{title}</h1><p class=\"lead\">{lead}</p>{error}\
         <form method=\"post\" action=\"/oidc/authorize\">{hidden}\
         <label for=\"username\">{username_label}</label>\
         <input type=\"text\" id=\"username\" name=\"username\" value=\"{username}\" autocomplete=\"{autocomplete}\" \
         autocapitalize=\"none\" required autofocus>\
         <label for=\"password\">{password_label}</label>\
         <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">{title}</button></form>{alternatives}",
        lead = page.say(Text::ToContinueTo(client)),
        error = error_box(error),
        hidden = hidden(fields),
        username_label = page.say(Text::Username),
        username = escape(username),
        password_label = page.say(Text::Password),
        alternatives = alternatives(page, fields, offered),
        // The browser offers the user's passkeys in the username field.
        autocomplete = if offered.passkeys {
            "username webauthn"
        } else {
            "username"
        },
    );
    document(page, &title, &body)
}

/// A BankID order in progress: its QR code (a `data:` URL), the link that
/// opens BankID on this device, BankID's message, and the form that
/// collects the order (`fields` name it), which /oidc/assets/bankid.js
/// sends every second; without script, the person sends it.
pub(crate) fn bankid(
    page: &Page<'_>,
    fields: &[(String, String)],
    qr: &str,
    auto_start_token: &str,
    status: &str,
    retry: &str,
) -> String {
    let title = page.say(Text::BankIdTitle);
    let open = format!("bankid:///?autostarttoken={}&redirect=null", auto_start_token);
    let body = format!(
        "<h1>{title}</h1><p class=\"lead\">{lead}</p>\
         <img id=\"bankid-qr\" class=\"qr\" src=\"{qr}\" alt=\"{qr_alt}\" width=\"232\" height=\"232\">\
         <p id=\"bankid-status\" class=\"status\" role=\"status\" aria-live=\"polite\">{status}</p>\
         <a id=\"bankid-open\" class=\"button\" href=\"{open}\">{open_label}</a>\
         <form id=\"bankid-collect\" method=\"post\" action=\"/oidc/authorize\">{hidden}\
         <noscript><p class=\"foot\">{noscript}</p></noscript>\
         <button id=\"bankid-continue\" type=\"submit\">{continue_label}</button></form>\
         <p class=\"foot\"><a id=\"bankid-retry\" href=\"{retry}\">{retry_label}</a></p>\
         <script src=\"/oidc/assets/bankid.js\" defer></script>",
        lead = page.say(Text::ScanWithBankId),
        qr = escape(qr),
        qr_alt = page.say(Text::LogInWithBankId),
        status = escape(status),
        open = escape(&open),
        open_label = page.say(Text::OpenBankIdHere),
        hidden = hidden(fields),
        noscript = page.say(Text::BankIdNoScript),
        continue_label = page.say(Text::Continue),
        retry = escape(retry),
        retry_label = page.say(Text::TryAgain),
    );
    document(page, &title, &body)
}

/// The second-factor step.
pub(crate) fn second_factor(page: &Page<'_>, fields: &[(String, String)], error: Option<&str>) -> String {
    let title = page.say(Text::TwoStep);
    let body = format!(
        "<h1>{title}</h1><p class=\"lead\">{lead}</p>{error}\
         <form method=\"post\" action=\"/oidc/authorize\">{hidden}\
         <label for=\"code\">{code}</label>\
         <input type=\"text\" id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" \
         required autofocus>\
         <button type=\"submit\">{verify}</button></form>",
        lead = page.say(Text::TwoStepLead),
        error = error_box(error),
        hidden = hidden(fields),
        code = page.say(Text::Code),
        verify = page.say(Text::Verify),
    );
    document(page, &title, &body)
}

/// What the account page shows.
pub(crate) struct AccountView<'a> {
    /// Whose page it is.
    pub(crate) username: &'a str,
    /// Their passkeys, oldest first.
    pub(crate) passkeys: &'a [StoredPasskey],
    /// The page's CSRF token.
    pub(crate) csrf: &'a str,
    /// Passkeys are on.
    pub(crate) passkeys_on: bool,
    /// The login is recent enough to add a passkey.
    pub(crate) can_add: bool,
    /// The login page that logs in again.
    pub(crate) relogin: &'a str,
}

/// A date as people read it here: `2026-12-07`.
fn day(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// The account page: the user's passkeys, each with its rename and remove
/// forms, and the button that adds one (its script, /oidc/assets/account.js).
pub(crate) fn account(page: &Page<'_>, view: &AccountView<'_>, told: Option<(bool, &str)>) -> String {
    let title = page.say(Text::YourPasskeys);
    let csrf = [("csrf".to_owned(), view.csrf.to_owned())];
    let notice = match told {
        Some((true, text)) => format!("<p class=\"notice\" role=\"status\">{}</p>", escape(text)),
        Some((false, text)) => error_box(Some(text)),
        None => String::new(),
    };
    let mut list = String::new();
    for passkey in view.passkeys {
        let used = passkey.last_used_at.map_or_else(
            || page.say(Text::NeverUsed),
            |at| page.say(Text::LastUsed(&day(at))),
        );
        let with_name = |action: &str| {
            let mut fields = csrf.to_vec();
            fields.push(("action".into(), action.into()));
            fields.push(("name".into(), passkey.name.clone()));
            hidden(&fields)
        };
        let _ = write!(
            list,
            "<li><div class=\"passkey\"><strong>{name}</strong><span>{added} · {used}</span></div>\
             <details><summary>{manage}</summary><form method=\"post\" action=\"/oidc/account\">{rename_fields}\
             <label for=\"rename-{id}\">{new_name}</label>\
             <input type=\"text\" id=\"rename-{id}\" name=\"new_name\" value=\"{name}\" maxlength=\"64\" required>\
             <button type=\"submit\" class=\"secondary\">{rename}</button></form>\
             <form method=\"post\" action=\"/oidc/account\">{remove_fields}\
             <button type=\"submit\" class=\"secondary danger\">{remove}</button></form></details></li>",
            id = passkey.id,
            name = escape(&passkey.name),
            added = page.say(Text::Added(&day(passkey.created_at))),
            used = escape(&used),
            rename = page.say(Text::Rename),
            manage = page.say(Text::RenameOrRemove),
            new_name = page.say(Text::NewName),
            remove = page.say(Text::Remove),
            rename_fields = with_name("rename"),
            remove_fields = with_name("remove"),
        );
    }
    let list = if view.passkeys.is_empty() {
        format!("<p class=\"lead\">{}</p>", page.say(Text::NoPasskeys))
    } else {
        format!("<ul class=\"passkeys\">{list}</ul>")
    };
    let add = if !view.passkeys_on {
        String::new()
    } else if view.can_add {
        format!(
            "<form id=\"passkey-add\" method=\"post\" action=\"/oidc/account\">{hidden}\
             <label for=\"passkey-name\">{name_label}</label>\
             <input type=\"text\" id=\"passkey-name\" name=\"name\" value=\"{default}\" maxlength=\"64\" required>\
             <button type=\"submit\" id=\"passkey-add-button\">{add}</button></form>\
             <p id=\"passkey-add-error\" class=\"error\" role=\"alert\" hidden></p>\
             <noscript><p class=\"foot\">{noscript}</p></noscript>\
             <script src=\"/oidc/assets/account.js\" defer></script>",
            hidden = hidden(&csrf),
            name_label = page.say(Text::PasskeyName),
            default = page.say(Text::DefaultPasskeyName),
            add = page.say(Text::AddPasskey),
            noscript = page.say(Text::PasskeyNeedsScript),
        )
    } else {
        format!(
            "<p class=\"foot\">{} <a href=\"{}\">{}</a></p>",
            page.say(Text::AddNeedsRecentLogin),
            escape(view.relogin),
            page.say(Text::LogInAgain),
        )
    };
    let body = format!(
        "<h1>{title}</h1><p class=\"lead\">{signed_in}</p>{notice}{list}{add}\
         <p class=\"foot\"><a href=\"/oidc/end_session\">{log_out}</a></p>",
        signed_in = page.say(Text::SignedInAs(view.username)),
        log_out = page.say(Text::LogOut),
    );
    document(page, &title, &body)
}

/// Asks before a logout no client proved it asked for.
pub(crate) fn confirm_logout(page: &Page<'_>, csrf: &str) -> String {
    let title = page.say(Text::LogOutQuestion);
    let body = format!(
        "<h1>{title}</h1><p class=\"lead\">{lead}</p>\
         <form method=\"post\" action=\"/oidc/end_session\">{hidden}\
         <button type=\"submit\">{button}</button></form>",
        lead = page.say(Text::LoggedInTo(page.site)),
        hidden = hidden(&[("csrf".to_owned(), csrf.to_owned())]),
        button = page.say(Text::LogOut),
    );
    document(page, &title, &body)
}

/// After a logout.
pub(crate) fn logged_out(page: &Page<'_>) -> String {
    let title = page.say(Text::LoggedOut);
    let body = format!(
        "<h1>{title}</h1><p class=\"lead\">{}</p>",
        page.say(Text::NoLongerLoggedIn(page.site))
    );
    document(page, &title, &body)
}

/// A refusal the browser cannot be sent back with.
pub(crate) fn refusal(page: &Page<'_>, message: &str) -> String {
    let title = page.say(Text::CannotLogIn);
    let body = format!(
        "<h1>{title}</h1><p class=\"error\" role=\"alert\">{}</p><p class=\"foot\">{}</p>",
        escape(message),
        page.say(Text::GoBack)
    );
    document(page, &title, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_comes_from_a_request_is_escaped_everywhere() {
        let hostile = "\"><script>alert(1)</script>'";
        let fields = vec![("state".to_owned(), hostile.to_owned())];
        for lang in [Lang::En, Lang::Sv] {
            let branding = Branding {
                accent: Some("#123456".into()),
                ..Branding::default()
            };
            let page = Page {
                site: hostile,
                lang,
                branding: &branding,
            };
            let upstream = vec![(hostile.to_owned(), hostile.to_owned())];
            let offered = Alternatives {
                bankid: true,
                upstream: &upstream,
                passkeys: true,
            };
            for html in [
                login(&page, hostile, &fields, hostile, Some(hostile), &offered),
                bankid(&page, &fields, hostile, hostile, hostile, hostile),
                account(
                    &page,
                    &AccountView {
                        username: hostile,
                        passkeys: &[StoredPasskey {
                            id: 1,
                            user_id: limen_domain::model::UserId(1),
                            user_handle: hostile.into(),
                            credential_id: hostile.into(),
                            name: hostile.into(),
                            credential: hostile.into(),
                            aaguid: None,
                            created_at: chrono::DateTime::UNIX_EPOCH,
                            last_used_at: None,
                        }],
                        csrf: hostile,
                        passkeys_on: true,
                        can_add: true,
                        relogin: hostile,
                    },
                    Some((false, hostile)),
                ),
                second_factor(&page, &fields, Some(hostile)),
                refusal(&page, hostile),
                confirm_logout(&page, hostile),
                logged_out(&page),
            ] {
                assert!(!html.contains("<script>"), "{html}");
                assert!(html.contains("&quot;&gt;&lt;script&gt;"), "{html}");
                assert!(html.contains(&format!("lang=\"{}\"", lang.code())));
            }
        }
    }
}
