//! The document's own example request ends an object with a trailing comma, and
//! clients copy it: such commas are removed before parsing. Nothing else is
//! relaxed.

/// `text` without commas that directly precede (whitespace aside) a `}` or `]`,
/// outside of strings.
pub fn strip_trailing_commas(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_comma: Option<String> = None;
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        if let Some(held) = pending_comma.as_mut() {
            if c.is_whitespace() {
                held.push(c);
                continue;
            }
            let held = pending_comma.take().unwrap_or_default();
            if c == '}' || c == ']' {
                // Drop the comma, keep the whitespace.
                out.push_str(&held[1..]);
            } else {
                out.push_str(&held);
            }
        }
        match c {
            ',' => pending_comma = Some(String::from(",")),
            '"' => {
                in_string = true;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    if let Some(held) = pending_comma {
        out.push_str(&held);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::strip_trailing_commas;

    #[test]
    fn the_documents_example_parses() {
        let example = r#"{
    "remember_me" : "true",
    "remeber_me_token": "b930e0179baf4f919caeab28328190a3",
    "client_id": "0864b512-1776-4a55-8ee5-2b19d7d9b7ea",
}"#;
        let value: serde_json::Value = serde_json::from_str(&strip_trailing_commas(example)).unwrap();
        assert_eq!(value["client_id"], "0864b512-1776-4a55-8ee5-2b19d7d9b7ea");
    }

    #[test]
    fn commas_inside_strings_and_between_values_stay() {
        let text = r#"{"a": "x,}", "b": [1, 2,], "c": "\",]"}"#;
        assert_eq!(strip_trailing_commas(text), r#"{"a": "x,}", "b": [1, 2], "c": "\",]"}"#);
    }

    #[test]
    fn other_errors_remain_errors() {
        for bad in ["{,}", "{\"a\":1,,}", "[,]", "{\"a\" 1}"] {
            assert!(serde_json::from_str::<serde_json::Value>(&strip_trailing_commas(bad)).is_err(), "{bad}");
        }
    }
}
