use chrono::{Datelike, NaiveDate};

/// Parses a Swedish personal number ("personnummer") into the 12-digit form
/// BankID uses, `YYYYMMDDNNNC`. Accepted forms: 12 digits, or `YYYYMMDD-NNNC`;
/// 10 digits, or `YYMMDD-NNNC`, whose century is the latest that does not put the
/// birth after `today`, and `YYMMDD+NNNC`, a hundred years earlier (the `+` of
/// people aged 100 or more). The date must exist; a coordination number (day +
/// 60) is a date too, and Skatteverket's test numbers with month 00 or day 00 / 60
/// (an unknown month or day) are accepted. The check digit is Luhn's over the
/// last ten digits.
pub fn parse_personal_number(input: &str, today: NaiveDate) -> Option<String> {
    let text = input.trim();
    if !text.is_ascii() {
        return None;
    }
    let (digits, hundred_plus) = match text.len() {
        12 | 10 => (text.to_owned(), false),
        13 | 11 => {
            let split = text.len() - 5;
            let separator = text.as_bytes()[split];
            if !matches!(separator, b'-' | b'+') {
                return None;
            }
            (
                format!("{}{}", &text[..split], &text[split + 1..]),
                separator == b'+',
            )
        }
        _ => return None,
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let full = if digits.len() == 12 {
        if hundred_plus {
            // A `+` says "a hundred or older", which twelve digits say better.
            return None;
        }
        digits
    } else {
        let year_in_century: i32 = digits[..2].parse().ok()?;
        let month: u32 = digits[2..4].parse().ok()?;
        let mut year = today.year() - today.year().rem_euclid(100) + year_in_century;
        if year > today.year() || (year == today.year() && month > today.month()) {
            year -= 100;
        }
        if hundred_plus {
            year -= 100;
        }
        if year < 0 {
            return None;
        }
        format!("{:02}{digits}", year / 100)
    };
    let year: i32 = full[..4].parse().ok()?;
    let month: u32 = full[4..6].parse().ok()?;
    let day: u32 = full[6..8].parse().ok()?;
    let day = if day > 60 { day - 60 } else { day };
    let date_ok = match (month, day) {
        // Unknown month or day in Skatteverket's test numbers.
        (0, 0) | (0, 60) => true,
        (1..=12, 0) | (1..=12, 60) => true,
        (0, 1..=31) => true,
        (1..=12, 1..=31) => NaiveDate::from_ymd_opt(year, month, day).is_some(),
        _ => false,
    };
    (date_ok && luhn_valid(&full[2..])).then_some(full)
}

fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .map(|b| u32::from(b - b'0'))
        .enumerate()
        .map(|(i, d)| {
            if i.is_multiple_of(2) {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
    }

    fn parse(input: &str) -> Option<String> {
        parse_personal_number(input, today())
    }

    #[test]
    fn accepts_valid_numbers_in_every_form() {
        assert_eq!(parse("199001012385").as_deref(), Some("199001012385"));
        assert_eq!(parse("19900101-2385").as_deref(), Some("199001012385"));
        assert_eq!(parse(" 190001019876 ").as_deref(), Some("190001019876"));
        assert_eq!(parse("900101-2385").as_deref(), Some("199001012385"));
        assert_eq!(parse("9001012385").as_deref(), Some("199001012385"));
        // BankID's documented examples.
        assert_eq!(parse("199908072391").as_deref(), Some("199908072391"));
        assert_eq!(parse("200211242383").as_deref(), Some("200211242383"));
        assert_eq!(parse("021124-2383").as_deref(), Some("200211242383"));
    }

    #[test]
    fn the_century_of_ten_digits_follows_today_and_the_plus() {
        assert_eq!(parse("021124+2383").as_deref(), Some("190211242383"));
        assert_eq!(parse("900101+2385").as_deref(), Some("189001012385"));
    }

    #[test]
    fn coordination_numbers_and_skatteverket_s_test_dates_are_accepted() {
        // Day 61 = the 1st, a coordination number.
        let coordination = with_check("19900161123");
        assert_eq!(parse(&coordination).as_deref(), Some(coordination.as_str()));
        for date in ["19900001", "19900100", "19900160", "19900060"] {
            let number = with_check(&format!("{date}123"));
            assert!(parse(&number).is_some(), "{number}");
        }
    }

    /// `eleven` digits followed by the Luhn check digit over the last ten.
    fn with_check(eleven: &str) -> String {
        (0..10)
            .map(|c| format!("{eleven}{c}"))
            .find(|candidate| luhn_valid(&candidate[2..]))
            .unwrap()
    }

    #[test]
    fn rejects_bad_check_digits_dates_and_shapes() {
        for bad in [
            "199001012384",
            "199013012385",
            &with_check("19900230123"),
            &with_check("19900192123"),
            "19900101238",
            "1990010123845",
            "19900101x2384",
            "19900101+2385",
            "abcdefghijkl",
            "",
            "১৯৯০০১০১২৩৮৪",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_answered_and_what_is_accepted_is_canonical(input in "\\PC{0,20}") {
            if let Some(number) = parse(&input) {
                proptest::prop_assert_eq!(number.len(), 12);
                proptest::prop_assert!(number.bytes().all(|b| b.is_ascii_digit()));
                proptest::prop_assert_eq!(parse(&number), Some(number.clone()));
            }
        }

        #[test]
        fn near_misses_never_panic(prefix in "[0-9]{6,8}", sep in "[-+ é]", rest in "[0-9a]{4}") {
            let _ = parse(&format!("{prefix}{sep}{rest}"));
        }
    }
}
