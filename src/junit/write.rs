//! Writing JUnit XML (pure: a report in, bytes out).
//!
//! The output is always well-formed XML 1.0 whatever the strings held: characters XML 1.0 does
//! not allow (most control characters, unpaired surrogates already replaced upstream,
//! U+FFFE/U+FFFF) are written visibly as `\xNN` / `\uNNNN`; newlines and tabs inside attribute
//! values are written as character references so readers get them back. Times have at most
//! three decimals. Counters are computed from the testcases, never taken from anywhere else.

use std::io::{self, Write};

/// A report: one `<testsuite>` inside a `<testsuites>` root.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// The suite's name.
    pub suite_name: String,
    /// Suite-level properties, written in order.
    pub properties: Vec<(String, String)>,
    /// The testcases, written in order.
    pub cases: Vec<Case>,
}

/// One `<testcase>`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Case {
    /// `classname` attribute.
    pub classname: String,
    /// `name` attribute.
    pub name: String,
    /// `file` attribute.
    pub file: Option<String>,
    /// `line` attribute.
    pub line: Option<u64>,
    /// Seconds.
    pub time: f64,
    /// How it ended.
    pub result: CaseResult,
    /// Earlier attempts that failed before a pass (`<flakyFailure>`/`<flakyError>`).
    pub flaky: Vec<Attempt>,
    /// Further attempts that also failed (`<rerunFailure>`/`<rerunError>`).
    pub reruns: Vec<Attempt>,
    /// `record_property` pairs.
    pub properties: Vec<(String, String)>,
    /// Captured standard output.
    pub stdout: Option<String>,
    /// Captured standard error.
    pub stderr: Option<String>,
}

/// The element that says how a testcase ended.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum CaseResult {
    /// No child element.
    #[default]
    Passed,
    /// `<failure>`.
    Failure(Detail),
    /// `<error>`.
    Error(Detail),
    /// `<skipped>`.
    Skipped(Detail),
}

/// `type`, `message` and body of a result element.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Detail {
    /// `type` attribute.
    pub kind: Option<String>,
    /// `message` attribute.
    pub message: Option<String>,
    /// Element text.
    pub body: Option<String>,
}

/// One failed attempt of a retried test.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attempt {
    /// An error rather than a failure.
    pub error: bool,
    /// What happened.
    pub detail: Detail,
    /// Seconds it took.
    pub time: f64,
    /// Captured standard output of that attempt.
    pub stdout: Option<String>,
    /// Captured standard error of that attempt.
    pub stderr: Option<String>,
}

/// Counters of a report, recomputed from its cases.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    /// Testcases.
    pub tests: usize,
    /// With `<failure>`.
    pub failures: usize,
    /// With `<error>`.
    pub errors: usize,
    /// With `<skipped>`.
    pub skipped: usize,
    /// Sum of times.
    pub time: f64,
}

impl Report {
    /// The counters, from the cases.
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for case in &self.cases {
            counts.tests += 1;
            counts.time += case.time;
            match case.result {
                CaseResult::Passed => {}
                CaseResult::Failure(_) => counts.failures += 1,
                CaseResult::Error(_) => counts.errors += 1,
                CaseResult::Skipped(_) => counts.skipped += 1,
            }
        }
        counts
    }

    /// Writes the report.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let counts = self.counts();
        out.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")?;
        let totals = format!(
            " tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\"",
            counts.tests,
            counts.failures,
            counts.errors,
            counts.skipped,
            seconds(counts.time)
        );
        write!(out, "<testsuites name=\"{}\"", attr(&self.suite_name))?;
        writeln!(out, "{totals}>")?;
        write!(out, "  <testsuite name=\"{}\"", attr(&self.suite_name))?;
        writeln!(out, "{totals}>")?;
        write_properties(out, &self.properties, "    ")?;
        for case in &self.cases {
            write_case(case, out)?;
        }
        writeln!(out, "  </testsuite>")?;
        writeln!(out, "</testsuites>")
    }

    /// The report as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        self.write(&mut bytes)
            .expect("writing to memory cannot fail");
        bytes
    }
}

fn write_properties(
    out: &mut dyn Write,
    properties: &[(String, String)],
    indent: &str,
) -> io::Result<()> {
    if properties.is_empty() {
        return Ok(());
    }
    writeln!(out, "{indent}<properties>")?;
    for (name, value) in properties {
        writeln!(
            out,
            "{indent}  <property name=\"{}\" value=\"{}\"/>",
            attr(name),
            attr(value)
        )?;
    }
    writeln!(out, "{indent}</properties>")
}

fn write_case(case: &Case, out: &mut dyn Write) -> io::Result<()> {
    write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\"",
        attr(&case.classname),
        attr(&case.name)
    )?;
    if let Some(file) = &case.file {
        write!(out, " file=\"{}\"", attr(file))?;
    }
    if let Some(line) = case.line {
        write!(out, " line=\"{line}\"")?;
    }
    write!(out, " time=\"{}\"", seconds(case.time))?;
    let empty = matches!(case.result, CaseResult::Passed)
        && case.flaky.is_empty()
        && case.reruns.is_empty()
        && case.properties.is_empty()
        && case.stdout.is_none()
        && case.stderr.is_none();
    if empty {
        return writeln!(out, "/>");
    }
    writeln!(out, ">")?;
    write_properties(out, &case.properties, "      ")?;
    match &case.result {
        CaseResult::Passed => {}
        CaseResult::Failure(detail) => element(out, "failure", detail, &[])?,
        CaseResult::Error(detail) => element(out, "error", detail, &[])?,
        CaseResult::Skipped(detail) => element(out, "skipped", detail, &[])?,
    }
    for (attempts, failure, error) in [
        (&case.flaky, "flakyFailure", "flakyError"),
        (&case.reruns, "rerunFailure", "rerunError"),
    ] {
        for attempt in attempts {
            let name = if attempt.error { error } else { failure };
            // Surefire's layout, which `rxdist merge` writes too: the attempt's text in
            // `<stackTrace>`, then its outputs.
            let mut children = Vec::new();
            if let Some(body) = &attempt.detail.body {
                children.push(("stackTrace", body.as_str()));
            }
            if let Some(stdout) = &attempt.stdout {
                children.push(("system-out", stdout.as_str()));
            }
            if let Some(stderr) = &attempt.stderr {
                children.push(("system-err", stderr.as_str()));
            }
            let detail = Detail {
                body: None,
                ..attempt.detail.clone()
            };
            element_with_time(out, name, &detail, Some(attempt.time), &children)?;
        }
    }
    if let Some(stdout) = &case.stdout {
        writeln!(out, "      <system-out>{}</system-out>", text(stdout))?;
    }
    if let Some(stderr) = &case.stderr {
        writeln!(out, "      <system-err>{}</system-err>", text(stderr))?;
    }
    writeln!(out, "    </testcase>")
}

fn element(
    out: &mut dyn Write,
    name: &str,
    detail: &Detail,
    children: &[(&str, &str)],
) -> io::Result<()> {
    element_with_time(out, name, detail, None, children)
}

fn element_with_time(
    out: &mut dyn Write,
    name: &str,
    detail: &Detail,
    time: Option<f64>,
    children: &[(&str, &str)],
) -> io::Result<()> {
    write!(out, "      <{name}")?;
    if let Some(kind) = &detail.kind {
        write!(out, " type=\"{}\"", attr(kind))?;
    }
    if let Some(message) = &detail.message {
        write!(out, " message=\"{}\"", attr(message))?;
    }
    if let Some(time) = time {
        write!(out, " time=\"{}\"", seconds(time))?;
    }
    if detail.body.is_none() && children.is_empty() {
        return writeln!(out, "/>");
    }
    write!(out, ">")?;
    if let Some(body) = &detail.body {
        write!(out, "{}", text(body))?;
    }
    for (child, content) in children {
        write!(out, "<{child}>{}</{child}>", text(content))?;
    }
    writeln!(out, "</{name}>")
}

/// Seconds with at most three decimals, without trailing zeros.
fn seconds(value: f64) -> String {
    super::time::format_millis(super::time::to_millis(value))
}

/// Whether XML 1.0 allows `c` in a document.
pub(super) fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// The visible form of a character XML 1.0 does not allow, by its code (a surrogate, or a
/// byte that is not UTF-8, included): `\xNN` below 0x100, `\uNNNN` above.
pub(super) struct Visible(pub(super) u32);

impl std::fmt::Display for Visible {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let code = self.0;
        if code < 0x100 {
            write!(out, "\\x{code:02x}")
        } else {
            write!(out, "\\u{code:04x}")
        }
    }
}

fn visible(c: char, out: &mut String) {
    use std::fmt::Write as _;
    let _ = write!(out, "{}", Visible(u32::from(c)));
}

/// Escapes element text.
pub fn text(value: &str) -> String {
    escape(value, false)
}

/// Escapes an attribute value (double-quoted).
pub fn attr(value: &str) -> String {
    escape(value, true)
}

/// Escapes markup characters, writes characters XML 1.0 forbids visibly, and (in attributes)
/// keeps quotes, newlines and tabs as character references so readers get them back.
fn escape(value: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // A bare CR would be read back as LF.
            '\r' => out.push_str("&#13;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            c if allowed(c) => out.push(c),
            c => visible(c, &mut out),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::junit::{Limits, Outcome, read_testcases};

    fn sample() -> Report {
        Report {
            suite_name: "rxdist".into(),
            properties: vec![("shard".into(), "1/2".into())],
            cases: vec![
                Case {
                    classname: "tests.test_a".into(),
                    name: "test_ok".into(),
                    file: Some("tests/test_a.py".into()),
                    line: Some(3),
                    time: 0.12345,
                    ..Case::default()
                },
                Case {
                    classname: "tests.test_a".into(),
                    name: "test_bad[\"x\"]".into(),
                    file: Some("tests/test_a.py".into()),
                    line: Some(7),
                    time: 1.0,
                    result: CaseResult::Failure(Detail {
                        kind: None,
                        message: Some("assert 1 == 2\nwhere <x> & \u{1b}[31m".into()),
                        body: Some("E   assert 1 == 2 ]]> \u{0}\r\n".into()),
                    }),
                    stdout: Some("out\u{7}".into()),
                    ..Case::default()
                },
                Case {
                    classname: "tests.test_b".into(),
                    name: "test_flaky".into(),
                    time: 0.5,
                    flaky: vec![Attempt {
                        error: false,
                        detail: Detail {
                            kind: None,
                            message: Some("first time".into()),
                            body: Some("trace".into()),
                        },
                        time: 0.25,
                        stdout: None,
                        stderr: None,
                    }],
                    ..Case::default()
                },
                Case {
                    classname: "tests.test_b".into(),
                    name: "test_skip".into(),
                    result: CaseResult::Skipped(Detail {
                        kind: Some("pytest.skip".into()),
                        message: Some("no db".into()),
                        body: None,
                    }),
                    ..Case::default()
                },
            ],
        }
    }

    #[test]
    fn output_is_stable() {
        insta::assert_snapshot!(String::from_utf8(sample().to_bytes()).unwrap());
    }

    #[test]
    fn output_reads_back_with_the_same_outcomes_and_times() {
        let bytes = sample().to_bytes();
        let mut cases = Vec::new();
        read_testcases(&bytes[..], &Limits::default(), |case| cases.push(case)).unwrap();
        let outcomes: Vec<Outcome> = cases.iter().map(|case| case.outcome).collect();
        assert_eq!(
            outcomes,
            vec![
                Outcome::Passed,
                Outcome::Failed,
                Outcome::Passed,
                Outcome::Skipped
            ]
        );
        assert_eq!(cases[0].time, Some(0.123));
        assert_eq!(cases[1].name, "test_bad[\"x\"]");
    }

    #[test]
    fn counters_are_recounted() {
        let counts = sample().counts();
        assert_eq!(
            (counts.tests, counts.failures, counts.errors, counts.skipped),
            (4, 1, 0, 1)
        );
    }

    #[test]
    fn illegal_characters_become_visible() {
        assert_eq!(text("a\u{0}b\u{1b}c\u{fffe}"), "a\\x00b\\x1bc\\ufffe");
        assert_eq!(attr("x\ny\t\"z\""), "x&#10;y&#9;&quot;z&quot;");
    }

    #[test]
    fn seconds_have_at_most_three_decimals() {
        assert_eq!(seconds(1.23456), "1.235");
        assert_eq!(seconds(2.0), "2");
        assert_eq!(seconds(-1.0), "0");
        assert_eq!(seconds(f64::NAN), "0");
        assert_eq!(seconds(0.0004), "0");
    }
}
