//! Parsing of the `time` attribute in the forms real producers write.

/// Parses a JUnit `time` attribute into seconds.
///
/// Returns `None` for values that carry no duration (empty, not a number, `NaN`, infinite).
pub fn parse_time(raw: &str) -> Option<f64> {
    let _ = raw;
    unimplemented!("owned by the junit work")
}
