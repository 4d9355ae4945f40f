//! End-to-end tests of `rxdist timings record` and `rxdist timings show` on the real binary,
//! including every kind of bad input.

mod common;

use std::path::Path;

use common::{fixture, root, rxdist};

fn record(history: &Path, inputs: &[&Path], extra: &[&str]) -> common::Output {
    let mut command = rxdist()
        .args(["timings", "record", "--history"])
        .args([history.as_os_str()]);
    for input in inputs {
        command = command.args(["--input".as_ref(), input.as_os_str()]);
    }
    command.args(extra).run()
}

fn show_json(history: &Path) -> serde_json::Value {
    let output = rxdist()
        .args(["timings", "show", "--format", "json", "--history"])
        .args([history.as_os_str()])
        .run()
        .success();
    serde_json::from_str(&output.stdout).unwrap()
}

#[test]
fn recording_creates_the_history_and_show_summarises_it() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.zst");
    let report = root().join("examples/reports/run-1.xml");
    let output = record(&history, &[&report], &[]).success();
    assert!(output.stderr.contains("created"), "{}", output.stderr);
    let summary = show_json(&history);
    assert_eq!(summary["runs"], 1);
    assert_eq!(summary["tests"], 33);
    // One run: nothing to backtest, so the default predictor.
    assert_eq!(summary["predictor"]["chosen"], "mean");
    assert_eq!(summary["predictor"]["backtested_runs"], 0);
    assert_eq!(summary["predictor"]["errors"][2]["predictor"], "latest");
    assert_eq!(summary["file_predictor"]["chosen"], "mean");

    let text = rxdist()
        .args(["timings", "show", "--history"])
        .args([history.as_os_str()])
        .run()
        .success();
    assert!(
        text.stdout
            .contains("tests/test_checkout.py::test_checkout_many_items"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("sha256"), "{}", text.stdout);
    assert!(
        text.stdout
            .contains("predictor by test: mean (not backtested yet: no test was timed twice)"),
        "{}",
        text.stdout
    );
}

#[test]
fn recording_the_same_run_twice_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.zst");
    let report = root().join("examples/reports/run-1.xml");
    record(&history, &[&report], &[]).success();
    let first = std::fs::read(&history).unwrap();
    let again = record(&history, &[&report], &[]).success();
    assert!(again.stderr.contains("already"), "{}", again.stderr);
    assert_eq!(std::fs::read(&history).unwrap(), first);
}

#[test]
fn the_history_file_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.zst");
    let two = dir.path().join("two.zst");
    for history in [&one, &two] {
        for run in ["run-1.xml", "run-2.xml"] {
            record(history, &[&root().join("examples/reports").join(run)], &[]).success();
        }
    }
    assert_eq!(std::fs::read(&one).unwrap(), std::fs::read(&two).unwrap());
}

#[test]
fn pytest_split_and_knapsack_files_import() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.zst");
    record(
        &history,
        &[&fixture("durations/pytest-split.test_durations")],
        &[],
    )
    .success();
    assert_eq!(show_json(&history)["tests"], 35);
    let knapsack = dir.path().join("knapsack.zst");
    record(
        &knapsack,
        &[&fixture("durations/knapsack_rspec_report.json")],
        &[],
    )
    .success();
    assert!(show_json(&knapsack)["tests"].as_u64().unwrap() > 0);
}

#[test]
fn directories_are_searched_and_real_reports_of_every_dialect_record() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.zst");
    let output = record(
        &history,
        &[&fixture("junit/surefire")],
        &["--framework", "generic"],
    )
    .success();
    assert!(output.stderr.contains("from 2 files"), "{}", output.stderr);
    for report in [
        "nextest.xml",
        "jest-junit.xml",
        "mocha.xml",
        "playwright.xml",
        "phpunit.xml",
        "gotestsum.xml",
        "handmade-gradle.xml",
        "handmade-rspec.xml",
        "handmade-bazel.xml",
        "handmade-go-junit-report.xml",
    ] {
        let history = dir.path().join(format!("{report}.zst"));
        record(
            &history,
            &[&fixture(&format!("junit/{report}"))],
            &["--framework", "generic"],
        )
        .success();
        assert!(
            show_json(&history)["tests"].as_u64().unwrap() > 0,
            "{report}"
        );
    }
}

#[test]
fn xunit2_reports_map_with_the_collected_list_and_unmappable_ones_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.zst");
    let report = fixture("junit/pytest-xunit2.xml");
    // Without the list and away from the project, nothing can be mapped: reported, not dropped silently.
    let output = record(&history, &[&report], &["--framework", "pytest"]).expect_code(5);
    assert!(
        output.stderr.contains("36 testcases could not be mapped"),
        "{}",
        output.stderr
    );
    assert!(output.stderr.contains("--tests"), "{}", output.stderr);

    let collected = fixture("junit/pytest-collected.txt");
    record(
        &history,
        &[&report],
        &["--tests", collected.to_str().unwrap()],
    )
    .success();
    assert_eq!(show_json(&history)["tests"], 35);

    let from_disk = dir.path().join("disk.zst");
    let rootdir = fixture("junit/sources/pytest_sample");
    record(
        &from_disk,
        &[&report],
        &["--rootdir", rootdir.to_str().unwrap()],
    )
    .success();
    assert_eq!(show_json(&from_disk)["tests"], 35);
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn bad_inputs_get_a_clear_error_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("malformed.xml", b"<testsuites><testsuite name=\"a\"><testcase name=\"x\"></testsuite></testsuites>".to_vec(), "malformed"),
        ("binary.xml", vec![0x00, 0xFF, 0x13, 0x37, 0x89, 0x50, 0x4E, 0x47], ""),
        ("utf16.xml", {
            let mut bytes = vec![0xFF, 0xFE];
            for unit in "<testsuites/>".encode_utf16() {
                bytes.extend(unit.to_le_bytes());
            }
            bytes
        }, "UTF-16"),
        ("bomb.xml", b"<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]><testsuites><testsuite name=\"&lol2;\"><testcase name=\"x\"/></testsuite></testsuites>".to_vec(), "entit"),
        ("notjunit.xml", b"<html><body>502 Bad Gateway</body></html>".to_vec(), "html"),
        ("bad.test_durations", b"{\"a::b\": \"fast\"}".to_vec(), "a::b"),
    ];
    for (name, bytes, needle) in cases {
        let history = dir.path().join(format!("{name}.zst"));
        let input = write(dir.path(), name, &bytes);
        let output = record(&history, &[&input], &[]).expect_code(3);
        assert!(
            output.stderr.contains("error:"),
            "{name}: {}",
            output.stderr
        );
        assert!(
            output.stderr.contains(needle),
            "{name}: expected {needle:?} in {}",
            output.stderr
        );
        assert!(
            !output.stderr.contains("panicked"),
            "{name}: {}",
            output.stderr
        );
        assert!(
            !history.exists(),
            "{name}: a history was written from nothing"
        );
    }
}

#[test]
fn a_truncated_report_keeps_its_complete_testcases_and_exits_4() {
    let dir = tempfile::tempdir().unwrap();
    let full = std::fs::read(root().join("examples/reports/run-1.xml")).unwrap();
    let cut = full.len() / 2;
    let truncated = write(dir.path(), "truncated.xml", &full[..cut]);
    let history = dir.path().join("history.zst");
    let output = record(
        &history,
        &[&truncated],
        &["--rootdir", root().join("examples/shop").to_str().unwrap()],
    )
    .expect_code(4);
    assert!(output.stderr.contains("truncated.xml"), "{}", output.stderr);
    let complete = String::from_utf8_lossy(&full[..cut])
        .matches("</testcase>")
        .count()
        + String::from_utf8_lossy(&full[..cut]).matches("/>").count();
    let recorded = show_json(&history)["tests"].as_u64().unwrap() as usize;
    assert!(
        recorded > 0 && recorded <= complete,
        "recorded {recorded} of at most {complete}"
    );
}

#[test]
fn a_broken_input_beside_good_ones_still_records_the_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let broken = write(dir.path(), "broken.xml", b"<testsuites><testsuite");
    let history = dir.path().join("history.zst");
    let output = record(
        &history,
        &[
            &root().join("examples/reports/run-1.xml"),
            &broken,
            &dir.path().join("missing.xml"),
        ],
        &[],
    )
    .expect_code(4);
    assert!(
        output.stderr.contains("broken.xml") && output.stderr.contains("missing.xml"),
        "{}",
        output.stderr
    );
    assert_eq!(show_json(&history)["tests"], 33);
}

#[test]
fn a_corrupt_history_is_reported_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.zst");
    record(&history, &[&root().join("examples/reports/run-1.xml")], &[]).success();
    let mut bytes = std::fs::read(&history).unwrap();
    let last = bytes.len() - 10;
    bytes[last] ^= 0x55;
    std::fs::write(&history, &bytes).unwrap();
    let output =
        record(&history, &[&root().join("examples/reports/run-2.xml")], &[]).expect_code(3);
    assert!(
        output.stderr.contains("left untouched"),
        "{}",
        output.stderr
    );
    assert_eq!(std::fs::read(&history).unwrap(), bytes);
    let output = rxdist()
        .args(["plan", "--total", "2", "--tests", "-", "--history"])
        .args([history.as_os_str()])
        .stdin("a::b\n")
        .run()
        .expect_code(3);
    assert!(output.stderr.contains("history"), "{}", output.stderr);
    write(dir.path(), "garbage.zst", b"definitely not a history");
    rxdist()
        .args(["timings", "show", "--history"])
        .args([dir.path().join("garbage.zst").as_os_str()])
        .run()
        .expect_code(3);
}

#[test]
fn compressed_reports_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let xml = std::fs::read(root().join("examples/reports/run-1.xml")).unwrap();
    let compressed = zstd::encode_all(&xml[..], 3).unwrap();
    let input = write(dir.path(), "junit.xml.zst", &compressed);
    let history = dir.path().join("history.zst");
    record(&history, &[&input], &[]).success();
    assert_eq!(show_json(&history)["tests"], 33);
}

#[test]
fn show_names_the_backtested_predictor_once_a_test_was_timed_twice() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.zst");
    for run in ["run-1.xml", "run-2.xml"] {
        record(&history, &[&root().join("examples/reports").join(run)], &[]).success();
    }
    let summary = show_json(&history);
    assert_eq!(summary["predictor"]["backtested_runs"], 1);
    let errors = summary["predictor"]["errors"].as_array().unwrap();
    let chosen = &summary["predictor"]["chosen"];
    let lowest = errors
        .iter()
        .map(|e| e["error"].as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    let chosen_error = errors.iter().find(|e| &e["predictor"] == chosen).unwrap();
    assert!(
        chosen_error["error"].as_f64().unwrap() <= lowest,
        "{summary}"
    );

    let text = rxdist()
        .args(["timings", "show", "--history"])
        .args([history.as_os_str()])
        .run()
        .success();
    assert!(
        text.stdout
            .contains("(backtest RMS error over 1 runs: mean ")
            && text.stdout.contains("predictor by file: "),
        "{}",
        text.stdout
    );
}
