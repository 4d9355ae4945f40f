//! Importing duration files written by other tools (pytest-split, knapsack).
//!
//! Teams moving to rxdist usually have timings already: pytest-split's `.test_durations`
//! (an object of node id to seconds; versions before 0.3 wrote a list of `[id, seconds]`
//! pairs) or knapsack's `knapsack_*_report.json` (an object of spec path to seconds). All three
//! reduce to id/seconds pairs. The reader streams entries straight into the result, so a file
//! of a million entries costs little more than its pairs, and it names the offending entry
//! when a value is unusable.

use std::fmt;

use serde::Deserializer as _;
use serde::de::{self, MapAccess, SeqAccess, Visitor};

/// Why a duration file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The bytes are not JSON.
    #[error(
        "duration file is not valid JSON; expected pytest-split's .test_durations or a \
         knapsack report"
    )]
    NotJson(#[source] serde_json::Error),
    /// Python's `json` module writes `NaN` and `Infinity` for broken durations; JSON has
    /// neither.
    #[error(
        "duration file has NaN or Infinity at line {line}, column {column}, which is not JSON \
         (Python writes it for a broken duration); remove that entry or regenerate the file"
    )]
    NotFinite {
        /// 1-based line of the literal.
        line: usize,
        /// 1-based column of the literal.
        column: usize,
    },
    /// The JSON is neither an object nor a list.
    #[error(
        "duration file holds {found}; expected an object of test id to seconds (pytest-split, \
         knapsack) or a list of [id, seconds] pairs (older pytest-split)"
    )]
    WrongShape {
        /// What the document is, e.g. "a string".
        found: &'static str,
    },
    /// A list entry is not an `[id, seconds]` pair.
    #[error(
        "entry {index} of the duration list is not an [id, seconds] pair; fix or regenerate \
         the file"
    )]
    NotAPair {
        /// The entry's position, from 0.
        index: usize,
    },
    /// A duration is not a number.
    #[error(
        "duration of {id:?} is {found}, expected seconds as a number; fix or regenerate the file"
    )]
    NotANumber {
        /// The test id.
        id: String,
        /// What the value is, e.g. "a string".
        found: &'static str,
    },
    /// A duration is negative or not finite.
    #[error(
        "duration of {id:?} is {seconds}, expected a non-negative number of seconds; fix or \
         regenerate the file"
    )]
    BadSeconds {
        /// The test id.
        id: String,
        /// The value.
        seconds: f64,
    },
}

/// Reads pytest-split `.test_durations` or knapsack `knapsack_*_report.json` bytes.
///
/// Returns id/seconds pairs sorted by id. When an id occurs more than once the last value
/// wins, as with most JSON readers.
pub fn read_durations_json(bytes: &[u8]) -> Result<Vec<(String, f64)>, ImportError> {
    let mut failure = None;
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = deserializer
        .deserialize_any(DurationsVisitor {
            failure: &mut failure,
        })
        .and_then(|pairs| deserializer.end().map(|()| pairs));
    // A structured failure found inside the visitor outranks the generic error it aborted with.
    if let Some(failure) = failure {
        return Err(failure);
    }
    let mut pairs = parsed.map_err(|error| not_json(bytes, error))?;
    // Stable, so equal ids stay in file order and the last one survives the dedup below.
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut deduped: Vec<(String, f64)> = Vec::with_capacity(pairs.len());
    for pair in pairs {
        match deduped.last_mut() {
            Some(last) if last.0 == pair.0 => *last = pair,
            _ => deduped.push(pair),
        }
    }
    Ok(deduped)
}

/// Explains a parse error, recognising the `NaN`/`Infinity` literals Python emits.
fn not_json(bytes: &[u8], error: serde_json::Error) -> ImportError {
    let (line, column) = (error.line(), error.column());
    let at = bytes
        .split(|&b| b == b'\n')
        .nth(line.saturating_sub(1))
        .and_then(|text| text.get(column.saturating_sub(1)..));
    match at {
        Some(rest)
            if error.is_syntax() && (rest.starts_with(b"NaN") || rest.starts_with(b"Infinity")) =>
        {
            ImportError::NotFinite { line, column }
        }
        _ => ImportError::NotJson(error),
    }
}

/// Names a JSON value's kind for messages.
fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Checks one duration, or says what is wrong with it.
fn duration(id: &str, value: &serde_json::Value) -> Result<f64, ImportError> {
    let Some(seconds) = value.as_f64() else {
        return Err(ImportError::NotANumber {
            id: id.to_owned(),
            found: kind(value),
        });
    };
    if seconds.is_finite() && seconds >= 0.0 {
        Ok(seconds)
    } else {
        Err(ImportError::BadSeconds {
            id: id.to_owned(),
            seconds,
        })
    }
}

struct DurationsVisitor<'a> {
    /// Where a structured error is left before aborting the parse.
    failure: &'a mut Option<ImportError>,
}

impl DurationsVisitor<'_> {
    fn fail<E: de::Error>(self, error: ImportError) -> E {
        let message = E::custom(&error);
        *self.failure = Some(error);
        message
    }
}

impl<'de> Visitor<'de> for DurationsVisitor<'_> {
    type Value = Vec<(String, f64)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of test id to seconds or a list of [id, seconds] pairs")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some((id, value)) = map.next_entry::<String, serde_json::Value>()? {
            match duration(&id, &value) {
                Ok(seconds) => pairs.push((id, seconds)),
                Err(error) => return Err(self.fail(error)),
            }
        }
        Ok(pairs)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut pairs = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        let mut index = 0;
        while let Some(entry) = seq.next_element::<serde_json::Value>()? {
            let pair = match entry {
                serde_json::Value::Array(mut items) if items.len() == 2 => {
                    let value = items.pop();
                    match (items.pop(), value) {
                        (Some(serde_json::Value::String(id)), Some(value)) => Some((id, value)),
                        _ => None,
                    }
                }
                _ => None,
            };
            let Some((id, value)) = pair else {
                return Err(self.fail(ImportError::NotAPair { index }));
            };
            match duration(&id, &value) {
                Ok(seconds) => pairs.push((id, seconds)),
                Err(error) => return Err(self.fail(error)),
            }
            index += 1;
        }
        Ok(pairs)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(self.fail(ImportError::WrongShape { found: "a boolean" }))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(self.fail(ImportError::WrongShape { found: "a number" }))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(self.fail(ImportError::WrongShape { found: "a number" }))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(self.fail(ImportError::WrongShape { found: "a number" }))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(self.fail(ImportError::WrongShape { found: "a string" }))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Err(self.fail(ImportError::WrongShape { found: "null" }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Result<Vec<(String, f64)>, ImportError> {
        read_durations_json(json.as_bytes())
    }

    fn pairs(list: &[(&str, f64)]) -> Vec<(String, f64)> {
        list.iter().map(|&(id, s)| (id.to_owned(), s)).collect()
    }

    #[test]
    fn reads_pytest_split_objects_sorted_by_id() {
        let json = r#"{"tests/b.py::t": 1.5, "tests/a.py::t[x-\"y\"]": 0, "tests/a.py::s": 2e-3}"#;
        let expected = pairs(&[
            ("tests/a.py::s", 0.002),
            ("tests/a.py::t[x-\"y\"]", 0.0),
            ("tests/b.py::t", 1.5),
        ]);
        assert_eq!(read(json).expect("valid"), expected);
    }

    #[test]
    fn reads_old_pytest_split_pair_lists() {
        let json = r#"[["tests/b.py::t", 1.5], ["tests/a.py::t", 3]]"#;
        assert_eq!(
            read(json).expect("valid"),
            pairs(&[("tests/a.py::t", 3.0), ("tests/b.py::t", 1.5)])
        );
        assert_eq!(read("[]").expect("valid"), []);
    }

    #[test]
    fn reads_knapsack_reports() {
        let json = "{\n  \"spec/models/user_spec.rb\": 12.25,\n  \"spec/a_spec.rb\": 0.5\n}\n";
        assert_eq!(
            read(json).expect("valid"),
            pairs(&[("spec/a_spec.rb", 0.5), ("spec/models/user_spec.rb", 12.25)])
        );
    }

    #[test]
    fn the_last_of_duplicate_ids_wins() {
        assert_eq!(
            read(r#"{"a": 1, "b": 2, "a": 3}"#).expect("valid"),
            pairs(&[("a", 3.0), ("b", 2.0)])
        );
        assert_eq!(
            read(r#"[["a", 1], ["a", 3]]"#).expect("valid"),
            pairs(&[("a", 3.0)])
        );
    }

    #[test]
    fn rejects_what_is_not_a_duration_file_and_says_why() {
        let message = |json: &str| read(json).map(|_| ()).expect_err("invalid").to_string();
        assert!(matches!(read("nope"), Err(ImportError::NotJson(_))));
        assert!(matches!(
            read("{\"a\": 1,\n \"b\": NaN}"),
            Err(ImportError::NotFinite { line: 2, column: 7 })
        ));
        assert!(matches!(
            read(r#"[["a", -Infinity]]"#),
            Err(ImportError::NotFinite { line: 1, column: 9 })
        ));
        assert!(matches!(
            read(r#"{"a": Nope}"#),
            Err(ImportError::NotJson(_))
        ));
        assert!(matches!(
            read(r#"{"a": 1} trailing"#),
            Err(ImportError::NotJson(_))
        ));
        assert!(matches!(
            read(r#""text""#),
            Err(ImportError::WrongShape { found: "a string" })
        ));
        assert!(matches!(
            read("12"),
            Err(ImportError::WrongShape { found: "a number" })
        ));
        assert!(matches!(
            read("null"),
            Err(ImportError::WrongShape { found: "null" })
        ));
        assert!(
            message(r#"{"a": 1, "tests/x.py::t": "1.5"}"#)
                .contains(r#"duration of "tests/x.py::t" is a string"#)
        );
        assert!(matches!(
            read(r#"{"b": null}"#),
            Err(ImportError::NotANumber { found: "null", .. })
        ));
        assert!(message(r#"{"a": -0.5}"#).contains(r#"duration of "a" is -0.5"#));
        assert!(matches!(
            read(r#"[["a", 1], ["b"]]"#),
            Err(ImportError::NotAPair { index: 1 })
        ));
        assert!(matches!(
            read("[[1, 1]]"),
            Err(ImportError::NotAPair { index: 0 })
        ));
        assert!(matches!(
            read(r#"[["a", true]]"#),
            Err(ImportError::NotANumber {
                found: "a boolean",
                ..
            })
        ));
    }

    #[test]
    fn reads_large_files() {
        use std::fmt::Write as _;
        let mut json = String::from("{");
        for i in 0..100_000 {
            if i > 0 {
                json.push(',');
            }
            write!(json, "\"tests/t{}.py::test_{i}\": {}.25", i % 97, i % 13)
                .expect("writing to a String");
        }
        json.push('}');
        let pairs = read(&json).expect("valid");
        assert_eq!(pairs.len(), 100_000);
        assert!(pairs.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
