//! End-to-end: inside GitHub Actions, `rxdist run` writes a job summary, failure annotations
//! and step outputs; outside it, none of them. The run is the real binary on real pytest.

mod common;

use std::path::Path;

use common::rxdist;

const TESTS: &str = r#"
import os
import pytest


def test_passes():
    assert True


def test_fails():
    assert 1 + 1 == 3, "arithmetic, broken"


@pytest.fixture
def database():
    raise RuntimeError("database, down: now")


def test_needs_database(database):
    pass


def test_flaky():
    assert os.environ.get("RXDIST_ATTEMPT") != "1", "first attempt fails"
"#;

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("tests")).unwrap();
    std::fs::write(dir.path().join("tests/test_report.py"), TESTS).unwrap();
    std::fs::write(dir.path().join("pytest.ini"), "[pytest]\n").unwrap();
    dir
}

fn run(project: &Path, github: Option<&Path>) -> common::Output {
    let mut command = rxdist()
        .current_dir(project)
        .args([
            "run",
            "-n",
            "2",
            "--retries",
            "1",
            "--junit-out",
            "out/junit.xml",
        ])
        .args(["--", "python3", "-m", "pytest", "-p", "no:cacheprovider"]);
    if let Some(dir) = github {
        command = command
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"))
            .env("GITHUB_OUTPUT", dir.join("output.txt"));
    }
    command.run().expect_code(1)
}

#[test]
fn inside_github_actions_failures_become_annotations_and_a_job_summary() {
    let project = project();
    let github = tempfile::tempdir().unwrap();
    // Another step's summary is already there: rxdist appends.
    std::fs::write(github.path().join("summary.md"), "earlier step\n").unwrap();
    let output = run(project.path(), Some(github.path()));

    let annotations: Vec<&str> = output
        .stdout
        .lines()
        .filter(|line| line.starts_with("::error "))
        .collect();
    assert_eq!(annotations.len(), 2, "{}", output.stdout);
    let fails = annotations
        .iter()
        .find(|line| line.contains("test_fails"))
        .unwrap();
    assert!(
        fails.starts_with("::error file=tests/test_report.py,line=11,"),
        "{fails}"
    );
    // Property values escape ':' and ','; the message escapes only '%', CR and LF.
    assert!(
        fails.contains("title=tests/test_report.py%3A%3Atest_fails failed::"),
        "{fails}"
    );
    assert!(fails.contains("arithmetic, broken"), "{fails}");

    let summary = std::fs::read_to_string(github.path().join("summary.md")).unwrap();
    assert!(
        summary.starts_with("earlier step\n## rxdist run\n"),
        "{summary}"
    );
    assert!(
        summary.contains("**4 tests**: 1 passed, 1 failed, 1 errors, 0 skipped, 1 flaky"),
        "{summary}"
    );
    assert!(summary.contains("### Failures (2)"), "{summary}");
    assert!(
        summary.contains("RuntimeError: database, down: now"),
        "{summary}"
    );
    assert!(
        summary.contains("- `tests/test_report.py::test_flaky`"),
        "{summary}"
    );
    assert!(summary.contains("| 1/1 | 4 | - |"), "{summary}");

    let outputs = std::fs::read_to_string(github.path().join("output.txt")).unwrap();
    assert!(outputs.contains("junit=out/junit.xml\n"), "{outputs}");
    assert!(
        outputs.contains("tests=4\nfailed=2\nflaky=1\n"),
        "{outputs}"
    );
}

#[test]
fn outside_github_actions_nothing_is_written_for_it() {
    let project = project();
    let output = run(project.path(), None);
    assert!(!output.stdout.contains("::error"), "{}", output.stdout);
    assert!(project.path().join("out/junit.xml").is_file());
    let mut names: Vec<_> = std::fs::read_dir(project.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name != "__pycache__")
        .collect();
    names.sort();
    assert_eq!(names, vec!["out", "pytest.ini", "tests"]);
}

#[test]
fn merging_the_shards_summarises_the_whole_run_and_its_balance() {
    let project = project();
    for shard in ["1/2", "2/2"] {
        let out = format!("shards/{}/junit.xml", &shard[..1]);
        let output = rxdist()
            .current_dir(project.path())
            .args([
                "run",
                "--shard",
                shard,
                "-n",
                "1",
                "--retries",
                "1",
                "--junit-out",
            ])
            .args([out.as_str()])
            .args(["--", "python3", "-m", "pytest", "-p", "no:cacheprovider"])
            .run();
        assert!(matches!(output.code, 0 | 1), "{}", output.stderr);
    }
    let github = tempfile::tempdir().unwrap();
    let output = rxdist()
        .current_dir(project.path())
        .args(["merge", "--junit", "shards", "--out-dir", "merged"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", github.path().join("summary.md"))
        .env("GITHUB_OUTPUT", github.path().join("output.txt"))
        .run()
        .success();
    let annotations: Vec<&str> = output
        .stdout
        .lines()
        .filter(|line| line.starts_with("::error "))
        .collect();
    assert_eq!(annotations.len(), 2, "{}", output.stdout);
    assert!(
        annotations
            .iter()
            .any(|line| line.starts_with("::error file=tests/test_report.py,line=11,")),
        "{annotations:?}"
    );
    let summary = std::fs::read_to_string(github.path().join("summary.md")).unwrap();
    assert!(
        summary.starts_with("## rxdist merge: 2 JUnit reports\n"),
        "{summary}"
    );
    assert!(
        summary.contains("**4 tests**: 1 passed, 1 failed, 1 errors, 0 skipped, 1 flaky"),
        "{summary}"
    );
    assert!(summary.contains("| 1/2 |"), "{summary}");
    assert!(summary.contains("| 2/2 |"), "{summary}");
    assert!(
        summary.contains("AssertionError: arithmetic, broken"),
        "{summary}"
    );
    assert!(
        summary.contains("- `tests/test_report.py::test_flaky`"),
        "{summary}"
    );
    let outputs = std::fs::read_to_string(github.path().join("output.txt")).unwrap();
    assert!(outputs.contains("junit=merged/junit.xml\n"), "{outputs}");
    assert!(
        outputs.contains("tests=4\nfailed=2\nflaky=1\n"),
        "{outputs}"
    );
}
