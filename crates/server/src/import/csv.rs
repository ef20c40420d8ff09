//! CSV as RFC 4180 has it: a header line naming the columns, fields separated
//! by commas, quoted with `"` when they hold a comma, a quote (doubled) or a
//! line break; `\n` or `\r\n` between records.

use super::{RawUser, Record};

/// The columns a file may have.
const COLUMNS: [&str; 8] = [
    "username",
    "email",
    "first_name",
    "last_name",
    "personal_number",
    "password_hash",
    "enabled",
    "email_verified",
];

/// Splits `text` into records, each with the line it starts on.
fn records(text: &str) -> Result<Vec<(usize, Vec<String>)>, String> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut line = 1;
    let mut start = 1;
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, '\n') => {
                line += 1;
                field.push('\n');
            }
            (true, other) => field.push(other),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                fields.push(std::mem::take(&mut field));
                records.push((start, std::mem::take(&mut fields)));
                line += 1;
                start = line;
                any = false;
            }
            (false, other) => field.push(other),
        }
    }
    if quoted {
        return Err(format!("line {start}: a quoted field is not closed"));
    }
    if any {
        fields.push(field);
        records.push((start, fields));
    }
    Ok(records)
}

/// The users of a CSV file.
pub fn read(text: &str) -> Result<Vec<Record>, String> {
    let mut rows = records(text.trim_start_matches('\u{feff}'))?.into_iter();
    let Some((_, header)) = rows.next() else {
        return Err("the file is empty: it needs a header line".into());
    };
    let header: Vec<String> = header
        .iter()
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    if let Some(unknown) = header.iter().find(|name| !COLUMNS.contains(&name.as_str())) {
        return Err(format!(
            "line 1: unknown column {unknown:?}; the columns are {}",
            COLUMNS.join(", ")
        ));
    }
    Ok(rows
        .filter(|(_, fields)| !(fields.len() == 1 && fields[0].trim().is_empty()))
        .map(|(line, fields)| Record {
            place: format!("line {line}"),
            user: user(&header, fields),
        })
        .collect())
}

fn user(header: &[String], fields: Vec<String>) -> Result<RawUser, String> {
    if fields.len() != header.len() {
        return Err(format!(
            "{} fields where the header names {}",
            fields.len(),
            header.len()
        ));
    }
    let mut user = RawUser::default();
    for (name, value) in header.iter().zip(fields) {
        let text = Some(value.clone()).filter(|value| !value.is_empty());
        match name.as_str() {
            "username" => user.username = text,
            "email" => user.email = text,
            "first_name" => user.first_name = text,
            "last_name" => user.last_name = text,
            "personal_number" => user.personal_number = text,
            "password_hash" => user.password_hash = text,
            "enabled" => user.enabled = flag("enabled", &value)?,
            _ => user.email_verified = flag("email_verified", &value)?,
        }
    }
    Ok(user)
}

fn flag(name: &str, value: &str) -> Result<Option<bool>, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "true" | "1" | "yes" => Ok(Some(true)),
        "false" | "0" | "no" => Ok(Some(false)),
        other => Err(format!("{name} must be true or false, not {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_keep_commas_quotes_and_line_breaks() {
        let text = "username,email,first_name,password_hash,enabled\r\n\
                    ann,ann@example.com,\"Ann, the \"\"first\"\"\",$2b$04$x,true\r\n\
                    bo,bo@example.com,\"two\nlines\",$2b$04$y,\n\
                    \n\
                    carl,carl@example.com,,$2b$04$z,no";
        let records = read(text).unwrap();
        let places: Vec<&str> = records.iter().map(|record| record.place.as_str()).collect();
        assert_eq!(places, ["line 2", "line 3", "line 6"]);
        let ann = records[0].user.clone().unwrap();
        assert_eq!(ann.first_name.as_deref(), Some("Ann, the \"first\""));
        assert_eq!(ann.enabled, Some(true));
        assert_eq!(
            records[1].user.clone().unwrap().first_name.as_deref(),
            Some("two\nlines")
        );
        let carl = records[2].user.clone().unwrap();
        assert_eq!((carl.first_name, carl.enabled), (None, Some(false)));
    }

    #[test]
    fn bad_rows_and_bad_headers_are_named() {
        let records = read("username,email\nann\nbo,bo@example.com,extra\n").unwrap();
        assert!(records[0].user.as_ref().unwrap_err().contains("1 fields"));
        assert!(records[1].user.as_ref().unwrap_err().contains("3 fields"));
        assert!(read("username,shoe_size\n").unwrap_err().contains("shoe_size"));
        assert!(read("").unwrap_err().contains("header"));
        assert!(read("username\n\"open").unwrap_err().contains("line 2"));
        let records = read("username,enabled\nann,maybe\n").unwrap();
        assert!(records[0].user.as_ref().unwrap_err().contains("enabled"));
    }
}
