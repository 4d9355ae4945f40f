//! The coverage oracle: a real project's suite (boltons, pinned in
//! `tests/oracle-requirements.txt`, fetched as an sdist by `scripts/oracle-sdist.sh`) runs as
//! three shards under `coverage run --branch`, each from a DIFFERENT checkout directory, the
//! way three CI runners would. `rxdist merge` of the three Cobertura reports must say exactly
//! what coverage.py itself says after `coverage combine` (with a `[paths]` section mapping the
//! three checkouts onto one) and `coverage xml`: the same covered lines per file, and the same
//! line and branch counts and rates at every level (root, package, class), line by line the
//! same branch figures and missed branches.

mod common;
mod coverage_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{root, rxdist};
use coverage_common::{assert_same_coverage, covered_lines, parse_cobertura};

/// Runs a helper script of the repository and returns the path it prints.
fn script_output(script: &str) -> PathBuf {
    let output = Command::new(root().join("scripts").join(script))
        .output()
        .unwrap_or_else(|err| panic!("{script} starts: {err}"));
    assert!(
        output.status.success(),
        "{script} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(String::from_utf8(output.stdout).unwrap().trim())
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Runs `python -m coverage ARGS` (or pytest under it) in `dir`, insisting on success.
fn run_python(python: &Path, dir: &Path, args: &[&str]) {
    let output = Command::new(python)
        .args(args)
        .current_dir(dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("COVERAGE_FILE")
        .env_remove("COVERAGE_RCFILE")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?} in {} failed:\n{}\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs one shard's test files under branch coverage in `checkout`; returns its Cobertura
/// report.
fn run_shard(
    python: &Path,
    checkout: &Path,
    files: &[String],
    shard: usize,
    data: &Path,
    rc: &Path,
    work: &Path,
) -> PathBuf {
    let data_file = data.join(format!(".coverage.shard{shard}"));
    let data_arg = format!("--data-file={}", data_file.display());
    let rc_arg = format!("--rcfile={}", rc.display());
    let mut args = vec![
        "-m",
        "coverage",
        "run",
        &rc_arg,
        &data_arg,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
    ];
    args.extend(files.iter().map(String::as_str));
    run_python(python, checkout, &args);
    let report = work.join(format!("shard{shard}.xml"));
    let out = report.display().to_string();
    run_python(
        python,
        checkout,
        &[
            "-m", "coverage", "xml", "-q", &rc_arg, &data_arg, "-o", &out,
        ],
    );
    report
}

/// The oracle: coverage.py's own combination of the shards' data files in `data`, every
/// checkout mapped onto the first by a `[paths]` section; returns `coverage xml`'s report.
fn combine(python: &Path, checkouts: &[PathBuf], data: &Path, work: &Path) -> PathBuf {
    let mut combine_rc =
        String::from("[run]\nbranch = True\nsource = boltons\n[paths]\nboltons =\n");
    for checkout in checkouts {
        combine_rc.push_str("    ");
        combine_rc.push_str(&checkout.join("boltons").display().to_string());
        combine_rc.push('\n');
    }
    let combine_rc_path = work.join("combine.rc");
    std::fs::write(&combine_rc_path, combine_rc).unwrap();
    let rc_arg = format!("--rcfile={}", combine_rc_path.display());
    let combined_data = format!("--data-file={}", data.join(".coverage").display());
    run_python(
        python,
        &checkouts[0],
        &[
            "-m",
            "coverage",
            "combine",
            "-q",
            "--keep",
            &rc_arg,
            &combined_data,
        ],
    );
    let oracle = work.join("combined.xml");
    run_python(
        python,
        &checkouts[0],
        &[
            "-m",
            "coverage",
            "xml",
            "-q",
            &rc_arg,
            &combined_data,
            "-o",
            &oracle.display().to_string(),
        ],
    );
    oracle
}

#[test]
fn merged_shards_equal_coverage_combine() {
    let python = script_output("python-env.sh");
    let sdist = script_output("oracle-sdist.sh");
    let project = sdist.file_name().unwrap().to_owned();
    let work = tempfile::tempdir().unwrap();
    let work = work.path();

    // Three checkouts at different paths and depths.
    let checkouts: Vec<PathBuf> = ["runner-a", "runner-b/work/nested", "c"]
        .iter()
        .map(|dir| work.join(dir).join(&project))
        .collect();
    for checkout in &checkouts {
        copy_tree(&sdist, checkout);
    }
    let mut test_files: Vec<String> = std::fs::read_dir(sdist.join("tests"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| {
            name.starts_with("test_") && Path::new(name).extension().is_some_and(|e| e == "py")
        })
        .collect();
    test_files.sort();
    assert!(test_files.len() >= 20, "{test_files:?}");

    let data = work.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let shard_rc = work.join("shard.rc");
    std::fs::write(&shard_rc, "[run]\nbranch = True\nsource = boltons\n").unwrap();
    // The shards run side by side, like CI jobs.
    let reports: Vec<PathBuf> = std::thread::scope(|scope| {
        let running: Vec<_> = checkouts
            .iter()
            .enumerate()
            .map(|(index, checkout)| {
                let files: Vec<String> = test_files
                    .iter()
                    .skip(index)
                    .step_by(checkouts.len())
                    .map(|name| format!("tests/{name}"))
                    .collect();
                let (python, data, shard_rc, work) = (&python, &data, &shard_rc, &work);
                scope.spawn(move || {
                    run_shard(python, checkout, &files, index + 1, data, shard_rc, work)
                })
            })
            .collect();
        running
            .into_iter()
            .map(|shard| shard.join().unwrap())
            .collect()
    });

    let oracle = combine(&python, &checkouts, &data, work);

    let out_dir = work.join("merged");
    let output = rxdist()
        .args(["merge", "--coverage"])
        .args(&reports)
        .args([Path::new("--out-dir"), &out_dir])
        .run()
        .success();
    assert!(output.stdout.contains("Cobertura"), "{}", output.stdout);
    assert!(
        !output.stderr.contains("warning"),
        "no warning expected: {}",
        output.stderr
    );

    let merged = parse_cobertura(&std::fs::read_to_string(out_dir.join("coverage.xml")).unwrap());
    let combined = parse_cobertura(&std::fs::read_to_string(&oracle).unwrap());
    assert_same_coverage(&merged, &combined);
    assert_eq!(covered_lines(&merged), covered_lines(&combined));
    let classes: usize = combined.packages.values().map(|p| p.classes.len()).sum();
    assert!(classes >= 25, "{classes} files");
    eprintln!(
        "oracle: {classes} files, lines {}/{}, branches {}/{}, equal to coverage combine",
        combined.root["lines-covered"],
        combined.root["lines-valid"],
        combined.root["branches-covered"],
        combined.root["branches-valid"]
    );

    // Not a trivial agreement: every shard alone covers less than the combination, and each
    // shard names its own checkout.
    let combined_covered: u64 = combined.root["lines-covered"].parse().unwrap();
    let combined_branches: u64 = combined.root["branches-covered"].parse().unwrap();
    for (report, checkout) in reports.iter().zip(&checkouts) {
        let shard = parse_cobertura(&std::fs::read_to_string(report).unwrap());
        assert!(shard.root["lines-covered"].parse::<u64>().unwrap() < combined_covered);
        assert!(shard.root["branches-covered"].parse::<u64>().unwrap() < combined_branches);
        assert_eq!(
            shard.sources,
            [checkout.join("boltons").display().to_string()]
        );
    }
}
