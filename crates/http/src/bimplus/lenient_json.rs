//! The document's own example request ends an object with a trailing comma, and
//! clients copy it: such commas are removed before parsing. Nothing else is
//! relaxed.

/// `text` without the commas that follow a value and directly precede (whitespace
/// aside) a `}` or `]`, outside of strings. A comma after `{`, `[`, `:` or another
/// comma is left alone, so `{,}` stays an error.
pub fn strip_trailing_commas(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // A held comma and the whitespace after it, not yet known to be trailing.
    let mut held: Option<String> = None;
    // The last character outside whitespace written (a string counts as `"`).
    let mut last: Option<char> = None;
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
        if let Some(pending) = held.as_mut() {
            if c.is_whitespace() {
                pending.push(c);
                continue;
            }
            let pending = held.take().unwrap_or_default();
            if c == '}' || c == ']' {
                // Drop the comma, keep the whitespace.
                out.push_str(pending.get(1..).unwrap_or_default());
            } else {
                out.push_str(&pending);
            }
        }
        let follows_value = last.is_some_and(|prev| !matches!(prev, '{' | '[' | ',' | ':'));
        match c {
            ',' if follows_value => {
                held = Some(String::from(","));
                last = Some(',');
                continue;
            }
            '"' => in_string = true,
            _ => {}
        }
        out.push(c);
        if !c.is_whitespace() {
            last = Some(c);
        }
    }
    if let Some(pending) = held {
        out.push_str(&pending);
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
        assert_eq!(
            strip_trailing_commas(text),
            r#"{"a": "x,}", "b": [1, 2], "c": "\",]"}"#
        );
    }

    #[test]
    fn other_errors_remain_errors() {
        for bad in [
            "{,}",
            "{\"a\":1,,}",
            "[,]",
            "{\"a\" 1}",
            "{\"a\":,}",
            "[1,,]",
            ",",
        ] {
            assert!(
                serde_json::from_str::<serde_json::Value>(&strip_trailing_commas(bad)).is_err(),
                "{bad}"
            );
        }
    }
}
