//! End-to-end tests of `rxdist run`: the real binary runs real pytest on a copy of the fixture
//! project `tests/fixtures/pytest-project` (see its README), and every test id's outcome is
//! read back from the shard JUnit, with the encoding of the run contract, and compared with
//! the `EXPECTED` table.
//!
//! Besides the JUnit, the fixture's `conftest.py` logs a `start` and an `end` event around
//! every test (pid, monotonic time, attempt, worker variables) into a directory the tests
//! name; that log proves what the JUnit cannot: serial tests ran alone, a group ran in one
//! process in order, retries really ran again, and no worker outlived rxdist.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

use common::{Output, fixture, rxdist};

// ---------------------------------------------------------------------------------------------
// The expected-results table
// ---------------------------------------------------------------------------------------------

/// What one selected test ends as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Passed,
    /// A non-strict xfail test that passed: in the JUnit exactly like a pass, on the console
    /// `XPASS`.
    XPassed,
    Failed,
    /// An error in fixture setup or teardown.
    Error,
    Skipped,
    XFailed,
    TimedOut,
    Crashed,
    /// Failed, then passed on a retry.
    Flaky,
    NotRun,
    /// The file could not be collected.
    Collection,
}

use Outcome::{
    Collection, Crashed, Error, Failed, Flaky, NotRun, Passed, Skipped, TimedOut, XFailed, XPassed,
};

impl Outcome {
    /// The outcome as the JUnit can tell it (an xpass is written as a pass).
    fn in_junit(self) -> Self {
        match self {
            XPassed => Passed,
            other => other,
        }
    }

    /// The first word of the console line of a test that finished so.
    fn console_word(self) -> &'static str {
        match self {
            Passed => "PASSED",
            XPassed => "XPASS",
            Failed => "FAILED",
            Error | Collection => "ERROR",
            Skipped => "SKIPPED",
            XFailed => "XFAIL",
            TimedOut => "TIMEOUT",
            Crashed => "CRASHED",
            Flaky => "FLAKY",
            NotRun => "NOTRUN",
        }
    }
}

/// The console words of per-test lines.
const CONSOLE_WORDS: [&str; 10] = [
    "PASSED", "FAILED", "ERROR", "SKIPPED", "XFAIL", "XPASS", "TIMEOUT", "CRASHED", "NOTRUN",
    "FLAKY",
];

/// The collection error's testcase is named after its file.
const BROKEN_FILE: &str = "tests/test_broken_collect.py";
const FLAKY: &str = "tests/test_flaky.py::test_flaky";
const HANG: &str = "tests/test_hang.py::test_hang";
const SLOW: &str = "tests/test_slow.py::test_slow";
const FAIL: &str = "tests/test_outcomes.py::test_fail";
const SERIAL: [&str; 2] = [
    "tests/test_serial.py::test_serial_first",
    "tests/test_serial.py::test_serial_second",
];
/// The two `xdist_group`s, each in collection order (which is not alphabetical).
const GROUPS: [&[&str]; 2] = [
    &[
        "tests/test_groups.py::test_alpha_setup",
        "tests/test_groups.py::test_alpha_use",
        "tests/test_groups.py::test_alpha_cleanup",
    ],
    &[
        "tests/test_groups.py::test_beta_open",
        "tests/test_groups.py::test_beta_close",
    ],
];

/// Every test id of the fixture project and its outcome under `--timeout 2 --retries 1`.
const EXPECTED: &[(&str, Outcome)] = &[
    ("tests/test_broken_collect.py", Collection),
    ("tests/test_crash.py::test_exit_code", Crashed),
    ("tests/test_crash.py::test_segfault", Crashed),
    (FLAKY, Flaky),
    ("tests/test_groups.py::test_alpha_cleanup", Passed),
    ("tests/test_groups.py::test_alpha_setup", Passed),
    ("tests/test_groups.py::test_alpha_use", Passed),
    ("tests/test_groups.py::test_beta_close", Passed),
    ("tests/test_groups.py::test_beta_open", Passed),
    (HANG, TimedOut),
    ("tests/test_maxfail.py::test_fails[0]", Failed),
    ("tests/test_maxfail.py::test_fails[1]", Failed),
    ("tests/test_maxfail.py::test_fails[2]", Failed),
    ("tests/test_maxfail.py::test_fails[3]", Failed),
    ("tests/test_maxfail.py::test_fails[4]", Failed),
    ("tests/test_maxfail.py::test_fails[5]", Failed),
    ("tests/test_maxfail.py::test_fails[6]", Failed),
    ("tests/test_maxfail.py::test_fails[7]", Failed),
    ("tests/test_outcomes.py::TestInClass::test_method", Passed),
    (FAIL, Failed),
    ("tests/test_outcomes.py::test_param[x-1]", Passed),
    ("tests/test_outcomes.py::test_param[y-2]", Passed),
    ("tests/test_outcomes.py::test_pass", Passed),
    ("tests/test_outcomes.py::test_raises", Failed),
    ("tests/test_outcomes.py::test_setup_error", Error),
    ("tests/test_outcomes.py::test_skip", Skipped),
    ("tests/test_outcomes.py::test_skip_marker", Skipped),
    ("tests/test_outcomes.py::test_teardown_error", Error),
    ("tests/test_outcomes.py::test_xfail", XFailed),
    ("tests/test_outcomes.py::test_xpass", XPassed),
    ("tests/test_outcomes.py::test_xpass_strict", Failed),
    ("tests/test_serial.py::test_serial_first", Passed),
    ("tests/test_serial.py::test_serial_second", Passed),
    (SLOW, Passed),
    ("tests/test_worker_env.py::test_worker_env", Passed),
];

/// The expected outcome of every test the pytest arguments `selection` select (files or node
/// ids; empty selects the whole project), with `retries` retries.
fn expected(selection: &[&str], retries: u32) -> BTreeMap<String, Outcome> {
    EXPECTED
        .iter()
        .filter(|(id, _)| {
            let file = id.split("::").next().unwrap();
            selection.is_empty() || selection.iter().any(|arg| arg == id || *arg == file)
        })
        .map(|&(id, outcome)| {
            let outcome = if outcome == Flaky && retries == 0 {
                Failed
            } else {
                outcome
            };
            (id.to_owned(), outcome)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The shard JUnit
// ---------------------------------------------------------------------------------------------

/// A child element of a `<testcase>` that says something about its outcome.
#[derive(Debug)]
struct Mark {
    tag: String,
    kind: Option<String>,
    message: Option<String>,
    /// The element's text (details, traceback).
    text: String,
}

#[derive(Debug, Default)]
struct Case {
    attributes: BTreeMap<String, String>,
    marks: Vec<Mark>,
    system_out: String,
    system_err: String,
}

impl Case {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }

    /// The first mark with `tag`.
    fn mark(&self, tag: &str) -> Option<&Mark> {
        self.marks.iter().find(|mark| mark.tag == tag)
    }

    fn count(&self, tag: &str) -> usize {
        self.marks.iter().filter(|mark| mark.tag == tag).count()
    }

    /// The one `failure`, `error` or `skipped` element, if any.
    fn result(&self) -> Option<&Mark> {
        let results: Vec<&Mark> = self
            .marks
            .iter()
            .filter(|mark| matches!(mark.tag.as_str(), "failure" | "error" | "skipped"))
            .collect();
        assert!(results.len() <= 1, "more than one result in {self:#?}");
        results.first().copied()
    }

    /// The message of the one result element.
    fn message(&self) -> &str {
        self.result()
            .and_then(|mark| mark.message.as_deref())
            .unwrap_or_else(|| panic!("no result message in {self:#?}"))
    }

    /// The outcome, decoded with the contract's table.
    fn outcome(&self) -> Outcome {
        let Some(result) = self.result() else {
            return if self.mark("flakyFailure").is_some() {
                Flaky
            } else {
                Passed
            };
        };
        match (result.tag.as_str(), result.kind.as_deref()) {
            ("failure", Some("rxdist.timeout")) => TimedOut,
            ("failure", _) => Failed,
            ("error", Some("rxdist.crash")) => Crashed,
            ("error", Some("rxdist.collection")) => Collection,
            ("error", _) => Error,
            ("skipped", Some("rxdist.notrun")) => NotRun,
            ("skipped", Some("pytest.xfail")) => XFailed,
            ("skipped", _) => Skipped,
            _ => unreachable!("result() only returns failure, error and skipped"),
        }
    }

    /// The pytest node id, rebuilt from the xunit1 attributes: `file` is the path relative to
    /// the rootdir, `classname` the dotted module path plus any classes, `name` the function
    /// with its parameters. A collection error's testcase is named after its file.
    fn id(&self) -> String {
        self.try_id()
            .unwrap_or_else(|| panic!("no node id in the attributes of {self:#?}"))
    }

    fn try_id(&self) -> Option<String> {
        let name = self.attribute("name")?;
        let file = self.attribute("file").filter(|file| !file.is_empty());
        if self.outcome() == Collection {
            return Some(file.unwrap_or(name).to_owned());
        }
        let file = file?;
        let classname = self.attribute("classname")?;
        let module = file.strip_suffix(".py").unwrap_or(file).replace('/', ".");
        let classes = classname.strip_prefix(module.as_str())?;
        let mut id = file.to_owned();
        for class in classes.split('.').filter(|part| !part.is_empty()) {
            id.push_str("::");
            id.push_str(class);
        }
        id.push_str("::");
        id.push_str(name);
        Some(id)
    }
}

#[derive(Debug)]
struct Junit {
    /// The attributes of the one `<testsuite>`.
    suite: BTreeMap<String, String>,
    cases: Vec<Case>,
}

impl Junit {
    /// The testcases by node id; panics on a test reported twice.
    fn by_id(&self) -> BTreeMap<String, &Case> {
        let mut cases = BTreeMap::new();
        for case in &self.cases {
            if let Some(first) = cases.insert(case.id(), case) {
                panic!("{} is reported twice: {first:#?} and {case:#?}", case.id());
            }
        }
        cases
    }

    fn case(&self, id: &str) -> &Case {
        self.cases
            .iter()
            .find(|case| case.try_id().as_deref() == Some(id))
            .unwrap_or_else(|| panic!("no testcase for {id} in {:#?}", self.cases))
    }

    fn outcomes(&self) -> BTreeMap<String, Outcome> {
        self.by_id()
            .into_iter()
            .map(|(id, case)| (id, case.outcome()))
            .collect()
    }
}

fn attributes(start: &BytesStart<'_>) -> BTreeMap<String, String> {
    start
        .attributes()
        .map(|attribute| {
            let attribute = attribute.expect("well-formed attribute");
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .expect("attribute value unescapes");
            (attribute.key.as_ref().to_owned(), value.into_owned())
        })
        .collect()
}

/// Where the text being read goes.
#[derive(Clone, Copy)]
enum Sink {
    Nowhere,
    SystemOut,
    SystemErr,
    /// The details of the last mark.
    Mark,
}

fn append(case: Option<&mut Case>, sink: Sink, piece: &str) {
    let Some(case) = case else { return };
    match sink {
        Sink::Nowhere => {}
        Sink::SystemOut => case.system_out.push_str(piece),
        Sink::SystemErr => case.system_err.push_str(piece),
        Sink::Mark => case.marks.last_mut().unwrap().text.push_str(piece),
    }
}

/// Reads the shard JUnit, checking the document shape of the contract on the way: one
/// `<testsuites>` root holding one `<testsuite name="rxdist">`.
fn read_junit(path: &Path) -> Junit {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|err| panic!("cannot read the JUnit {}: {err}", path.display()));
    let mut reader = Reader::from_str(&text);
    let mut open: Vec<String> = Vec::new();
    let mut suites = Vec::new();
    let mut cases = Vec::new();
    let mut case: Option<Case> = None;
    loop {
        let event = reader
            .read_event()
            .unwrap_or_else(|err| panic!("malformed JUnit ({err}):\n{text}"));
        // Only text right inside a testcase's child element is kept.
        let sink = match open.as_slice() {
            [.., parent, tag] if parent == "testcase" => match tag.as_str() {
                "system-out" => Sink::SystemOut,
                "system-err" => Sink::SystemErr,
                _ => Sink::Mark,
            },
            _ => Sink::Nowhere,
        };
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                let tag = start.name().as_ref().to_owned();
                match tag.as_str() {
                    "testsuites" => assert!(open.is_empty(), "testsuites below the root"),
                    "testsuite" => {
                        assert_eq!(open, ["testsuites"], "testsuite outside the root");
                        suites.push(attributes(start));
                    }
                    "testcase" => {
                        assert_eq!(open, ["testsuites", "testsuite"], "misplaced testcase");
                        case = Some(Case {
                            attributes: attributes(start),
                            ..Case::default()
                        });
                    }
                    "system-out" | "system-err" => {}
                    _ => {
                        if open.last().is_some_and(|parent| parent == "testcase") {
                            let mut attributes = attributes(start);
                            case.as_mut().unwrap().marks.push(Mark {
                                tag: tag.clone(),
                                kind: attributes.remove("type"),
                                message: attributes.remove("message"),
                                text: String::new(),
                            });
                        }
                    }
                }
                assert!(!open.is_empty() || tag == "testsuites", "root <{tag}>");
                if matches!(event, Event::Empty(_)) {
                    if tag == "testcase" {
                        cases.push(case.take().unwrap());
                    }
                } else {
                    open.push(tag);
                }
            }
            Event::End(_) => {
                let closed = open.pop();
                if closed.as_deref() == Some("testcase") {
                    cases.push(case.take().unwrap());
                }
            }
            Event::Text(piece) => append(case.as_mut(), sink, &piece.xml10_content()),
            Event::CData(piece) => append(case.as_mut(), sink, &piece),
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().expect("valid reference") {
                    Some(character) => character.to_string(),
                    None => resolve_predefined_entity(&reference)
                        .unwrap_or_else(|| panic!("unknown entity &{};", &*reference))
                        .to_owned(),
                };
                append(case.as_mut(), sink, &resolved);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(suites.len(), 1, "one testsuite:\n{text}");
    let suite = suites.pop().unwrap();
    Junit { suite, cases }
}

/// The contract's promises about the whole file: recounted totals, sorted by node id.
fn check_junit_shape(junit: &Junit) {
    assert_eq!(junit.suite.get("name").map(String::as_str), Some("rxdist"));
    let count = |tag: &str| {
        junit
            .cases
            .iter()
            .filter(|case| case.result().is_some_and(|mark| mark.tag == tag))
            .count()
            .to_string()
    };
    let attribute = |name: &str| {
        junit
            .suite
            .get(name)
            .unwrap_or_else(|| panic!("testsuite has no {name}: {:?}", junit.suite))
            .clone()
    };
    assert_eq!(attribute("tests"), junit.cases.len().to_string(), "tests");
    assert_eq!(attribute("failures"), count("failure"), "failures");
    assert_eq!(attribute("errors"), count("error"), "errors");
    assert_eq!(attribute("skipped"), count("skipped"), "skipped");
    let time: f64 = attribute("time").parse().expect("time is a number");
    assert!(time >= 0.0, "time {time}");
    let ids: Vec<String> = junit
        .cases
        .iter()
        .filter(|case| case.outcome() != Collection)
        .map(Case::id)
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "testcases are not sorted by node id");
}

// ---------------------------------------------------------------------------------------------
// The console
// ---------------------------------------------------------------------------------------------

/// The per-test lines, `WORD id (1.23s)`, of a run's standard output, as (word, id).
fn finished_lines(stdout: &str) -> Vec<(String, String)> {
    stdout.lines().filter_map(finished_line).collect()
}

/// `WORD id (1.23s)`, maybe indented to align the words, maybe followed by more (such as
/// `[attempt 2]`). The fixture's node ids have no spaces.
fn finished_line(line: &str) -> Option<(String, String)> {
    let mut words = line.split_whitespace();
    let (word, id, time) = (words.next()?, words.next()?, words.next()?);
    if !CONSOLE_WORDS.contains(&word) {
        return None;
    }
    time.strip_prefix('(')?
        .strip_suffix("s)")?
        .parse::<f64>()
        .ok()?;
    Some((word.to_owned(), id.to_owned()))
}

// ---------------------------------------------------------------------------------------------
// The event log written by the fixture's conftest.py
// ---------------------------------------------------------------------------------------------

#[derive(Debug, serde::Deserialize)]
struct LogEvent {
    event: String,
    test: String,
    pid: u32,
    t_ns: u64,
    attempt: Option<String>,
    pytest_xdist_worker: Option<String>,
    pytest_xdist_worker_count: Option<String>,
    rxdist_worker: Option<String>,
    rxdist_worker_count: Option<String>,
    /// pytest's `--basetemp` (on `start` events only).
    basetemp: Option<String>,
    tmpdir: Option<String>,
    testrunuid: Option<String>,
    run_id: Option<String>,
    shard_index: Option<String>,
    shard_total: Option<String>,
}

/// One run of one test in one process, as logged.
#[derive(Debug)]
struct Span {
    test: String,
    pid: u32,
    attempt: Option<String>,
    worker: Option<String>,
    tmpdir: Option<String>,
    basetemp: Option<String>,
    start: u64,
    /// The `end` event, or for a test killed mid-way its last `beat` (or its `start`): the
    /// test certainly ran until then, maybe longer.
    end: u64,
    finished: bool,
}

impl Span {
    fn overlaps(&self, other: &Span) -> bool {
        self.start <= other.end && other.start <= self.end
    }
}

#[derive(Debug)]
struct Log {
    events: Vec<LogEvent>,
    spans: Vec<Span>,
}

impl Log {
    fn read(dir: &Path) -> Self {
        let files: Vec<String> = std::fs::read_dir(dir)
            .expect("the log directory exists")
            .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
            .collect();
        Self::parse(&files)
    }

    /// Reads the text of each process's log file.
    fn parse(files: &[String]) -> Self {
        let mut events = Vec::new();
        let mut spans = Vec::new();
        for text in files {
            let mut open: Option<Span> = None;
            // A process killed mid-write may leave a last line without its newline.
            let complete = text.rsplit_once('\n').map_or("", |(complete, _)| complete);
            for line in complete.lines() {
                let event: LogEvent = serde_json::from_str(line)
                    .unwrap_or_else(|err| panic!("bad log line {line:?}: {err}"));
                match event.event.as_str() {
                    "start" => {
                        spans.extend(open.take());
                        open = Some(Span {
                            test: event.test.clone(),
                            pid: event.pid,
                            attempt: event.attempt.clone(),
                            worker: event.pytest_xdist_worker.clone(),
                            tmpdir: event.tmpdir.clone(),
                            basetemp: event.basetemp.clone(),
                            start: event.t_ns,
                            end: event.t_ns,
                            finished: false,
                        });
                    }
                    "beat" | "end" => {
                        let span = open
                            .as_mut()
                            .filter(|span| span.test == event.test)
                            .unwrap_or_else(|| {
                                panic!("{line} without its start, in this log file:\n{text}")
                            });
                        span.end = event.t_ns;
                        if event.event == "end" {
                            span.finished = true;
                            spans.extend(open.take());
                        }
                    }
                    other => panic!("unknown event {other}"),
                }
                events.push(event);
            }
            spans.extend(open);
        }
        spans.sort_by_key(|span| span.start);
        Log { events, spans }
    }

    fn spans_of<'a>(&'a self, test: &'a str) -> impl Iterator<Item = &'a Span> + 'a {
        self.spans.iter().filter(move |span| span.test == test)
    }

    fn started(&self) -> BTreeSet<&str> {
        self.spans.iter().map(|span| span.test.as_str()).collect()
    }

    fn pids(&self) -> BTreeSet<u32> {
        self.events.iter().map(|event| event.pid).collect()
    }

    /// The attempt numbers `test` ran with, in order.
    fn attempts(&self, test: &str) -> Vec<String> {
        self.spans_of(test)
            .map(|span| span.attempt.clone().unwrap_or_default())
            .collect()
    }
}

/// No other test ran, anywhere, while a serial test did.
fn check_serial_ran_alone(log: &Log) {
    for serial in SERIAL {
        let spans: Vec<&Span> = log.spans_of(serial).collect();
        assert!(!spans.is_empty(), "{serial} never started");
        for span in spans {
            assert!(span.finished, "{serial} did not finish: {span:?}");
            for other in &log.spans {
                if !std::ptr::eq(other, span) {
                    assert!(
                        !span.overlaps(other),
                        "{other:?} ran while serial {span:?} did"
                    );
                }
            }
        }
    }
}

/// Every pytest process had the worker variables of the contract: `gwN` with N below the
/// worker count in both `PYTEST_XDIST_WORKER` and `RXDIST_WORKER`, one slot per process, and
/// never two processes running tests at the same time in one slot.
fn check_worker_env(log: &Log, workers: usize) {
    let mut slot_of_pid = BTreeMap::new();
    for event in &log.events {
        let worker = event
            .pytest_xdist_worker
            .as_deref()
            .unwrap_or_else(|| panic!("no PYTEST_XDIST_WORKER: {event:?}"));
        let slot: usize = worker
            .strip_prefix("gw")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("PYTEST_XDIST_WORKER={worker} is not gwN"));
        assert!(slot < workers, "{worker} with {workers} workers");
        assert_eq!(event.rxdist_worker.as_deref(), Some(worker), "{event:?}");
        let count = workers.to_string();
        assert_eq!(event.pytest_xdist_worker_count.as_ref(), Some(&count));
        assert_eq!(event.rxdist_worker_count.as_ref(), Some(&count));
        let first = slot_of_pid.entry(event.pid).or_insert(slot);
        assert_eq!(*first, slot, "pid {} changed slot", event.pid);
    }
    for (at, one) in log.spans.iter().enumerate() {
        for other in &log.spans[at + 1..] {
            if one.pid != other.pid && one.overlaps(other) {
                assert_ne!(one.worker, other.worker, "one slot, two processes at once");
            }
        }
    }
}

/// The rest of the contract's worker environment: one run id and one xdist test-run uid for
/// the whole run, the shard, and a `--basetemp` and `TMPDIR` of each running process's own.
fn check_run_env(log: &Log, shard: (&str, &str)) {
    let one = |name: &str, value: fn(&LogEvent) -> Option<&String>| {
        let values: BTreeSet<Option<&String>> = log.events.iter().map(value).collect();
        assert_eq!(
            values.len(),
            1,
            "{name} differs between processes: {values:?}"
        );
        let only = values.into_iter().next().unwrap();
        assert!(only.is_some_and(|v| !v.is_empty()), "{name} unset");
    };
    one("RXDIST_RUN_ID", |event| event.run_id.as_ref());
    one("PYTEST_XDIST_TESTRUNUID", |event| event.testrunuid.as_ref());
    for event in &log.events {
        assert_eq!(
            (event.shard_index.as_deref(), event.shard_total.as_deref()),
            (Some(shard.0), Some(shard.1)),
            "RXDIST_SHARD_INDEX/TOTAL"
        );
    }
    // Processes one after the other in a slot may reuse its directories; two at once may not.
    for (at, one) in log.spans.iter().enumerate() {
        assert!(one.tmpdir.is_some(), "TMPDIR unset: {one:?}");
        assert!(one.basetemp.is_some(), "no --basetemp: {one:?}");
        for other in &log.spans[at + 1..] {
            if one.pid != other.pid && one.overlaps(other) {
                assert_ne!(
                    one.tmpdir, other.tmpdir,
                    "{one:?} and {other:?} share TMPDIR"
                );
                assert_ne!(one.basetemp, other.basetemp, "{one:?} and {other:?}");
            }
        }
    }
}

/// Each group's tests ran once each, in one process, one after the other in collection
/// order.
fn check_groups(log: &Log) {
    for group in GROUPS {
        let spans: Vec<&Span> = group
            .iter()
            .map(|test| {
                let spans: Vec<&Span> = log.spans_of(test).collect();
                assert_eq!(spans.len(), 1, "{test} ran {} times", spans.len());
                spans[0]
            })
            .collect();
        assert!(
            spans.iter().all(|span| span.pid == spans[0].pid),
            "group split over processes: {spans:#?}"
        );
        assert!(
            spans.windows(2).all(|pair| pair[0].end < pair[1].start),
            "group not in collection order: {spans:#?}"
        );
    }
}

/// Whether a process is still running (a zombie nobody reaped has ended).
fn alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    if proc.join("self").exists() {
        return std::fs::read_to_string(proc.join(pid.to_string()).join("stat")).is_ok_and(
            |stat| {
                stat.rsplit_once(") ")
                    .is_some_and(|(_, rest)| !rest.starts_with('Z'))
            },
        );
    }
    #[cfg(unix)]
    return nix::sys::signal::kill(unix_pid(pid), None).is_ok();
    #[cfg(not(unix))]
    false
}

#[cfg(unix)]
fn unix_pid(pid: u32) -> nix::unistd::Pid {
    nix::unistd::Pid::from_raw(i32::try_from(pid).expect("pids fit in pid_t"))
}

/// No pytest process outlived rxdist (the hanging test would run on for an hour). The pids are
/// the log files' names (`<pid>.jsonl`), so the check does not depend on what a process killed
/// mid-test managed to write.
fn check_no_process_left(project: &Project) {
    let left: Vec<u32> = std::fs::read_dir(project.log_dir())
        .expect("the log directory exists")
        .map(|entry| {
            let name = entry.unwrap().file_name();
            let name = name.to_str().expect("log files have ASCII names");
            name.strip_suffix(".jsonl")
                .and_then(|pid| pid.parse().ok())
                .unwrap_or_else(|| panic!("unexpected file {name} in the log directory"))
        })
        .filter(|&pid| alive(pid))
        .collect();
    assert!(left.is_empty(), "pytest processes left running: {left:?}");
}

// ---------------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------------

/// A fresh copy of the fixture project, a log directory and a JUnit path.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("rxdist-run-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        copy_dir(&fixture("pytest-project"), &dir.path().join("project"));
        std::fs::create_dir(dir.path().join("log")).unwrap();
        Project { dir }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("project")
    }

    fn log_dir(&self) -> PathBuf {
        self.dir.path().join("log")
    }

    fn junit_path(&self) -> PathBuf {
        self.dir.path().join("junit.xml")
    }

    /// `rxdist run --junit-out <junit> OPTIONS -- pytest PYTEST_ARGS` in the project.
    fn command(&self, options: &[&str], pytest_args: &[&str]) -> common::Rxdist {
        rxdist()
            .current_dir(self.root())
            .env("RXDIST_E2E_LOG", self.log_dir())
            .args(["run", "--junit-out"])
            .args([self.junit_path()])
            .args(options)
            .args(["--", "pytest"])
            .args(pytest_args)
    }

    fn run(&self, options: &[&str], pytest_args: &[&str]) -> Output {
        let mut child = self.command(options, pytest_args).spawn();
        let pid = child.id();
        let stdout = read_all(child.stdout.take().unwrap());
        let stderr = read_all(child.stderr.take().unwrap());
        let status = wait_at_most(&mut child, RUN_LIMIT);
        let status = status.unwrap_or_else(|| {
            kill_everything(pid);
            panic!(
                "rxdist run {options:?} -- pytest {pytest_args:?} still running after {RUN_LIMIT:?}"
            )
        });
        Output {
            code: status.code().unwrap_or(-1),
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
        }
    }

    fn junit(&self) -> Junit {
        let junit = read_junit(&self.junit_path());
        check_junit_shape(&junit);
        junit
    }

    fn log(&self) -> Log {
        Log::read(&self.log_dir())
    }
}

/// How long any run may take before the test gives up on it (the longest expected is a few
/// seconds; the limit only keeps a broken binary from hanging the suite for an hour).
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// Reads a pipe to the end on a thread, so a chatty child never blocks on a full pipe.
fn read_all(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        pipe.read_to_end(&mut bytes).expect("the pipe reads");
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Waits for the child to exit, at most `limit` (a watchdog, not a synchronisation: it polls
/// for the exit and returns as soon as it happens).
fn wait_at_most(child: &mut std::process::Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("waiting works") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills rxdist and every process of its group, after a test gave up on it.
fn kill_everything(pid: u32) {
    #[cfg(unix)]
    let _ = nix::sys::signal::killpg(unix_pid(pid), nix::sys::signal::Signal::SIGKILL);
    #[cfg(not(unix))]
    let _ = pid;
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "__pycache__" || name == ".pytest_cache" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(&name));
        } else {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

/// Panics with the run's output unless the outcomes are exactly the expected ones.
#[track_caller]
fn assert_outcomes(junit: &Junit, expected: &BTreeMap<String, Outcome>, output: &Output) {
    let want: BTreeMap<&str, Outcome> = expected
        .iter()
        .map(|(id, outcome)| (id.as_str(), outcome.in_junit()))
        .collect();
    let got = junit.outcomes();
    let got: BTreeMap<&str, Outcome> = got.iter().map(|(id, o)| (id.as_str(), *o)).collect();
    if want != got {
        let mut diff = String::new();
        for id in want.keys().chain(got.keys()).collect::<BTreeSet<_>>() {
            let (w, g) = (want.get(id), got.get(id));
            if w != g {
                writeln!(diff, "  {id}: expected {w:?}, got {g:?}").unwrap();
            }
        }
        panic!(
            "outcomes differ from the table:\n{diff}--- stdout\n{}\n--- stderr\n{}",
            output.stdout, output.stderr
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The oracle itself: table, JUnit decoder and console parser checked without rxdist
// ---------------------------------------------------------------------------------------------

/// Plain pytest, in-process, on every test that neither hangs nor crashes, reports through
/// its own xunit1 JUnit what the table says (the flaky test told it is on its retry, the
/// worker test given worker variables): the fixture does what the table claims, and the
/// decoder reads pytest's encoding of ordinary outcomes right.
#[test]
fn the_table_and_the_decoder_agree_with_plain_pytest() {
    let project = Project::new();
    let junit_path = project.junit_path();
    let mut pytest = std::process::Command::new("pytest");
    pytest.env_clear();
    for name in ["PATH", "HOME", "VIRTUAL_ENV", "SYSTEMROOT", "TMPDIR"] {
        if let Some(value) = std::env::var_os(name) {
            pytest.env(name, value);
        }
    }
    let output = pytest
        .current_dir(project.root())
        .env("RXDIST_E2E_LOG", project.log_dir())
        .envs([
            ("RXDIST_ATTEMPT", "2"),
            ("PYTEST_XDIST_WORKER", "gw0"),
            ("RXDIST_WORKER", "gw0"),
            ("PYTEST_XDIST_WORKER_COUNT", "1"),
            ("RXDIST_WORKER_COUNT", "1"),
        ])
        .args(["-p", "no:cacheprovider", "-o", "junit_family=xunit1"])
        .args(["--continue-on-collection-errors", "--junit-xml"])
        .arg(&junit_path)
        .args(["--deselect", HANG])
        .args(["--deselect", "tests/test_crash.py::test_exit_code"])
        .args(["--deselect", "tests/test_crash.py::test_segfault"])
        .output()
        .expect("pytest is on PATH (tests/run.sh puts it there)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let junit = read_junit(&junit_path);
    let mut want: BTreeMap<String, Outcome> = expected(&[], 1)
        .into_iter()
        .filter(|(id, outcome)| !matches!(outcome, Crashed | TimedOut | Collection) && id != FLAKY)
        .map(|(id, outcome)| (id, outcome.in_junit()))
        .collect();
    want.insert(FLAKY.to_owned(), Passed);
    let got: BTreeMap<String, Outcome> = junit
        .cases
        .iter()
        // pytest's own collection error has an empty classname (rxdist's has its own type).
        .filter(|case| case.attribute("classname") != Some(""))
        .map(|case| (case.id(), case.outcome()))
        .collect();
    assert_eq!(got, want, "{stdout}");
    let fail = junit.case(FAIL);
    assert!(fail.message().contains("assert"), "{fail:#?}");
    assert!(
        fail.mark("failure")
            .unwrap()
            .text
            .contains("assert 1 + 1 == 3")
    );
    // Every test that ran logged a finished span; a skip marker skips before any fixture.
    let log = project.log();
    assert!(log.spans.iter().all(|span| span.finished), "{log:#?}");
    let mut ran: BTreeSet<&str> = want.keys().map(String::as_str).collect();
    ran.remove("tests/test_outcomes.py::test_skip_marker");
    assert_eq!(log.started(), ran);
    // One process, one test at a time: the log checks hold trivially.
    check_serial_ran_alone(&log);
    check_groups(&log);
    check_worker_env(&log, 1);
}

/// A log line as conftest.py writes it, at `ms` milliseconds.
fn log_line(event: &str, test: &str, pid: u32, ms: u64, worker: &str) -> String {
    serde_json::json!({
        "basetemp": null, "tmpdir": null, "testrunuid": null, "run_id": null,
        "shard_index": null, "shard_total": null,
        "event": event, "test": test, "pid": pid, "t_ns": ms * 1_000_000, "attempt": "1",
        "pytest_xdist_worker": worker, "pytest_xdist_worker_count": "2",
        "rxdist_worker": worker, "rxdist_worker_count": "2",
    })
    .to_string()
        + "\n"
}

/// A log of `(test, pid, start ms, end ms, worker)` runs; an end of 0 means killed mid-test.
fn synthetic_log(runs: &[(&str, u32, u64, u64, &str)]) -> Log {
    let mut files: BTreeMap<u32, String> = BTreeMap::new();
    for &(test, pid, start, end, worker) in runs {
        let file = files.entry(pid).or_default();
        file.push_str(&log_line("start", test, pid, start, worker));
        if end > 0 {
            file.push_str(&log_line("end", test, pid, end, worker));
        }
    }
    Log::parse(&files.into_values().collect::<Vec<_>>())
}

fn panics(check: impl FnOnce() + std::panic::UnwindSafe) -> bool {
    std::panic::catch_unwind(check).is_err()
}

/// The log checks fail on the logs of a runner that breaks the rules.
#[test]
fn the_log_checks_catch_broken_runs() {
    let [first, second] = SERIAL;
    let ok = synthetic_log(&[
        ("tests/test_slow.py::test_slow", 10, 0, 100, "gw0"),
        (first, 11, 110, 200, "gw1"),
        (second, 10, 210, 300, "gw0"),
        (HANG, 11, 310, 0, "gw1"),
    ]);
    check_serial_ran_alone(&ok);
    check_worker_env(&ok, 2);
    // A serial test overlapping a test in another process, or a killed test's start.
    let overlap = synthetic_log(&[
        ("tests/test_slow.py::test_slow", 10, 0, 150, "gw0"),
        (first, 11, 110, 200, "gw1"),
        (second, 10, 210, 300, "gw0"),
    ]);
    assert!(panics(|| check_serial_ran_alone(&overlap)));
    let killed = synthetic_log(&[
        (first, 10, 0, 100, "gw0"),
        (HANG, 11, 50, 0, "gw1"),
        (second, 10, 210, 300, "gw0"),
    ]);
    assert!(panics(|| check_serial_ran_alone(&killed)));
    // Two processes running at once in one slot; a slot beyond the worker count.
    let same_slot = synthetic_log(&[(first, 10, 0, 100, "gw0"), (second, 11, 50, 150, "gw0")]);
    assert!(panics(|| check_worker_env(&same_slot, 2)));
    assert!(panics(|| check_worker_env(&ok, 1)));

    let [alpha, beta] = GROUPS;
    let mut runs: Vec<(&str, u32, u64, u64, &str)> = Vec::new();
    for (at, test) in alpha.iter().enumerate() {
        runs.push((test, 20, 100 * at as u64, 100 * at as u64 + 50, "gw0"));
    }
    for (at, test) in beta.iter().enumerate() {
        runs.push((test, 21, 100 * at as u64, 100 * at as u64 + 50, "gw1"));
    }
    check_groups(&synthetic_log(&runs));
    let mut split = runs.clone();
    split[1].1 = 22;
    assert!(panics(|| check_groups(&synthetic_log(&split))));
    let mut reordered = runs.clone();
    reordered[0].2 = 160;
    reordered[0].3 = 170;
    assert!(panics(|| check_groups(&synthetic_log(&reordered))));
}

#[test]
fn console_lines_are_recognised_by_their_shape() {
    let stdout = "rxdist: started 2 workers\n\
        PASSED tests/x.py::t (0.12s)\n\
        \x20  RETRY tests/x.py::test_p[a-b] (1s)\n\
        \x20 FAILED tests/x.py::test_p[a-b] (1s) [attempt 2]\n\
        \x20 FAILED tests/x.py::t: assert (1 + 1) == 3\n\
        CRASHED tests/y.py::T::t (3.0s)\n\
        3 passed, 1 failed in 2.00s\n";
    assert_eq!(
        finished_lines(stdout),
        [
            ("PASSED".to_owned(), "tests/x.py::t".to_owned()),
            ("FAILED".to_owned(), "tests/x.py::test_p[a-b]".to_owned()),
            ("CRASHED".to_owned(), "tests/y.py::T::t".to_owned()),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// The whole project, once: -n 2 --timeout 2 --retries 1
// ---------------------------------------------------------------------------------------------

struct FullRun {
    /// Kept so the project copy and its log stay on disk as long as the results are read.
    _project: Project,
    output: Output,
    junit: Option<Junit>,
    log: Log,
    /// Whether a pytest process was still running right after rxdist exited.
    left_running: Vec<u32>,
}

impl FullRun {
    fn junit(&self) -> &Junit {
        self.junit.as_ref().unwrap_or_else(|| {
            panic!(
                "no readable JUnit\n--- stdout\n{}\n--- stderr\n{}",
                self.output.stdout, self.output.stderr
            )
        })
    }
}

/// The whole project run once, shared by the tests that look at different sides of it.
fn full_run() -> &'static FullRun {
    static RUN: OnceLock<FullRun> = OnceLock::new();
    RUN.get_or_init(|| {
        let project = Project::new();
        let output = project.run(&["-n", "2", "--timeout", "2", "--retries", "1"], &[]);
        let log = project.log();
        let left_running = log.pids().into_iter().filter(|&pid| alive(pid)).collect();
        // A missing JUnit fails the tests that read it, not the one-time setup (a panic here
        // would make every test rerun the whole project).
        let path = project.junit_path();
        let junit = path.exists().then(|| read_junit(&path));
        FullRun {
            _project: project,
            output,
            junit,
            log,
            left_running,
        }
    })
}

#[test]
fn every_test_id_ends_as_the_table_says() {
    let run = full_run();
    assert_eq!(
        run.output.code, 1,
        "exit code\n--- stdout\n{}\n--- stderr\n{}",
        run.output.stdout, run.output.stderr
    );
    check_junit_shape(run.junit());
    assert_outcomes(run.junit(), &expected(&[], 1), &run.output);
    assert!(
        run.output
            .stdout
            .lines()
            .any(|l| l.starts_with("rxdist: started 2 workers")),
        "{}",
        run.output.stdout
    );
    assert!(
        run.left_running.is_empty(),
        "pytest processes outlived rxdist: {:?}",
        run.left_running
    );
}

#[test]
fn every_finished_test_has_one_console_line_with_its_outcome() {
    let run = full_run();
    let lines = finished_lines(&run.output.stdout);
    for (id, outcome) in expected(&[], 1) {
        if outcome == Collection {
            continue;
        }
        let words: Vec<&str> = lines
            .iter()
            .filter(|(_, line_id)| *line_id == id)
            .map(|(word, _)| word.as_str())
            .collect();
        assert_eq!(
            words,
            [outcome.console_word()],
            "console lines of {id}:\n{}",
            run.output.stdout
        );
    }
}

#[test]
fn failures_carry_messages_output_and_one_rerun_per_retry() {
    let run = full_run();
    let fail = run.junit().case(FAIL);
    assert!(fail.message().contains("assert"), "{fail:#?}");
    assert_eq!(fail.count("rerunFailure"), 1, "{fail:#?}");
    assert!(
        fail.system_out.contains("rxdist-e2e captured stdout"),
        "{fail:#?}"
    );
    assert!(
        fail.system_err.contains("rxdist-e2e captured stderr"),
        "{fail:#?}"
    );
    assert_eq!(run.log.attempts(FAIL), ["1", "2"]);

    let raises = run.junit().case("tests/test_outcomes.py::test_raises");
    assert!(raises.message().contains("rxdist-e2e unexpected exception"));
    let setup = run.junit().case("tests/test_outcomes.py::test_setup_error");
    assert!(setup.message().contains("rxdist-e2e fixture setup failed"));
    let teardown = run
        .junit()
        .case("tests/test_outcomes.py::test_teardown_error");
    assert!(
        teardown
            .message()
            .contains("rxdist-e2e fixture teardown failed")
    );
    let skip = run.junit().case("tests/test_outcomes.py::test_skip");
    assert!(skip.message().contains("rxdist-e2e skipped at run time"));
    let xfail = run.junit().case("tests/test_outcomes.py::test_xfail");
    assert!(xfail.message().contains("rxdist-e2e known bug"));

    // A pass keeps pytest's xunit1 attributes.
    let pass = run.junit().case("tests/test_outcomes.py::test_pass");
    assert_eq!(pass.attribute("classname"), Some("tests.test_outcomes"));
    assert_eq!(pass.attribute("file"), Some("tests/test_outcomes.py"));
    assert!(
        pass.attribute("line")
            .is_some_and(|l| l.parse::<u32>().is_ok())
    );
    let slow: f64 = run
        .junit()
        .case(SLOW)
        .attribute("time")
        .unwrap()
        .parse()
        .unwrap();
    assert!(slow >= 0.9, "test_slow sleeps 1 s but took {slow} s");
}

#[test]
fn the_flaky_test_passes_on_its_retry_with_the_first_failure_kept() {
    let run = full_run();
    let flaky = run.junit().case(FLAKY);
    assert_eq!(flaky.count("flakyFailure"), 1, "{flaky:#?}");
    let message = flaky.mark("flakyFailure").unwrap().message.as_deref();
    assert!(
        message.is_some_and(|m| m.contains("rxdist-e2e flaky failure on attempt 1")),
        "{flaky:#?}"
    );
    assert_eq!(run.log.attempts(FLAKY), ["1", "2"]);
    let spans: Vec<&Span> = run.log.spans_of(FLAKY).collect();
    assert!(spans[0].finished && spans[1].finished);
    assert!(
        spans[0].end < spans[1].start,
        "the retry ran after the failure"
    );
}

#[test]
fn hangs_time_out_after_the_timeout_and_crashes_say_how_the_worker_died() {
    const CRASH: &str = "worker crashed while running this test: ";
    let run = full_run();
    let hang = run.junit().case(HANG);
    assert!(
        hang.message()
            .starts_with("timeout: test ran longer than 2s"),
        "{hang:#?}"
    );
    let spans: Vec<&Span> = run.log.spans_of(HANG).collect();
    assert!(!spans.is_empty(), "the hanging test never started");
    // Interrupted (its teardown may still run, logging an `end`) or killed.
    for span in spans {
        let ran = Duration::from_nanos(span.end - span.start);
        assert!(
            ran >= Duration::from_millis(1500) && ran <= Duration::from_secs(10),
            "a 2 s timeout killed the test after {ran:?}"
        );
    }

    let exit = run.junit().case("tests/test_crash.py::test_exit_code");
    assert!(exit.message().starts_with(CRASH), "{exit:#?}");
    assert!(exit.message().contains("exited with code 3"), "{exit:#?}");
    let segfault = run.junit().case("tests/test_crash.py::test_segfault");
    assert!(segfault.message().starts_with(CRASH), "{segfault:#?}");
    assert!(
        segfault.message().contains("killed by signal 11 (SIGSEGV)"),
        "{segfault:#?}"
    );
    // The crashes took their process down; the tests after them still ran (the table), in
    // fresh processes.
    for crash in [
        "tests/test_crash.py::test_exit_code",
        "tests/test_crash.py::test_segfault",
    ] {
        for span in run.log.spans_of(crash) {
            assert!(!span.finished);
            let later = run
                .log
                .spans
                .iter()
                .filter(|other| other.pid == span.pid && other.start > span.start);
            assert_eq!(later.count(), 0, "{crash}'s process ran more tests");
        }
    }
}

#[test]
fn a_file_that_fails_to_collect_is_one_collection_error() {
    let run = full_run();
    let broken: Vec<&Case> = run
        .junit()
        .cases
        .iter()
        .filter(|case| case.outcome() == Collection)
        .collect();
    assert_eq!(broken.len(), 1, "{broken:#?}");
    assert_eq!(broken[0].id(), BROKEN_FILE);
    let message = broken[0].message();
    assert!(message.starts_with("collection failure:"), "{message}");
    let details = &broken[0].mark("error").unwrap().text;
    assert!(
        message.contains("rxdist_e2e_no_such_module")
            || details.contains("rxdist_e2e_no_such_module"),
        "{broken:#?}"
    );
}

#[test]
fn serial_tests_run_with_no_other_test_running() {
    let run = full_run();
    check_serial_ran_alone(&run.log);
}

#[test]
fn every_worker_gets_its_gw_slot_in_the_environment() {
    let run = full_run();
    check_worker_env(&run.log, 2);
    let slots: BTreeSet<&str> = run
        .log
        .events
        .iter()
        .filter_map(|event| event.pytest_xdist_worker.as_deref())
        .collect();
    assert_eq!(
        slots,
        BTreeSet::from(["gw0", "gw1"]),
        "both workers ran tests"
    );
    check_run_env(&run.log, ("0", "1"));
    // Every first attempt says so.
    for span in &run.log.spans {
        assert!(
            matches!(span.attempt.as_deref(), Some("1" | "2")),
            "RXDIST_ATTEMPT {span:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Smaller runs
// ---------------------------------------------------------------------------------------------

#[test]
fn a_group_runs_in_one_process_in_collection_order_with_loadgroup() {
    let project = Project::new();
    let selection = [
        "tests/test_groups.py",
        "tests/test_outcomes.py",
        "tests/test_slow.py",
    ];
    let output = project
        .run(&["-n", "2", "--dist", "loadgroup"], &selection)
        .expect_code(1);
    assert_outcomes(&project.junit(), &expected(&selection, 0), &output);
    let log = project.log();
    check_groups(&log);
    check_worker_env(&log, 2);
    check_no_process_left(&project);
}

#[test]
fn with_no_retries_the_flaky_test_fails() {
    let project = Project::new();
    let output = project.run(&["--retries", "0"], &[FLAKY]).expect_code(1);
    assert_outcomes(&project.junit(), &expected(&[FLAKY], 0), &output);
    let flaky = project.junit().case(FLAKY).count("flakyFailure");
    assert_eq!(flaky, 0);
    assert_eq!(project.log().attempts(FLAKY), ["1"], "no retry");
}

#[test]
fn a_flaky_pass_passes_the_run_unless_flaky_result_is_fail() {
    let selection = [
        FLAKY,
        "tests/test_outcomes.py::test_pass",
        "tests/test_outcomes.py::test_skip",
        "tests/test_outcomes.py::test_xfail",
        "tests/test_outcomes.py::test_xpass",
    ];
    // Without --junit-out: the contract's default path, relative to the current directory.
    let project = Project::new();
    let output = rxdist()
        .current_dir(project.root())
        .env("RXDIST_E2E_LOG", project.log_dir())
        .args(["run", "--retries", "1", "--", "pytest"])
        .args(selection)
        .run()
        .expect_code(0);
    let junit = read_junit(&project.root().join(".rxdist/junit.xml"));
    check_junit_shape(&junit);
    assert_outcomes(&junit, &expected(&selection, 1), &output);

    let project = Project::new();
    let output = project
        .run(&["--retries", "1", "--flaky-result", "fail"], &selection)
        .expect_code(1);
    // The test was retried (so it did pass in the end), and its failed attempt is on record.
    assert_eq!(project.log().attempts(FLAKY), ["1", "2"]);
    let junit = project.junit();
    let flaky = junit.case(FLAKY);
    assert!(
        flaky.count("flakyFailure") + flaky.count("failure") >= 1,
        "{flaky:#?}\n{}",
        output.stdout
    );
    let mut others = expected(&selection, 1);
    others.remove(FLAKY);
    let mut got = junit.outcomes();
    got.remove(FLAKY);
    let others: BTreeMap<String, Outcome> = others
        .into_iter()
        .map(|(id, o)| (id, o.in_junit()))
        .collect();
    assert_eq!(got, others);
}

#[test]
fn a_test_failing_every_attempt_has_a_rerun_failure_per_retry() {
    let project = Project::new();
    let output = project.run(&["--retries", "2"], &[FAIL]).expect_code(1);
    let junit = project.junit();
    assert_outcomes(&junit, &expected(&[FAIL], 2), &output);
    assert_eq!(junit.case(FAIL).count("rerunFailure"), 2);
    assert_eq!(project.log().attempts(FAIL), ["1", "2", "3"]);
}

/// `-x` / `--maxfail 1` on eight failing tests: the run stops after the first failure, the
/// tests it had not run are reported as not run, and none is lost. Each process stops itself
/// at what is left of the budget when it starts, so at most one failure per worker can happen
/// before the stop reaches every worker.
fn check_stops_at_first_failure(workers: &str, stop: &[&str]) {
    let most_failures: usize = workers.parse().unwrap();
    let project = Project::new();
    let selection = ["tests/test_maxfail.py"];
    let mut options = vec!["-n", workers];
    options.extend(stop);
    let output = project.run(&options, &selection).expect_code(1);
    let junit = project.junit();
    let outcomes = junit.outcomes();
    let expected = expected(&selection, 0);
    assert_eq!(
        outcomes.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "every selected test is reported"
    );
    let failed = outcomes.values().filter(|&&o| o == Failed).count();
    let not_run = outcomes.values().filter(|&&o| o == NotRun).count();
    assert_eq!(failed + not_run, 8, "{outcomes:#?}");
    assert!(
        (1..=most_failures).contains(&failed) && not_run >= 8 - most_failures,
        "{stop:?} did not stop the run promptly:\n{}",
        output.stdout
    );
    let log = project.log();
    for (id, outcome) in &outcomes {
        if *outcome == NotRun {
            let message = junit.case(id).message().to_owned();
            assert!(message.starts_with("not run:"), "{message}");
        } else {
            assert!(
                log.started().contains(id.as_str()),
                "{id} reported, never ran"
            );
        }
    }
    check_no_process_left(&project);
}

#[test]
fn dash_x_stops_at_the_first_failure_and_reports_the_rest_not_run() {
    check_stops_at_first_failure("1", &["-x"]);
}

#[test]
fn maxfail_1_stops_both_workers() {
    check_stops_at_first_failure("2", &["--maxfail", "1"]);
}

#[test]
fn worker_restarts_past_the_budget_are_an_infrastructure_failure() {
    let project = Project::new();
    let selection = ["tests/test_crash.py"];
    let output = project
        .run(&["-n", "1", "--max-worker-restarts", "0"], &selection)
        .expect_code(9);
    let outcomes = project.junit().outcomes();
    let got: Vec<Outcome> = outcomes.values().copied().collect();
    assert!(
        got == [Crashed, NotRun] || got == [NotRun, Crashed],
        "{outcomes:#?}\n{}",
        output.stdout
    );
}

#[test]
fn the_global_timeout_stops_the_run_with_exit_10() {
    let project = Project::new();
    let selection = [HANG, "tests/test_outcomes.py::test_pass"];
    let started = Instant::now();
    let output = project
        .run(
            &["-n", "1", "--timeout", "60", "--global-timeout", "2"],
            &selection,
        )
        .expect_code(10);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the run went on for {:?}",
        started.elapsed()
    );
    let outcomes = project.junit().outcomes();
    assert_eq!(
        outcomes.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        BTreeSet::from(selection),
        "{}",
        output.stdout
    );
    assert!(matches!(outcomes[HANG], NotRun | TimedOut), "{outcomes:?}");
    assert!(matches!(
        outcomes["tests/test_outcomes.py::test_pass"],
        Passed | NotRun
    ));
    check_no_process_left(&project);
}

#[test]
fn nothing_selected_exits_5() {
    let project = Project::new();
    project
        .run(
            &[],
            &["tests/test_outcomes.py", "-k", "rxdist_e2e_matches_nothing"],
        )
        .expect_code(5);
    assert!(project.log().spans.is_empty());
}

/// A conftest.py that cannot be imported stops pytest before it collects anything.
#[test]
fn collection_that_fails_entirely_exits_6() {
    let project = Project::new();
    std::fs::write(
        project.root().join("tests/conftest.py"),
        "import rxdist_e2e_no_such_module  # noqa: F401\n",
    )
    .unwrap();
    let output = project.run(&[], &[]).expect_code(6);
    assert!(
        format!("{}{}", output.stdout, output.stderr).contains("rxdist_e2e_no_such_module"),
        "{output:?}"
    );
    assert!(project.log().spans.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Ctrl-C and SIGTERM
// ---------------------------------------------------------------------------------------------

/// Everything that neither crashes nor fails to collect.
const INTERRUPTED_SELECTION: [&str; 8] = [
    "tests/test_outcomes.py",
    "tests/test_slow.py",
    "tests/test_flaky.py",
    "tests/test_hang.py",
    "tests/test_serial.py",
    "tests/test_groups.py",
    "tests/test_worker_env.py",
    "tests/test_maxfail.py",
];

/// Runs `INTERRUPTED_SELECTION` on two workers (the hanging test with a 60 s timeout, so the
/// run is surely still going), waits on stdout for the workers to start and three tests to
/// finish, sends `signal` and returns what rxdist printed and its exit code.
#[cfg(unix)]
fn run_and_signal(project: &Project, signal: nix::sys::signal::Signal, extra: &[&str]) -> Output {
    use std::sync::mpsc;

    let mut options = vec!["-n", "2", "--timeout", "60"];
    options.extend(extra);
    let mut child = project.command(&options, &INTERRUPTED_SELECTION).spawn();
    let pid = child.id();
    let stdout = child.stdout.take().unwrap();
    let stderr = read_all(child.stderr.take().unwrap());
    let (lines_tx, lines) = mpsc::channel();
    let stdout = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("stdout is text");
            all.push_str(&line);
            all.push('\n');
            let _ = lines_tx.send(line);
        }
        all
    });

    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut started, mut finished) = (false, 0);
    let mut seen = String::new();
    while !(started && finished >= 3) {
        let Ok(line) = lines.recv_timeout(deadline.saturating_duration_since(Instant::now()))
        else {
            kill_everything(pid);
            panic!("no worker start or no three finished tests on stdout:\n{seen}");
        };
        seen.push_str(&line);
        seen.push('\n');
        // The contract's line, maybe with more after it ("... for 32 known tests").
        started |= line.starts_with("rxdist: started 2 workers");
        if started && finished_line(&line).is_some() {
            finished += 1;
        }
    }
    nix::sys::signal::kill(unix_pid(pid), signal).expect("the signal is sent");
    let signalled = Instant::now();
    let Some(status) = wait_at_most(&mut child, Duration::from_secs(30)) else {
        kill_everything(pid);
        panic!("rxdist still running 30 s after {signal}:\n{seen}");
    };
    let stopped_in = signalled.elapsed();
    let output = Output {
        code: status.code().unwrap_or(-1),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    assert!(
        stopped_in < Duration::from_secs(20),
        "{stopped_in:?} to stop after {signal}"
    );
    output
}

/// Interrupts a run with `signal` and checks: exit `code`, every selected test in the JUnit,
/// every test that finished (it has a console line) with the outcome it finished with, every
/// other one as not run.
#[cfg(unix)]
fn check_stopped_by(signal: nix::sys::signal::Signal, code: i32, with_history: bool) {
    let project = Project::new();
    let history = project.root().join("history.zst");
    let history = history.to_str().unwrap();
    let extra: &[&str] = if with_history {
        // A history that knows two of the eight files: the others are new, and run through the
        // catch-all that rides with the first batch.
        project
            .run(
                &["-n", "2", "--history", history],
                &["tests/test_outcomes.py", "tests/test_slow.py"],
            )
            .expect_code(1);
        &["--history", history, "--no-record"]
    } else {
        &[]
    };
    let output = run_and_signal(&project, signal, extra).expect_code(code);
    let junit = project.junit();
    let outcomes = junit.outcomes();
    let expected = expected(&INTERRUPTED_SELECTION, 0);
    assert_eq!(
        outcomes.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "every selected test is reported, none lost\n{}",
        output.stdout
    );
    let finished: BTreeMap<String, String> = finished_lines(&output.stdout)
        .into_iter()
        .map(|(word, id)| (id, word))
        .collect();
    for (id, want) in &expected {
        let got = outcomes[id];
        match finished.get(id).map(String::as_str) {
            Some(word) if word != "NOTRUN" => {
                assert_eq!(word, want.console_word(), "{id}'s console line");
                assert_eq!(got, want.in_junit(), "{id} finished, its outcome was lost");
            }
            _ => assert_eq!(got, NotRun, "{id} never finished\n{}", output.stdout),
        }
    }
    for (id, outcome) in &outcomes {
        if *outcome == NotRun {
            let message = junit.case(id).message().to_owned();
            assert!(message.starts_with("not run:"), "{id}: {message}");
        }
    }
    let not_run = outcomes.values().filter(|&&o| o == NotRun).count();
    assert_eq!(outcomes[HANG], NotRun, "{outcomes:#?}");
    assert!(outcomes.len() - not_run >= 3, "{outcomes:#?}");
    check_no_process_left(&project);
}

#[cfg(unix)]
#[test]
fn ctrl_c_keeps_every_finished_outcome_and_reports_the_rest_not_run() {
    check_stopped_by(nix::sys::signal::Signal::SIGINT, 130, false);
}

#[cfg(unix)]
#[test]
fn ctrl_c_with_a_history_still_names_the_tests_of_new_files() {
    check_stopped_by(nix::sys::signal::Signal::SIGINT, 130, true);
}

#[cfg(unix)]
#[test]
fn sigterm_keeps_every_finished_outcome_and_reports_the_rest_not_run() {
    check_stopped_by(nix::sys::signal::Signal::SIGTERM, 143, false);
}
