//! Every real and hand-made report in `tests/fixtures/junit/` read through the library, checked
//! against facts computed independently by `expected.py` (Python's `ElementTree`), and the pytest
//! reports mapped back to the node ids pytest itself collected.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::io::BufReader;

use common::fixture;
use rxdist::identity::{Framework, IdMapper};
use rxdist::junit::{Limits, Outcome, TestCase, read_testcases};

fn read(relative: &str) -> Vec<TestCase> {
    let file = std::fs::File::open(fixture(&format!("junit/{relative}"))).unwrap();
    let mut cases = Vec::new();
    read_testcases(BufReader::new(file), &Limits::default(), |case| {
        cases.push(case);
    })
    .unwrap_or_else(|error| panic!("{relative}: {error}"));
    cases
}

fn expected() -> serde_json::Map<String, serde_json::Value> {
    let text = std::fs::read_to_string(fixture("junit/expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn every_fixture_reads_with_the_counts_elementtree_finds() {
    let expected = expected();
    assert!(
        expected.len() >= 16,
        "fixtures went missing: {}",
        expected.len()
    );
    for (file, facts) in &expected {
        let cases = read(file);
        let mut counts = BTreeMap::new();
        for case in &cases {
            *counts.entry(case.outcome).or_insert(0_u64) += 1;
        }
        let count = |outcome| counts.get(&outcome).copied().unwrap_or(0);
        assert_eq!(
            cases.len() as u64,
            facts["testcases"].as_u64().unwrap(),
            "{file}: testcases"
        );
        assert_eq!(
            count(Outcome::Passed),
            facts["passed"].as_u64().unwrap(),
            "{file}: passed"
        );
        assert_eq!(
            count(Outcome::Failed),
            facts["failed"].as_u64().unwrap(),
            "{file}: failed"
        );
        assert_eq!(
            count(Outcome::Error),
            facts["error"].as_u64().unwrap(),
            "{file}: error"
        );
        assert_eq!(
            count(Outcome::Skipped),
            facts["skipped"].as_u64().unwrap(),
            "{file}: skipped"
        );
        for (label, sample) in facts["sample_ids"].as_object().unwrap() {
            let name = sample["name"].as_str().unwrap();
            let classname = sample.get("classname").and_then(serde_json::Value::as_str);
            let found = cases
                .iter()
                .find(|case| case.name == name && case.classname.as_deref() == classname);
            let case =
                found.unwrap_or_else(|| panic!("{file}: {label} {classname:?} {name:?} not read"));
            if let Some(time) = sample.get("time").and_then(serde_json::Value::as_str)
                && let Ok(seconds) = time.parse::<f64>()
            {
                let read_time = case
                    .time
                    .unwrap_or_else(|| panic!("{file}: {label} lost its time"));
                assert!(
                    (read_time - seconds).abs() < 1e-9,
                    "{file}: {label} time {read_time} != {seconds}"
                );
            }
        }
    }
}

fn collected() -> HashSet<String> {
    std::fs::read_to_string(fixture("junit/pytest-collected.txt"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn mapped_ids(
    file: &str,
    known: &dyn Fn(&str) -> bool,
    exists: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let cases = read(file);
    assert_eq!(
        Framework::detect_from_cases(cases.iter()),
        Framework::Pytest,
        "{file}"
    );
    let mapper = IdMapper::new(Framework::Pytest, known, exists);
    let mut ids: Vec<String> = cases
        .iter()
        .map(|case| {
            mapper
                .map(case)
                .unwrap_or_else(|| panic!("{file}: {case:?} unmapped"))
        })
        .collect();
    ids.sort();
    ids
}

fn expected_node_ids(file: &str) -> Vec<String> {
    let expected = expected();
    let mut ids: Vec<String> = expected[file]["node_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[test]
fn pytest_xunit1_maps_from_the_file_attribute_alone() {
    let nothing = |_: &str| false;
    assert_eq!(
        mapped_ids("pytest-xunit1.xml", &nothing, &nothing),
        expected_node_ids("pytest-xunit1.xml")
    );
}

#[test]
fn pytest_xunit2_maps_with_the_collected_list() {
    let collected = collected();
    let known = |id: &str| collected.contains(id);
    let nothing = |_: &str| false;
    assert_eq!(
        mapped_ids("pytest-xunit2.xml", &known, &nothing),
        expected_node_ids("pytest-xunit2.xml")
    );
}

#[test]
fn pytest_xunit2_maps_with_the_sample_project_on_disk() {
    let root = fixture("junit/sources/pytest_sample");
    let exists = |path: &str| root.join(path).is_file();
    let nothing = |_: &str| false;
    assert_eq!(
        mapped_ids("pytest-xunit2.xml", &nothing, &exists),
        expected_node_ids("pytest-xunit2.xml")
    );
}

#[test]
fn generic_ids_are_files_when_reports_name_them() {
    let nothing = |_: &str| false;
    let mapper = IdMapper::new(Framework::Generic, &nothing, &nothing);
    for case in read("jest-junit.xml") {
        let id = mapper.map(&case).unwrap();
        assert!(
            id.ends_with(".test.js") || id.ends_with(".spec.js") || id.contains(".js"),
            "jest id {id}"
        );
    }
    for case in read("nextest.xml") {
        let id = mapper.map(&case).unwrap();
        assert!(id.starts_with("rxdist-nextest-sample"), "nextest id {id}");
        assert!(id.contains("::"), "nextest id {id}");
    }
    assert_eq!(
        Framework::detect_from_cases(read("nextest.xml").iter()),
        Framework::Generic
    );
    assert_eq!(
        Framework::detect_from_cases(
            read("surefire/TEST-dev.rxdist.sample.CalculatorTest.xml").iter()
        ),
        Framework::Generic
    );
}
