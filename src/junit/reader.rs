//! The streaming reader: JUnit XML bytes in, [`TestCase`]s out through a callback.
//!
//! One pass, no DOM. The reader keeps a stack of the open elements (for end-tag checks, the
//! depth limit and truncation messages), the enclosing `<testsuite>`s (for `suites` and the
//! inherited `file`), and the one `<testcase>` being read. Text and the bodies of
//! `<system-out>`, `<failure>` and the like are stepped over by [`super::input`] without being
//! buffered, so memory does not grow with the size of captured output.

use std::borrow::Cow;
use std::io::{self, BufRead};
use std::sync::Arc;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::error::JunitError;
use super::input::{Lookahead, Sniffed, skip_body, skip_text, sniff};
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

/// Internal measurements, for tests that check memory stays bounded.
#[derive(Debug, Default)]
pub(super) struct Stats {
    /// Largest capacity the event buffer reached.
    pub(super) max_event_buffer: usize,
}

/// [`read_testcases`], also returning [`Stats`].
pub(super) fn read_with_stats<R: BufRead>(
    input: R,
    limits: &Limits,
    on_testcase: impl FnMut(TestCase),
) -> Result<(ReadSummary, Stats), JunitError> {
    let mut input = Lookahead::new(input);
    match sniff(&mut input).map_err(|source| JunitError::Io { offset: 0, source })? {
        Sniffed::Utf8 => {}
        Sniffed::Wide(evidence) => return Err(JunitError::Utf16 { evidence }),
        Sniffed::Binary(at) => {
            return Err(JunitError::NotXml {
                offset: at as u64,
                reason: "binary data (a NUL byte)",
                source: None,
            });
        }
    }
    let mut reader = Reader::from_reader(input);
    reader.config_mut().check_end_names = true;
    reader.config_mut().expand_empty_elements = false;

    // A tag holds a handful of attributes, each within the attribute limit.
    let markup_limit = (limits.max_attribute_bytes as u64)
        .saturating_mul(8)
        .max(64 * 1024);
    let mut walker = Walker::new(limits, on_testcase);
    let mut stats = Stats::default();
    let mut buf = Vec::with_capacity(4096);
    loop {
        let text_start = reader.buffer_position();
        let (saw_text, complete) =
            skip_text(&mut reader).map_err(|source| io_error(&reader, source))?;
        if saw_text && !walker.root_seen {
            return Err(JunitError::NotXml {
                offset: text_start,
                reason: "text where the root element should be",
                source: None,
            });
        }
        if !complete {
            return Err(walker.truncated(reader.buffer_position()));
        }
        let offset = reader.buffer_position();
        buf.clear();
        reader.get_mut().limit_markup(markup_limit);
        let event = reader.read_event_into(&mut buf);
        let too_long = reader.get_ref().markup_limit_exceeded();
        reader.get_mut().unlimit_markup();
        let event = match event {
            Ok(event) => event,
            Err(_) if too_long => {
                return Err(JunitError::MarkupTooLong {
                    offset,
                    limit: markup_limit,
                });
            }
            Err(err) => return Err(walker.parse_error(&mut reader, err)),
        };
        let skip = match event {
            Event::Start(start) => walker.start(&start, offset, false)?,
            Event::Empty(start) => walker.start(&start, offset, true)?,
            Event::End(_) => {
                walker.end();
                false
            }
            Event::DocType(doctype) => {
                if declares_entities(AsRef::<str>::as_ref(&doctype).as_bytes()) {
                    return Err(JunitError::EntityDeclaration { offset });
                }
                false
            }
            Event::Decl(decl) => {
                if let Some(Ok(encoding)) = decl.encoding()
                    && is_wide_encoding(&encoding)
                {
                    return Err(JunitError::Utf16 {
                        evidence: "the XML declaration says so",
                    });
                }
                false
            }
            Event::Eof => break,
            Event::Text(_)
            | Event::CData(_)
            | Event::Comment(_)
            | Event::PI(_)
            | Event::GeneralRef(_) => false,
        };
        stats.max_event_buffer = stats.max_event_buffer.max(buf.capacity());
        if skip {
            let name = walker.innermost();
            if !skip_body(&mut reader, name).map_err(|source| io_error(&reader, source))? {
                return Err(walker.truncated(reader.buffer_position()));
            }
        }
    }
    walker
        .finish(reader.buffer_position())
        .map(|summary| (summary, stats))
}

fn io_error<R>(reader: &Reader<R>, source: io::Error) -> JunitError {
    JunitError::Io {
        offset: reader.buffer_position(),
        source,
    }
}

/// Whether a DOCTYPE's text declares entities (`<!ENTITY`, in any case to be safe).
fn declares_entities(doctype: &[u8]) -> bool {
    doctype
        .windows(b"<!ENTITY".len())
        .any(|window| window.eq_ignore_ascii_case(b"<!ENTITY"))
}

/// Whether an encoding label names an encoding whose ASCII is not ASCII.
fn is_wide_encoding(label: &str) -> bool {
    let label = label.trim().to_ascii_lowercase();
    [
        "utf-16", "utf16", "utf-32", "utf32", "ucs-2", "ucs2", "ucs-4", "ucs4", "unicode",
    ]
    .iter()
    .any(|wide| label.starts_with(wide))
}

/// Whether `name` could be an XML element name; binary data that happens to contain `<` mostly
/// is not.
fn looks_like_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
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
}

/// The reader's state between events.
struct Walker<'l, F> {
    limits: &'l Limits,
    on_testcase: F,
    /// Names of the open elements, concatenated; `open` indexes into it.
    names: String,
    open: Vec<(usize, Kind)>,
    suites: Vec<Suite>,
    case: Option<CaseBuilder>,
    root_seen: bool,
    summary: ReadSummary,
}

impl<'l, F: FnMut(TestCase)> Walker<'l, F> {
    fn new(limits: &'l Limits, on_testcase: F) -> Self {
        Walker {
            limits,
            on_testcase,
            names: String::new(),
            open: Vec::new(),
            suites: Vec::new(),
            case: None,
            root_seen: false,
            summary: ReadSummary::default(),
        }
    }

    /// The name of the innermost open element (empty when none is open).
    fn innermost(&self) -> &str {
        self.open
            .last()
            .map_or("", |&(start, _)| &self.names[start..])
    }

    /// Handles a start tag (or an empty-element tag when `empty`) found at `offset`. Returns
    /// whether the element's body should be skipped unread.
    fn start(
        &mut self,
        start: &BytesStart<'_>,
        offset: u64,
        empty: bool,
    ) -> Result<bool, JunitError> {
        if self.open.len() >= self.limits.max_depth {
            return Err(JunitError::TooDeep {
                offset,
                limit: self.limits.max_depth,
            });
        }
        let qname = start.name();
        let name = qname.as_ref();
        let local = qname.local_name();
        let local = local.as_ref();
        if !self.root_seen {
            if !looks_like_name(name) {
                return Err(JunitError::NotXml {
                    offset,
                    reason: "binary data where the root element should be",
                    source: None,
                });
            }
            if local != "testsuites" && local != "testsuite" {
                return Err(JunitError::UnexpectedRoot {
                    root: name.to_owned(),
                });
            }
            self.root_seen = true;
        }
        let parent = self.open.last().map(|&(_, kind)| kind);
        let kind = if parent == Some(Kind::Case) {
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
            self.check_attributes(start, offset)?;
            Kind::Opaque
        } else {
            match local {
                "testsuites" => {
                    self.check_attributes(start, offset)?;
                    Kind::Suites
                }
                "testsuite" => {
                    self.suites.push(self.read_suite(start, offset)?);
                    Kind::Suite
                }
                "testcase" => {
                    self.case = Some(self.read_case(start, offset)?);
                    Kind::Case
                }
                "system-out" | "system-err" | "properties" => {
                    self.check_attributes(start, offset)?;
                    Kind::Opaque
                }
                _ => {
                    self.check_attributes(start, offset)?;
                    Kind::Other
                }
            }
        };
        if empty {
            self.close(kind);
            Ok(false)
        } else {
            self.open.push((self.names.len(), kind));
            self.names.push_str(name);
            Ok(kind == Kind::Opaque)
        }
    }

    /// Handles an end tag; quick-xml has already checked that it matches.
    fn end(&mut self) {
        if let Some((start, kind)) = self.open.pop() {
            self.names.truncate(start);
            self.close(kind);
        }
    }

    fn close(&mut self, kind: Kind) {
        match kind {
            Kind::Suite => {
                self.suites.pop();
            }
            Kind::Case => self.emit(),
            Kind::Suites | Kind::Opaque | Kind::Other => {}
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
        });
    }

    fn read_suite(&self, start: &BytesStart<'_>, offset: u64) -> Result<Suite, JunitError> {
        let mut suite = Suite {
            name: String::new(),
            file: None,
        };
        let mut filepath = None;
        self.for_each_attribute(start, offset, |key, value| {
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

    fn read_case(&self, start: &BytesStart<'_>, offset: u64) -> Result<CaseBuilder, JunitError> {
        let mut case = CaseBuilder {
            name: String::new(),
            classname: None,
            file: None,
            line: None,
            time: None,
            outcome: Outcome::Passed,
        };
        self.for_each_attribute(start, offset, |key, value| {
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
    fn check_attributes(&self, start: &BytesStart<'_>, offset: u64) -> Result<(), JunitError> {
        self.for_each_attribute(start, offset, |_, _| Ok(()))
    }

    /// Calls `visit` with the local name and unescaped value of each attribute, enforcing the
    /// length limit and refusing entity references other than the predefined ones.
    fn for_each_attribute<'e>(
        &self,
        start: &'e BytesStart<'_>,
        offset: u64,
        mut visit: impl FnMut(&str, Cow<'e, str>) -> Result<(), JunitError>,
    ) -> Result<(), JunitError> {
        // Duplicate-attribute checks cost a set per element; a duplicate is harmless here
        // (the last one wins), so they are off.
        for attribute in start.attributes().with_checks(false) {
            let attribute = attribute.map_err(|err| JunitError::Malformed {
                offset,
                source: quick_xml::Error::InvalidAttr(err),
            })?;
            let key = attribute.key.local_name();
            let key = key.as_ref();
            let raw = attribute.value;
            if raw.len() > self.limits.max_attribute_bytes {
                return Err(JunitError::AttributeTooLong {
                    attribute: key.to_owned(),
                    offset,
                    length: raw.len(),
                    limit: self.limits.max_attribute_bytes,
                });
            }
            let value = if raw.contains('&') {
                match quick_xml::escape::unescape(&raw) {
                    Ok(value) => Cow::Owned(value.into_owned()),
                    Err(source) => {
                        return Err(JunitError::BadEntityReference {
                            offset,
                            attribute: key.to_owned(),
                            source,
                        });
                    }
                }
            } else {
                raw
            };
            visit(key, value)?;
        }
        Ok(())
    }

    /// Turns a quick-xml error into the most useful [`JunitError`].
    fn parse_error<R: BufRead>(
        &self,
        reader: &mut Reader<Lookahead<R>>,
        err: quick_xml::Error,
    ) -> JunitError {
        let offset = reader.error_position();
        if let quick_xml::Error::Io(io) = err {
            let source = Arc::try_unwrap(io)
                .unwrap_or_else(|shared| io::Error::new(shared.kind(), shared.to_string()));
            return JunitError::Io {
                offset: reader.buffer_position(),
                source,
            };
        }
        if !self.root_seen {
            return JunitError::NotXml {
                offset,
                reason: "not well-formed XML",
                source: Some(err),
            };
        }
        // quick-xml reports a syntax error when the input ends inside markup; the only other
        // cause is an unrecognisable `<!`, which leaves input behind.
        let at_end = reader.get_mut().fill_to(1).is_ok_and(<[u8]>::is_empty);
        if matches!(err, quick_xml::Error::Syntax(_)) && at_end && !self.open.is_empty() {
            return JunitError::Truncated {
                element: self.innermost().to_owned(),
                offset: reader.buffer_position(),
            };
        }
        JunitError::Malformed {
            offset,
            source: err,
        }
    }

    /// The error for input that ends at `offset`, inside the innermost open element.
    fn truncated(&self, offset: u64) -> JunitError {
        if self.open.is_empty() {
            JunitError::NotXml {
                offset,
                reason: "the input ends inside a comment or CDATA section",
                source: None,
            }
        } else {
            JunitError::Truncated {
                element: self.innermost().to_owned(),
                offset,
            }
        }
    }

    fn finish(self, offset: u64) -> Result<ReadSummary, JunitError> {
        if !self.open.is_empty() {
            return Err(self.truncated(offset));
        }
        if !self.root_seen {
            let reason = if offset == 0 {
                "the input is empty"
            } else {
                "there is no root element"
            };
            return Err(JunitError::NotXml {
                offset,
                reason,
                source: None,
            });
        }
        Ok(self.summary)
    }
}

/// The outcome to keep when a testcase has several result children: error, then failure, then
/// skipped, so that a test that both skipped and errored counts as broken.
fn worse(a: Outcome, b: Outcome) -> Outcome {
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
