//! End-to-end tests of `rxdist plan` and `rxdist shard` on the real binary.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{Output, fixture, root, rxdist, write_list};

/// Records the example project's two real pytest reports into a fresh history.
fn example_history(dir: &Path) -> std::path::PathBuf {
    let history = dir.join("history.zst");
    for run in ["run-1.xml", "run-2.xml"] {
        rxdist()
            .args(["timings", "record", "--history"])
            .arg_path(&history)
            .args(["--rootdir"])
            .arg_path(&root().join("examples/shop"))
            .args(["--input"])
            .arg_path(&root().join("examples/reports").join(run))
            .run()
            .success();
    }
    history
}

/// The example's node ids as pytest collects them today (including the new `test_returns.py`).
fn example_ids() -> Vec<String> {
    std::fs::read_to_string(fixture("plan/example-collected.txt"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A temporary directory holding the example's history and today's test list.
fn example_workspace() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let history = example_history(dir.path());
    let tests = dir.path().join("tests.txt");
    write_list(
        &tests,
        &example_ids().iter().map(String::as_str).collect::<Vec<_>>(),
    );
    (dir, history, tests)
}

trait ArgPath {
    fn arg_path(self, path: &Path) -> Self;
}

impl ArgPath for common::Rxdist {
    fn arg_path(self, path: &Path) -> Self {
        self.args([path.as_os_str()])
    }
}

/// The text `rxdist plan --format json` prints; a `total` of 0 means `--total auto`.
fn plan_json_text(history: &Path, tests: &Path, total: usize, extra: &[&str]) -> String {
    let total = if total == 0 {
        "auto".to_owned()
    } else {
        total.to_string()
    };
    rxdist()
        .args(["plan", "--format", "json", "--total", &total, "--history"])
        .arg_path(history)
        .args(["--tests"])
        .arg_path(tests)
        .args(extra)
        .run()
        .success()
        .stdout
}

/// `rxdist plan --format json`, parsed; a `total` of 0 means `--total auto`.
fn plan_json(history: &Path, tests: &Path, total: usize, extra: &[&str]) -> serde_json::Value {
    serde_json::from_str(&plan_json_text(history, tests, total, extra)).unwrap()
}

#[test]
fn plan_json_has_the_documented_shape_and_holds_every_test_once() {
    let dir = tempfile::tempdir().unwrap();
    let history = example_history(dir.path());
    let ids = example_ids();
    let tests = dir.path().join("tests.txt");
    write_list(&tests, &ids.iter().map(String::as_str).collect::<Vec<_>>());

    let text = plan_json_text(&history, &tests, 3, &[]);
    // Keys in the documented order (serde_json's Value would sort them, so look at the text).
    let positions: Vec<usize> = [
        "\"total\"",
        "\"lower_bound_seconds\"",
        "\"predicted_makespan_seconds\"",
        "\"shards\"",
        "\"index\"",
        "\"tests\"",
        "\"predicted_seconds\"",
    ]
    .iter()
    .map(|key| {
        text.find(key)
            .unwrap_or_else(|| panic!("{key} missing from {text}"))
    })
    .collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "keys out of order: {text}"
    );
    let plan: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(plan["total"], 3);
    let shards = plan["shards"].as_array().unwrap();
    assert_eq!(shards.len(), 3);
    let mut seen = BTreeSet::new();
    for (index, shard) in shards.iter().enumerate() {
        assert_eq!(shard.as_object().unwrap().len(), 3);
        assert_eq!(shard["index"], index);
        let tests = shard["tests"].as_array().unwrap();
        assert!(!tests.is_empty(), "shard {index} is empty");
        for test in tests {
            assert!(
                seen.insert(test.as_str().unwrap().to_owned()),
                "{test} is planned twice"
            );
        }
    }
    assert_eq!(seen, ids.into_iter().collect::<BTreeSet<_>>());
    let makespan = plan["predicted_makespan_seconds"].as_f64().unwrap();
    let bound = plan["lower_bound_seconds"].as_f64().unwrap();
    assert!(
        makespan >= bound && bound > 0.0,
        "makespan {makespan} bound {bound}"
    );
}

#[test]
fn the_plan_is_byte_identical_whatever_the_order_of_the_test_list() {
    let dir = tempfile::tempdir().unwrap();
    let history = example_history(dir.path());
    let mut ids = example_ids();
    let forward = dir.path().join("forward.txt");
    write_list(
        &forward,
        &ids.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    ids.reverse();
    ids.rotate_left(7);
    let shuffled = dir.path().join("shuffled.txt");
    write_list(
        &shuffled,
        &ids.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    for by in ["test", "file", "auto"] {
        let one = plan_json_text(&history, &forward, 4, &["--by", by]);
        let two = plan_json_text(&history, &shuffled, 4, &["--by", by]);
        assert_eq!(one, two, "--by {by}");
    }
}

#[test]
fn shards_partition_the_list_and_agree_with_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let history = example_history(dir.path());
    let ids = example_ids();
    let tests = dir.path().join("tests.txt");
    write_list(&tests, &ids.iter().map(String::as_str).collect::<Vec<_>>());
    let plan = plan_json(&history, &tests, 4, &[]);
    let mut union = BTreeSet::new();
    for index in 0..4 {
        let listed = rxdist()
            .args([
                "shard",
                "--index",
                &index.to_string(),
                "--total",
                "4",
                "--history",
            ])
            .arg_path(&history)
            .args(["--tests"])
            .arg_path(&tests)
            .run()
            .success();
        let from_plan: Vec<&str> = plan["shards"][index]["tests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        let lines: Vec<&str> = listed.stdout.lines().collect();
        assert_eq!(lines, from_plan, "shard {index}");
        union.extend(lines.into_iter().map(str::to_owned));

        // --shard K/N is the same shard, 1-based.
        let fraction = rxdist()
            .args(["shard", "--shard", &format!("{}/4", index + 1), "--history"])
            .arg_path(&history)
            .args(["--tests"])
            .arg_path(&tests)
            .run()
            .success();
        assert_eq!(fraction.stdout, listed.stdout);
    }
    assert_eq!(union.len(), ids.len());
}

fn shard_under_env(history: &Path, tests: &Path, env: &[(&str, &str)]) -> Output {
    let mut command = rxdist()
        .args(["shard", "--format", "json", "--history"])
        .arg_path(history)
        .args(["--tests"])
        .arg_path(tests);
    for (name, value) in env {
        command = command.env(name, value);
    }
    command.run()
}

/// An environment and the 0-based index and total it should produce.
type CiCase<'a> = (&'a [(&'a str, &'a str)], usize, usize);

#[test]
fn index_and_total_come_from_the_ci_variables() {
    let (_dir, history, tests) = example_workspace();
    let cases: &[CiCase] = &[
        (
            &[("CIRCLE_NODE_INDEX", "1"), ("CIRCLE_NODE_TOTAL", "3")],
            1,
            3,
        ),
        (
            &[
                ("GITLAB_CI", "true"),
                ("CI_NODE_INDEX", "1"),
                ("CI_NODE_TOTAL", "3"),
            ],
            0,
            3,
        ),
        (
            &[
                ("BUILDKITE_PARALLEL_JOB", "2"),
                ("BUILDKITE_PARALLEL_JOB_COUNT", "3"),
            ],
            2,
            3,
        ),
        (
            &[
                ("SYSTEM_JOBPOSITIONINPHASE", "2"),
                ("SYSTEM_TOTALJOBSINPHASE", "2"),
            ],
            1,
            2,
        ),
        (
            &[("SEMAPHORE_JOB_INDEX", "3"), ("SEMAPHORE_JOB_COUNT", "4")],
            2,
            4,
        ),
        (
            &[
                ("BITBUCKET_PARALLEL_STEP", "0"),
                ("BITBUCKET_PARALLEL_STEP_COUNT", "2"),
            ],
            0,
            2,
        ),
        // Flags and RXDIST_* beat the CI.
        (
            &[
                ("CIRCLE_NODE_INDEX", "1"),
                ("CIRCLE_NODE_TOTAL", "3"),
                ("RXDIST_INDEX", "0"),
                ("RXDIST_TOTAL", "2"),
            ],
            0,
            2,
        ),
    ];
    for (env, index, total) in cases {
        let output = shard_under_env(&history, &tests, env).success();
        let shard: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
        assert_eq!(
            (
                shard["index"].as_u64().unwrap() as usize,
                shard["total"].as_u64().unwrap() as usize
            ),
            (*index, *total),
            "{env:?}"
        );
    }
    let bad = shard_under_env(
        &history,
        &tests,
        &[("CIRCLE_NODE_INDEX", "3"), ("CIRCLE_NODE_TOTAL", "3")],
    )
    .expect_code(2);
    assert!(bad.stderr.contains("CIRCLE_NODE_INDEX"), "{}", bad.stderr);
}

#[test]
fn bazel_sharding_touches_the_status_file() {
    let (dir, history, tests) = example_workspace();
    let status = dir.path().join("shard-status");
    let status_text = status.to_str().unwrap().to_owned();
    shard_under_env(
        &history,
        &tests,
        &[
            ("TEST_SHARD_INDEX", "1"),
            ("TEST_TOTAL_SHARDS", "2"),
            ("TEST_SHARD_STATUS_FILE", &status_text),
        ],
    )
    .success();
    assert!(status.is_file());
}

#[test]
fn without_history_tests_are_split_evenly_by_count_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let tests = dir.path().join("tests.txt");
    let ids: Vec<String> = (0..10)
        .map(|n| format!("tests/test_{n}.py::test_{n}"))
        .collect();
    write_list(&tests, &ids.iter().map(String::as_str).collect::<Vec<_>>());
    let output = rxdist()
        .args(["plan", "--format", "json", "--total", "3", "--tests"])
        .arg_path(&tests)
        .run()
        .success();
    assert!(
        output.stderr.contains("warning: no --history given"),
        "{}",
        output.stderr
    );
    let plan: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    let mut sizes: Vec<usize> = plan["shards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["tests"].as_array().unwrap().len())
        .collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [3, 3, 4]);

    let missing = dir.path().join("absent.zst");
    let output = rxdist()
        .args(["plan", "--total", "3", "--history"])
        .arg_path(&missing)
        .args(["--tests"])
        .arg_path(&tests)
        .run()
        .success();
    assert!(
        output.stderr.contains("no timing history at"),
        "{}",
        output.stderr
    );
}

#[test]
fn new_tests_are_estimated_and_spread_not_piled_on_one_shard() {
    let dir = tempfile::tempdir().unwrap();
    let history = example_history(dir.path());
    let mut ids = example_ids();
    let new: Vec<String> = (0..12)
        .map(|n| format!("tests/integration/test_brand_new.py::test_case_{n}"))
        .collect();
    ids.extend(new.iter().cloned());
    let tests = dir.path().join("tests.txt");
    write_list(&tests, &ids.iter().map(String::as_str).collect::<Vec<_>>());
    let output = rxdist()
        .args([
            "plan",
            "--format",
            "json",
            "--total",
            "3",
            "--by",
            "test",
            "--history",
        ])
        .arg_path(&history)
        .args(["--tests"])
        .arg_path(&tests)
        .run()
        .success();
    assert!(
        output.stderr.contains("not in the history"),
        "{}",
        output.stderr
    );
    let plan: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    let holding: Vec<usize> = plan["shards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|shard| {
            shard["tests"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| new.iter().any(|n| n == t.as_str().unwrap()))
                .count()
        })
        .collect();
    assert!(
        holding.iter().filter(|&&count| count > 0).count() >= 2,
        "new tests all on one shard: {holding:?}"
    );
}

#[test]
fn tests_that_no_longer_exist_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let history = example_history(dir.path());
    let tests = dir.path().join("tests.txt");
    write_list(
        &tests,
        &[
            "tests/test_cart.py::test_empty_cart_has_no_items",
            "tests/test_checkout.py::test_checkout_empty",
        ],
    );
    let plan = plan_json(&history, &tests, 2, &[]);
    let all: Vec<&str> = plan["shards"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["tests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap())
        })
        .collect();
    assert_eq!(all.len(), 2);
}

#[test]
fn keep_together_globs_share_a_shard() {
    let (_dir, history, tests) = example_workspace();
    let plan = plan_json(
        &history,
        &tests,
        4,
        &["--by", "test", "--keep-together", "tests/integration/*"],
    );
    let holding: Vec<usize> = plan["shards"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|shard| {
            shard["tests"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t.as_str().unwrap().starts_with("tests/integration/"))
        })
        .map(|shard| shard["index"].as_u64().unwrap() as usize)
        .collect();
    assert_eq!(
        holding.len(),
        1,
        "integration tests spread over {holding:?}"
    );
}

#[test]
fn pytest_args_of_an_empty_shard_select_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let tests = dir.path().join("tests.txt");
    write_list(&tests, &["tests/test_a.py::test_a"]);
    let output = rxdist()
        .args([
            "shard",
            "--index",
            "1",
            "--total",
            "2",
            "--format",
            "pytest-args",
            "--tests",
        ])
        .arg_path(&tests)
        .run()
        .success();
    assert_eq!(
        output.stdout,
        "-m\nrxdist_empty_shard and not rxdist_empty_shard\n"
    );
    assert!(output.stderr.contains("empty"), "{}", output.stderr);
}

#[test]
fn output_files_are_written_and_stdin_lists_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("deep/plan.json");
    rxdist()
        .args([
            "plan", "--format", "json", "--total", "2", "--tests", "-", "--output",
        ])
        .arg_path(&out)
        .stdin("a.py::x\nb.py::y\n\n# comment\na.py::x\n")
        .run()
        .success();
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(
        plan["shards"][0]["tests"].as_array().unwrap().len()
            + plan["shards"][1]["tests"].as_array().unwrap().len(),
        2
    );
}

#[test]
fn github_matrix_is_one_line_of_json_for_from_json() {
    let (_dir, history, tests) = example_workspace();
    let output = rxdist()
        .args([
            "plan",
            "--format",
            "github-matrix",
            "--total",
            "3",
            "--history",
        ])
        .arg_path(&history)
        .args(["--tests"])
        .arg_path(&tests)
        .run()
        .success();
    assert_eq!(output.stdout.lines().count(), 1);
    let matrix: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    let include = matrix["include"].as_array().unwrap();
    assert_eq!(include.len(), 3);
    assert_eq!(include[2]["shard"], "3/3");
    assert_eq!(include[2]["index"], 2);
    assert_eq!(include[2]["total"], 3);
}

#[test]
fn total_auto_picks_the_smallest_count_meeting_the_target() {
    let (_dir, history, tests) = example_workspace();
    let chosen = plan_json(
        &history,
        &tests,
        0,
        &["--target-duration", "4s", "--shard-overhead", "0.5s"],
    );
    let total = chosen["total"].as_u64().unwrap() as usize;
    assert!(total > 1, "{chosen}");
    assert!(
        chosen["predicted_makespan_seconds"].as_f64().unwrap() + 0.5 <= 4.0,
        "{chosen}"
    );
    let one_fewer = plan_json(&history, &tests, total - 1, &[]);
    assert!(
        one_fewer["predicted_makespan_seconds"].as_f64().unwrap() + 0.5 > 4.0,
        "{one_fewer}"
    );

    // The slowest test alone takes longer than the target: say so, exit 8, still print a plan.
    let output = rxdist()
        .args([
            "plan",
            "--format",
            "json",
            "--total",
            "auto",
            "--target-duration",
            "1s",
            "--by",
            "test",
            "--history",
        ])
        .arg_path(&history)
        .args(["--tests"])
        .arg_path(&tests)
        .run()
        .expect_code(8);
    assert!(output.stderr.contains("cannot be met"), "{}", output.stderr);
    assert!(
        output.stderr.contains("test_checkout_many_items"),
        "{}",
        output.stderr
    );
    let plan: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    assert!(plan["total"].as_u64().unwrap() >= 1);
}

#[test]
fn text_format_is_a_readable_table() {
    let (_dir, history, tests) = example_workspace();
    let output = rxdist()
        .args(["plan", "--total", "3", "--history"])
        .arg_path(&history)
        .args(["--tests"])
        .arg_path(&tests)
        .run()
        .success();
    let first = output.stdout.lines().next().unwrap();
    assert!(
        first.starts_with("3 shards, 35 tests: predicted makespan"),
        "{first}"
    );
    assert_eq!(
        output
            .stdout
            .lines()
            .filter(
                |line| line.trim_start().starts_with(|c: char| c.is_ascii_digit())
                    && line.contains('#')
            )
            .count(),
        3,
        "{}",
        output.stdout
    );
}

#[test]
fn usage_errors_name_the_missing_setting_and_exit_2() {
    let output = rxdist()
        .args(["plan", "--tests", "x.txt"])
        .run()
        .expect_code(2);
    assert!(output.stderr.contains("--total"), "{}", output.stderr);
    let output = rxdist()
        .args(["shard", "--total", "2", "--tests", "x.txt"])
        .run()
        .expect_code(2);
    assert!(output.stderr.contains("--index"), "{}", output.stderr);
    let output = rxdist()
        .args(["plan", "--total", "nope", "--tests", "x.txt"])
        .run()
        .expect_code(2);
    assert!(
        output.stderr.contains("invalid value \"nope\" for --total"),
        "{}",
        output.stderr
    );
    rxdist().args(["plan", "--bogus"]).run().expect_code(2);
}

#[test]
fn a_missing_test_list_is_an_io_error_and_an_empty_one_means_no_tests() {
    let dir = tempfile::tempdir().unwrap();
    let output = rxdist()
        .args(["plan", "--total", "2", "--tests"])
        .arg_path(&dir.path().join("absent.txt"))
        .run()
        .expect_code(7);
    assert!(output.stderr.contains("cannot read"), "{}", output.stderr);
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "\n").unwrap();
    rxdist()
        .args(["plan", "--total", "2", "--tests"])
        .arg_path(&empty)
        .run()
        .expect_code(5);
}

#[test]
fn configuration_file_is_below_env_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let tests = dir.path().join("tests.txt");
    write_list(
        &tests,
        &["a.py::a", "b.py::b", "c.py::c", "d.py::d", "e.py::e"],
    );
    std::fs::write(
        dir.path().join(".rxdist.yml"),
        "tests: tests.txt\ntotal: 5\nby: test\n",
    )
    .unwrap();
    let total = |output: Output| {
        serde_json::from_str::<serde_json::Value>(&output.stdout).unwrap()["total"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(
        total(
            rxdist()
                .current_dir(dir.path())
                .args(["plan", "--format", "json"])
                .run()
                .success()
        ),
        5
    );
    assert_eq!(
        total(
            rxdist()
                .current_dir(dir.path())
                .env("RXDIST_TOTAL", "4")
                .args(["plan", "--format", "json"])
                .run()
                .success()
        ),
        4
    );
    assert_eq!(
        total(
            rxdist()
                .current_dir(dir.path())
                .env("RXDIST_TOTAL", "4")
                .args(["plan", "--format", "json", "--total", "3"])
                .run()
                .success()
        ),
        3
    );

    std::fs::write(dir.path().join(".rxdist.yml"), "totl: 5\n").unwrap();
    let output = rxdist()
        .current_dir(dir.path())
        .args(["plan"])
        .run()
        .expect_code(2);
    assert!(output.stderr.contains("totl"), "{}", output.stderr);
}

#[test]
fn collect_pytest_plans_the_tests_pytest_collects() {
    let dir = tempfile::tempdir().unwrap();
    let history = example_history(dir.path());
    let output = rxdist()
        .current_dir(root().join("examples/shop"))
        .args([
            "plan",
            "--format",
            "json",
            "--total",
            "2",
            "--collect",
            "pytest",
            "--history",
        ])
        .arg_path(&history)
        .run()
        .success();
    let plan: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    let planned: BTreeSet<String> = plan["shards"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["tests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(planned, example_ids().into_iter().collect());
}

#[test]
fn collection_errors_are_reported_with_pytest_output() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("test_broken.py"),
        "import no_such_module_anywhere\n\ndef test_x():\n    pass\n",
    )
    .unwrap();
    let output = rxdist()
        .current_dir(dir.path())
        .args(["plan", "--total", "2", "--collect", "pytest"])
        .run()
        .expect_code(6);
    assert!(
        output.stderr.contains("no_such_module_anywhere"),
        "{}",
        output.stderr
    );
}
