//! The action's scripts (`action/*.sh`) run as the runner runs them: each step's inputs as
//! environment variables, a scratch `RUNNER_TEMP`, `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY` files,
//! and the real rxdist. Only what GitHub itself would answer is faked: `rxdist timings fetch`
//! (a wrapper stands in for the API, tested on its own elsewhere) and, for the merge script's
//! choice of reports, `rxdist merge` (a recorder: the merge command is built separately).
#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{fixture, root, rxdist};

/// What a script run left behind.
struct Step {
    code: i32,
    stdout: String,
    stderr: String,
    outputs: BTreeMap<String, String>,
}

/// A fake runner: `RUNNER_TEMP`, the files GitHub reads back, and a bin directory for wrappers.
struct Runner {
    dir: tempfile::TempDir,
}

impl Runner {
    fn new() -> Self {
        let runner = Runner {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir(runner.temp()).unwrap();
        std::fs::create_dir(runner.bin()).unwrap();
        runner
    }

    fn temp(&self) -> PathBuf {
        self.dir.path().join("runner-temp")
    }

    fn bin(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    fn summary(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("summary")).unwrap_or_default()
    }

    /// Writes an executable script into the bin directory.
    fn tool(&self, name: &str, script: &str) -> PathBuf {
        let path = self.bin().join(name);
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// Runs `action/SCRIPT` in `cwd` with the step's `env`, as a job of attempt `attempt`.
    fn step(&self, script: &str, cwd: &Path, env: &[(&str, &str)]) -> Step {
        let output_file = self.dir.path().join("github-output");
        let _ = std::fs::remove_file(&output_file);
        let path = format!(
            "{}:{}",
            self.bin().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut command = Command::new("bash");
        command
            .arg(root().join("action").join(script))
            .current_dir(cwd)
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.dir.path())
            .env("NO_COLOR", "1")
            .env("GITHUB_ACTIONS", "true")
            .env("RUNNER_TEMP", self.temp())
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_STEP_SUMMARY", self.dir.path().join("summary"))
            .env("GITHUB_RUN_ID", "4242")
            .env("GITHUB_RUN_ATTEMPT", "1")
            .env("GITHUB_JOB", "plan")
            .env("GITHUB_REPOSITORY", "octo/shop");
        for name in ["VIRTUAL_ENV", "SYSTEMROOT", "TMPDIR"] {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        let outputs = std::fs::read_to_string(&output_file)
            .unwrap_or_default()
            .lines()
            .map(|line| {
                let (name, value) = line.split_once('=').expect("name=value");
                (name.to_owned(), value.to_owned())
            })
            .collect();
        Step {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            outputs,
        }
    }
}

fn ok(step: Step) -> Step {
    assert_eq!(
        step.code, 0,
        "the step failed\n--- stdout\n{}\n--- stderr\n{}",
        step.stdout, step.stderr
    );
    step
}

/// The example project's two recorded runs as a history file.
fn example_history(path: &Path) {
    for run in ["run-1.xml", "run-2.xml"] {
        rxdist()
            .args(["timings", "record", "--history"])
            .args([path.as_os_str()])
            .args(["--rootdir"])
            .args([root().join("examples/shop").as_os_str()])
            .args(["--input"])
            .args([root().join("examples/reports").join(run).as_os_str()])
            .run()
            .success();
    }
}

/// Stands in for rxdist where GitHub would answer: `timings fetch` copies `FAKE_TIMINGS` to
/// `--history` (or fails with `FAKE_FETCH_EXIT`), recording whether it was given the token; every
/// other command runs the real binary, recording whether it saw a token.
fn rxdist_wrapper(runner: &Runner) -> PathBuf {
    let log = runner.dir.path().join("rxdist-calls");
    let script = format!(
        r#"#!/usr/bin/env bash
set -euo pipefail
printf '%s token=%s\n' "$1 ${{2:-}}" "${{GITHUB_TOKEN:-}}${{RXA_GITHUB_TOKEN:-}}" >> '{log}'
if [[ $1 == timings && ${{2:-}} == fetch ]]; then
  shift 2
  while [[ $# -gt 0 ]]; do
    if [[ $1 == --history ]]; then history=$2; fi
    shift
  done
  if [[ -n ${{FAKE_FETCH_EXIT:-}} ]]; then exit "$FAKE_FETCH_EXIT"; fi
  if [[ -n ${{FAKE_TIMINGS:-}} ]]; then cp "$FAKE_TIMINGS" "$history"; fi
  exit 0
fi
exec '{real}' "$@"
"#,
        log = log.display(),
        real = env!("CARGO_BIN_EXE_rxdist")
    );
    runner.tool("rxdist", &script)
}

fn calls(runner: &Runner) -> String {
    std::fs::read_to_string(runner.dir.path().join("rxdist-calls")).unwrap_or_default()
}

#[test]
fn prepare_names_every_file_and_artifact_per_shard_and_attempt() {
    let runner = Runner::new();
    let step = ok(runner.step(
        "prepare.sh",
        runner.dir.path(),
        &[
            ("RXA_MODE", "shard"),
            ("RXA_NAME", "suite"),
            // Not in a plan's matrix: the strategy's index and total.
            ("RXA_INDEX", ""),
            ("RXA_TOTAL", ""),
            ("RXA_JOB_INDEX", "2"),
            ("RXA_JOB_TOTAL", "3"),
            ("RXA_COVERAGE", "true"),
            ("GITHUB_RUN_ATTEMPT", "2"),
            ("GITHUB_JOB", "tests"),
        ],
    ));
    let dir = runner.temp().join("rxdist-suite");
    let at = |relative: &str| dir.join(relative).display().to_string();
    let expected: BTreeMap<String, String> = [
        ("mode", "run".to_owned()),
        ("dir", dir.display().to_string()),
        ("pinned-name", "suite-history-tests-attempt-2".to_owned()),
        ("pinned-dir", at("pinned")),
        ("shard-dir", at("shard")),
        ("shards-dir", at("shards")),
        ("shard-pattern", "suite-shard-*".to_owned()),
        ("merged-dir", at("merged")),
        ("merged-name", "suite-merged-attempt-2".to_owned()),
        ("publish-dir", at("publish")),
        ("index", "2".to_owned()),
        ("total", "3".to_owned()),
        ("shard-name", "suite-shard-2-of-3-attempt-2".to_owned()),
        ("junit", at("shard/junit-2-of-3-attempt-2.xml")),
        ("coverage", at("shard/coverage-2-of-3-attempt-2.xml")),
        ("timings", at("shard/timings-2-of-3-attempt-2.zst")),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect();
    assert_eq!(step.outputs, expected);

    // The plan's matrix wins over the strategy, and without coverage there is no coverage file.
    let step = ok(runner.step(
        "prepare.sh",
        runner.dir.path(),
        &[
            ("RXA_MODE", "run"),
            ("RXA_INDEX", "0"),
            ("RXA_TOTAL", "4"),
            ("RXA_JOB_INDEX", "3"),
            ("RXA_JOB_TOTAL", "4"),
        ],
    ));
    assert_eq!(step.outputs["shard-name"], "rxdist-shard-0-of-4-attempt-1");
    assert!(!step.outputs.contains_key("coverage"));
}

#[test]
fn prepare_refuses_bad_inputs_with_an_annotation() {
    let runner = Runner::new();
    for (env, message) in [
        (vec![("RXA_MODE", "deploy")], "unknown mode 'deploy'"),
        (vec![("RXA_MODE", "")], "the mode input is required"),
        (
            vec![("RXA_MODE", "plan"), ("RXA_NAME", "a/b")],
            "name must be letters, digits",
        ),
        (vec![("RXA_MODE", "run")], "run mode needs the shard"),
        (
            vec![("RXA_MODE", "run"), ("RXA_INDEX", "3"), ("RXA_TOTAL", "3")],
            "index 3 is not below total 3",
        ),
        (
            vec![
                ("RXA_MODE", "run"),
                ("RXA_INDEX", "$(touch pwned)"),
                ("RXA_TOTAL", "3"),
            ],
            "index must be a whole number",
        ),
        (
            vec![("RXA_MODE", "merge"), ("RXA_COVERAGE", "yes")],
            "coverage must be 'true' or 'false'",
        ),
    ] {
        let step = runner.step("prepare.sh", runner.dir.path(), &env);
        assert_eq!(step.code, 1, "{env:?}: {}", step.stderr);
        assert!(step.stderr.contains(message), "{env:?}: {}", step.stderr);
        assert!(
            step.stdout
                .starts_with(&format!("::error title=rxdist::{message}")),
            "{env:?}: {}",
            step.stdout
        );
    }
    assert!(!runner.dir.path().join("pwned").exists());
}

/// The plan step's environment, as action.yml gives it.
fn plan_env<'a>(
    runner: &'a Runner,
    tests: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, String)> {
    let pinned = runner.temp().join("rxdist-rxdist/pinned");
    let mut env = vec![
        ("RXA_BIN", runner.bin().join("rxdist").display().to_string()),
        ("RXA_GITHUB_TOKEN", "ghs_secret".to_owned()),
        ("RXA_HISTORY_ARTIFACT", "rxdist-timings".to_owned()),
        ("RXA_HISTORY_BRANCH", String::new()),
        ("RXA_REQUIRE_TIMINGS", "false".to_owned()),
        ("RXA_SHARDS", "3".to_owned()),
        ("RXA_TESTS", tests.to_owned()),
        ("RXA_ARGS", String::new()),
        ("RXA_PINNED_DIR", pinned.display().to_string()),
        (
            "RXA_PINNED_NAME",
            "rxdist-history-plan-attempt-1".to_owned(),
        ),
    ];
    for (name, value) in extra {
        env.retain(|(existing, _)| existing != name);
        env.push((name, (*value).to_owned()));
    }
    env
}

fn borrowed<'a>(env: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    env.iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect()
}

#[test]
fn plan_pins_the_fetched_timings_and_outputs_the_matrix() {
    let runner = Runner::new();
    rxdist_wrapper(&runner);
    let timings = runner.dir.path().join("published.zst");
    example_history(&timings);
    let tests = fixture("plan/example-collected.txt");
    let tests = tests.to_str().unwrap();
    let timings_path = timings.display().to_string();
    let env = plan_env(&runner, tests, &[("FAKE_TIMINGS", timings_path.as_str())]);
    let step = ok(runner.step("plan.sh", runner.dir.path(), &borrowed(&env)));

    // The fetched bytes are pinned as they are, beside a note saying where they came from.
    let pinned = runner.temp().join("rxdist-rxdist/pinned");
    assert_eq!(
        std::fs::read(pinned.join("history.zst")).unwrap(),
        std::fs::read(&timings).unwrap()
    );
    assert!(
        std::fs::read_to_string(pinned.join("README.txt"))
            .unwrap()
            .contains("workflow run 4242 (attempt 1) fetched from the newest 'rxdist-timings'")
    );

    // The matrix is rxdist's own, each entry naming the pinned artifact.
    let matrix: serde_json::Value = serde_json::from_str(&step.outputs["matrix"]).unwrap();
    let entries = matrix["include"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    let mut tests_total = 0;
    let mut predicted = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        assert_eq!(entry["history"], "rxdist-history-plan-attempt-1");
        assert_eq!(entry["index"], index);
        assert_eq!(entry["total"], 3);
        tests_total += entry["tests"].as_u64().unwrap();
        predicted.push(entry["predicted_seconds"].as_f64().unwrap());
    }
    assert_eq!(tests_total, 35);
    let max = predicted.iter().copied().fold(0.0, f64::max);
    let mean = predicted.iter().sum::<f64>() / 3.0;
    assert_eq!(step.outputs["total"], "3");
    assert_eq!(
        step.outputs["predicted-imbalance"],
        format!("{:.3}", max / mean)
    );
    assert_eq!(step.outputs["predicted-seconds"], format!("{max:.3}"));
    assert_eq!(step.outputs["history"], "rxdist-history-plan-attempt-1");
    assert_eq!(step.outputs["timings"], "true");

    // The job summary shows the split.
    let summary = runner.summary();
    assert!(
        summary.starts_with("### rxdist plan: 3 shards\n"),
        "{summary}"
    );
    assert_eq!(summary.matches("\n| ").count(), 4, "{summary}");

    // Only the fetch saw the token: not the plan, whose collection runs the project's code.
    let calls = calls(&runner);
    assert_eq!(
        calls, "timings fetch token=ghs_secret\nplan --history token=\n",
        "{calls}"
    );
}

#[test]
fn plan_without_timings_warns_and_splits_by_count() {
    let runner = Runner::new();
    rxdist_wrapper(&runner);
    let tests = fixture("plan/example-collected.txt");
    let env = plan_env(
        &runner,
        tests.to_str().unwrap(),
        &[("FAKE_FETCH_EXIT", "1"), ("RXA_SHARDS", "2")],
    );
    let step = ok(runner.step("plan.sh", runner.dir.path(), &borrowed(&env)));
    assert!(
        step.stdout.contains(
            "::warning title=rxdist::rxdist timings fetch exited with 1: planning without timings"
        ),
        "{}",
        step.stdout
    );
    assert_eq!(step.outputs["timings"], "false");
    assert_eq!(step.outputs["total"], "2");
    let pinned = runner.temp().join("rxdist-rxdist/pinned");
    assert!(!pinned.join("history.zst").exists());
    assert!(
        std::fs::read_to_string(pinned.join("README.txt"))
            .unwrap()
            .starts_with("No timings were found")
    );

    // With require-timings the same fetch fails the step.
    let env = plan_env(
        &runner,
        tests.to_str().unwrap(),
        &[("FAKE_FETCH_EXIT", "1"), ("RXA_REQUIRE_TIMINGS", "true")],
    );
    let step = runner.step("plan.sh", runner.dir.path(), &borrowed(&env));
    assert_eq!(step.code, 1);
    assert!(
        step.stderr.contains("require-timings is set"),
        "{}",
        step.stderr
    );
}

#[test]
fn inputs_are_words_never_shell_code() {
    // args and command are split on whitespace and passed as they are: no substitution, no
    // globbing, no second command.
    let runner = Runner::new();
    let log = runner.dir.path().join("argv");
    let recorder = runner.tool(
        "recorder",
        &format!(
            "#!/usr/bin/env bash\nprintf '%s\\n' \"$@\" > '{}'\n",
            log.display()
        ),
    );
    let shard = runner.temp().join("shard");
    let recorder = recorder.display().to_string();
    let shard_dir = shard.display().to_string();
    let junit = shard.join("junit.xml").display().to_string();
    let timings = shard.join("timings.zst").display().to_string();
    let pinned = runner.temp().join("pinned").display().to_string();
    let step = runner.step(
        "run.sh",
        runner.dir.path(),
        &[
            ("RXA_BIN", recorder.as_str()),
            ("RXA_INDEX", "0"),
            ("RXA_TOTAL", "1"),
            ("RXA_WORKERS", "2"),
            (
                "RXA_COMMAND",
                "pytest $(touch pwned) `touch pwned2`\n  -k 'a or b' *",
            ),
            ("RXA_ARGS", "--retries 2; touch pwned3"),
            ("RXA_COVERAGE", "false"),
            ("RXA_PINNED_DIR", pinned.as_str()),
            ("RXA_SHARD_DIR", shard_dir.as_str()),
            ("RXA_JUNIT", junit.as_str()),
            ("RXA_COVERAGE_OUT", ""),
            ("RXA_TIMINGS", timings.as_str()),
        ],
    );
    assert_eq!(step.code, 0, "{}", step.stderr);
    let argv = std::fs::read_to_string(&log).unwrap();
    let expected = [
        "run",
        "--index",
        "0",
        "--total",
        "1",
        "-n",
        "2",
        "--history",
        &timings,
        "--junit-out",
        &junit,
        "--retries",
        "2;",
        "touch",
        "pwned3",
        "--",
        "pytest",
        "$(touch",
        "pwned)",
        "`touch",
        "pwned2`",
        "-k",
        "'a",
        "or",
        "b'",
        "*",
    ]
    .join("\n")
        + "\n";
    assert_eq!(argv, expected);
    for file in ["pwned", "pwned2", "pwned3"] {
        assert!(!runner.dir.path().join(file).exists());
    }
    assert!(
        step.stdout
            .contains("::warning title=rxdist::no pinned timings"),
        "{}",
        step.stdout
    );
}

#[test]
fn run_leaves_the_shard_report_and_timings_under_their_names() {
    // The real thing: prepare, then one shard of three of the example project on two workers.
    let runner = Runner::new();
    let pinned = runner.temp().join("rxdist-rxdist/pinned");
    std::fs::create_dir_all(&pinned).unwrap();
    example_history(&pinned.join("history.zst"));
    let prepared = ok(runner.step(
        "prepare.sh",
        runner.dir.path(),
        &[("RXA_MODE", "run"), ("RXA_INDEX", "1"), ("RXA_TOTAL", "3")],
    ));
    let o = |name: &str| prepared.outputs[name].clone();
    let real = env!("CARGO_BIN_EXE_rxdist");
    let step = ok(runner.step(
        "run.sh",
        &root().join("examples/shop"),
        &[
            ("RXA_BIN", real),
            ("RXA_INDEX", &o("index")),
            ("RXA_TOTAL", &o("total")),
            ("RXA_WORKERS", "2"),
            ("RXA_COMMAND", "python -m pytest -q -p no:cacheprovider"),
            ("RXA_ARGS", ""),
            ("RXA_COVERAGE", "false"),
            ("RXA_PINNED_DIR", &o("pinned-dir")),
            ("RXA_SHARD_DIR", &o("shard-dir")),
            ("RXA_JUNIT", &o("junit")),
            ("RXA_COVERAGE_OUT", ""),
            ("RXA_TIMINGS", &o("timings")),
        ],
    ));
    let printed = format!("{}{}", step.stdout, step.stderr);
    assert!(printed.contains(" passed"), "{printed}");
    let mut files: Vec<String> = std::fs::read_dir(o("shard-dir"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["junit-1-of-3-attempt-1.xml", "timings-1-of-3-attempt-1.zst"]
    );
    let report = std::fs::read_to_string(o("junit")).unwrap();
    assert!(
        report.contains("<property name=\"rxdist.shard\" value=\"2/3\"/>"),
        "{report}"
    );
    // The shard's timings are the pinned ones plus this run; the pinned file is untouched.
    let shown = rxdist()
        .args(["timings", "show", "--history", &o("timings")])
        .run()
        .success();
    assert!(shown.stdout.contains("runs      3"), "{}", shown.stdout);
}

/// A recorder standing in for rxdist in the merge script: it logs each command line and
/// writes what `rxdist merge --out-dir D` and `rxdist timings record --history H` would.
fn merge_recorder(runner: &Runner, merge_exit: i32) -> PathBuf {
    let log = runner.dir.path().join("rxdist-calls");
    runner.tool(
        "rxdist-recorder",
        &format!(
            r#"#!/usr/bin/env bash
printf '%s\n' "$*" >> '{log}'
while [[ $# -gt 0 ]]; do
  case $1 in
    --out-dir) printf '<testsuites/>\n' > "$2/junit.xml" ;;
    --history) printf 'history\n' >> "$2" ;;
  esac
  shift
done
exit {merge_exit}
"#,
            log = log.display()
        ),
    )
}

fn merge_env(runner: &Runner, recorder: &Path) -> Vec<(&'static str, String)> {
    let dir = runner.temp().join("rxdist-rxdist");
    vec![
        ("RXA_BIN", recorder.display().to_string()),
        ("RXA_ARGS", String::new()),
        ("RXA_SHARDS_DIR", dir.join("shards").display().to_string()),
        ("RXA_PINNED_DIR", dir.join("pinned").display().to_string()),
        ("RXA_MERGED_DIR", dir.join("merged").display().to_string()),
        ("RXA_PUBLISH_DIR", dir.join("publish").display().to_string()),
    ]
}

/// Writes empty shard files named as prepare.sh names them.
fn shard_files(runner: &Runner, names: &[&str]) -> PathBuf {
    let shards = runner.temp().join("rxdist-rxdist/shards");
    std::fs::create_dir_all(&shards).unwrap();
    for name in names {
        std::fs::write(shards.join(name), "").unwrap();
    }
    shards
}

#[test]
fn merge_takes_the_newest_attempt_of_every_shard() {
    let runner = Runner::new();
    let recorder = merge_recorder(&runner, 0);
    let shards = shard_files(
        &runner,
        &[
            "junit-0-of-3-attempt-1.xml",
            "coverage-0-of-3-attempt-1.xml",
            "junit-1-of-3-attempt-1.xml",
            "coverage-1-of-3-attempt-1.xml",
            // Shard 1 failed and was re-run.
            "junit-1-of-3-attempt-2.xml",
            "coverage-1-of-3-attempt-2.xml",
            "timings-1-of-3-attempt-2.zst",
            "junit-2-of-3-attempt-1.xml",
            "coverage-2-of-3-attempt-1.xml",
        ],
    );
    let pinned = runner.temp().join("rxdist-rxdist/pinned");
    std::fs::create_dir_all(&pinned).unwrap();
    std::fs::write(pinned.join("history.zst"), "pinned\n").unwrap();
    let env = merge_env(&runner, &recorder);
    let step = ok(runner.step("merge.sh", runner.dir.path(), &borrowed(&env)));

    let s = |name: &str| shards.join(name).display().to_string();
    let merged = runner.temp().join("rxdist-rxdist/merged");
    let publish = runner.temp().join("rxdist-rxdist/publish/history.zst");
    let expected = format!(
        "merge --out-dir {} --junit {} --junit {} --junit {} --coverage {} --coverage {} --coverage {}\n\
         timings record --history {} --input {} --input {} --input {}\n",
        merged.display(),
        s("junit-0-of-3-attempt-1.xml"),
        s("junit-1-of-3-attempt-2.xml"),
        s("junit-2-of-3-attempt-1.xml"),
        s("coverage-0-of-3-attempt-1.xml"),
        s("coverage-1-of-3-attempt-2.xml"),
        s("coverage-2-of-3-attempt-1.xml"),
        publish.display(),
        s("junit-0-of-3-attempt-1.xml"),
        s("junit-1-of-3-attempt-2.xml"),
        s("junit-2-of-3-attempt-1.xml"),
    );
    assert_eq!(calls(&runner), expected);
    assert_eq!(step.outputs["complete"], "true");
    assert_eq!(step.outputs["shards"], "3");
    assert_eq!(
        step.outputs["junit"],
        merged.join("junit.xml").display().to_string()
    );
    assert!(!step.outputs.contains_key("coverage"));
    // The published history starts from the pinned one.
    assert_eq!(
        std::fs::read_to_string(&publish).unwrap(),
        "pinned\nhistory\n"
    );
}

#[test]
fn merge_without_every_shard_is_incomplete_and_a_failed_merge_fails() {
    let runner = Runner::new();
    let recorder = merge_recorder(&runner, 0);
    // A full re-run planned 2 shards; only the newest plan counts, and its shard 1 is missing.
    shard_files(
        &runner,
        &[
            "junit-0-of-3-attempt-1.xml",
            "junit-1-of-3-attempt-1.xml",
            "junit-2-of-3-attempt-1.xml",
            "junit-0-of-2-attempt-2.xml",
        ],
    );
    let env = merge_env(&runner, &recorder);
    let step = ok(runner.step("merge.sh", runner.dir.path(), &borrowed(&env)));
    assert_eq!(step.outputs["complete"], "false");
    assert_eq!(step.outputs["shards"], "2");
    assert!(
        step.stdout.contains(
            "::warning title=rxdist::no report from shard(s) 1 of 2: merging the 1 found"
        ),
        "{}",
        step.stdout
    );
    assert_eq!(calls(&runner).matches("--junit").count(), 1);

    // rxdist merge failing fails the step, and the reports it could write are still named.
    let runner = Runner::new();
    let recorder = merge_recorder(&runner, 1);
    shard_files(&runner, &["junit-0-of-1-attempt-1.xml"]);
    let env = merge_env(&runner, &recorder);
    let step = runner.step("merge.sh", runner.dir.path(), &borrowed(&env));
    assert_eq!(step.code, 1);
    assert!(step.outputs.contains_key("junit"));

    // No report at all is an error that says where it looked.
    let runner = Runner::new();
    let recorder = merge_recorder(&runner, 0);
    let env = merge_env(&runner, &recorder);
    let step = runner.step("merge.sh", runner.dir.path(), &borrowed(&env));
    assert_eq!(step.code, 1);
    assert!(
        step.stderr.contains("no shard reports were downloaded"),
        "{}",
        step.stderr
    );
}
