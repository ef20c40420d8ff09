//! Durations as operators type them: `90d`, `12h`, `30m`, `45s`, `2w`, or a
//! sequence such as `1d12h`.

use chrono::Duration;

/// Parses a duration; the error says what was wrong.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("a duration such as 90d, 12h or 1d12h is required".into());
    }
    let mut total = Duration::zero();
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let amount: i64 = digits
            .parse()
            .map_err(|_| format!("{text:?}: a number must come before {c:?}"))?;
        digits.clear();
        let part = match c {
            's' => Duration::try_seconds(amount),
            'm' => Duration::try_minutes(amount),
            'h' => Duration::try_hours(amount),
            'd' => Duration::try_days(amount),
            'w' => Duration::try_weeks(amount),
            other => return Err(format!("{text:?}: unknown unit {other:?} (use s, m, h, d or w)")),
        }
        .ok_or_else(|| format!("{text:?} is too long"))?;
        total = total
            .checked_add(&part)
            .ok_or_else(|| format!("{text:?} is too long"))?;
    }
    if !digits.is_empty() {
        return Err(format!(
            "{text:?}: the last number has no unit (use s, m, h, d or w)"
        ));
    }
    if total <= Duration::zero() {
        return Err(format!("{text:?} must be longer than zero"));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_sequences_add_up() {
        assert_eq!(parse_duration("90d"), Ok(Duration::days(90)));
        assert_eq!(parse_duration("1d12h"), Ok(Duration::hours(36)));
        assert_eq!(parse_duration(" 2w "), Ok(Duration::weeks(2)));
        assert_eq!(parse_duration("45s"), Ok(Duration::seconds(45)));
    }

    #[test]
    fn bad_durations_say_why() {
        for bad in ["", "90", "d", "5y", "0d", "1.5h", "-1d", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
