//! End-to-end: `rxdist run` over every shard of a real pytest project runs each test exactly
//! once, including tests added since the history was recorded (a new file, and a new test in a
//! file the plan splits across shards), in history mode, collection mode and `--dist static`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{root, rxdist};

const SHARDS: usize = 3;

/// Copies the example project into a temporary directory, adds a new test file and a new test
/// to an existing file, and records the example's two earlier reports as the history.
fn workspace() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("shop");
    copy_tree(&root().join("examples/shop"), &project);
    std::fs::write(
        project.join("tests/test_brand_new.py"),
        "def test_new_file_one():\n    pass\n\n\ndef test_new_file_two():\n    pass\n",
    )
    .unwrap();
    let mut checkout = std::fs::read_to_string(project.join("tests/test_checkout.py")).unwrap();
    checkout.push_str("\n\ndef test_added_since_the_history():\n    pass\n");
    std::fs::write(project.join("tests/test_checkout.py"), checkout).unwrap();
    let history = dir.path().join("history.zst");
    for run in ["run-1.xml", "run-2.xml"] {
        rxdist()
            .args(["timings", "record", "--history"])
            .args([&history])
            .args(["--rootdir"])
            .args([&project])
            .args(["--input"])
            .args([root().join("examples/reports").join(run)])
            .run()
            .success();
    }
    (dir, project, history)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "__pycache__" || name == ".pytest_cache" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Node ids pytest collects in `project`.
fn collected(project: &Path) -> Vec<String> {
    let output = std::process::Command::new("python3")
        .args([
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
        ])
        .current_dir(project)
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let mut ids: Vec<String> = text
        .lines()
        .filter(|line| line.contains("::"))
        .map(str::to_owned)
        .collect();
    ids.sort();
    assert!(ids.len() > 30, "collection found too little:\n{text}");
    ids
}

/// Test ids and outcomes in a shard report, rebuilt from pytest's xunit1 attributes.
fn report_ids(path: &Path) -> Vec<(String, rxdist::junit::Outcome)> {
    let bytes = std::fs::read(path).unwrap();
    let mut ids = Vec::new();
    rxdist::junit::read_testcases(&bytes[..], &rxdist::junit::Limits::default(), |case| {
        let file = case.file.clone().expect("xunit1 has a file attribute");
        let module = file.trim_end_matches(".py").replace('/', ".");
        let classname = case.classname.clone().unwrap_or_default();
        let mut id = file;
        if let Some(classes) = classname
            .strip_prefix(&module)
            .and_then(|c| c.strip_prefix('.'))
        {
            for class in classes.split('.') {
                id.push_str("::");
                id.push_str(class);
            }
        }
        id.push_str("::");
        id.push_str(&case.name);
        ids.push((id, case.outcome));
    })
    .unwrap();
    ids
}

/// Runs every shard with `extra` arguments and returns how often each id ran.
fn run_all_shards(project: &Path, history: &Path, extra: &[&str]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for index in 0..SHARDS {
        let report = project.join(format!("junit-{index}.xml"));
        rxdist()
            .current_dir(project)
            .args(["run", "--history"])
            .args([history])
            .args(["--no-record", "-n", "2", "--index"])
            .args([index.to_string(), "--total".into(), SHARDS.to_string()])
            .args(["--junit-out"])
            .args([&report])
            .args(extra)
            .args(["--", "python3", "-m", "pytest", "-q"])
            .run()
            .success();
        for (id, outcome) in report_ids(&report) {
            assert_eq!(outcome, rxdist::junit::Outcome::Passed, "{id}");
            *counts.entry(id).or_insert(0) += 1;
        }
    }
    counts
}

#[track_caller]
fn assert_each_ran_once(counts: &BTreeMap<String, usize>, expected: &[String]) {
    let twice: Vec<&String> = counts
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| id)
        .collect();
    assert!(twice.is_empty(), "ran more than once: {twice:?}");
    let ran: Vec<String> = counts.keys().cloned().collect();
    assert_eq!(
        ran, expected,
        "the shards together must run exactly the collected tests"
    );
}

#[test]
fn history_mode_shards_run_every_test_once_including_new_ones() {
    let (_dir, project, history) = workspace();
    let expected = collected(&project);
    assert!(expected.contains(&"tests/test_brand_new.py::test_new_file_one".to_owned()));
    // --by test splits files across shards, so the new test in test_checkout.py must be run
    // by exactly one of the shards holding part of that file.
    let counts = run_all_shards(&project, &history, &["--by", "test"]);
    assert_each_ran_once(&counts, &expected);
    let counts = run_all_shards(&project, &history, &["--by", "file"]);
    assert_each_ran_once(&counts, &expected);
}

#[test]
fn collection_mode_shards_run_every_test_once() {
    let (dir, project, _) = workspace();
    let expected = collected(&project);
    let missing = dir.path().join("no-history-yet.zst");
    let counts = run_all_shards(&project, &missing, &[]);
    assert_each_ran_once(&counts, &expected);
}

#[test]
fn static_mode_shards_run_every_test_once_without_history_or_collection() {
    let (_dir, project, history) = workspace();
    let expected = collected(&project);
    let counts = run_all_shards(&project, &history, &["--dist", "static"]);
    assert_each_ran_once(&counts, &expected);
}

#[test]
fn shard_with_a_command_runs_the_shard_like_run_does() {
    let (_dir, project, history) = workspace();
    let report = project.join(".rxdist/junit.xml");
    rxdist()
        .current_dir(&project)
        .args(["shard", "--history"])
        .args([&history])
        .args([
            "--index", "0", "--total", "1", "--", "python3", "-m", "pytest",
        ])
        .run()
        .success();
    let ids: Vec<String> = report_ids(&report).into_iter().map(|(id, _)| id).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(sorted, collected(&project));
}
