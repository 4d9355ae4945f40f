//! Golden tests on real reports (`tests/fixtures/junit/`, and the pytest shards of
//! `tests/fixtures/merge/`, written by real pytest) and on hand-made edge cases.
//!
//! Each snapshot holds what the merge reported (inputs, problems, totals, notes) and the
//! merged document; [`super::check_output`] checks what a snapshot cannot show at a glance.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::BufReader;

use super::{fixture, merge_bytes, testcases};
use crate::junit::Outcome;
use crate::junit::merge::{MergeInput, MergeOptions, MergeReport, RetryPolicy, merge};

/// Merges the fixtures at `paths` (relative to `tests/fixtures`), labelled by their paths.
fn merge_files(paths: &[&str], retries: RetryPolicy) -> (String, MergeReport) {
    let files: Vec<Vec<u8>> = paths.iter().map(|path| fixture(path)).collect();
    let inputs: Vec<(&str, &[u8])> = paths
        .iter()
        .zip(&files)
        .map(|(path, bytes)| (*path, bytes.as_slice()))
        .collect();
    merge_bytes(&inputs, retries)
}

/// The report as text, for snapshots.
fn summary(report: &MergeReport) -> String {
    let mut text = String::new();
    for input in &report.inputs {
        let _ = write!(text, "input {}: {} testcases", input.label, input.testcases);
        if let Some(problem) = &input.problem {
            let _ = write!(text, "; problem: {problem}");
            let mut source = std::error::Error::source(problem);
            while let Some(cause) = source {
                let _ = write!(text, ": {cause}");
                source = cause.source();
            }
        }
        text.push('\n');
    }
    let totals = &report.totals;
    let _ = writeln!(
        text,
        "totals: tests {} failures {} errors {} skipped {} flaky {} time {:.3}",
        totals.tests, totals.failures, totals.errors, totals.skipped, totals.flaky, totals.time
    );
    let _ = writeln!(
        text,
        "suites {}, retries collapsed {}, skips dropped {}",
        report.suites, report.retries_collapsed, report.skips_dropped
    );
    for mismatch in &report.counter_mismatches {
        let _ = writeln!(
            text,
            "counter: {} suite {:?} {}: claimed {:?}, counted {}",
            mismatch.input, mismatch.suite, mismatch.attribute, mismatch.claimed, mismatch.counted
        );
    }
    for note in &report.notes {
        let _ = writeln!(text, "note: {note}");
    }
    text
}

fn golden(name: &str, paths: &[&str], retries: RetryPolicy) -> (String, MergeReport) {
    let (out, report) = merge_files(paths, retries);
    insta::assert_snapshot!(name, format!("{}---\n{out}", summary(&report)));
    (out, report)
}

#[test]
fn every_single_producer_report_in_normal_form() {
    for (name, path) in [
        ("pytest_xunit1", "junit/pytest-xunit1.xml"),
        ("pytest_xunit2", "junit/pytest-xunit2.xml"),
        ("nextest", "junit/nextest.xml"),
        ("jest_junit", "junit/jest-junit.xml"),
        ("jest_junit_default", "junit/jest-junit-default.xml"),
        ("playwright", "junit/playwright.xml"),
        ("phpunit", "junit/phpunit.xml"),
        ("gotestsum", "junit/gotestsum.xml"),
        ("mocha", "junit/mocha.xml"),
        ("handmade_bazel", "junit/handmade-bazel.xml"),
        (
            "handmade_go_junit_report",
            "junit/handmade-go-junit-report.xml",
        ),
        ("handmade_gradle", "junit/handmade-gradle.xml"),
        ("handmade_rspec", "junit/handmade-rspec.xml"),
    ] {
        let (out, report) = golden(name, &[path], RetryPolicy::Keep);
        assert!(report.inputs[0].problem.is_none(), "{name}: {report:?}");
        // With retries kept, the merge of one report holds exactly its testcases.
        let original = fixture(path);
        let before = testcases(&original);
        let after = testcases(out.as_bytes());
        assert_eq!(
            before.values().map(Vec::len).sum::<usize>(),
            after.values().map(Vec::len).sum::<usize>(),
            "{name}"
        );
        let outcomes = |map: &BTreeMap<_, Vec<Outcome>>| {
            let mut all: Vec<Outcome> = map.values().flatten().copied().collect();
            all.sort();
            all
        };
        assert_eq!(outcomes(&before), outcomes(&after), "{name}");
    }
}

#[test]
fn surefire_reports_of_two_classes() {
    golden(
        "surefire",
        &[
            "junit/surefire/TEST-dev.rxdist.sample.CalculatorTest.xml",
            "junit/surefire/TEST-dev.rxdist.sample.OtherTest.xml",
        ],
        RetryPolicy::Collapse,
    );
}

#[test]
fn three_pytest_shards_make_one_suite_with_every_testcase() {
    let shards = [
        "merge/pytest-shard-1.xml",
        "merge/pytest-shard-2.xml",
        "merge/pytest-shard-3.xml",
    ];
    let (out, report) = golden("pytest_shards", &shards, RetryPolicy::Collapse);
    assert_eq!(report.suites, 1);
    let mut expected = BTreeMap::new();
    for shard in shards {
        expected.extend(testcases(&fixture(shard)));
    }
    assert_eq!(testcases(out.as_bytes()), expected);
    // The pytest sample's whole run, shard by shard: 13 + 20 + 3.
    assert_eq!(report.totals.tests, 36);
}

#[test]
fn a_rerun_shard_collapses_into_reruns_and_keeps_the_teardown_pair_apart() {
    let shards = ["merge/pytest-shard-1.xml", "merge/pytest-shard-1-rerun.xml"];
    let (out, report) = golden("pytest_shard_rerun", &shards, RetryPolicy::Collapse);
    assert_eq!(report.totals.tests, 13);
    assert_eq!(report.retries_collapsed, 13);
    let merged = testcases(out.as_bytes());
    let pair = merged
        .iter()
        .find(|((_, _, name), _)| name == "test_fails_and_teardown_errors")
        .map(|(_, outcomes)| outcomes.clone());
    assert_eq!(pair, Some(vec![Outcome::Failed, Outcome::Error]));
    assert_eq!(
        out.matches("<rerunFailure").count() + out.matches("<rerunError").count(),
        6
    );

    let (_, kept) = merge_files(&shards, RetryPolicy::Keep);
    assert_eq!((kept.totals.tests, kept.retries_collapsed), (26, 0));
    let (last, report) = merge_files(&shards, RetryPolicy::Last);
    assert_eq!((report.totals.tests, report.retries_collapsed), (13, 13));
    assert!(!last.contains("<rerun"));
}

#[test]
fn a_real_flaky_test_becomes_flaky_failure() {
    let (out, report) = golden(
        "pytest_flaky",
        &[
            "merge/pytest-flaky-attempt-1.xml",
            "merge/pytest-flaky-attempt-2.xml",
        ],
        RetryPolicy::Collapse,
    );
    assert_eq!(report.totals.flaky, 1);
    assert_eq!(report.totals.tests, 14);
    assert_eq!(out.matches("<flakyFailure").count(), 1);
}

#[test]
fn retries_across_shards_on_different_runners() {
    let (out, report) = golden(
        "retries_across_shards",
        &[
            "merge/handmade-retries-shard-a.xml",
            "merge/handmade-retries-shard-b.xml",
        ],
        RetryPolicy::Collapse,
    );
    assert_eq!(
        report.suites, 1,
        "hostnames of machines must not split the suite"
    );
    assert_eq!(report.skips_dropped, 1);
    assert_eq!(
        (
            report.totals.tests,
            report.totals.failures,
            report.totals.errors,
            report.totals.flaky
        ),
        (5, 1, 0, 2)
    );
    assert!(out.contains("<flakyError"));
    // The other order: same testcases and totals.
    let (_, reversed) = merge_files(
        &[
            "merge/handmade-retries-shard-b.xml",
            "merge/handmade-retries-shard-a.xml",
        ],
        RetryPolicy::Collapse,
    );
    assert_eq!(reversed.totals.tests, report.totals.tests);
    assert_eq!(reversed.totals.failures, report.totals.failures);
    assert_eq!(reversed.totals.flaky, report.totals.flaky);
}

#[test]
fn hand_made_edge_cases() {
    for (name, path) in [
        ("counters_only", "merge/handmade-counters-only.xml"),
        ("wrong_counters", "merge/handmade-wrong-counters.xml"),
        ("duplicate_ids", "merge/handmade-duplicate-ids.xml"),
        ("cdata", "merge/handmade-cdata.xml"),
        ("entities", "merge/handmade-entities.xml"),
        (
            "control_characters",
            "merge/handmade-control-characters.xml",
        ),
        ("invalid_utf8", "merge/handmade-invalid-utf8.xml"),
        ("odd_times", "merge/handmade-odd-times.xml"),
        (
            "playwright_projects",
            "merge/handmade-playwright-projects.xml",
        ),
    ] {
        golden(name, &[path], RetryPolicy::Collapse);
    }
}

#[test]
fn playwright_projects_stay_apart_even_one_file_per_project() {
    let (_, report) = merge_files(
        &["merge/handmade-playwright-projects.xml"],
        RetryPolicy::Collapse,
    );
    assert_eq!(
        (report.suites, report.totals.tests, report.retries_collapsed),
        (2, 4, 0)
    );
}

#[test]
fn broken_inputs_are_reported_and_everything_else_merged() {
    let (out, report) = golden(
        "broken_inputs",
        &[
            "merge/pytest-shard-1.xml",
            "merge/handmade-truncated.xml",
            "merge/handmade-utf16.xml",
            "merge/handmade-not-junit.xml",
            "merge/handmade-doctype-entity.xml",
            "merge/pytest-shard-3.xml",
        ],
        RetryPolicy::Collapse,
    );
    let problems: Vec<bool> = report
        .inputs
        .iter()
        .map(|input| input.problem.is_some())
        .collect();
    assert_eq!(problems, [false, true, true, true, true, false]);
    // Every complete testcase before the cut is merged.
    let truncated = fixture("merge/handmade-truncated.xml");
    let before_cut = testcases(&truncated).values().map(Vec::len).sum::<usize>();
    assert_eq!(report.inputs[1].testcases, before_cut);
    assert!(before_cut > 0);
    assert_eq!(report.totals.tests, 13 + before_cut as u64 + 3);
    assert!(!out.contains("lol"));
}

#[test]
fn the_large_real_output_is_copied_whole() {
    let path = "junit/pytest-large-output.xml";
    let (out, report) = merge_files(&[path], RetryPolicy::Collapse);
    assert_eq!(report.totals.tests, 1);
    let original = String::from_utf8(fixture(path)).unwrap();
    let body = |text: &str| {
        let start = text.find("<system-out>").unwrap();
        let end = text.find("</system-out>").unwrap();
        text[start..end].len()
    };
    assert_eq!(body(&out), body(&original));
}

#[test]
fn reading_from_buffered_files_works_too() {
    // The command hands plain files; a BufReader over one is just as good.
    let path = format!(
        "{}/tests/fixtures/merge/pytest-shard-2.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let file = File::open(path).unwrap();
    let mut inputs = vec![MergeInput {
        label: "shard".to_owned(),
        reader: BufReader::new(file),
    }];
    let mut out = Vec::new();
    let report = merge(&mut inputs, &MergeOptions::default(), &mut out).unwrap();
    assert_eq!(report.totals.tests, 20);
}
