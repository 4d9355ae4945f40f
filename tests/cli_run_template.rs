//! End-to-end tests of `rxdist run --runner template`: the real binary driving real
//! cargo-nextest (a fixture crate), real vitest (installed into target/js by
//! scripts/js-env.sh), and a stand-in runner script for what real runners do rarely (die,
//! hang, leave tests out of their report).

mod common;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use common::{Output, Rxdist, fixture, root, rxdist, write_list};
use rxdist::junit::{Limits, Outcome, read_testcases};

/// The final console verdict of every test: `PASSED`, `FAILED`, `FLAKY`... (`RETRY` lines are
/// not final).
fn verdicts(stdout: &str) -> BTreeMap<String, String> {
    const LABELS: [&str; 11] = [
        "PASSED", "FAILED", "ERROR", "SKIPPED", "XFAIL", "XPASS", "TIMEOUT", "CRASHED", "NOTRUN",
        "FLAKY", "RETRY",
    ];
    let mut verdicts = BTreeMap::new();
    for line in stdout.lines() {
        let Some((label, rest)) = line.trim_start().split_once(' ') else {
            continue;
        };
        if !LABELS.contains(&label) || label == "RETRY" {
            continue;
        }
        // `{id} (0.12s)`, `{id} (0.12s) [attempt 2]`, or a bare id for NOTRUN; anything else is
        // the summary (`{id}: message`) or a test's output.
        let timed = rest.rfind(" (").filter(|&at| {
            let after = &rest[at + 2..];
            after.starts_with(|c: char| c.is_ascii_digit()) && after.contains("s)")
        });
        let id = match timed {
            Some(at) => &rest[..at],
            None if label == "NOTRUN" && !rest.contains(' ') => rest,
            None => continue,
        };
        verdicts.insert(id.to_owned(), label.to_owned());
    }
    verdicts
}

#[track_caller]
fn assert_verdicts(output: &Output, expected: &[(&str, &str)]) {
    let expected: BTreeMap<String, String> = expected
        .iter()
        .map(|(id, label)| ((*id).to_owned(), (*label).to_owned()))
        .collect();
    assert_eq!(
        verdicts(&output.stdout),
        expected,
        "\n--- stdout\n{}\n--- stderr\n{}",
        output.stdout,
        output.stderr
    );
}

/// The shard report's testcases: `name` to outcome.
fn report(path: &Path) -> BTreeMap<String, Outcome> {
    let file = std::fs::File::open(path).expect("the shard report exists");
    let mut cases = BTreeMap::new();
    read_testcases(BufReader::new(file), &Limits::default(), |case| {
        cases.insert(case.name, case.outcome);
    })
    .expect("the shard report is valid JUnit");
    cases
}

fn fake_runner() -> String {
    fixture("template/fake-runner.sh").display().to_string()
}

/// The stand-in runner over `expected`'s ids, in `dir`: see [`run_expecting`].
#[track_caller]
fn fake_run(dir: &Path, expected: &[(&str, &str)], options: &[&str], code: i32) -> Output {
    let command = rxdist().current_dir(dir);
    run_expecting(dir, command, expected, code, |command| {
        command
            .args(options)
            .args(["--", &fake_runner(), "{junit}", "{tests}"])
    })
}

#[test]
fn outcomes_come_from_the_runners_junit_and_unlisted_testcases_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let env_dir = dir.path().join("env");
    std::fs::create_dir(&env_dir).unwrap();
    let ids = ["pass_a", "fail_b", "skip_c", "quiet_d", "extra_e"];
    write_list(&dir.path().join("ids.txt"), &ids);
    let output = rxdist()
        .current_dir(dir.path())
        .env("FAKE_ENV_DIR", &env_dir)
        .args([
            "run", "--runner", "template", "--tests", "ids.txt", "-n", "2",
        ])
        .args([
            "--index",
            "0",
            "--total",
            "1",
            "--junit-out",
            "junit.xml",
            "--",
        ])
        .args([&fake_runner(), "{junit}", "{tests}"])
        .run()
        .expect_code(1);
    assert_verdicts(
        &output,
        &[
            ("pass_a", "PASSED"),
            ("fail_b", "FAILED"),
            ("skip_c", "SKIPPED"),
            ("quiet_d", "ERROR"),
            ("extra_e", "PASSED"),
            ("fake::unlisted_extra_e", "PASSED"),
        ],
    );
    assert!(
        output
            .stdout
            .contains("quiet_d: the runner reported no result for this test (exited with code 0)"),
        "{}",
        output.stdout
    );
    // A testcase of no listed id is reported, and kept under its own id.
    assert!(
        output.stderr.contains(
            "1 testcases of the runner's JUnit match none of the batch's test ids (e.g. fake::unlisted_extra_e)"
        ),
        "{}",
        output.stderr
    );
    let cases = report(&dir.path().join("junit.xml"));
    assert_eq!(cases.len(), ids.len() + 1, "{cases:?}");
    assert_eq!(cases["unlisted_extra_e"], Outcome::Passed);
    assert_eq!(cases["quiet_d"], Outcome::Error);

    // Every process got the worker environment.
    let mut workers = Vec::new();
    for entry in std::fs::read_dir(&env_dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for expected in [
            "RXDIST_WORKER_COUNT=2",
            "RXDIST_SHARD_INDEX=0",
            "RXDIST_SHARD_TOTAL=1",
            "RXDIST_ATTEMPT=1",
            "RXDIST_RUN_ID=",
        ] {
            assert!(text.contains(expected), "{expected} missing from\n{text}");
        }
        let worker = text
            .lines()
            .find_map(|line| line.strip_prefix("RXDIST_WORKER="))
            .expect("RXDIST_WORKER is set")
            .to_owned();
        workers.push(worker);
    }
    assert!(!workers.is_empty());
    assert!(
        workers.iter().all(|w| w == "gw0" || w == "gw1"),
        "{workers:?}"
    );
}

#[test]
fn a_testfile_carries_the_ids_inside_an_argument() {
    let dir = tempfile::tempdir().unwrap();
    // `--list=@FILE`, the way many runners take a list of tests.
    let script = format!("exec {} \"$0\" $(cat \"${{1#--list=@}}\")", fake_runner());
    let expected = [("pass_a", "PASSED"), ("fail_b", "FAILED")];
    let command = rxdist().current_dir(dir.path());
    run_expecting(dir.path(), command, &expected, 1, |command| {
        command.args(["--", "sh", "-c", &script, "{junit}", "--list=@{testfile}"])
    });
}

#[test]
fn a_runner_killed_by_a_signal_crashes_its_tests_and_retries_run_them_again() {
    let dir = tempfile::tempdir().unwrap();
    let expected = [("pass_a", "PASSED"), ("die_b", "CRASHED")];
    let output = fake_run(dir.path(), &expected, &["--retries", "1"], 1);
    assert!(output.stdout.contains("RETRY die_b"), "{}", output.stdout);
    assert!(
        output.stdout.contains(
            "die_b: worker crashed while running this test: killed by signal 9 (SIGKILL)"
        ),
        "{}",
        output.stdout
    );
    let text = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert!(text.contains("type=\"rxdist.crash\""), "{text}");
    assert!(text.contains("<rerunError"), "{text}");
}

#[test]
fn the_timeout_stops_a_whole_batch() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let expected = [("pass_a", "PASSED"), ("sleep_b", "TIMEOUT")];
    let output = fake_run(dir.path(), &expected, &["-n", "2", "--timeout", "1"], 1);
    assert!(
        started.elapsed().as_secs() < 30,
        "the batch was not stopped"
    );
    assert!(
        output
            .stdout
            .contains("--timeout covers a whole batch with --runner template"),
        "{}",
        output.stdout
    );
}

#[test]
fn shards_split_the_ids_and_the_history_supplies_them_later() {
    let dir = tempfile::tempdir().unwrap();
    let ids = ["pass_a", "pass_b", "pass_c", "pass_d", "pass_e", "pass_f"];
    write_list(&dir.path().join("ids.txt"), &ids);
    let run = |options: &[&str]| {
        rxdist()
            .current_dir(dir.path())
            .args(["run", "--runner", "template", "--history", "h.zst"])
            .args(options)
            .args(["--", &fake_runner(), "{junit}", "{tests}"])
            .run()
            .success()
    };
    let mut seen = Vec::new();
    for index in ["0", "1"] {
        let output = run(&["--tests", "ids.txt", "--index", index, "--total", "2"]);
        seen.extend(verdicts(&output.stdout).into_keys());
    }
    seen.sort_unstable();
    assert_eq!(seen, ids, "each id runs on exactly one shard");

    // Without --tests, the history's ids run.
    let output = run(&[]);
    assert_eq!(
        verdicts(&output.stdout).into_keys().collect::<Vec<_>>(),
        ids
    );
}

#[test]
fn commands_without_the_placeholders_they_need_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    write_list(&dir.path().join("ids.txt"), &["a"]);
    let run = |command: &[&str]| {
        rxdist()
            .current_dir(dir.path())
            .args(["run", "--runner", "template", "--tests", "ids.txt", "--"])
            .args(command)
            .run()
            .expect_code(2)
    };
    let output = run(&["jest", "{junit}"]);
    assert!(output.stderr.contains("{tests}"), "{}", output.stderr);
    let output = run(&["jest", "{tests}"]);
    assert!(output.stderr.contains("{junit}"), "{}", output.stderr);
    let output = run(&["jest", "--only={tests}", "{junit}"]);
    assert!(
        output.stderr.contains("must be a whole argument"),
        "{}",
        output.stderr
    );
    let output = run(&["jest", "{test}", "{junit}"]);
    assert!(
        output.stderr.contains("{test} is not a placeholder"),
        "{}",
        output.stderr
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_keeps_the_results_so_far_and_reports_the_rest_not_run() {
    let dir = tempfile::tempdir().unwrap();
    write_list(
        &dir.path().join("ids.txt"),
        &["sleep_a", "sleep_b", "sleep_c"],
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_rxdist"))
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .args([
            "run", "--runner", "template", "--tests", "ids.txt", "-n", "1",
        ])
        .args([
            "--junit-out",
            "junit.xml",
            "--",
            &fake_runner(),
            "{junit}",
            "{tests}",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 && !line.contains("rxdist: started") {
        line.clear();
    }
    // Let the first batch start.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let cases = report(&dir.path().join("junit.xml"));
    assert_eq!(cases.len(), 3, "{cases:?}");
    assert!(cases.values().all(|o| *o == Outcome::Skipped), "{cases:?}");
    let text = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert!(text.contains("rxdist.notrun"), "{text}");
}

/// The environment cargo and rustup need, the same for the build below and for rxdist's
/// nextest processes, so neither invalidates the other's build.
fn cargo_env() -> Vec<(&'static str, OsString)> {
    let mut env = vec![(
        "CARGO_TARGET_DIR",
        root().join("target/template-nextest").into_os_string(),
    )];
    for name in [
        "PATH",
        "HOME",
        "CARGO_HOME",
        "RUSTUP_HOME",
        "RUSTUP_TOOLCHAIN",
    ] {
        if let Some(value) = std::env::var_os(name) {
            env.push((name, value));
        }
    }
    env
}

/// The nextest fixture crate, its tests built once per test binary.
fn nextest_crate() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = fixture("template/nextest");
            let status = Command::new("cargo")
                .env_clear()
                .envs(cargo_env())
                .current_dir(&dir)
                .args(["nextest", "run", "--no-run", "--locked"])
                .status()
                .expect("cargo runs");
            assert!(status.success(), "the nextest fixture builds");
            dir
        })
        .clone()
}

/// `cargo nextest run` for one batch: nextest reads its JUnit path from a config file only,
/// so the batch writes one next to `{junit}` and passes it as a tool config.
const NEXTEST: &str = r#"printf '[profile.rxdist]\nfail-fast = false\n[profile.rxdist.junit]\npath = "%s"\n' "$0" > "$0.toml" && exec cargo nextest run --locked --profile rxdist --tool-config-file "rxdist:$0.toml" -- --exact "$@""#;

/// Runs `expected`'s ids through nextest, checks each verdict, and returns the output.
fn nextest_run(expected: &[(&str, &str)], options: &[&str], code: i32) -> Output {
    nextest_run_in(&tempfile::tempdir().unwrap(), expected, options, code)
}

/// [`nextest_run`], leaving `work/junit.xml` behind.
fn nextest_run_in(
    work: &tempfile::TempDir,
    expected: &[(&str, &str)],
    options: &[&str],
    code: i32,
) -> Output {
    let mut command = rxdist();
    for (name, value) in cargo_env() {
        command = command.env(name, value);
    }
    let command = command.current_dir(nextest_crate());
    run_expecting(work.path(), command, expected, code, |command| {
        command
            .args(options)
            .args(["--", "sh", "-c", NEXTEST, "{junit}", "{tests}"])
    })
}

/// Runs rxdist (`command`, with its directory and environment) as `run --runner template` over
/// `expected`'s ids, listed in `work/ids.txt`, with the rest of the command line from `rest`;
/// checks its exit code, every test's verdict on the console and that the report in
/// `work/junit.xml` has a testcase for each.
#[track_caller]
fn run_expecting(
    work: &Path,
    command: Rxdist,
    expected: &[(&str, &str)],
    code: i32,
    rest: impl FnOnce(Rxdist) -> Rxdist,
) -> Output {
    let ids: Vec<&str> = expected.iter().map(|(id, _)| *id).collect();
    write_list(&work.join("ids.txt"), &ids);
    let command = command
        .args(["run", "--runner", "template", "--tests"])
        .arg_path(&work.join("ids.txt"))
        .args(["--junit-out"])
        .arg_path(&work.join("junit.xml"));
    let output = rest(command).run().expect_code(code);
    assert_verdicts(&output, expected);
    let cases = report(&work.join("junit.xml"));
    assert_eq!(cases.len(), ids.len(), "{cases:?}\n{}", output.stdout);
    output
}

trait ArgPath {
    fn arg_path(self, path: &Path) -> Self;
}

impl ArgPath for Rxdist {
    fn arg_path(self, path: &Path) -> Self {
        self.args([path.as_os_str()])
    }
}

#[test]
fn nextest_runs_exact_test_names_with_retries_and_flaky_tests() {
    let output = nextest_run(
        &[
            ("tests::passes", "PASSED"),
            ("tests::also_passes", "PASSED"),
            ("tests::nested::passes", "PASSED"),
            ("tests::fails", "FAILED"),
            ("tests::flaky", "FLAKY"),
            ("tests::no_such_test", "ERROR"),
        ],
        &["-n", "2", "--retries", "1"],
        1,
    );
    // The runner's output explains the failure.
    assert!(
        output.stdout.contains("this test fails on purpose"),
        "{}",
        output.stdout
    );
}

#[test]
fn the_report_of_a_template_run_records_the_ids_that_ran() {
    // nextest's classname is its binary name, so `classname::name` is not the id rxdist ran:
    // the report carries the id, and recording it (as `merge --history` does) gives it back.
    let work = tempfile::tempdir().unwrap();
    nextest_run_in(
        &work,
        &[
            ("tests::passes", "PASSED"),
            ("tests::nested::passes", "PASSED"),
        ],
        &["-n", "1"],
        0,
    );
    let history = work.path().join("history.zst");
    rxdist()
        .args(["timings", "record", "--framework", "generic", "--history"])
        .arg_path(&history)
        .args(["--input"])
        .arg_path(&work.path().join("junit.xml"))
        .run()
        .success();
    let show = rxdist()
        .args([
            "timings",
            "show",
            "--format",
            "json",
            "--top",
            "10",
            "--history",
        ])
        .arg_path(&history)
        .run()
        .success();
    let summary: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
    let mut ids: Vec<&str> = summary["slowest_tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|test| test["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        vec!["tests::nested::passes", "tests::passes"],
        "{}",
        show.stdout
    );
}

#[test]
fn nextest_batches_past_the_timeout_are_stopped() {
    nextest_run(&[("tests::slow", "TIMEOUT")], &["--timeout", "3"], 1);
}

/// The vitest fixture project, copied into a temporary directory with the pinned vitest
/// (`scripts/js-env.sh`) as its `node_modules`.
fn vitest_project() -> tempfile::TempDir {
    let modules = root().join("target/js/node_modules");
    assert!(
        modules.join(".bin/vitest").exists(),
        "vitest is not installed: run scripts/js-env.sh (tests/run.sh does)"
    );
    let dir = tempfile::tempdir().unwrap();
    let project = fixture("template/js/project");
    for entry in std::fs::read_dir(&project).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink(&modules, dir.path().join("node_modules")).unwrap();
    dir
}

#[test]
fn vitest_runs_test_files_with_retries_and_flaky_tests() {
    let dir = vitest_project();
    let vitest = root().join("target/js/node_modules/.bin/vitest");
    let expected = [
        ("math.test.js", "PASSED"),
        ("broken.test.js", "FAILED"),
        ("later.test.js", "SKIPPED"),
        ("flaky.test.js", "FLAKY"),
    ];
    let command = rxdist().current_dir(dir.path());
    let output = run_expecting(dir.path(), command, &expected, 1, |command| {
        command
            .args(["-n", "2", "--retries", "1", "--"])
            .arg_path(&vitest)
            .args(["run", "--reporter=junit", "--outputFile={junit}", "{tests}"])
    });
    assert!(
        output.stdout.contains("1 of 2 testcases failed"),
        "{}",
        output.stdout
    );
    let cases = report(&dir.path().join("junit.xml"));
    assert_eq!(cases["broken.test.js"], Outcome::Failed);
}
