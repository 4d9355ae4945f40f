//! End-to-end: `rxdist run --cov` on the example project gives the same line coverage as one
//! serial `pytest --cov` run, although the tests ran in several processes.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{root, rxdist};

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

#[test]
fn combined_coverage_equals_a_serial_run() {
    let dir = tempfile::tempdir().unwrap();
    let project = root().join("examples/shop");
    let ours = dir.path().join("coverage.xml");
    let output = rxdist()
        .current_dir(&project)
        .args(["run", "-n", "2", "--cov", "--cov-out"])
        .args([&ours])
        .args(["--junit-out"])
        .args([dir.path().join("junit.xml")])
        .args([
            "--",
            "python3",
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--cov=shop",
        ])
        .run()
        .success();
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
