//! Parsing of the `time` attribute in the forms real producers write.
//!
//! Most tools write a plain decimal (`0.123`), but some write an exponent (`1.2E-4`), a unit
//! suffix (`0.5s`), locale-formatted numbers with thousands separators (`1,234.5`, older
//! Surefire) or a decimal comma (`1,5`, producers running under a European locale). Durations
//! that cannot be a duration (negative, `NaN`, infinite) are treated as absent, so one broken
//! producer cannot poison the timing history.

/// Parses a JUnit `time` attribute into seconds.
///
/// Surrounding whitespace and one trailing `s` are ignored. Commas are read as thousands
/// separators when every group after them has exactly three digits (`1,234.5`, `12,345`), and
/// a single comma otherwise is read as a decimal comma (`1,5`). Returns `None` for values that
/// carry no duration: empty, not a number, negative, `NaN` or infinite.
pub fn parse_time(raw: &str) -> Option<f64> {
    let trimmed = raw.trim();
    let number = trimmed.strip_suffix('s').unwrap_or(trimmed).trim_end();
    if number.is_empty() {
        return None;
    }
    let value: f64 = if number.contains(',') {
        normalise_commas(number)?.parse().ok()?
    } else {
        number.parse().ok()?
    };
    // `-0` is a zero duration, anything below is not a duration at all.
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    Some(value.abs())
}

/// Whole milliseconds in `seconds`, rounded; 0 for anything that is not a positive finite
/// duration, saturating at `u64::MAX`. Every time rxdist writes goes through here, so sums of
/// written times are exact.
pub(crate) fn to_millis(seconds: f64) -> u64 {
    if seconds.is_finite() && seconds > 0.0 {
        // `as` saturates for values beyond u64's range.
        (seconds * 1000.0).round() as u64
    } else {
        0
    }
}

/// `to_millis(parse_time(raw)?)` for the plain form nearly every producer writes, digits with
/// at most three decimals (`0.029`, `12`, `4603.213`), without going through a float; `None`
/// for any other form, which the general path reads.
pub(crate) fn plain_millis(raw: &str) -> Option<u64> {
    let (whole, fraction) = match raw.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (raw, ""),
    };
    // Nine digits of seconds keep every value far inside f64's exact range.
    if whole.is_empty()
        || whole.len() > 9
        || fraction.len() > 3
        || (raw.len() > whole.len() && fraction.is_empty())
    {
        return None;
    }
    let mut millis = 0u64;
    for &digit in whole.as_bytes() {
        if !digit.is_ascii_digit() {
            return None;
        }
        millis = millis * 10 + u64::from(digit - b'0');
    }
    let mut scale = 1000;
    for &digit in fraction.as_bytes() {
        if !digit.is_ascii_digit() {
            return None;
        }
        scale /= 10;
        millis = millis * 10 + u64::from(digit - b'0');
    }
    Some(millis * scale)
}

/// Whether `raw`, a time [`plain_millis`] reads, is already in the form [`format_millis`]
/// writes: no leading zero before the point but the only one, no trailing zero after it.
pub(crate) fn is_written_form(raw: &str) -> bool {
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
    let leading_zero = whole.len() > 1 && whole.starts_with('0');
    !(leading_zero || fraction.ends_with('0'))
}

/// Milliseconds written as seconds with at most three decimals and no trailing zeros
/// (`1.5`, `0.001`, `2`).
pub(crate) fn format_millis(millis: u64) -> String {
    let (whole, fraction) = (millis / 1000, millis % 1000);
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:03}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// Rewrites a number containing commas into the form [`str::parse`] accepts, or `None` when
/// the commas fit neither the thousands-separator nor the decimal-comma reading.
fn normalise_commas(number: &str) -> Option<String> {
    let (integer, fraction) = match number.split_once('.') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (number, None),
    };
    let mut groups = integer.split(',');
    let first = groups.next().unwrap_or_default();
    let digits = first.trim_start_matches(['+', '-']);
    let rest: Vec<&str> = groups.collect();
    let is_thousands = (1..=3).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && rest
            .iter()
            .all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
        && fraction.is_none_or(|f| !f.contains(','));
    if is_thousands {
        let mut out: String = integer.chars().filter(|&c| c != ',').collect();
        if let Some(fraction) = fraction {
            out.push('.');
            out.push_str(fraction);
        }
        return Some(out);
    }
    // A decimal comma: exactly one comma and no point.
    if fraction.is_none() && rest.len() == 1 {
        return Some(number.replacen(',', ".", 1));
    }
    None
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{format_millis, is_written_form, parse_time, plain_millis, to_millis};

    proptest! {
        #[test]
        fn the_plain_form_reads_as_the_general_path_does(
            raw in r"[0-9]{0,10}(\.[0-9]{0,4})?|[0-9 .,se+-]{0,8}"
        ) {
            if let Some(millis) = plain_millis(&raw) {
                prop_assert_eq!(Some(millis), parse_time(&raw).map(to_millis));
            }
        }
    }

    proptest! {
        #[test]
        fn the_written_form_is_what_format_millis_writes(raw in r"[0-9]{1,9}(\.[0-9]{1,3})?") {
            let millis = plain_millis(&raw).expect("plain");
            prop_assert_eq!(is_written_form(&raw), format_millis(millis) == raw);
        }
    }

    #[test]
    fn the_plain_form_is_recognised() {
        assert_eq!(plain_millis("0.029"), Some(29));
        assert_eq!(plain_millis("12"), Some(12_000));
        assert_eq!(plain_millis("4603.2"), Some(4_603_200));
        assert_eq!(plain_millis("999999999.999"), Some(999_999_999_999));
        for other in [
            "",
            ".5",
            "1.",
            "1.2345",
            "1e3",
            "-1",
            " 1",
            "1,5",
            "1s",
            "1234567890",
        ] {
            assert_eq!(plain_millis(other), None, "{other:?}");
        }
    }

    #[test]
    fn millis_round_and_format() {
        assert_eq!(to_millis(1.23456), 1235);
        assert_eq!(to_millis(-1.0), 0);
        assert_eq!(to_millis(f64::NAN), 0);
        assert_eq!(to_millis(1e300), u64::MAX);
        assert_eq!(format_millis(0), "0");
        assert_eq!(format_millis(1), "0.001");
        assert_eq!(format_millis(1500), "1.5");
        assert_eq!(format_millis(2000), "2");
        assert_eq!(format_millis(1_234_567), "1234.567");
    }

    #[test]
    fn plain_numbers() {
        assert_eq!(parse_time("0.123"), Some(0.123));
        assert_eq!(parse_time("12"), Some(12.0));
        assert_eq!(parse_time("  3.5\n"), Some(3.5));
        assert_eq!(parse_time(".5"), Some(0.5));
        assert_eq!(parse_time("0"), Some(0.0));
        assert_eq!(parse_time("-0"), Some(0.0));
    }

    #[test]
    fn exponent_and_suffix() {
        assert_eq!(parse_time("1.5E-3"), Some(0.0015));
        assert_eq!(parse_time("2e2"), Some(200.0));
        assert_eq!(parse_time("0.5s"), Some(0.5));
        assert_eq!(parse_time(" 7 s "), Some(7.0));
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(parse_time("1,234.5"), Some(1234.5));
        assert_eq!(parse_time("1,234"), Some(1234.0));
        assert_eq!(parse_time("12,345,678.25"), Some(12_345_678.25));
    }

    #[test]
    fn decimal_comma() {
        assert_eq!(parse_time("1,5"), Some(1.5));
        assert_eq!(parse_time("0,25"), Some(0.25));
        assert_eq!(parse_time("1234,5"), Some(1234.5));
    }

    #[test]
    fn unusable_values() {
        for raw in [
            "", "  ", "s", "abc", "-1", "-0.5", "NaN", "nan", "inf", "-inf", "infinity",
        ] {
            assert_eq!(parse_time(raw), None, "{raw:?}");
        }
        for raw in ["1,2,3", "1,23.4", "1.2,3", "1..2", ",5,", "1,5.0,0"] {
            assert_eq!(parse_time(raw), None, "{raw:?}");
        }
    }
}
