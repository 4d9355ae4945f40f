//! Number formats the reports use: Cobertura's rates and kept-as-is values like `complexity`.

use std::cmp::Ordering;

/// A rate as coverage.py writes it: `covered / valid` with four significant digits (C's
/// `%.4g`), and `"1"` when nothing was measured. Tools compare these strings with
/// coverage.py's own, so the formatting follows `%.4g` exactly: trailing zeros dropped,
/// exponent notation below 0.0001.
pub(super) fn rate(covered: u64, valid: u64) -> String {
    if valid == 0 {
        return "1".to_owned();
    }
    format_g4(covered as f64 / valid as f64)
}

/// C's `%.4g` for a finite, non-negative value.
pub(super) fn format_g4(value: f64) -> String {
    if value == 0.0 {
        return "0".to_owned();
    }
    // `{:.3e}` rounds to four significant digits exactly as printf does, and gives the
    // exponent after rounding, which is what `%g` decides on.
    let scientific = format!("{value:.3e}");
    let Some((mantissa, exponent)) = scientific.split_once('e') else {
        return scientific;
    };
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if !(-4..4).contains(&exponent) {
        let mantissa = trim_zeros(mantissa);
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exponent.abs());
    }
    let decimals = usize::try_from(3 - exponent).unwrap_or(0);
    trim_zeros(&format!("{value:.decimals$}")).to_owned()
}

fn trim_zeros(number: &str) -> &str {
    if number.contains('.') {
        number.trim_end_matches('0').trim_end_matches('.')
    } else {
        number
    }
}

/// Keeps the larger of two kept-as-is values (`complexity`): by number when both are numbers,
/// else by text, so the choice does not depend on the order of the inputs.
pub(super) fn max_kept(kept: &mut Option<String>, value: &str) {
    let replace = match kept.as_deref() {
        None => true,
        Some(current) => compare_kept(value, current) == Ordering::Greater,
    };
    if replace {
        *kept = Some(value.to_owned());
    }
}

fn compare_kept(a: &str, b: &str) -> Ordering {
    match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y).then_with(|| a.cmp(b)),
        (Ok(_), Err(_)) => Ordering::Greater,
        (Err(_), Ok(_)) => Ordering::Less,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

/// Parses a non-negative count the way producers write them: an integer, or (Cobertura writers
/// that use floats) a decimal that is whole. Negative counts (a gcov bug) read as `Some(0)`.
pub(super) fn parse_count(text: &str) -> Option<u64> {
    let text = text.trim();
    if let Ok(count) = text.parse::<u64>() {
        return Some(count);
    }
    if text.starts_with('-') && text[1..].bytes().all(|b| b.is_ascii_digit()) && text.len() > 1 {
        return Some(0);
    }
    let float: f64 = text.parse().ok()?;
    (float.is_finite() && float >= 0.0 && float.fract() == 0.0 && float < 1.8e19)
        .then_some(float as u64)
}

#[cfg(test)]
mod tests {
    use super::{format_g4, max_kept, parse_count, rate};

    #[test]
    fn rates_match_printf() {
        // Values checked against Python's "%.4g".
        for (covered, valid, expected) in [
            (0, 0, "1"),
            (0, 5, "0"),
            (5, 5, "1"),
            (1, 2, "0.5"),
            (5, 6, "0.8333"),
            (2, 3, "0.6667"),
            (1, 3, "0.3333"),
            (999, 1000, "0.999"),
            (9999, 10000, "0.9999"),
            (99_999, 100_000, "1"),
            (1, 10_000, "0.0001"),
            (1, 100_000, "1e-05"),
            (123, 1_000_000, "0.000123"),
            (12_345, 100_000, "0.1235"),
        ] {
            assert_eq!(rate(covered, valid), expected, "{covered}/{valid}");
        }
        assert_eq!(format_g4(12.5), "12.5");
        assert_eq!(format_g4(12_345.0), "1.234e+04");
    }

    #[test]
    fn kept_values_take_the_larger() {
        let mut kept = None;
        for value in ["2", "10", "1.5", "NaN"] {
            max_kept(&mut kept, value);
        }
        assert_eq!(kept.as_deref(), Some("NaN"));
        let mut kept = None;
        for value in ["2", "10", "1.5"] {
            max_kept(&mut kept, value);
        }
        assert_eq!(kept.as_deref(), Some("10"));
    }

    #[test]
    fn counts() {
        assert_eq!(parse_count("12"), Some(12));
        assert_eq!(parse_count(" 3 "), Some(3));
        assert_eq!(parse_count("4.0"), Some(4));
        assert_eq!(parse_count("-1"), Some(0));
        assert_eq!(parse_count("4.5"), None);
        assert_eq!(parse_count("x"), None);
        assert_eq!(parse_count("-"), None);
    }
}
