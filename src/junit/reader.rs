//! The streaming reader: JUnit XML bytes in, [`TestCase`]s out through a callback.
//!
//! One pass, no DOM, on the walk of [`super::scan`] (which checks the markup and keeps the
//! stack of open elements). The reader keeps the enclosing `<testsuite>`s (for `suites` and the
//! inherited `file`) and the one `<testcase>` being read, and has the bodies of
//! `<system-out>`, `<failure>` and the like stepped over unread, so memory does not grow with
//! the size of captured output.

use std::borrow::Cow;
use std::io::BufRead;

use super::error::JunitError;
use super::scan::{self, StartTag, Visitor, for_each_attribute};
use super::{Outcome, TestCase, parse_time};

/// Bounds that keep untrusted input from taking unbounded memory.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest attribute value or kept text (message) in bytes.
    pub max_attribute_bytes: usize,
    /// Deepest element nesting accepted.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_attribute_bytes: 64 * 1024,
            max_depth: 64,
        }
    }
}

/// What a successful read saw, besides the testcases themselves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadSummary {
    /// Number of testcases handed to the callback.
    pub testcases: usize,
    /// Testcases whose `time` was absent, negative or unparsable.
    pub bad_times: usize,
}

/// Reads a JUnit document, calling `on_testcase` for every complete testcase in document order.
///
/// A testcase is handed over when its end tag (or its empty-element tag) has been read, so when
/// the document turns out to be truncated or malformed, every testcase before the damage has
/// already been delivered by the time the error is returned.
pub fn read_testcases<R: BufRead>(
    input: R,
    limits: &Limits,
    on_testcase: impl FnMut(TestCase),
) -> Result<ReadSummary, JunitError> {
    read_with_stats(input, limits, on_testcase).map(|(summary, _)| summary)
}

/// [`read_testcases`], also returning the walk's [`scan::Stats`].
pub(super) fn read_with_stats<R: BufRead>(
    input: R,
    limits: &Limits,
    on_testcase: impl FnMut(TestCase),
) -> Result<(ReadSummary, scan::Stats), JunitError> {
    let mut walker = Walker::new(limits, on_testcase);
    let stats = scan::walk(input, limits, &mut walker)?;
    Ok((walker.summary, stats))
}

/// What an open element means to the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `<testsuites>`.
    Suites,
    /// `<testsuite>`; its entry is on [`Walker::suites`].
    Suite,
    /// `<testcase>`; it is [`Walker::case`].
    Case,
    /// An element whose body is skipped unread (`<failure>`, `<system-out>`, ...).
    Opaque,
    /// A testcase's `<properties>`: one of them may name the test's id.
    CaseProperties,
    /// Anything else: its children are read.
    Other,
}

/// An enclosing `<testsuite>`.
struct Suite {
    name: String,
    file: Option<String>,
}

/// The `<testcase>` being read.
struct CaseBuilder {
    name: String,
    classname: Option<String>,
    file: Option<String>,
    line: Option<u32>,
    time: Option<f64>,
    outcome: Outcome,
    id: Option<String>,
}

/// The testcase property through which rxdist names the test a testcase is, when its
/// attributes alone would not give the id back (template runners).
pub const ID_PROPERTY: &str = "rxdist.id";

/// The reader's state between events.
struct Walker<'l, F> {
    limits: &'l Limits,
    on_testcase: F,
    suites: Vec<Suite>,
    case: Option<CaseBuilder>,
    summary: ReadSummary,
}

impl<F: FnMut(TestCase)> Visitor for Walker<'_, F> {
    type Kind = Kind;

    fn start(
        &mut self,
        parent: Option<Kind>,
        tag: StartTag<'_, '_>,
        offset: u64,
        _end: u64,
        _empty: bool,
    ) -> Result<(Kind, bool), JunitError> {
        let start = tag.start;
        let local = start.name().local_name();
        let local = local.as_ref();
        let kind = if parent == Some(Kind::CaseProperties) {
            let (mut name, mut value) = (None, None);
            self.for_each_attribute(tag, offset, |key, text| {
                match key {
                    "name" => name = Some(text),
                    "value" => value = Some(text),
                    _ => {}
                }
                Ok(())
            })?;
            if let (Some(name), Some(value), Some(case)) = (name, value, self.case.as_mut())
                && name == ID_PROPERTY
            {
                case.id = Some(value.into_owned());
            }
            Kind::Opaque
        } else if parent == Some(Kind::Case) && local == "properties" {
            self.check_attributes(tag, offset)?;
            Kind::CaseProperties
        } else if parent == Some(Kind::Case) {
            // A child of a testcase: only its presence matters, never its body.
            let outcome = match local {
                "failure" => Some(Outcome::Failed),
                "error" => Some(Outcome::Error),
                "skipped" => Some(Outcome::Skipped),
                _ => None,
            };
            if let (Some(outcome), Some(case)) = (outcome, self.case.as_mut()) {
                case.outcome = worse(case.outcome, outcome);
            }
            self.check_attributes(tag, offset)?;
            Kind::Opaque
        } else {
            match local {
                "testsuites" => {
                    self.check_attributes(tag, offset)?;
                    Kind::Suites
                }
                "testsuite" => {
                    self.suites.push(self.read_suite(tag, offset)?);
                    Kind::Suite
                }
                "testcase" => {
                    self.case = Some(self.read_case(tag, offset)?);
                    Kind::Case
                }
                "system-out" | "system-err" | "properties" => {
                    self.check_attributes(tag, offset)?;
                    Kind::Opaque
                }
                _ => {
                    self.check_attributes(tag, offset)?;
                    Kind::Other
                }
            }
        };
        Ok((kind, kind == Kind::Opaque))
    }

    fn end(&mut self, kind: Kind, _offset: u64, _end: u64) {
        match kind {
            Kind::Suite => {
                self.suites.pop();
            }
            Kind::Case => self.emit(),
            Kind::Suites | Kind::Opaque | Kind::CaseProperties | Kind::Other => {}
        }
    }
}

impl<'l, F: FnMut(TestCase)> Walker<'l, F> {
    fn new(limits: &'l Limits, on_testcase: F) -> Self {
        Walker {
            limits,
            on_testcase,
            suites: Vec::new(),
            case: None,
            summary: ReadSummary::default(),
        }
    }

    fn emit(&mut self) {
        let Some(case) = self.case.take() else { return };
        let file = case
            .file
            .or_else(|| {
                self.suites
                    .iter()
                    .rev()
                    .find_map(|suite| suite.file.clone())
            })
            .map(strip_dot_slash);
        if case.time.is_none() {
            self.summary.bad_times += 1;
        }
        self.summary.testcases += 1;
        (self.on_testcase)(TestCase {
            name: case.name,
            classname: case.classname,
            file,
            line: case.line,
            time: case.time,
            outcome: case.outcome,
            suites: self.suites.iter().map(|suite| suite.name.clone()).collect(),
            id: case.id,
        });
    }

    fn read_suite(&self, tag: StartTag<'_, '_>, offset: u64) -> Result<Suite, JunitError> {
        let mut suite = Suite {
            name: String::new(),
            file: None,
        };
        let mut filepath = None;
        self.for_each_attribute(tag, offset, |key, value| {
            match key {
                "name" => suite.name = value.into_owned(),
                "file" => suite.file = non_empty(value),
                "filepath" => filepath = non_empty(value),
                _ => {}
            }
            Ok(())
        })?;
        suite.file = suite.file.or(filepath);
        Ok(suite)
    }

    fn read_case(&self, tag: StartTag<'_, '_>, offset: u64) -> Result<CaseBuilder, JunitError> {
        let mut case = CaseBuilder {
            name: String::new(),
            classname: None,
            file: None,
            line: None,
            time: None,
            outcome: Outcome::Passed,
            id: None,
        };
        self.for_each_attribute(tag, offset, |key, value| {
            match key {
                "name" => case.name = value.into_owned(),
                "classname" => case.classname = Some(value.into_owned()),
                "file" => case.file = non_empty(value),
                "line" => case.line = value.trim().parse().ok(),
                "time" => case.time = parse_time(&value),
                _ => {}
            }
            Ok(())
        })?;
        Ok(case)
    }

    /// Applies the attribute checks (length, entity references) to an element whose
    /// attributes are otherwise unused.
    fn check_attributes(&self, tag: StartTag<'_, '_>, offset: u64) -> Result<(), JunitError> {
        self.for_each_attribute(tag, offset, |_, _| Ok(()))
    }

    /// [`for_each_attribute`] with the reader's limits, refusing unknown entity references.
    fn for_each_attribute<'e>(
        &self,
        tag: StartTag<'e, 'e>,
        offset: u64,
        visit: impl FnMut(&str, Cow<'e, str>) -> Result<(), JunitError>,
    ) -> Result<(), JunitError> {
        for_each_attribute(tag, offset, self.limits, true, visit)
    }
}

/// The outcome to keep when a testcase has several result children: error, then failure, then
/// skipped, so that a test that both skipped and errored counts as broken.
pub(super) fn worse(a: Outcome, b: Outcome) -> Outcome {
    let rank = |outcome| match outcome {
        Outcome::Passed => 0,
        Outcome::Skipped => 1,
        Outcome::Failed => 2,
        Outcome::Error => 3,
    };
    if rank(b) > rank(a) { b } else { a }
}

/// An owned copy of a path attribute, `None` when it is empty: some producers write `file=""`
/// rather than leave the attribute out, and an empty file must not hide a suite's.
fn non_empty(value: Cow<'_, str>) -> Option<String> {
    if value.trim().is_empty() {
        None
    } else {
        Some(value.into_owned())
    }
}

/// Strips leading `./` (rspec writes `./spec/x_spec.rb`), without allocating when there is none.
fn strip_dot_slash(file: String) -> String {
    let mut stripped = file.as_str();
    while let Some(rest) = stripped.strip_prefix("./") {
        stripped = rest;
    }
    if stripped.len() == file.len() {
        file
    } else {
        stripped.to_owned()
    }
}

#[cfg(test)]
mod tests;
