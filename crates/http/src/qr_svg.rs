//! QR codes as SVG images: BankID's animated QR code on the hosted login
//! page and on the lime dialect's demo page.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use qrcodegen::{QrCode, QrCodeEcc};

/// `text` as a QR code in SVG; `None` when it does not fit one.
pub(crate) fn svg_of(text: &str) -> Option<String> {
    QrCode::encode_text(text, QrCodeEcc::Medium)
        .ok()
        .map(|code| svg(&code))
}

/// `svg_of` as a `data:` URL, for an `<img>` the page renews without a request.
pub(crate) fn data_url_of(text: &str) -> Option<String> {
    svg_of(text).map(|image| format!("data:image/svg+xml;base64,{}", STANDARD.encode(image)))
}

/// The code as an SVG image: one square per dark module, four modules of quiet zone.
fn svg(code: &QrCode) -> String {
    let border = 4;
    let size = code.size() + 2 * border;
    let mut path = String::new();
    for y in 0..code.size() {
        for x in 0..code.size() {
            if code.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" shape-rendering=\"crispEdges\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_svg_draws_every_dark_module_inside_a_quiet_zone() {
        let code = QrCode::encode_text("bankid.token.0.code", QrCodeEcc::Medium).unwrap();
        let image = svg(&code);
        let size = code.size() + 8;
        assert!(
            image.contains(&format!("viewBox=\"0 0 {size} {size}\"")),
            "{image}"
        );
        let dark = (0..code.size())
            .flat_map(|y| (0..code.size()).map(move |x| (x, y)))
            .filter(|&(x, y)| code.get_module(x, y))
            .count();
        assert_eq!(image.matches("h1v1h-1z").count(), dark);
        let url = data_url_of("bankid.token.0.code").unwrap();
        let decoded = STANDARD
            .decode(url.strip_prefix("data:image/svg+xml;base64,").unwrap())
            .unwrap();
        assert_eq!(decoded, image.as_bytes());
    }
}
