//! `GET /account/checkEmail/{code}`: the link of the verification e-mail, opened
//! in a browser, so it answers a small HTML page.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use limen_domain::DomainError;

use crate::AppState;

/// Marks the link's e-mail address as verified; the link works once.
#[utoipa::path(
    get,
    path = "/account/checkEmail/{code}",
    operation_id = "gradido_check_email",
    tag = "gradido",
    params(("code" = String, Path, description = "The code from the verification e-mail")),
    responses(
        (status = 200, description = "The address is confirmed: a small HTML page", body = String, content_type = "text/html"),
        (status = 404, description = "The link is unknown, used or expired: a small HTML page", body = String, content_type = "text/html"),
        (status = 500, description = "A backend failed: a small HTML page", body = String, content_type = "text/html"),
    ),
)]
pub async fn check_email(code: web::Path<String>, state: web::Data<AppState>) -> HttpResponse {
    match state.services.registration.verify_email(code.trim()).await {
        Ok(user) => page(
            StatusCode::OK,
            "E-mail address confirmed",
            &format!("Thank you: {} is confirmed.", escape(&user.email)),
        ),
        Err(DomainError::InvalidToken) => page(
            StatusCode::NOT_FOUND,
            "Link not valid",
            "This link is unknown, was already used, or has expired.",
        ),
        Err(err) => {
            tracing::error!(cause = %err, "e-mail verification failed");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The address could not be confirmed; please try the link again later.",
            )
        }
    }
}

fn page(status: StatusCode, title: &str, text: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        // The link carries a secret: it must not travel on in a Referer header.
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
             <body><h1>{title}</h1><p>{text}</p></body></html>\n"
        ))
}

/// `text` safe to place in HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
