//! End-to-end tests of `rxdist merge` on the real binary, with reports written by the real
//! pytest and coverage.py: three shards of the example project, each run from its own
//! checkout directory, as three CI runners would.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{root, rxdist};

/// The example project's test files, dealt into three shards.
const SHARDS: [&[&str]; 3] = [
    &["tests/test_cart.py", "tests/test_returns.py"],
    &["tests/test_checkout.py", "tests/integration"],
    &["tests/test_inventory.py", "tests/test_pricing.py"],
];

/// Reports of one whole run and of three shards, made once for all tests of this file.
struct Reports {
    /// Keeps the directory alive.
    _dir: tempfile::TempDir,
    /// `pytest` over the whole project.
    whole: PathBuf,
    /// `shard-N/junit.xml` and `shard-N/coverage.xml` for N in 1..=3.
    shards: PathBuf,
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "__pycache__" || name == ".pytest_cache" || name == ".coverage" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &to.join(&name));
        } else {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

fn pytest(checkout: &Path, junit: &Path, coverage: Option<&Path>, selection: &[&str]) {
    let mut command = Command::new("python3");
    command
        .current_dir(checkout)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-o"])
        .arg("junit_family=xunit1")
        .arg(format!("--junitxml={}", junit.display()));
    if let Some(coverage) = coverage {
        command
            .arg("--cov=shop")
            .arg("--cov-branch")
            .arg(format!("--cov-report=xml:{}", coverage.display()))
            .env("COVERAGE_FILE", checkout.join(".coverage"));
    }
    let status = command.args(selection).status().unwrap();
    // The example has no failing tests: 0 is the only acceptable status.
    assert!(status.success(), "pytest failed in {}", checkout.display());
}

fn reports() -> &'static Reports {
    static REPORTS: OnceLock<Reports> = OnceLock::new();
    REPORTS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let project = root().join("examples/shop");
        let whole_checkout = dir.path().join("whole");
        copy_tree(&project, &whole_checkout);
        let whole = dir.path().join("whole.xml");
        pytest(&whole_checkout, &whole, None, &[]);
        let shards = dir.path().join("artifacts");
        for (number, selection) in SHARDS.iter().enumerate() {
            let number = number + 1;
            // A different checkout directory per shard, as on different CI runners.
            let checkout = dir.path().join(format!("runner-{number}/work/shop"));
            copy_tree(&project, &checkout);
            let out = shards.join(format!("shard-{number}"));
            std::fs::create_dir_all(&out).unwrap();
            pytest(
                &checkout,
                &out.join("junit.xml"),
                Some(&out.join("coverage.xml")),
                selection,
            );
        }
        Reports {
            _dir: dir,
            whole,
            shards,
        }
    })
}

/// `(classname, name)` of every testcase, sorted, and the root's counters.
fn testcases(path: &Path) -> (Vec<(String, String)>, BTreeMap<String, String>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut cases = Vec::new();
    let mut root = BTreeMap::new();
    let mut depth = 0;
    loop {
        let event = reader.read_event().unwrap();
        let (start, empty) = match &event {
            quick_xml::events::Event::Start(start) => (Some(start), false),
            quick_xml::events::Event::Empty(start) => (Some(start), true),
            quick_xml::events::Event::End(_) => {
                depth -= 1;
                (None, false)
            }
            quick_xml::events::Event::Eof => break,
            _ => (None, false),
        };
        if let Some(start) = start {
            let attributes: BTreeMap<String, String> = start
                .attributes()
                .map(|attribute| {
                    let attribute = attribute.unwrap();
                    (
                        attribute.key.as_ref().to_owned(),
                        quick_xml::escape::unescape(&attribute.value)
                            .unwrap()
                            .into_owned(),
                    )
                })
                .collect();
            if depth == 0 {
                root = attributes.clone();
            }
            if start.name().as_ref() == "testcase" {
                cases.push((
                    attributes.get("classname").cloned().unwrap_or_default(),
                    attributes["name"].clone(),
                ));
            }
            if !empty {
                depth += 1;
            }
        }
    }
    cases.sort();
    (cases, root)
}

fn shard_glob(file: &str) -> String {
    format!("{}/shard-*/{file}", reports().shards.display())
}

#[test]
fn the_merged_shards_hold_exactly_the_tests_of_one_whole_run() {
    let out = tempfile::tempdir().unwrap();
    let output = rxdist()
        .args(["merge", "--junit", &shard_glob("junit.xml"), "--out-dir"])
        .args([out.path()])
        .run()
        .success();
    let (merged, root) = testcases(&out.path().join("junit.xml"));
    let (whole, _) = testcases(&reports().whole);
    assert_eq!(merged, whole);
    assert_eq!(root["tests"], whole.len().to_string());
    assert_eq!(root["failures"], "0");
    assert!(
        output.stdout.contains(&format!(
            "merged 3 JUnit reports into {}",
            out.path().join("junit.xml").display()
        )),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains(&format!("{} tests", whole.len())),
        "{}",
        output.stdout
    );
}

#[test]
fn merging_is_byte_identical_however_the_inputs_are_named_and_ordered() {
    let shards = &reports().shards;
    let first = tempfile::tempdir().unwrap();
    rxdist()
        .args(["merge", "--out-dir"])
        .args([first.path()])
        .args(["--junit"])
        .args((1..=3).map(|n| shards.join(format!("shard-{n}/junit.xml"))))
        .run()
        .success();
    // The same files by directory, reversed on the command line, and as .zst.
    let compressed = tempfile::tempdir().unwrap();
    for n in 1..=3 {
        let bytes = std::fs::read(shards.join(format!("shard-{n}/junit.xml"))).unwrap();
        let dir = compressed.path().join(format!("shard-{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("junit.xml.zst"),
            zstd::encode_all(&bytes[..], 3).unwrap(),
        )
        .unwrap();
    }
    let second = tempfile::tempdir().unwrap();
    rxdist()
        .args(["merge", "--out-dir"])
        .args([second.path()])
        .args(["--junit"])
        .args(
            (1..=3)
                .rev()
                .map(|n| compressed.path().join(format!("shard-{n}"))),
        )
        .run()
        .success();
    assert_eq!(
        std::fs::read(first.path().join("junit.xml")).unwrap(),
        std::fs::read(second.path().join("junit.xml")).unwrap()
    );
}

#[test]
fn a_rerun_job_uploading_its_report_twice_changes_nothing() {
    let shards = &reports().shards;
    let dir = tempfile::tempdir().unwrap();
    // Attempt 2 of shard 2 uploaded beside attempt 1.
    std::fs::copy(
        shards.join("shard-2/junit.xml"),
        dir.path().join("shard-2-attempt-2.xml"),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let output = rxdist()
        .args(["merge", "--junit", &shard_glob("junit.xml")])
        .args([dir.path()])
        .args(["--out-dir"])
        .args([out.path()])
        .run()
        .success();
    let (merged, _) = testcases(&out.path().join("junit.xml"));
    let (whole, _) = testcases(&reports().whole);
    assert_eq!(merged, whole);
    assert!(
        output.stdout.contains("repeated results folded"),
        "{}",
        output.stdout
    );
    let kept = rxdist()
        .args([
            "merge",
            "--retries",
            "keep",
            "--junit",
            &shard_glob("junit.xml"),
        ])
        .args([dir.path()])
        .args(["--out-dir"])
        .args([out.path()])
        .run()
        .success();
    assert!(!kept.stdout.contains("folded"), "{}", kept.stdout);
    let (kept_cases, _) = testcases(&out.path().join("junit.xml"));
    assert!(kept_cases.len() > whole.len());
}

#[test]
fn a_broken_shard_is_reported_and_the_others_are_still_merged() {
    let shards = &reports().shards;
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(shards.join("shard-1/junit.xml")).unwrap();
    let truncated = dir.path().join("shard-1-truncated.xml");
    std::fs::write(&truncated, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let utf16 = dir.path().join("shard-4-utf16.xml");
    let wide: Vec<u8> = "\u{feff}<testsuites/>"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    std::fs::write(&utf16, wide).unwrap();
    let out = tempfile::tempdir().unwrap();
    let command = || {
        rxdist()
            .args(["merge", "--out-dir"])
            .args([out.path()])
            .args(["--junit"])
            .args([
                truncated.clone(),
                utf16.clone(),
                shards.join("shard-2/junit.xml"),
                shards.join("shard-3/junit.xml"),
                dir.path().join("shard-5-missing.xml"),
            ])
    };
    let output = command().run().expect_code(4);
    for name in [
        "shard-1-truncated.xml",
        "shard-4-utf16.xml",
        "shard-5-missing.xml",
    ] {
        assert!(output.stderr.contains(name), "{name}: {}", output.stderr);
    }
    assert!(
        output.stderr.contains("--allow-broken"),
        "{}",
        output.stderr
    );
    let (merged, _) = testcases(&out.path().join("junit.xml"));
    let (shard_2, _) = testcases(&shards.join("shard-2/junit.xml"));
    let (shard_3, _) = testcases(&shards.join("shard-3/junit.xml"));
    assert!(
        merged.len() > shard_2.len() + shard_3.len(),
        "the truncated shard's complete testcases are kept"
    );
    command().args(["--allow-broken"]).run().success();
}

#[test]
fn nothing_to_merge_and_bad_flags_have_their_own_exit_codes() {
    let out = tempfile::tempdir().unwrap();
    let nothing = rxdist()
        .args(["merge", "--junit", "no-such-dir/*.xml", "--out-dir"])
        .args([out.path()])
        .run()
        .expect_code(5);
    assert!(
        nothing.stderr.contains("no-such-dir/*.xml"),
        "{}",
        nothing.stderr
    );
    let no_out = rxdist()
        .args(["merge", "--junit", &shard_glob("junit.xml")])
        .run()
        .expect_code(2);
    assert!(no_out.stderr.contains("--out-dir"), "{}", no_out.stderr);
    rxdist()
        .args(["merge", "--out-dir"])
        .args([out.path()])
        .run()
        .expect_code(2);
    let bad_map = rxdist()
        .args([
            "merge",
            "--coverage",
            &shard_glob("coverage.xml"),
            "--path-map",
            "nothing",
        ])
        .args(["--out-dir"])
        .args([out.path()])
        .run()
        .expect_code(2);
    assert!(bad_map.stderr.contains("FROM=TO"), "{}", bad_map.stderr);
}

#[test]
fn the_merged_run_is_recorded_into_the_history() {
    let out = tempfile::tempdir().unwrap();
    let history = out.path().join("history.zst");
    rxdist()
        .args(["merge", "--junit", &shard_glob("junit.xml"), "--out-dir"])
        .args([out.path().join("merged")])
        .args(["--history"])
        .args([&history])
        .run()
        .success();
    let show = rxdist()
        .args(["timings", "show", "--format", "json", "--history"])
        .args([&history])
        .run()
        .success();
    let summary: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
    let (whole, _) = testcases(&reports().whole);
    assert_eq!(summary["runs"], 1);
    assert_eq!(summary["tests"], whole.len());
}

#[test]
fn shards_from_different_checkouts_merge_into_one_entry_per_source_file() {
    let out = tempfile::tempdir().unwrap();
    // Both kinds from one directory tree: each flag picks its own kind of report.
    let output = rxdist()
        .args(["merge", "--junit"])
        .args([&reports().shards])
        .args(["--coverage"])
        .args([&reports().shards])
        .args(["--out-dir"])
        .args([out.path()])
        .run()
        .success();
    assert!(
        output.stdout.contains("merged 3 Cobertura reports"),
        "{}",
        output.stdout
    );
    let text = std::fs::read_to_string(out.path().join("coverage.xml")).unwrap();
    let filenames: Vec<&str> = text
        .match_indices("filename=\"")
        .map(|(at, _)| {
            let rest = &text[at + 10..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    let mut unique = filenames.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(filenames.len(), unique.len(), "{filenames:?}");
    assert!(
        unique.iter().any(|name| name.ends_with("cart.py")),
        "{unique:?}"
    );
    // No temporary files are left beside the outputs.
    let mut names: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, vec!["coverage.xml", "junit.xml"]);
}

#[test]
fn reports_of_the_other_kind_are_noted_only_when_nothing_merges_them() {
    // Each shard's directory holds its JUnit and its Cobertura report, as an artifact does.
    let shards = reports().shards.display().to_string();
    let both = tempfile::tempdir().unwrap();
    let output = rxdist()
        .args([
            "merge",
            "--junit",
            &shards,
            "--coverage",
            &shards,
            "--out-dir",
        ])
        .args([both.path()])
        .run()
        .success();
    assert!(!output.stderr.contains("left out"), "{}", output.stderr);
    assert!(both.path().join("junit.xml").is_file());
    assert!(both.path().join("coverage.xml").is_file());

    let junit_only = tempfile::tempdir().unwrap();
    let output = rxdist()
        .args(["merge", "--junit", &shards, "--out-dir"])
        .args([junit_only.path()])
        .run()
        .success();
    assert!(
        output.stderr.contains(
            "note: --junit matched 3 files that are coverage reports, not JUnit; they were left \
             out (--coverage merges them)"
        ),
        "{}",
        output.stderr
    );
    assert!(!junit_only.path().join("coverage.xml").exists());
}

/// Whether `dir` holds a temporary file of an output being written.
#[cfg(unix)]
fn writing(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().any(|entry| {
        entry
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".rxdist-")
    })
}

#[cfg(unix)]
#[test]
fn a_signal_stops_the_merge_and_leaves_the_earlier_report_as_it_was() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    use std::fmt::Write as _;
    use std::time::{Duration, Instant};

    // Large enough (about 40 MB) that the merge is still running when its output's temporary
    // file is seen.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.xml");
    let mut xml = String::from(r#"<testsuites><testsuite name="big">"#);
    for number in 0..600_000 {
        let _ = write!(
            xml,
            r#"<testcase classname="tests.test_big" name="test_{number}" time="0.001"/>"#
        );
    }
    xml.push_str("</testsuite></testsuites>");
    std::fs::write(&input, xml).unwrap();
    for (signal, code, word) in [
        (Signal::SIGINT, 130, "interrupted"),
        (Signal::SIGTERM, 143, "terminated"),
    ] {
        let out = dir.path().join(format!("out-{code}"));
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join("junit.xml"), "an earlier merge").unwrap();
        let mut child = rxdist()
            .args(["merge", "--junit"])
            .args([&input])
            .args(["--out-dir"])
            .args([&out])
            .spawn();
        let started = Instant::now();
        while !writing(&out) {
            assert!(
                child.try_wait().unwrap().is_none(),
                "the merge ended before it was seen writing"
            );
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no output begun"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
        kill(pid, signal).unwrap();
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "{word}: the merge stopped; no merged report was written, and nothing was \
                 recorded into the history"
            )),
            "{stderr}"
        );
        assert_eq!(
            std::fs::read_to_string(out.join("junit.xml")).unwrap(),
            "an earlier merge"
        );
        assert!(!writing(&out), "the temporary file is removed");
    }
}
