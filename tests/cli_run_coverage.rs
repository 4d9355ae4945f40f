//! End-to-end: `rxdist run --cov` on the example project gives the same line coverage as one
//! serial `pytest --cov` run, although the tests ran in several processes.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{Output, root, rxdist};

/// The value of `name="..."` inside one tag's text.
fn attribute<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

/// Covered lines per file (absolute path: `<source>` joined with `filename`, since reports
/// may name files relative to different sources), from coverage.py's Cobertura report.
fn covered_lines(path: &Path) -> BTreeMap<String, Vec<u32>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    let mut file = String::new();
    let mut source = std::path::PathBuf::new();
    for tag in text.lines().map(str::trim) {
        if let Some(rest) = tag.strip_prefix("<source>") {
            source = rest.trim_end_matches("</source>").into();
        } else if tag.starts_with("<class ") {
            let name = attribute(tag, "filename").unwrap();
            file = source.join(name).display().to_string();
        } else if tag.starts_with("<line ") {
            let hits: u32 = attribute(tag, "hits").unwrap().parse().unwrap();
            let number: u32 = attribute(tag, "number").unwrap().parse().unwrap();
            let entry = lines.entry(file.clone()).or_default();
            if hits > 0 && !entry.contains(&number) {
                entry.push(number);
            }
        }
    }
    lines
}

/// `rxdist run -n WORKERS --cov` in `project`, of pytest measuring `package`, writing the
/// Cobertura `report` and the JUnit `junit`, with `extra` rxdist arguments.
fn run_with_coverage(
    project: &Path,
    workers: usize,
    package: &str,
    report: &Path,
    junit: &Path,
    extra: &[&str],
) -> Output {
    rxdist()
        .current_dir(project)
        .args(["run", "-n", &workers.to_string(), "--cov", "--cov-out"])
        .args([report])
        .args(["--junit-out"])
        .args([junit])
        .args(extra)
        .args(["--", "python3", "-m", "pytest", "-p", "no:cacheprovider"])
        .args([format!("--cov={package}")])
        .run()
}

#[test]
fn combined_coverage_equals_a_serial_run() {
    let dir = tempfile::tempdir().unwrap();
    let project = root().join("examples/shop");
    let ours = dir.path().join("coverage.xml");
    let junit = dir.path().join("junit.xml");
    let output = run_with_coverage(&project, 2, "shop", &ours, &junit, &[]).success();
    assert!(
        output.stdout.contains("wrote coverage to"),
        "{}",
        output.stdout
    );
    let serial = dir.path().join("serial.xml");
    let status = std::process::Command::new("python3")
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "--cov=shop"])
        .arg(format!("--cov-report=xml:{}", serial.display()))
        .current_dir(&project)
        .env("COVERAGE_FILE", dir.path().join(".coverage-serial"))
        .status()
        .unwrap();
    assert!(status.success());
    let serial_lines = covered_lines(&serial);
    assert!(!serial_lines.is_empty());
    assert_eq!(covered_lines(&ours), serial_lines);
}

/// Writes `files` (path, text) under `dir`.
fn write_project(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// Runs a project whose third test, `killer` (a Python statement), ends its worker process,
/// with rxdist's coverage on and `extra` arguments; returns the lines covered in `calc/ops.py`
/// and the merged JUnit report.
///
/// The worker checkpoints its coverage after its first test and then at most once a second:
/// `test_mul` finishes more than a second after `test_add`, so both are checkpointed before
/// the worker dies. `test_sub` runs in the process started after the death.
fn coverage_around_a_dead_worker(killer: &str, extra: &[&str]) -> (Option<Vec<u32>>, String) {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let tests = format!(
        "import os\nimport time\n\nfrom calc import ops\n\n\n\
         def test_add():\n    assert ops.add(1, 2) == 3\n\n\n\
         def test_mul():\n    time.sleep(1.2)\n    assert ops.mul(2, 3) == 6\n\n\n\
         def test_dies():\n    {killer}\n\n\n\
         def test_sub():\n    assert ops.sub(3, 2) == 1\n"
    );
    write_project(
        &project,
        &[
            ("calc/__init__.py", ""),
            (
                "calc/ops.py",
                "def add(a, b):\n    total = a + b\n    return total\n\n\n\
                 def mul(a, b):\n    product = a * b\n    return product\n\n\n\
                 def sub(a, b):\n    difference = a - b\n    return difference\n",
            ),
            ("tests/test_ops.py", &tests),
        ],
    );
    let report = dir.path().join("coverage.xml");
    let junit = dir.path().join("junit.xml");
    let output = run_with_coverage(&project, 1, "calc", &report, &junit, extra).expect_code(1);
    assert!(output.stdout.contains("wrote coverage to"), "{output:?}");
    let ops = project.join("calc/ops.py").display().to_string();
    (
        covered_lines(&report).remove(&ops),
        std::fs::read_to_string(&junit).unwrap(),
    )
}

/// Each of `add`, `mul` and `sub`: its `def` and its body.
const EVERY_LINE: [u32; 9] = [1, 2, 3, 6, 7, 8, 11, 12, 13];

#[test]
fn a_worker_that_dies_keeps_the_coverage_of_the_tests_it_finished() {
    // The worker process never gets to save its coverage at exit. The lines `test_add` and
    // `test_mul` covered in it must still be in the report, and so must those of `test_sub`.
    let (lines, junit) = coverage_around_a_dead_worker("os._exit(3)", &[]);
    assert!(junit.contains("worker crashed"), "{junit}");
    assert_eq!(lines.as_deref(), Some(&EVERY_LINE[..]));
}

#[test]
fn a_worker_killed_on_a_timeout_keeps_the_coverage_of_the_tests_it_finished() {
    let (lines, junit) = coverage_around_a_dead_worker("time.sleep(600)", &["--timeout", "2s"]);
    assert!(junit.contains("timeout"), "{junit}");
    assert_eq!(lines.as_deref(), Some(&EVERY_LINE[..]));
}
