//! `--runner template`: any command-line test runner that takes test ids (or a file of them) and
//! writes a JUnit report.
//!
//! The command is a template, expanded once per batch:
//!
//! | placeholder | becomes |
//! |---|---|
//! | `{tests}` (a whole argument) | one argument per test id of the batch |
//! | `{testfile}` (anywhere in an argument: `@{testfile}`, `--file={testfile}`) | the path of a file listing the batch's ids, one per line |
//! | `{junit}` (anywhere in an argument) | the path the batch's JUnit report must be written to |
//! | `{{tests}}`, `{{testfile}}`, `{{junit}}` | the literal text `{tests}`, `{testfile}`, `{junit}` |
//!
//! Every other character, braces included, is passed on as it is. A command needs `{tests}` or
//! `{testfile}`, and `{junit}`.
//!
//! After a batch's process exits, its JUnit testcases are matched to the batch's ids (see
//! [`match_case`]); several testcases may report one id (an id naming a file: jest, vitest,
//! rspec), and then the worst outcome counts. An id no testcase reports is an error, or a crash
//! when the process died by a signal. Testcases that match no id of the batch are reported, and
//! kept in the shard report under their own id. The per-test `--timeout` covers a whole batch
//! here: rxdist cannot tell which test a runner is in. A batch stopped for it reports its tests
//! that did not pass (runners report the interrupted test as failed) or were not reported as
//! timed out.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::OsString;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::executor::{
    self, Ending, ExecConfig, ExecError, Exited, Scratch, log_tail, mark_not_run, record_attempt,
    report_final,
};
use super::process;
use super::reporter::Reporter;
use super::results::{AttemptResult, Location, Results, Status};
use super::schedule::{Batch, Scheduler};
use crate::identity::{Framework, IdMapper};
use crate::junit::{Limits, Outcome, TestCase, read_testcases};

/// Lines of the runner's output attached to a failure: the JUnit reader keeps no messages.
const OUTPUT_LINES: usize = 30;
/// Unmatched testcases named in the warning.
const EXAMPLES: usize = 3;

/// What is wrong with a template command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// No command at all.
    #[error("--runner template needs a command after --")]
    Empty,
    /// Neither `{tests}` nor `{testfile}`.
    #[error(
        "--runner template: the command must say where the test ids go: {{tests}} (a whole argument, one argument per id) or {{testfile}} (a file listing the ids, one per line, e.g. @{{testfile}}){hint}"
    )]
    NoTests {
        /// A note on likely typos.
        hint: String,
    },
    /// No `{junit}`.
    #[error(
        "--runner template: the command must say where the runner writes its JUnit report: {{junit}} (e.g. --junit-path={{junit}}, or `env JEST_JUNIT_OUTPUT_FILE={{junit}} jest ...`){hint}"
    )]
    NoJunit {
        /// A note on likely typos.
        hint: String,
    },
    /// `--dist static` picks files by path, which only pytest's own selection can do.
    #[error(
        "--dist static works with pytest only: a template runner runs the ids it is given (use --dist load or loadfile)"
    )]
    Static,
    /// `{tests}` inside a longer argument.
    #[error(
        "--runner template: {{tests}} must be a whole argument (it becomes one argument per test id), not part of {arg:?}; use {{testfile}} to put the ids in a file instead"
    )]
    TestsInsideArgument {
        /// The argument.
        arg: String,
    },
}

/// A piece of an argument.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    /// `{tests}`; [`Template::parse`] accepts it only as a whole argument.
    Tests,
    TestFile,
    Junit,
}

/// A parsed command template: each argument as its pieces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    args: Vec<Vec<Piece>>,
}

const NAMES: [&str; 3] = ["tests", "testfile", "junit"];

impl Template {
    /// Parses `command`; fails when it lacks a placeholder it needs.
    pub fn parse(command: &[String]) -> Result<Template, TemplateError> {
        if command.is_empty() {
            return Err(TemplateError::Empty);
        }
        let mut unknown = Vec::new();
        let args: Vec<Vec<Piece>> = command
            .iter()
            .map(|arg| parse_arg(arg, &mut unknown))
            .collect();
        let has = |piece: &Piece| args.iter().flatten().any(|p| p == piece);
        if let Some(index) = args
            .iter()
            .position(|pieces| pieces.len() > 1 && pieces.contains(&Piece::Tests))
        {
            return Err(TemplateError::TestsInsideArgument {
                arg: command[index].clone(),
            });
        }
        let hint = if unknown.is_empty() {
            String::new()
        } else {
            format!(
                " ({} is not a placeholder; the placeholders are {{tests}}, {{testfile}} and {{junit}})",
                unknown.join(", ")
            )
        };
        if !has(&Piece::Tests) && !has(&Piece::TestFile) {
            return Err(TemplateError::NoTests { hint });
        }
        if !has(&Piece::Junit) {
            return Err(TemplateError::NoJunit { hint });
        }
        Ok(Template { args })
    }

    /// The command line for a batch of `ids`.
    pub fn expand(&self, ids: &[String], testfile: &Path, junit: &Path) -> Vec<OsString> {
        let mut out = Vec::with_capacity(self.args.len() + ids.len());
        for pieces in &self.args {
            if let [Piece::Tests] = pieces.as_slice() {
                out.extend(ids.iter().map(OsString::from));
                continue;
            }
            let mut text = OsString::new();
            for piece in pieces {
                match piece {
                    Piece::Text(part) => text.push(part),
                    Piece::TestFile => text.push(testfile),
                    Piece::Junit => text.push(junit),
                    // Never inside a longer argument (parse refuses it).
                    Piece::Tests => {}
                }
            }
            out.push(text);
        }
        out
    }
}

/// Splits an argument into text and placeholders, collecting unknown `{word}`s for the error
/// message. An empty argument is one empty text piece.
fn parse_arg(arg: &str, unknown: &mut Vec<String>) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut rest = arg;
    while let Some(at) = rest.find('{') {
        text.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(name) = NAMES
            .iter()
            .find(|name| rest.starts_with(&format!("{{{{{name}}}}}")))
        {
            // `{{tests}}`: the literal `{tests}`.
            text.push('{');
            text.push_str(name);
            text.push('}');
            rest = &rest[name.len() + 4..];
            continue;
        }
        let word = rest[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map(|end| end + 1)
            .filter(|&end| end > 1 && rest[end..].starts_with('}'))
            .map(|end| &rest[1..end]);
        let piece = match word {
            Some("tests") => Some(Piece::Tests),
            Some("testfile") => Some(Piece::TestFile),
            Some("junit") => Some(Piece::Junit),
            Some(word) => {
                unknown.push(format!("{{{word}}}"));
                None
            }
            None => None,
        };
        match (piece, word) {
            (Some(piece), Some(word)) => {
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(piece);
                rest = &rest[word.len() + 2..];
            }
            _ => {
                text.push('{');
                rest = &rest[1..];
            }
        }
    }
    text.push_str(rest);
    if !text.is_empty() || pieces.is_empty() {
        pieces.push(Piece::Text(text));
    }
    pieces
}

/// Which of the batch's ids (`is_id`) a testcase reports, if any: the id [`IdMapper`] gives, else the first of
/// `classname::name`, `name`, `file::name`, `file` and `classname` that is one of them. Runners
/// differ in where they put what their command line selects by: nextest puts the test name in
/// `name` (its binary in `classname`), vitest the file in `classname`, jest-junit and rspec in
/// `file`.
pub fn match_case(
    mapper: &IdMapper<'_>,
    case: &TestCase,
    is_id: impl Fn(&str) -> bool,
) -> Option<String> {
    if let Some(id) = mapper.map(case)
        && is_id(&id)
    {
        return Some(id);
    }
    let classname = case.classname.as_deref().filter(|c| !c.is_empty());
    let file = case
        .file
        .as_deref()
        .map(|f| f.trim_start_matches("./"))
        .filter(|f| !f.is_empty());
    let candidates = [
        classname.map(|c| format!("{c}::{}", case.name)),
        Some(case.name.clone()),
        file.map(|f| format!("{f}::{}", case.name)),
        file.map(str::to_owned),
        classname.map(str::to_owned),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|candidate| is_id(candidate))
}

/// The id a testcase that matches no batch id is reported under.
pub fn own_id(mapper: &IdMapper<'_>, case: &TestCase) -> String {
    mapper.map(case).unwrap_or_else(|| case.name.clone())
}

/// One attempt of `id` from the testcases that report it: the worst outcome (error, failure,
/// pass, skip), their summed time, and the runner's `output` as details of a failure.
pub fn attempt_from_cases(id: &str, cases: &[TestCase], output: &str) -> AttemptResult {
    let has = |outcome: Outcome| cases.iter().any(|c| c.outcome == outcome);
    let status = if has(Outcome::Error) {
        Status::Error
    } else if has(Outcome::Failed) {
        Status::Failed
    } else if has(Outcome::Passed) {
        Status::Passed
    } else {
        Status::Skipped
    };
    // A fold from +0.0: `sum` of no floats is -0.0.
    let seconds = cases.iter().filter_map(|c| c.time).fold(0.0, |a, b| a + b);
    let bad: Vec<&str> = cases
        .iter()
        .filter(|c| c.outcome.is_failure())
        .map(|c| c.name.as_str())
        .collect();
    let message = match status {
        Status::Error | Status::Failed if cases.len() > 1 => {
            format!("{} of {} testcases failed", bad.len(), cases.len())
        }
        Status::Error => "the runner reported an error".to_owned(),
        Status::Failed => "the runner reported a failure".to_owned(),
        _ => "skipped by the runner".to_owned(),
    };
    let mut attempt = AttemptResult::synthetic(status, message, seconds);
    if status.is_failure() {
        let mut details = String::new();
        if cases.len() > 1 {
            details.push_str("failed testcases:\n");
            for name in &bad {
                details.push_str("  ");
                details.push_str(name);
                details.push('\n');
            }
            details.push('\n');
        }
        details.push_str("the end of the runner's output:\n");
        details.push_str(output);
        attempt.details = Some(details);
    } else if status == Status::Passed {
        attempt.message = None;
    }
    let same = |get: fn(&TestCase) -> Option<&str>| {
        let first = get(&cases[0]);
        cases
            .iter()
            .all(|c| get(c) == first)
            .then_some(first)
            .flatten()
    };
    attempt.location = Some(match cases {
        [case] => Location {
            classname: case.classname.clone().unwrap_or_default(),
            name: case.name.clone(),
            file: case.file.clone(),
            line: case.line.map(u64::from),
        },
        _ => Location {
            classname: same(|c| c.classname.as_deref())
                .unwrap_or_default()
                .to_owned(),
            name: id.to_owned(),
            file: same(|c| c.file.as_deref()).map(str::to_owned),
            line: None,
        },
    });
    attempt
}

/// A template run: the command and what its batches' reports are matched against.
#[derive(Debug)]
pub struct TemplateRun {
    template: Template,
    framework: Framework,
    /// Every id given (all shards), in order.
    ids: Vec<String>,
    /// The same, so a testcase of another batch is not taken for a new test.
    selection: HashSet<String>,
}

impl TemplateRun {
    /// A run of `template` over `ids` (all shards' ids: sharding happens later).
    pub fn new(template: Template, ids: Vec<String>) -> TemplateRun {
        TemplateRun {
            template,
            framework: Framework::detect_from_ids(ids.iter().map(String::as_str)),
            selection: ids.iter().cloned().collect(),
            ids,
        }
    }

    /// Every id given, in order.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    fn files(scratch: &Scratch, batch: &Batch) -> (PathBuf, PathBuf) {
        (
            scratch.file(&format!("tests-b{}.txt", batch.id)),
            scratch.file(&format!("junit-b{}.xml", batch.id)),
        )
    }

    /// The process for `batch` on `slot`: the expanded template, after writing the id file.
    pub(super) fn command(
        &self,
        config: &ExecConfig,
        scratch: &Scratch,
        slot: usize,
        batch: &Batch,
    ) -> Result<Command, ExecError> {
        let (testfile, junit) = Self::files(scratch, batch);
        let mut list = batch.known_ids.join("\n");
        list.push('\n');
        std::fs::write(&testfile, list).map_err(|source| ExecError::Scratch {
            path: testfile.clone(),
            source,
        })?;
        let args = self.template.expand(&batch.known_ids, &testfile, &junit);
        let mut command = Command::new(&args[0]);
        command.args(&args[1..]);
        executor::environment(&mut command, config, scratch, slot, batch.attempt)?;
        Ok(command)
    }

    /// Turns the report of an exited batch into results. Returns an ending when the run cannot
    /// go on (processes kept dying).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn finish(
        &self,
        exited: &Exited,
        config: &ExecConfig,
        scratch: &Scratch,
        scheduler: &mut Scheduler,
        results: &mut Results,
        reporter: &mut Reporter,
        restarts: &mut usize,
    ) -> Option<Ending> {
        let batch = &exited.batch;
        let (_, junit) = Self::files(scratch, batch);
        let mut output = log_tail(&exited.log, OUTPUT_LINES);
        if output.trim().is_empty() {
            "(none)".clone_into(&mut output);
        }
        let (cases, problem) = read_report(&junit);
        let ids: HashSet<&str> = batch.known_ids.iter().map(String::as_str).collect();
        let known = |id: &str| ids.contains(id);
        let exists = |path: &str| config.cwd.join(path).is_file();
        let mapper = IdMapper::new(self.framework, &known, &exists);
        let mut by_id: HashMap<String, Vec<TestCase>> = HashMap::new();
        let mut unmatched: BTreeMap<String, Vec<TestCase>> = BTreeMap::new();
        for case in cases {
            match match_case(&mapper, &case, known) {
                Some(id) => by_id.entry(id).or_default().push(case),
                None => unmatched
                    .entry(own_id(&mapper, &case))
                    .or_default()
                    .push(case),
            }
        }
        self.keep_unmatched(batch, unmatched, &output, results, reporter);

        // A runner stopped for the timeout reports the test it was in as failed: count the
        // failures of such a batch as timed out, with the rest it never reported.
        let timed_out = matches!(exited.stopped, Some(executor::StopReason::Timeout(_)));
        let mut attempts = Vec::new();
        let mut missing = Vec::new();
        for id in &batch.known_ids {
            match by_id.remove(id) {
                Some(cases) => {
                    let attempt = attempt_from_cases(id, &cases, &output);
                    if timed_out && attempt.status.is_failure() {
                        missing.push(id);
                    } else {
                        attempts.push((id, attempt));
                    }
                }
                None => missing.push(id),
            }
        }
        let how = process::describe_exit(exited.status);
        if let Some(problem) = problem
            && exited.stopped.is_none()
            && !missing.is_empty()
        {
            reporter.note(&format!(
                "batch {} ({how}): {problem}; the end of its output:\n{output}",
                batch.id
            ));
        }
        let crashed = match unreported(exited, config, &how) {
            None => {
                let ids: Vec<String> = missing.into_iter().cloned().collect();
                mark_not_run(
                    results,
                    reporter,
                    &ids,
                    "the run was stopped while it waited or ran",
                );
                false
            }
            Some((status, message)) => {
                for id in missing {
                    let seconds = exited.elapsed.as_secs_f64();
                    let mut attempt = AttemptResult::synthetic(status, message.clone(), seconds);
                    attempt.details = Some(format!("the end of the runner's output:\n{output}"));
                    attempt.location = Some(self.location(id));
                    attempts.push((id, attempt));
                }
                status == Status::Crashed
            }
        };
        for (id, attempt) in attempts {
            let slot = Some(exited.slot);
            record_attempt(
                results,
                reporter,
                scheduler,
                batch,
                slot,
                config.retries,
                id,
                attempt,
            );
        }
        if crashed {
            *restarts += 1;
        }
        (crashed && *restarts > config.max_restarts).then_some(Ending::RestartBudget)
    }

    /// The testcase attributes of a test no testcase reported: pytest's rule for node ids,
    /// else the id as the name.
    fn location(&self, id: &str) -> Location {
        match self.framework {
            Framework::Pytest => super::results::fallback_location(id),
            Framework::Generic => Location {
                classname: String::new(),
                name: id.to_owned(),
                file: None,
                line: None,
            },
        }
    }

    /// Reports testcases that match no id of the batch, and keeps those that are no test of
    /// this run (another batch or shard runs those) under their own id.
    fn keep_unmatched(
        &self,
        batch: &Batch,
        unmatched: BTreeMap<String, Vec<TestCase>>,
        output: &str,
        results: &mut Results,
        reporter: &mut Reporter,
    ) {
        if unmatched.is_empty() {
            return;
        }
        let count: usize = unmatched.values().map(Vec::len).sum();
        let examples: Vec<&str> = unmatched
            .keys()
            .take(EXAMPLES)
            .map(String::as_str)
            .collect();
        reporter.note(&format!(
            "batch {}: {count} testcases of the runner's JUnit match none of the batch's test ids (e.g. {}); they are reported under their own ids",
            batch.id,
            examples.join(", ")
        ));
        for (id, cases) in unmatched {
            if self.selection.contains(&id) || results.get(&id).is_some() {
                continue;
            }
            reporter.add_expected(1);
            results.push(&id, attempt_from_cases(&id, &cases, output));
            report_final(reporter, results, &id, None);
        }
    }
}

/// The verdict on the tests an exited batch did not report: `None` when the run is stopping
/// (they did not run), else a status and message.
fn unreported(exited: &Exited, config: &ExecConfig, how: &str) -> Option<(Status, String)> {
    match &exited.stopped {
        Some(executor::StopReason::Everything) => None,
        Some(executor::StopReason::Timeout(_)) => Some((
            Status::TimedOut,
            format!(
                "timeout: its batch ran longer than {}s and was stopped (--timeout covers a whole batch with --runner template)",
                config.timeout.map_or(0.0, |t| t.as_secs_f64())
            ),
        )),
        None if process::signalled(exited.status) => Some((
            Status::Crashed,
            format!("worker crashed while running this test: {how}"),
        )),
        None => Some((
            Status::Error,
            format!("the runner reported no result for this test ({how})"),
        )),
    }
}

/// The testcases of a batch's report, and what was wrong with it, if anything. A damaged report
/// still yields every testcase before the damage.
fn read_report(path: &Path) -> (Vec<TestCase>, Option<String>) {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return (
                Vec::new(),
                Some(format!(
                    "the runner wrote no JUnit report to {}",
                    path.display()
                )),
            );
        }
        Err(error) => {
            return (
                Vec::new(),
                Some(format!("cannot read {}: {error}", path.display())),
            );
        }
    };
    let mut cases = Vec::new();
    let problem = read_testcases(BufReader::new(file), &Limits::default(), |case| {
        cases.push(case);
    })
    .err()
    .map(|error| format!("its JUnit report {} is damaged: {error}", path.display()));
    (cases, problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Template, TemplateError> {
        Template::parse(&args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>())
    }

    fn expand(args: &[&str], ids: &[&str]) -> Vec<String> {
        let ids: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
        parse(args)
            .unwrap()
            .expand(&ids, Path::new("/s/ids.txt"), Path::new("/s/j.xml"))
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn tests_become_one_argument_per_id() {
        assert_eq!(
            expand(
                &["jest", "--ci", "{tests}", "--out={junit}"],
                &["a.js", "b c.js"]
            ),
            ["jest", "--ci", "a.js", "b c.js", "--out=/s/j.xml"]
        );
    }

    #[test]
    fn testfile_and_junit_expand_inside_arguments() {
        assert_eq!(
            expand(&["r", "@{testfile}", "--x={junit}:{testfile}"], &["a"]),
            ["r", "@/s/ids.txt", "--x=/s/j.xml:/s/ids.txt"]
        );
    }

    #[test]
    fn doubled_braces_and_other_braces_stay_literal() {
        assert_eq!(
            expand(
                &[
                    "sh",
                    "-c",
                    "echo {{tests}} ${1} {} {{x}}",
                    "{testfile}",
                    "{junit}"
                ],
                &["a"]
            ),
            [
                "sh",
                "-c",
                "echo {tests} ${1} {} {{x}}",
                "/s/ids.txt",
                "/s/j.xml"
            ]
        );
        assert_eq!(
            expand(&["", "{tests}", "{junit}"], &["a"]),
            ["", "a", "/s/j.xml"]
        );
    }

    #[test]
    fn missing_placeholders_are_usage_errors() {
        assert!(matches!(
            parse(&["jest", "{junit}"]),
            Err(TemplateError::NoTests { .. })
        ));
        assert!(matches!(
            parse(&["jest", "{tests}"]),
            Err(TemplateError::NoJunit { .. })
        ));
        assert_eq!(parse(&[]), Err(TemplateError::Empty));
        let error = parse(&["jest", "{test}", "{junit}"]).unwrap_err();
        assert!(
            error.to_string().contains("{test} is not a placeholder"),
            "{error}"
        );
    }

    #[test]
    fn tests_inside_an_argument_is_refused() {
        assert_eq!(
            parse(&["r", "--only={tests}", "{junit}"]),
            Err(TemplateError::TestsInsideArgument {
                arg: "--only={tests}".into()
            })
        );
    }

    fn case(classname: Option<&str>, name: &str, file: Option<&str>, outcome: Outcome) -> TestCase {
        TestCase {
            name: name.to_owned(),
            classname: classname.map(str::to_owned),
            file: file.map(str::to_owned),
            line: None,
            time: Some(0.5),
            outcome,
            suites: Vec::new(),
            id: None,
        }
    }

    fn matched(case: &TestCase, ids: &[&str]) -> Option<String> {
        let set: HashSet<&str> = ids.iter().copied().collect();
        let known = |id: &str| set.contains(id);
        let nothing = |_: &str| false;
        let mapper = IdMapper::new(
            Framework::detect_from_ids(ids.iter().copied()),
            &known,
            &nothing,
        );
        match_case(&mapper, case, known)
    }

    #[test]
    fn cases_match_ids_by_whatever_the_runner_selects_by() {
        // nextest: binary in classname, test path in name.
        let nextest = case(Some("fixture"), "tests::passes", None, Outcome::Passed);
        assert_eq!(
            matched(&nextest, &["tests::passes"]).as_deref(),
            Some("tests::passes")
        );
        assert_eq!(
            matched(&nextest, &["fixture::tests::passes"]).as_deref(),
            Some("fixture::tests::passes")
        );
        // vitest: the file in classname.
        let vitest = case(Some("src/a.test.js"), "adds", None, Outcome::Passed);
        assert_eq!(
            matched(&vitest, &["src/a.test.js"]).as_deref(),
            Some("src/a.test.js")
        );
        // jest-junit and rspec: a file attribute.
        let jest = case(
            Some("x adds"),
            "x adds",
            Some("./spec/a_spec.rb"),
            Outcome::Passed,
        );
        assert_eq!(
            matched(&jest, &["spec/a_spec.rb"]).as_deref(),
            Some("spec/a_spec.rb")
        );
        // pytest node ids.
        let pytest = case(
            Some("tests.test_x"),
            "test_a",
            Some("tests/test_x.py"),
            Outcome::Passed,
        );
        assert_eq!(
            matched(&pytest, &["tests/test_x.py::test_a"]).as_deref(),
            Some("tests/test_x.py::test_a")
        );
        assert_eq!(matched(&nextest, &["tests::fails"]), None);
    }

    #[test]
    fn several_testcases_of_one_id_take_the_worst_outcome() {
        let cases = [
            case(Some("a.js"), "one", None, Outcome::Passed),
            case(Some("a.js"), "two", None, Outcome::Failed),
            case(Some("a.js"), "three", None, Outcome::Skipped),
        ];
        let attempt = attempt_from_cases("a.js", &cases, "boom");
        assert_eq!(attempt.status, Status::Failed);
        assert!((attempt.seconds - 1.5).abs() < 1e-9);
        assert_eq!(attempt.message.as_deref(), Some("1 of 3 testcases failed"));
        assert!(attempt.details.as_deref().unwrap().contains("  two\n"));
        let location = attempt.location.unwrap();
        assert_eq!(
            (location.classname.as_str(), location.name.as_str()),
            ("a.js", "a.js")
        );

        let skipped = attempt_from_cases("a.js", &cases[2..], "");
        assert_eq!(skipped.status, Status::Skipped);
        let passed = attempt_from_cases("a.js", &cases[..1], "");
        assert_eq!((passed.status, passed.message), (Status::Passed, None));
        assert_eq!(passed.location.unwrap().name, "one");
    }
}
