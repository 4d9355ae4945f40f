//! A one-pass digest of a JUnit report for people: totals, the failed testcases with their
//! messages (and where their failure text lies in the input, to be read back on demand), flaky
//! testcases, the slowest testcases and rxdist's own suite properties.
//!
//! It walks the markup with `junit::scan`, so it keeps the reader's limits and never buffers
//! a body: a failure's text is only located (a byte range), which is all a job summary needs
//! to read the last few kilobytes of a traceback from a seekable file. Pure: bytes in, data out.

use std::io::Read;
use std::ops::Range;

use super::scan::{self, Visitor};
use super::{JunitError, Limits, Outcome, TestCase, parse_time};

/// What a digest keeps of each failed testcase.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedCase {
    /// The testcase (outcome [`Outcome::Failed`] or [`Outcome::Error`]).
    pub case: TestCase,
    /// The `message` attribute of its `<failure>` or `<error>`.
    pub message: String,
    /// Where the body of that element lies in the input, when it has one.
    pub body: Option<Range<u64>>,
}

/// The digest of one report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Digest {
    /// Testcases.
    pub tests: u64,
    /// Testcases with a `<failure>` (and no `<error>`).
    pub failures: u64,
    /// Testcases with an `<error>`.
    pub errors: u64,
    /// Testcases with a `<skipped>`.
    pub skipped: u64,
    /// Passing testcases that carry `<flakyFailure>` or `<flakyError>`.
    pub flaky: u64,
    /// Sum of the testcases' times.
    pub seconds: f64,
    /// The first failed testcases, in document order (at most the `keep` asked for).
    pub failed: Vec<FailedCase>,
    /// The first flaky testcases, in document order (at most `keep`).
    pub flaky_cases: Vec<TestCase>,
    /// The slowest testcases, slowest first (at most `slowest`), ties in document order.
    pub slowest: Vec<TestCase>,
    /// `rxdist.*` properties of the suites, in document order.
    pub properties: Vec<(String, String)>,
}

/// Digests the report in `input`, keeping at most `keep` failed and flaky testcases and the
/// `slowest` slowest ones. On an error, the digest of everything before it is lost; callers
/// digest reports that already merged cleanly.
pub fn digest<R: Read>(
    input: R,
    limits: &Limits,
    keep: usize,
    slowest: usize,
) -> Result<Digest, JunitError> {
    let mut visitor = Digester {
        limits: *limits,
        keep,
        slowest_kept: slowest,
        digest: Digest::default(),
        suites: Vec::new(),
        case: None,
    };
    scan::walk(input, limits, &mut visitor)?;
    Ok(visitor.digest)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Suite,
    Case,
    Failure,
    Error,
    Skipped,
    Flaky,
    Properties,
    Property,
    Other,
}

/// The testcase being read.
struct OpenCase {
    case: TestCase,
    message: Option<String>,
    body: Option<Range<u64>>,
    body_start: u64,
    flaky: bool,
}

struct Digester {
    limits: Limits,
    keep: usize,
    slowest_kept: usize,
    digest: Digest,
    /// Names of the open suites.
    suites: Vec<String>,
    case: Option<OpenCase>,
}

impl Digester {
    fn finish_case(&mut self, open: OpenCase) {
        let digest = &mut self.digest;
        digest.tests += 1;
        if let Some(time) = open.case.time {
            digest.seconds += time;
        }
        match open.case.outcome {
            Outcome::Failed => digest.failures += 1,
            Outcome::Error => digest.errors += 1,
            Outcome::Skipped => digest.skipped += 1,
            Outcome::Passed => {
                if open.flaky {
                    digest.flaky += 1;
                    if digest.flaky_cases.len() < self.keep {
                        digest.flaky_cases.push(open.case.clone());
                    }
                }
            }
        }
        if self.slowest_kept > 0 && open.case.outcome != Outcome::Skipped {
            let time = open.case.time.unwrap_or(0.0);
            let list = &mut digest.slowest;
            // Insert after every case at least as slow: ties keep document order.
            let at = list.partition_point(|kept| kept.time.unwrap_or(0.0) >= time);
            if at < self.slowest_kept {
                list.insert(at, open.case.clone());
                list.truncate(self.slowest_kept);
            }
        }
        if open.case.outcome.is_failure() && digest.failed.len() < self.keep {
            digest.failed.push(FailedCase {
                case: open.case,
                message: open.message.unwrap_or_default(),
                body: open.body,
            });
        }
    }

    /// A `<testcase>` starts: its attributes become the open case.
    fn open_case(&mut self, tag: scan::StartTag<'_, '_>, offset: u64) -> Result<(), JunitError> {
        let mut case = TestCase {
            name: String::new(),
            classname: None,
            file: None,
            line: None,
            time: None,
            outcome: Outcome::Passed,
            suites: self.suites.clone(),
            id: None,
        };
        scan::for_each_attribute(tag, offset, &self.limits, false, |key, value| {
            match key {
                "name" => case.name = value.into_owned(),
                "classname" => case.classname = Some(value.into_owned()),
                "file" => case.file = Some(value.into_owned()),
                "line" => case.line = value.trim().parse().ok(),
                "time" => case.time = parse_time(&value).filter(|t| *t >= 0.0),
                _ => {}
            }
            Ok(())
        })?;
        self.case = Some(OpenCase {
            case,
            message: None,
            body: None,
            body_start: 0,
            flaky: false,
        });
        Ok(())
    }

    /// A `<failure>`, `<error>` or `<skipped>` of the open case starts at `offset..end`.
    fn open_outcome(
        &mut self,
        outcome: Outcome,
        tag: scan::StartTag<'_, '_>,
        offset: u64,
        end: u64,
    ) -> Result<(), JunitError> {
        if let Some(open) = self.case.as_mut() {
            // An error outranks a failure outranks a skip, as in the reader.
            let rank = |outcome| match outcome {
                Outcome::Error => 3,
                Outcome::Failed => 2,
                Outcome::Skipped => 1,
                Outcome::Passed => 0,
            };
            if rank(outcome) > rank(open.case.outcome) {
                open.case.outcome = outcome;
                open.message = None;
                open.body = None;
                open.body_start = end;
                let mut message = None;
                scan::for_each_attribute(tag, offset, &self.limits, false, |key, value| {
                    if key == "message" {
                        message = Some(value.into_owned());
                    }
                    Ok(())
                })?;
                open.message = message;
            }
        }
        Ok(())
    }
}

impl Visitor for Digester {
    type Kind = Kind;

    fn start(
        &mut self,
        parent: Option<Kind>,
        tag: scan::StartTag<'_, '_>,
        offset: u64,
        end: u64,
        _empty: bool,
    ) -> Result<(Kind, bool), JunitError> {
        let start = tag.start;
        let name = start.local_name();
        let kind = match (name.as_ref(), parent) {
            ("testsuite", _) => {
                let mut suite = String::new();
                scan::for_each_attribute(tag, offset, &self.limits, false, |key, value| {
                    if key == "name" {
                        suite = value.into_owned();
                    }
                    Ok(())
                })?;
                self.suites.push(suite);
                Kind::Suite
            }
            ("testcase", _) => {
                self.open_case(tag, offset)?;
                Kind::Case
            }
            ("failure" | "error" | "skipped", Some(Kind::Case)) => {
                let outcome = match name.as_ref() {
                    "failure" => Outcome::Failed,
                    "error" => Outcome::Error,
                    _ => Outcome::Skipped,
                };
                self.open_outcome(outcome, tag, offset, end)?;
                match outcome {
                    Outcome::Failed => Kind::Failure,
                    Outcome::Error => Kind::Error,
                    Outcome::Skipped | Outcome::Passed => Kind::Skipped,
                }
            }
            ("flakyFailure" | "flakyError", Some(Kind::Case)) => {
                if let Some(open) = self.case.as_mut() {
                    open.flaky = true;
                }
                Kind::Flaky
            }
            ("properties", Some(Kind::Suite)) => Kind::Properties,
            ("property", Some(Kind::Properties)) => {
                let (mut key_name, mut key_value) = (None, None);
                scan::for_each_attribute(tag, offset, &self.limits, false, |key, value| {
                    match key {
                        "name" => key_name = Some(value.into_owned()),
                        "value" => key_value = Some(value.into_owned()),
                        _ => {}
                    }
                    Ok(())
                })?;
                if let (Some(name), Some(value)) = (key_name, key_value)
                    && name.starts_with("rxdist.")
                {
                    self.digest.properties.push((name, value));
                }
                Kind::Property
            }
            _ => Kind::Other,
        };
        // Bodies are never needed here: skip what holds text, but walk into containers
        // (`testsuites`, and whatever a producer wraps suites in).
        let skip = match kind {
            Kind::Failure | Kind::Error | Kind::Skipped | Kind::Flaky => true,
            Kind::Other => {
                parent == Some(Kind::Case) || matches!(name.as_ref(), "system-out" | "system-err")
            }
            Kind::Suite | Kind::Case | Kind::Properties | Kind::Property => false,
        };
        Ok((kind, skip))
    }

    fn end(&mut self, kind: Kind, offset: u64, _end: u64) {
        match kind {
            Kind::Suite => {
                self.suites.pop();
            }
            Kind::Case => {
                if let Some(open) = self.case.take() {
                    self.finish_case(open);
                }
            }
            Kind::Failure | Kind::Error => {
                if let Some(open) = self.case.as_mut()
                    && open.body.is_none()
                    && open.body_start > 0
                    && offset > open.body_start
                {
                    open.body = Some(open.body_start..offset);
                }
            }
            Kind::Skipped | Kind::Flaky | Kind::Properties | Kind::Property | Kind::Other => {}
        }
    }
}

/// The text of a failure body as read back from the report: CDATA markers removed, entity and
/// character references resolved where they parse.
pub fn body_text(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut plain = String::with_capacity(text.len());
    let mut rest: &str = &text;
    while let Some(start) = rest.find("<![CDATA[") {
        plain.push_str(&unescape(&rest[..start]));
        let after = &rest[start + "<![CDATA[".len()..];
        match after.find("]]>") {
            Some(end) => {
                plain.push_str(&after[..end]);
                rest = &after[end + 3..];
            }
            None => {
                plain.push_str(after);
                rest = "";
            }
        }
    }
    plain.push_str(&unescape(rest));
    plain
}

fn unescape(text: &str) -> String {
    quick_xml::escape::unescape(text).map_or_else(|_| text.to_owned(), std::borrow::Cow::into_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = r#"<?xml version="1.0"?>
<testsuites><testsuite name="pytest">
  <properties><property name="rxdist.shard" value="2/3"/><property name="other" value="x"/></properties>
  <testcase classname="t.test_a" name="test_ok" file="t/test_a.py" line="3" time="0.5"/>
  <testcase classname="t.test_a" name="test_bad" file="t/test_a.py" line="7" time="2.25"><failure message="assert 1 == 2">def test_bad():
&gt;   assert 1 == 2
E   assert 1 == 2

t/test_a.py:9: AssertionError</failure><system-out>noise</system-out></testcase>
  <testcase classname="t.test_a" name="test_flaky" time="1"><flakyFailure message="first"/></testcase>
  <testcase classname="t.test_a" name="test_err" time="0.1"><failure message="f"/><error message="teardown"><![CDATA[boom ]]> &lt;x&gt;</error></testcase>
  <testcase classname="t.test_a" name="test_skip" time="9"><skipped/></testcase>
</testsuite></testsuites>"#;

    #[test]
    fn totals_failures_flaky_slowest_and_properties() {
        let digest = digest(REPORT.as_bytes(), &Limits::default(), 10, 2).unwrap();
        assert_eq!(
            (
                digest.tests,
                digest.failures,
                digest.errors,
                digest.skipped,
                digest.flaky
            ),
            (5, 1, 1, 1, 1)
        );
        assert!((digest.seconds - 12.85).abs() < 1e-9);
        assert_eq!(
            digest.properties,
            vec![("rxdist.shard".to_owned(), "2/3".to_owned())]
        );
        let names: Vec<&str> = digest.slowest.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["test_bad", "test_flaky"], "skips are not slow");
        assert_eq!(digest.flaky_cases[0].name, "test_flaky");
        let bad = &digest.failed[0];
        assert_eq!(bad.message, "assert 1 == 2");
        let body = bad.body.clone().unwrap();
        let text = body_text(&REPORT.as_bytes()[body.start as usize..body.end as usize]);
        assert!(text.starts_with("def test_bad():\n>   assert"), "{text}");
        assert!(text.ends_with("t/test_a.py:9: AssertionError"), "{text}");
        let err = &digest.failed[1];
        assert_eq!(err.case.outcome, Outcome::Error);
        assert_eq!(err.message, "teardown", "the error outranks the failure");
        let body = err.body.clone().unwrap();
        let text = body_text(&REPORT.as_bytes()[body.start as usize..body.end as usize]);
        assert_eq!(text, "boom  <x>");
    }

    #[test]
    fn keep_bounds_what_is_kept_but_not_what_is_counted() {
        let digest = digest(REPORT.as_bytes(), &Limits::default(), 1, 0).unwrap();
        assert_eq!(digest.failed.len(), 1);
        assert_eq!(digest.failures + digest.errors, 2);
        assert!(digest.slowest.is_empty());
    }
}
