//! Every selected test's result over its attempts, and the shard report built from them.
//!
//! A test ends in exactly one [`Status`]; none is lost. Retries append attempts; the last one
//! decides, earlier failures become `<flakyFailure>` (it passed in the end) or `<rerunFailure>`
//! (it never passed), the Surefire convention.

use std::collections::BTreeMap;

use super::protocol::{Finished, PytestOutcome};
use crate::junit::write::{Attempt as JunitAttempt, Case, CaseResult, Detail, Report};

/// How one attempt of a test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Passed.
    Passed,
    /// An assertion failed (or strict xpass).
    Failed,
    /// Setup or teardown failed.
    Error,
    /// Skipped.
    Skipped,
    /// Expected to fail, and did.
    XFailed,
    /// Expected to fail, passed (non-strict: a pass).
    XPassed,
    /// Ran past `--timeout` and was interrupted.
    TimedOut,
    /// Its worker process died while running it.
    Crashed,
    /// Never ran (`--maxfail`, cancellation, the restart budget, the global timeout).
    NotRun,
    /// Its file failed to collect.
    CollectionError,
    /// Its module was skipped at import (`importorskip`, a module-level skip): the entry
    /// stands for the module, as in pytest's own report.
    CollectionSkipped,
}

impl Status {
    /// Whether this attempt counts as a failure of the run.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Status::Failed
                | Status::Error
                | Status::TimedOut
                | Status::Crashed
                | Status::CollectionError
        )
    }

    /// Whether a retry may change the verdict.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            Status::Failed | Status::Error | Status::TimedOut | Status::Crashed
        )
    }

    /// The word the console prints.
    pub fn label(self) -> &'static str {
        match self {
            Status::Passed => "PASSED",
            Status::Failed => "FAILED",
            Status::Error | Status::CollectionError => "ERROR",
            Status::Skipped | Status::CollectionSkipped => "SKIPPED",
            Status::XFailed => "XFAIL",
            Status::XPassed => "XPASS",
            Status::TimedOut => "TIMEOUT",
            Status::Crashed => "CRASHED",
            Status::NotRun => "NOTRUN",
        }
    }
}

impl From<PytestOutcome> for Status {
    fn from(outcome: PytestOutcome) -> Self {
        match outcome {
            PytestOutcome::Passed => Status::Passed,
            PytestOutcome::Failed => Status::Failed,
            PytestOutcome::Error => Status::Error,
            PytestOutcome::Skipped => Status::Skipped,
            PytestOutcome::Xfailed => Status::XFailed,
            PytestOutcome::Xpassed => Status::XPassed,
        }
    }
}

/// One attempt of a test.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptResult {
    /// How it ended.
    pub status: Status,
    /// Seconds it took (0 when it never ran).
    pub seconds: f64,
    /// One-line message.
    pub message: Option<String>,
    /// Full details.
    pub details: Option<String>,
    /// Captured standard output.
    pub stdout: Option<String>,
    /// Captured standard error (and log records).
    pub stderr: Option<String>,
    /// `record_property` pairs.
    pub properties: Vec<(String, String)>,
    /// xunit1 attributes, when pytest reported them.
    pub location: Option<Location>,
}

/// The xunit1 attributes of a testcase, as pytest's junitxml computes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// `classname`.
    pub classname: String,
    /// `name`.
    pub name: String,
    /// `file`.
    pub file: Option<String>,
    /// `line`.
    pub line: Option<u64>,
}

impl AttemptResult {
    /// An attempt rxdist decided on itself (timeout, crash, not run, collection error).
    pub fn synthetic(status: Status, message: impl Into<String>, seconds: f64) -> Self {
        AttemptResult {
            status,
            seconds,
            message: Some(message.into()),
            details: None,
            stdout: None,
            stderr: None,
            properties: Vec::new(),
            location: None,
        }
    }

    /// Places an attempt rxdist decided on at the test's location (pytest's naming of `id`,
    /// and the file and line pytest reported when the test started).
    #[must_use]
    pub fn located(mut self, id: &str, file: Option<String>, line: Option<u64>) -> Self {
        let mut location = fallback_location(id);
        if file.is_some() {
            location.file = file;
        }
        location.line = line;
        self.location = Some(location);
        self
    }

    /// The attempt the plugin reported.
    pub fn from_finished(finished: Finished) -> Self {
        let mut details = finished.details;
        if let Some(teardown) = finished.teardown {
            let text = details.get_or_insert_with(String::new);
            text.push_str("\n\n");
            text.push_str(&teardown);
        }
        let stderr = match (finished.stderr, finished.log) {
            (Some(err), Some(log)) => Some(format!("{err}\n{log}")),
            (err, log) => err.or(log),
        };
        AttemptResult {
            status: finished.outcome.into(),
            seconds: finished.duration,
            message: finished.message,
            details,
            stdout: finished.stdout,
            stderr,
            properties: finished.properties,
            location: Some(Location {
                classname: finished.classname,
                name: finished.name,
                file: finished.file,
                line: finished.line,
            }),
        }
    }
}

/// A test's attempts, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestResult {
    /// Every attempt.
    pub attempts: Vec<AttemptResult>,
}

impl TestResult {
    /// The verdict: the last attempt.
    pub fn last(&self) -> Option<&AttemptResult> {
        self.attempts.last()
    }

    /// Whether it failed, then passed on a retry.
    pub fn is_flaky(&self) -> bool {
        self.attempts.len() > 1
            && self.last().is_some_and(|a| !a.status.is_failure())
            && self.attempts.iter().any(|a| a.status.is_failure())
    }
}

/// All results of a run, by test id.
#[derive(Debug, Default)]
pub struct Results {
    tests: BTreeMap<String, TestResult>,
    /// Ids in the order their first attempt was recorded (execution order, for the history's
    /// setup-cost inference).
    order: Vec<String>,
}

/// Totals for the summary and the exit code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Tests with a result.
    pub total: usize,
    /// Passed (including xpass), not flaky.
    pub passed: usize,
    /// Final failures of any kind (errors included).
    pub failed: usize,
    /// Of those, errors: setup or teardown errors, crashes, collection errors (`<error>` in the
    /// report, where the rest are `<failure>`).
    pub errors: usize,
    /// Skipped.
    pub skipped: usize,
    /// Expected failures.
    pub xfailed: usize,
    /// Passed on a retry.
    pub flaky: usize,
    /// Timed out (final).
    pub timed_out: usize,
    /// Crashed (final).
    pub crashed: usize,
    /// Never ran.
    pub not_run: usize,
}

impl Results {
    /// Records an attempt.
    pub fn push(&mut self, id: &str, attempt: AttemptResult) {
        match self.tests.get_mut(id) {
            Some(result) => result.attempts.push(attempt),
            None => {
                self.order.push(id.to_owned());
                self.tests.insert(
                    id.to_owned(),
                    TestResult {
                        attempts: vec![attempt],
                    },
                );
            }
        }
    }

    /// Records `attempt` unless `id` already has a result (file-level events that several
    /// processes may report). Returns whether it was recorded.
    pub fn push_once(&mut self, id: &str, attempt: AttemptResult) -> bool {
        if self.tests.contains_key(id) {
            return false;
        }
        self.push(id, attempt);
        true
    }

    /// Marks `id` not run, unless it already has a result.
    pub fn not_run(&mut self, id: &str, why: &str) -> bool {
        if self.tests.contains_key(id) {
            return false;
        }
        self.push(
            id,
            AttemptResult::synthetic(Status::NotRun, format!("not run: {why}"), 0.0),
        );
        true
    }

    /// The result of `id`.
    pub fn get(&self, id: &str) -> Option<&TestResult> {
        self.tests.get(id)
    }

    /// Every result, by id.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &TestResult)> {
        self.tests.iter()
    }

    /// Every result, in the order tests first finished.
    pub fn in_order(&self) -> impl Iterator<Item = (&String, &TestResult)> {
        self.order.iter().map(|id| (id, &self.tests[id]))
    }

    /// Number of tests with a result.
    pub fn len(&self) -> usize {
        self.tests.len()
    }

    /// Whether no test has a result.
    pub fn is_empty(&self) -> bool {
        self.tests.is_empty()
    }

    /// Totals.
    pub fn tally(&self) -> Tally {
        let mut tally = Tally::default();
        for result in self.tests.values() {
            let Some(last) = result.last() else { continue };
            tally.total += 1;
            if result.is_flaky() {
                tally.flaky += 1;
                continue;
            }
            match last.status {
                Status::Passed | Status::XPassed => tally.passed += 1,
                Status::Skipped | Status::CollectionSkipped => tally.skipped += 1,
                Status::XFailed => tally.xfailed += 1,
                Status::NotRun => tally.not_run += 1,
                Status::TimedOut => {
                    tally.timed_out += 1;
                    tally.failed += 1;
                }
                Status::Crashed => {
                    tally.crashed += 1;
                    tally.errors += 1;
                    tally.failed += 1;
                }
                Status::Failed => tally.failed += 1,
                Status::Error | Status::CollectionError => {
                    tally.errors += 1;
                    tally.failed += 1;
                }
            }
        }
        tally
    }

    /// The shard's JUnit report: one testcase per test, sorted by id.
    pub fn report(&self, suite_name: &str, properties: Vec<(String, String)>) -> Report {
        Report {
            suite_name: suite_name.to_owned(),
            properties,
            cases: self
                .tests
                .iter()
                .filter_map(|(id, result)| case(id, result))
                .collect(),
        }
    }
}

fn case(id: &str, result: &TestResult) -> Option<Case> {
    let last = result.last()?;
    let location = result
        .attempts
        .iter()
        .rev()
        .find_map(|a| a.location.clone())
        .unwrap_or_else(|| fallback_location(id));
    let detail = |attempt: &AttemptResult, kind: Option<&str>| Detail {
        kind: kind.map(str::to_owned),
        message: attempt.message.clone(),
        body: attempt.details.clone(),
    };
    let result_element = match last.status {
        Status::Passed | Status::XPassed => CaseResult::Passed,
        Status::Failed => CaseResult::Failure(detail(last, None)),
        Status::Error => CaseResult::Error(detail(last, None)),
        Status::Skipped => CaseResult::Skipped(detail(last, Some("pytest.skip"))),
        // pytest writes these without a type.
        Status::CollectionSkipped => CaseResult::Skipped(detail(last, None)),
        Status::XFailed => CaseResult::Skipped(detail(last, Some("pytest.xfail"))),
        Status::TimedOut => CaseResult::Failure(detail(last, Some("rxdist.timeout"))),
        Status::Crashed => CaseResult::Error(detail(last, Some("rxdist.crash"))),
        Status::NotRun => CaseResult::Skipped(detail(last, Some("rxdist.notrun"))),
        Status::CollectionError => CaseResult::Error(detail(last, Some("rxdist.collection"))),
    };
    let earlier: Vec<JunitAttempt> = result.attempts[..result.attempts.len() - 1]
        .iter()
        .filter(|a| a.status.is_failure())
        .map(|a| JunitAttempt {
            error: matches!(
                a.status,
                Status::Error | Status::Crashed | Status::CollectionError
            ),
            detail: detail(
                a,
                match a.status {
                    Status::TimedOut => Some("rxdist.timeout"),
                    Status::Crashed => Some("rxdist.crash"),
                    _ => None,
                },
            ),
            time: a.seconds,
            stdout: a.stdout.clone(),
            stderr: a.stderr.clone(),
        })
        .collect();
    let (flaky, reruns) = if last.status.is_failure() {
        (Vec::new(), earlier)
    } else {
        (earlier, Vec::new())
    };
    let mut properties = last.properties.clone();
    // A report recorded later (`timings record`, `merge --history`) must give this test's id
    // back. Without a file attribute that is `classname::name` or the name: when neither is
    // the id (a template runner's own classname, say), the id travels as a property.
    let round_trips = location.file.is_some()
        || if location.classname.is_empty() {
            location.name == id
        } else {
            format!("{}::{}", location.classname, location.name) == id
        };
    if !round_trips {
        properties.push((crate::junit::ID_PROPERTY.to_owned(), id.to_owned()));
    }
    Some(Case {
        classname: location.classname,
        name: location.name,
        file: location.file,
        line: location.line,
        time: last.seconds,
        result: result_element,
        flaky,
        reruns,
        properties,
        stdout: last.stdout.clone(),
        stderr: last.stderr.clone(),
    })
}

/// xunit1 attributes for a test pytest never reported (it never ran, or its process died):
/// pytest's own rule, `path/to/test_x.py::Class::name` -> `path.to.test_x.Class`, `name`.
pub(super) fn fallback_location(id: &str) -> Location {
    let mut parts = id.split("::");
    let path = parts.next().unwrap_or(id);
    let names: Vec<&str> = parts.collect();
    let module = path
        .strip_suffix(".py")
        .unwrap_or(path)
        .replace(['/', '\\'], ".");
    let (classname, name) = match names.split_last() {
        Some((last, classes)) => {
            let mut classname = module;
            for class in classes {
                classname.push('.');
                classname.push_str(class);
            }
            (classname, (*last).to_owned())
        }
        // A file-level entry (a collection error): pytest names it after the module.
        None => (String::new(), module),
    };
    Location {
        classname,
        name,
        file: Some(path.to_owned()),
        line: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(status: Status) -> AttemptResult {
        AttemptResult::synthetic(status, format!("{status:?}"), 1.0)
    }

    #[test]
    fn a_pass_after_a_failure_is_flaky_with_a_flaky_failure() {
        let mut results = Results::default();
        results.push("t.py::a", attempt(Status::Failed));
        results.push("t.py::a", attempt(Status::Passed));
        let tally = results.tally();
        assert_eq!((tally.flaky, tally.failed, tally.passed), (1, 0, 0));
        let report = results.report("s", Vec::new());
        assert_eq!(report.cases[0].result, CaseResult::Passed);
        assert_eq!(report.cases[0].flaky.len(), 1);
        assert!(report.cases[0].reruns.is_empty());
    }

    #[test]
    fn failing_every_attempt_keeps_reruns() {
        let mut results = Results::default();
        results.push("t.py::a", attempt(Status::Failed));
        results.push("t.py::a", attempt(Status::TimedOut));
        let report = results.report("s", Vec::new());
        let case = &report.cases[0];
        assert!(
            matches!(&case.result, CaseResult::Failure(d) if d.kind.as_deref() == Some("rxdist.timeout"))
        );
        assert_eq!(case.reruns.len(), 1);
        assert_eq!(results.tally().timed_out, 1);
    }

    #[test]
    fn not_run_never_overwrites_a_result() {
        let mut results = Results::default();
        results.push("t.py::a", attempt(Status::Passed));
        assert!(!results.not_run("t.py::a", "cancelled"));
        assert!(results.not_run("t.py::b", "cancelled"));
        assert_eq!(results.tally().not_run, 1);
    }

    #[test]
    fn fallback_location_follows_pytest() {
        assert_eq!(
            fallback_location("tests/sub/test_x.py::TestA::test_b[1]"),
            Location {
                classname: "tests.sub.test_x.TestA".into(),
                name: "test_b[1]".into(),
                file: Some("tests/sub/test_x.py".into()),
                line: None,
            }
        );
        assert_eq!(fallback_location("tests/test_y.py").name, "tests.test_y");
    }
}
