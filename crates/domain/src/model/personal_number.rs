/// Parses a Swedish personal number ("personnummer") into the 12-digit form
/// BankID uses: `YYYYMMDDNNNC`, also accepted with a `-` or `+` before the last
/// four digits. The check digit (Luhn over the last ten digits) and the date's
/// month and day ranges are verified; coordination numbers (day + 60) are accepted.
pub fn parse_personal_number(input: &str) -> Option<String> {
    let trimmed = input.trim();
    let digits: String = match trimmed.len() {
        12 => trimmed.to_owned(),
        13 if matches!(trimmed.as_bytes()[8], b'-' | b'+') => {
            format!("{}{}", &trimmed[..8], &trimmed[9..])
        }
        _ => return None,
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let month: u32 = digits[4..6].parse().ok()?;
    let day: u32 = digits[6..8].parse().ok()?;
    let day = if day > 60 { day - 60 } else { day };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    luhn_valid(&digits[2..]).then_some(digits)
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
    use super::parse_personal_number;

    #[test]
    fn accepts_valid_numbers_in_both_forms() {
        assert_eq!(
            parse_personal_number("199001012385").as_deref(),
            Some("199001012385")
        );
        assert_eq!(
            parse_personal_number("19900101-2385").as_deref(),
            Some("199001012385")
        );
        assert_eq!(
            parse_personal_number(" 190001019876 ").as_deref(),
            Some("190001019876")
        );
    }

    #[test]
    fn rejects_bad_check_digits_dates_and_shapes() {
        for bad in [
            "199001012384",
            "199013012385",
            "19900101238",
            "1990010123845",
            "19900101x2384",
            "abcdefghijkl",
            "",
            "১৯৯০০১০১২৩৮৪",
        ] {
            assert_eq!(parse_personal_number(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_answered_and_what_is_accepted_is_canonical(input in "\\PC{0,20}") {
            if let Some(number) = parse_personal_number(&input) {
                proptest::prop_assert_eq!(number.len(), 12);
                proptest::prop_assert!(number.bytes().all(|b| b.is_ascii_digit()));
                proptest::prop_assert_eq!(parse_personal_number(&number), Some(number.clone()));
            }
        }

        #[test]
        fn near_misses_never_panic(prefix in "[0-9]{8}", sep in "[-+ é]", rest in "[0-9a]{4}") {
            let _ = parse_personal_number(&format!("{prefix}{sep}{rest}"));
        }
    }
}
