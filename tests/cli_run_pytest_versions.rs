//! `rxdist run` with every pytest version rxdist supports (7.2 to 9.2): the plugin it loads into
//! the workers must select, report and name tests the same way on all of them.
//!
//! `tests/run.sh` builds one virtual environment per pinned version
//! (`tests/pytest-versions/<version>.txt`, `scripts/pytest-versions.sh`) and lists them in
//! `RXDIST_TEST_PYTEST_VENVS`. For each, rxdist runs the small project in
//! `tests/fixtures/pytest-versions-project` (every outcome, a crash, a hang, a collection error,
//! odd parametrize ids), then again from the history the first run recorded; the JUnit reports
//! are read with Python's `ElementTree` and compared with the expected outcomes and with what
//! that pytest's own `--junitxml` writes for the same tests. The versions run concurrently: most
//! of the time goes to starting Python processes and to waiting for the hanging test's timeout.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{fixture, rxdist};
use serde::Deserialize;

/// A JUnit report as `tests/pytest-versions/junit_json.py` prints it.
#[derive(Debug, Deserialize)]
struct Report {
    properties: Vec<(String, String)>,
    cases: Vec<Case>,
}

/// One `<testcase>`.
#[derive(Debug, Clone, Deserialize)]
struct Case {
    classname: String,
    name: String,
    file: Option<String>,
    line: Option<String>,
    result: Option<Outcome>,
    /// `flakyFailure`, `rerunError`... in order.
    attempts: Vec<String>,
    properties: Vec<(String, String)>,
    stdout: Option<String>,
    stderr: Option<String>,
}

/// The `<failure>`, `<error>` or `<skipped>` element.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct Outcome {
    tag: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    message: Option<String>,
}

impl Case {
    /// `classname::name`, which is unique in these reports.
    fn key(&self) -> String {
        format!("{}::{}", self.classname, self.name)
    }

    /// The result element's message.
    fn message(&self) -> &str {
        self.result
            .as_ref()
            .and_then(|result| result.message.as_deref())
            .unwrap_or_else(|| panic!("{} has no result message", self.key()))
    }

    /// The outcome in the words of the spec's table.
    fn label(&self) -> &'static str {
        let Some(result) = &self.result else {
            return if self.attempts.iter().any(|a| a == "flakyFailure") {
                "flaky"
            } else {
                "passed"
            };
        };
        match (result.tag.as_str(), result.kind.as_deref()) {
            ("failure", Some("rxdist.timeout")) => "timeout",
            ("error", Some("rxdist.crash")) => "crashed",
            ("error", Some("rxdist.collection")) => "collection",
            ("skipped", Some("pytest.xfail")) => "xfailed",
            ("skipped", _) => "skipped",
            ("failure", _) => "failed",
            ("error", _) => "error",
            (tag, _) => panic!("unexpected result element <{tag}> in {}", self.key()),
        }
    }
}

/// Every testcase of the fixture project's report, by `classname::name`, with its outcome.
const EXPECTED: &[(&str, &str)] = &[
    ("::tests.test_broken", "collection"),
    ("tests.sub.test_nested::test_in_package", "passed"),
    ("tests.test_dying::test_after", "passed"),
    ("tests.test_dying::test_crash", "crashed"),
    ("tests.test_dying::test_hang", "timeout"),
    (
        "tests.test_outcomes.TestGroup.TestNested::test_inner",
        "passed",
    ),
    ("tests.test_outcomes.TestGroup::test_method", "passed"),
    ("tests.test_outcomes::test_fail", "failed"),
    ("tests.test_outcomes::test_flaky", "flaky"),
    // pytest escapes non-ASCII parametrize ids in node ids, and so in the report.
    (
        "tests.test_outcomes::test_param[\\xfcn\\xefc\\xf8d\\xe9-\\u2713]",
        "passed",
    ),
    ("tests.test_outcomes::test_param[a/b-1.5]", "passed"),
    ("tests.test_outcomes::test_param[sp ace]", "passed"),
    ("tests.test_outcomes::test_pass", "passed"),
    ("tests.test_outcomes::test_record_property", "passed"),
    ("tests.test_outcomes::test_serial", "passed"),
    ("tests.test_outcomes::test_setup_error", "error"),
    ("tests.test_outcomes::test_teardown_error", "error"),
    ("tests.test_outcomes::test_skip", "skipped"),
    ("tests.test_outcomes::test_skip_marker", "skipped"),
    ("tests.test_outcomes::test_stdout", "passed"),
    ("tests.test_outcomes::test_xfail", "xfailed"),
    ("tests.test_outcomes::test_xfail_not_run", "xfailed"),
    // A non-strict xpass passes, like in pytest's own report.
    ("tests.test_outcomes::test_xpass", "passed"),
    ("tests.test_outcomes::test_xpass_strict", "failed"),
];

/// Tests that kill or hang their worker: left out of the plain pytest run.
const DYING: &[&str] = &[
    "tests/test_dying.py::test_crash",
    "tests/test_dying.py::test_hang",
];
/// The same tests by `classname::name`.
const DYING_KEYS: &[&str] = &[
    "tests.test_dying::test_crash",
    "tests.test_dying::test_hang",
];

/// The version environments `tests/run.sh` prepared.
fn venvs() -> Vec<PathBuf> {
    let Some(list) = std::env::var_os("RXDIST_TEST_PYTEST_VENVS") else {
        panic!(
            "RXDIST_TEST_PYTEST_VENVS is not set: run the tests through tests/run.sh, which \
             builds one environment per supported pytest version (scripts/pytest-versions.sh)"
        );
    };
    std::env::split_paths(&list).collect()
}

/// Copies the fixture project so pytest's caches and `__pycache__` stay out of the source tree.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "__pycache__" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Reads a JUnit report through Python's `ElementTree`.
fn read_report(python: &Path, path: &Path) -> Report {
    let script = common::root().join("tests/pytest-versions/junit_json.py");
    let output = Command::new(python)
        .arg(script)
        .arg(path)
        .output()
        .expect("python starts");
    assert!(
        output.status.success(),
        "{} does not parse: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("junit_json.py prints JSON")
}

fn by_key(report: &Report) -> BTreeMap<String, Case> {
    let mut cases = BTreeMap::new();
    for case in &report.cases {
        let previous = cases.insert(case.key(), case.clone());
        assert!(previous.is_none(), "{} is reported twice", case.key());
    }
    cases
}

/// Runs rxdist on `project` with `python -m pytest`; returns its report.
fn rxdist_run(python: &Path, project: &Path, junit: &Path, history: &Path) -> Report {
    rxdist()
        .current_dir(project)
        .args([
            "run",
            "-n",
            "2",
            "--timeout",
            "3",
            "--retries",
            "1",
            "--junit-out",
        ])
        .args([junit])
        .args(["--history".as_ref(), history, "--".as_ref(), python])
        .args(["-m", "pytest"])
        .run()
        .expect_code(1);
    read_report(python, junit)
}

/// What this pytest itself writes with `--junitxml -o junit_family=xunit1`.
fn pytest_report(python: &Path, project: &Path, junit: &Path) -> Report {
    let mut command = Command::new(python);
    command
        .current_dir(project)
        .env_clear()
        .args([
            "-m",
            "pytest",
            "-o",
            "junit_family=xunit1",
            "--continue-on-collection-errors",
        ])
        .arg(format!("--junitxml={}", junit.display()));
    for id in DYING {
        command.args(["--deselect", id]);
    }
    let output = command.output().expect("pytest starts");
    assert_eq!(
        output.status.code(),
        Some(1),
        "plain pytest\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    read_report(python, junit)
}

fn labels(cases: &BTreeMap<String, Case>) -> BTreeMap<String, &'static str> {
    cases
        .iter()
        .map(|(key, case)| (key.clone(), case.label()))
        .collect()
}

fn check_version(venv: &Path) {
    let version = venv.file_name().unwrap().to_string_lossy().into_owned();
    let python = venv.join("bin/python");
    let temp = tempfile::tempdir().unwrap();
    let project = temp.path().join("project");
    copy_dir(&fixture("pytest-versions-project"), &project);
    let history = temp.path().join("history");

    let first = rxdist_run(&python, &project, &temp.path().join("first.xml"), &history);
    assert!(
        first
            .properties
            .contains(&("pytest.version".to_owned(), version.clone())),
        "{version}: the workers ran another pytest: {:?}",
        first.properties
    );
    let cases = by_key(&first);
    check_outcomes(&version, &cases);
    let reference = pytest_report(&python, &project, &temp.path().join("pytest.xml"));
    check_like_pytest(&version, &cases, &by_key(&reference));

    // From the history: no collection run, the batches name their tests. A test added to a
    // known file and a new file run too (the batches' "except" rule and the catch-all).
    let nested = project.join("tests/sub/test_nested.py");
    let mut text = std::fs::read_to_string(&nested).unwrap();
    text.push_str("\n\ndef test_added_later():\n    pass\n");
    std::fs::write(&nested, text).unwrap();
    std::fs::write(
        project.join("tests/test_new.py"),
        "def test_new_file():\n    pass\n",
    )
    .unwrap();
    let second = rxdist_run(&python, &project, &temp.path().join("second.xml"), &history);
    check_history_run(&version, &cases, by_key(&second));
}

/// The first run's outcomes, and the details the outcome table does not show.
fn check_outcomes(version: &str, cases: &BTreeMap<String, Case>) {
    let expected: BTreeMap<String, &str> = EXPECTED
        .iter()
        .map(|(key, label)| ((*key).to_owned(), *label))
        .collect();
    assert_eq!(labels(cases), expected, "{version}: outcomes");

    let case = |key: &str| &cases[key];
    assert_eq!(
        case("tests.test_outcomes::test_record_property").properties,
        [("answer".to_owned(), "42".to_owned())],
        "{version}: record_property"
    );
    let stdout = case("tests.test_outcomes::test_stdout");
    assert_eq!(
        stdout.stdout.as_deref(),
        Some("hello from stdout\n"),
        "{version}"
    );
    assert_eq!(
        stdout.stderr.as_deref(),
        Some("and from stderr\n"),
        "{version}"
    );
    assert_eq!(
        case("tests.test_outcomes::test_flaky").attempts,
        ["flakyFailure"],
        "{version}: flaky"
    );
    assert_eq!(
        case("tests.test_outcomes::test_fail").attempts,
        ["rerunFailure"],
        "{version}: a failure is retried once"
    );
    let hang = case("tests.test_dying::test_hang").message();
    assert!(
        hang.starts_with("timeout: test ran longer than 3s"),
        "{version}: {hang}"
    );
    let crash = case("tests.test_dying::test_crash").message();
    assert!(crash.ends_with("exited with code 3"), "{version}: {crash}");
}

/// Names, locations and results as this pytest's own junitxml writes them.
fn check_like_pytest(
    version: &str,
    cases: &BTreeMap<String, Case>,
    reference: &BTreeMap<String, Case>,
) {
    let mut ours: Vec<&String> = cases.keys().collect();
    ours.retain(|key| !DYING_KEYS.contains(&key.as_str()));
    assert_eq!(
        reference.keys().collect::<Vec<_>>(),
        ours,
        "{version}: the same testcases as pytest's own report"
    );
    for (key, theirs) in reference {
        let ours = &cases[key];
        assert_eq!(
            (&ours.file, &ours.line),
            (&theirs.file, &theirs.line),
            "{version}: {key}: file and line"
        );
        if key == "::tests.test_broken" {
            // rxdist says why collection failed; pytest only that it did.
            let message = ours.message();
            assert!(
                message.starts_with("collection failure: ImportError while importing"),
                "{version}: {message}"
            );
            assert_eq!(theirs.message(), "collection failure", "{version}");
            continue;
        }
        let result = |case: &Case| {
            case.result
                .as_ref()
                .map(|r| (r.tag.clone(), r.kind.clone(), r.message.clone()))
        };
        assert_eq!(
            result(ours),
            result(theirs),
            "{version}: {key}: result element"
        );
    }
}

/// The run from the history: the same outcomes, attempts and locations, plus the added tests.
fn check_history_run(
    version: &str,
    cases: &BTreeMap<String, Case>,
    mut again: BTreeMap<String, Case>,
) {
    for added in [
        "tests.sub.test_nested::test_added_later",
        "tests.test_new::test_new_file",
    ] {
        let case = again.remove(added);
        assert_eq!(
            case.as_ref().map(Case::label),
            Some("passed"),
            "{version}: {added} from the history"
        );
    }
    assert_eq!(
        labels(&again),
        labels(cases),
        "{version}: outcomes from the history"
    );
    for (key, case) in &again {
        assert_eq!(
            case.attempts, cases[key].attempts,
            "{version}: {key}: attempts"
        );
        assert_eq!(
            (&case.file, &case.line),
            (&cases[key].file, &cases[key].line),
            "{version}: {key}: file and line from the history"
        );
    }
}

#[test]
fn the_plugin_reports_like_every_supported_pytest() {
    let venvs = venvs();
    let versions: Vec<String> = venvs
        .iter()
        .map(|venv| venv.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for claimed in ["7.2.", "9.2."] {
        assert!(
            versions.iter().any(|version| version.starts_with(claimed)),
            "no pytest {claimed}x among {versions:?}"
        );
    }
    let failed: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = venvs
            .iter()
            .zip(&versions)
            .map(|(venv, version)| {
                let handle = std::thread::Builder::new()
                    .name(format!("pytest-{version}"))
                    .spawn_scoped(scope, || check_version(venv))
                    .unwrap();
                (version, handle)
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|(version, handle)| handle.join().is_err().then(|| version.clone()))
            .collect()
    });
    assert!(
        failed.is_empty(),
        "pytest versions that failed (see each thread's panic above): {failed:?}"
    );
}
