//! The hosted login page: server-rendered HTML, no script. One `<form>` per
//! step; its inputs are named `username` and `password`, and the second
//! factor's `code`, so that a client that drives the page without a browser
//! (a test, a command-line tool) finds them. Hidden inputs carry the
//! authorization request and the CSRF token.

use std::fmt::Write as _;

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
:root { --accent: #1f5fbf; color-scheme: light dark; }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
  font: 16px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; background: Canvas; color: CanvasText; }
main { width: 100%; max-width: 24rem; padding: 2rem 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
p.lead { margin: 0 0 1.5rem; opacity: .75; }
label { display: block; font-weight: 600; margin: 1rem 0 .25rem; }
input[type=text], input[type=password] { width: 100%; padding: .75rem; font: inherit; border: 1px solid #8888;
  border-radius: .5rem; background: Field; color: FieldText; }
input:focus-visible, button:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
button { width: 100%; margin-top: 1.5rem; padding: .8rem; font: inherit; font-weight: 600; border: 0;
  border-radius: .5rem; background: var(--accent); color: white; cursor: pointer; }
.error { margin: 1rem 0 0; padding: .75rem; border-radius: .5rem; background: #c0392b22; border: 1px solid #c0392b88; }
";

fn document(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>\n",
        title = escape(title)
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

/// The password step for `client` (its id, as the page names it).
pub(crate) fn login(
    client: &str,
    fields: &[(String, String)],
    username: &str,
    error: Option<&str>,
) -> String {
    let body = format!(
        "<h1>Log in</h1><p class=\"lead\">to continue to {client}</p>{error}\
         <form method=\"post\" action=\"/oidc/authorize\">{hidden}\
         <label for=\"username\">Username or e-mail</label>\
         <input type=\"text\" id=\"username\" name=\"username\" value=\"{username}\" autocomplete=\"username\" \
         autocapitalize=\"none\" required autofocus>\
         <label for=\"password\">Password</label>\
         <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Log in</button></form>",
        client = escape(client),
        error = error_box(error),
        hidden = hidden(fields),
        username = escape(username),
    );
    document("Log in", &body)
}

/// The second-factor step.
pub(crate) fn second_factor(fields: &[(String, String)], error: Option<&str>) -> String {
    let body = format!(
        "<h1>Two-step verification</h1><p class=\"lead\">Enter the code from your authenticator app, \
         or one of your recovery codes.</p>{error}\
         <form method=\"post\" action=\"/oidc/authorize\">{hidden}\
         <label for=\"code\">Code</label>\
         <input type=\"text\" id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" \
         required autofocus>\
         <button type=\"submit\">Verify</button></form>",
        error = error_box(error),
        hidden = hidden(fields),
    );
    document("Two-step verification", &body)
}

/// A refusal the browser cannot be sent back with.
pub(crate) fn refusal(message: &str) -> String {
    document(
        "Cannot log in",
        &format!(
            "<h1>Cannot log in</h1><p class=\"error\" role=\"alert\">{}</p>\
             <p>Go back to the application and try again; if this keeps happening, tell its administrators.</p>",
            escape(message)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_comes_from_a_request_is_escaped_everywhere() {
        let hostile = "\"><script>alert(1)</script>'";
        let fields = vec![("state".to_owned(), hostile.to_owned())];
        for page in [
            login(hostile, &fields, hostile, Some(hostile)),
            second_factor(&fields, Some(hostile)),
            refusal(hostile),
        ] {
            assert!(!page.contains("<script>"), "{page}");
            assert!(page.contains("&quot;&gt;&lt;script&gt;"), "{page}");
        }
    }
}
