//! The coverage merge against real reports written by real tools (and two hand-made ones
//! where the tool cannot run here), each sample measured as two shards from two checkouts:
//! see `tests/fixtures/coverage/README.md`. Where the tool can merge its own raw data, the
//! merge must equal it; everywhere, the merged output is pinned by a snapshot.

mod common;
mod coverage_common;

use std::collections::BTreeMap;
use std::io::BufReader;

use common::fixture;
use coverage_common::{assert_same_coverage, covered_lines, parse_cobertura};
use rxdist::coverage::{
    CoverageError, CoverageInput, CoverageOptions, CoverageReport, Format, PathMap, merge, sniff,
};

/// Merges fixture files (relative to `tests/fixtures/coverage`) and returns the output.
fn merge_fixtures(format: Format, names: &[&str], maps: &[&str]) -> (String, CoverageReport) {
    let inputs = names
        .iter()
        .map(|name| {
            let path = fixture(&format!("coverage/{name}"));
            let file = std::fs::File::open(&path).unwrap();
            CoverageInput {
                label: (*name).to_owned(),
                reader: BufReader::new(file),
            }
        })
        .collect();
    let options = CoverageOptions {
        path_maps: maps
            .iter()
            .map(|map| map.parse::<PathMap>().unwrap())
            .collect(),
        ..CoverageOptions::default()
    };
    let mut out = Vec::new();
    let report = merge(format, inputs, &options, &mut out).unwrap();
    for input in &report.inputs {
        assert!(
            input.problem.is_none(),
            "{}: {:?}",
            input.label,
            input.problem
        );
    }
    (String::from_utf8(out).unwrap(), report)
}

fn read_fixture(name: &str) -> String {
    std::fs::read_to_string(fixture(&format!("coverage/{name}"))).unwrap()
}

#[test]
fn every_fixture_is_sniffed_as_its_format() {
    let dir = fixture("coverage");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let expected = match (name.starts_with("jacoco"), extension) {
            (true, _) => Format::Jacoco,
            (false, "xml") => Format::Cobertura,
            (false, "lcov" | "info") => Format::Lcov,
            _ => continue,
        };
        let bytes = std::fs::read(&path).unwrap();
        let head = &bytes[..bytes.len().min(4096)];
        assert_eq!(sniff(head), Some(expected), "{name}");
        seen += 1;
    }
    assert!(seen >= 20, "only {seen} fixtures");
}

#[test]
fn coverage_py_branch_shards_merge_to_what_coverage_combine_says() {
    let (merged, report) = merge_fixtures(
        Format::Cobertura,
        &[
            "coveragepy-branch-shard1.xml",
            "coveragepy-branch-shard2.xml",
        ],
        &[],
    );
    let combined = parse_cobertura(&read_fixture("coveragepy-branch-combined.xml"));
    let ours = parse_cobertura(&merged);
    assert_same_coverage(&ours, &combined);
    assert_eq!(covered_lines(&ours), covered_lines(&combined));
    // Each shard alone covers less than the union.
    for shard in [
        "coveragepy-branch-shard1.xml",
        "coveragepy-branch-shard2.xml",
    ] {
        let alone = parse_cobertura(&read_fixture(shard));
        assert!(alone.root["lines-covered"] < combined.root["lines-covered"]);
    }
    assert_eq!(report.files, 3);
    assert_eq!(
        (report.lines.covered, report.lines.valid),
        (
            combined.root["lines-covered"].parse().unwrap(),
            combined.root["lines-valid"].parse().unwrap()
        )
    );
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    // Both checkouts are named as sources, each as coverage.py wrote it.
    assert_eq!(ours.sources.len(), 2, "{:?}", ours.sources);
    insta::assert_snapshot!("coveragepy_branch", merged);
}

#[test]
fn coverage_py_line_shards_merge_without_branches() {
    let (merged, report) = merge_fixtures(
        Format::Cobertura,
        &["coveragepy-lines-shard1.xml", "coveragepy-lines-shard2.xml"],
        &[],
    );
    let ours = parse_cobertura(&merged);
    assert_eq!(ours.root["branch-rate"], "0");
    assert_eq!(ours.root["branches-valid"], "0");
    let branch = parse_cobertura(&read_fixture("coveragepy-branch-combined.xml"));
    assert_eq!(covered_lines(&ours), covered_lines(&branch));
    assert_eq!(report.branches.valid, 0);
    insta::assert_snapshot!("coveragepy_lines", merged);
}

#[test]
fn branch_and_line_only_reports_merge_with_a_note() {
    let (merged, report) = merge_fixtures(
        Format::Cobertura,
        &[
            "coveragepy-branch-shard1.xml",
            "coveragepy-lines-shard2.xml",
        ],
        &[],
    );
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("1 of 2 Cobertura reports have no branch data")),
        "{:?}",
        report.warnings
    );
    let ours = parse_cobertura(&merged);
    let combined = parse_cobertura(&read_fixture("coveragepy-branch-combined.xml"));
    assert_eq!(covered_lines(&ours), covered_lines(&combined));
}

#[test]
fn coverage_py_lcov_shards_merge_to_the_same_lines() {
    let (merged, report) = merge_fixtures(
        Format::Lcov,
        &["coveragepy-shard1.lcov", "coveragepy-shard2.lcov"],
        &[],
    );
    let combined = parse_cobertura(&read_fixture("coveragepy-branch-combined.xml"));
    assert_eq!(lcov_covered_lines(&merged), covered_lines(&combined));
    assert_eq!(
        report.lines.covered,
        combined.root["lines-covered"].parse::<u64>().unwrap()
    );
    // LCOV counts each branch destination; coverage.py's Cobertura the same ones per line.
    assert_eq!(
        report.branches.covered,
        combined.root["branches-covered"].parse::<u64>().unwrap()
    );
    insta::assert_snapshot!("coveragepy_lcov", merged);
}

/// Covered line numbers per file of an LCOV tracefile.
fn lcov_covered_lines(text: &str) -> BTreeMap<String, Vec<u32>> {
    let mut files: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    let mut file = String::new();
    for line in text.lines() {
        if let Some(path) = line.strip_prefix("SF:") {
            path.clone_into(&mut file);
            files.entry(file.clone()).or_default();
        } else if let Some(data) = line.strip_prefix("DA:") {
            let mut fields = data.split(',');
            let number: u32 = fields.next().unwrap().parse().unwrap();
            let hits: u64 = fields.next().unwrap().parse().unwrap();
            if hits > 0 {
                files.get_mut(&file).unwrap().push(number);
            }
        }
    }
    files
}

#[test]
fn gcovr_cobertura_and_lcov_shards_merge() {
    let (xml, report) = merge_fixtures(
        Format::Cobertura,
        &["gcovr-shard1.xml", "gcovr-shard2.xml"],
        &[],
    );
    let ours = parse_cobertura(&xml);
    // Relative file names under each checkout's own <source>: one file each, not two.
    assert_eq!(report.files, 2);
    let covered = covered_lines(&ours);
    assert_eq!(covered["src/calc.c"].len(), 14, "{covered:?}");
    // gcovr gives branch counts without naming the branches: best evidence, with a note.
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("best of the inputs")),
        "{:?}",
        report.warnings
    );
    insta::assert_snapshot!("gcovr_cobertura", xml);
    let cobertura_branches = report.branches;

    // gcovr's LCOV names files by absolute path in the two checkouts.
    let (lcov, report) = merge_fixtures(
        Format::Lcov,
        &["gcovr-shard1.lcov", "gcovr-shard2.lcov"],
        &[],
    );
    assert_eq!(report.files, 4, "two checkouts, not normalised");
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("calc.c") && w.contains("--path-map")),
        "{:?}",
        report.warnings
    );
    let (lcov, report) = merge_fixtures(
        Format::Lcov,
        &["gcovr-shard1.lcov", "gcovr-shard2.lcov"],
        &[
            &format!("{}=", checkout_root(&lcov, "shard1")),
            &format!("{}=", checkout_root(&lcov, "shard2")),
        ],
    );
    assert_eq!(report.files, 2);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(
        lcov_covered_lines(&lcov)["src/calc.c"],
        covered["src/calc.c"]
    );
    // Exact branch identity: the union of taken branches (only `argc > 1`'s false side was
    // never taken), where the Cobertura merge could only keep the best shard's count per line.
    assert_eq!(
        (report.branches.covered, report.branches.valid),
        (17, 18),
        "{lcov}"
    );
    assert!(cobertura_branches.covered < 17, "{cobertura_branches:?}");
    insta::assert_snapshot!("gcovr_lcov", lcov);
}

/// The checkout directory `…/shardN/c_sample` named in an LCOV file.
fn checkout_root(lcov: &str, shard: &str) -> String {
    let line = lcov
        .lines()
        .find(|line| line.starts_with("SF:") && line.contains(shard))
        .unwrap();
    let path = &line[3..];
    let end = path.find("/c_sample/").unwrap() + "/c_sample".len();
    path[..end].to_owned()
}

#[test]
fn debian_lcov_tracefiles_merge_with_path_maps() {
    let raw = read_fixture("lcov-shard1.info") + &read_fixture("lcov-shard2.info");
    let (merged, report) = merge_fixtures(
        Format::Lcov,
        &["lcov-shard1.info", "lcov-shard2.info"],
        &[
            &format!("{}=", checkout_root(&raw, "shard1")),
            &format!("{}=", checkout_root(&raw, "shard2")),
        ],
    );
    assert_eq!(report.files, 2);
    // regenerate.sh runs both producers on the same checkouts, so the same maps apply.
    let (gcovr, _) = merge_fixtures(
        Format::Lcov,
        &["gcovr-shard1.lcov", "gcovr-shard2.lcov"],
        &[
            &format!("{}=", checkout_root(&raw, "shard1")),
            &format!("{}=", checkout_root(&raw, "shard2")),
        ],
    );
    // Two producers reading the same gcov data agree on the covered lines.
    assert_eq!(lcov_covered_lines(&merged), lcov_covered_lines(&gcovr));
    insta::assert_snapshot!("debian_lcov", merged);
}

#[test]
fn istanbul_shards_merge_in_both_formats() {
    let (xml, report) = merge_fixtures(
        Format::Cobertura,
        &["istanbul-shard1.xml", "istanbul-shard2.xml"],
        &[],
    );
    assert_eq!(report.files, 2);
    let ours = parse_cobertura(&xml);
    let (lcov, lcov_report) = merge_fixtures(
        Format::Lcov,
        &["istanbul-shard1.lcov", "istanbul-shard2.lcov"],
        &[],
    );
    assert_eq!(lcov_report.files, 2);
    assert_eq!(covered_lines(&ours), lcov_covered_lines(&lcov));
    assert_eq!(report.lines, lcov_report.lines);
    insta::assert_snapshot!("istanbul_cobertura", xml);
    insta::assert_snapshot!("istanbul_lcov", lcov);
}

#[test]
fn cargo_llvm_cov_shards_from_two_runners_are_one_file() {
    let (xml, report) = merge_fixtures(
        Format::Cobertura,
        &[
            "handmade-cargo-llvm-cov-shard1.xml",
            "handmade-cargo-llvm-cov-shard2.xml",
        ],
        &[],
    );
    assert_eq!(report.files, 1);
    assert_eq!((report.lines.covered, report.lines.valid), (10, 10));
    let ours = parse_cobertura(&xml);
    assert_eq!(
        ours.sources,
        ["."],
        "both runners' checkout roots are CI roots"
    );
    assert!(xml.contains("<method name=\"shop::tax\" signature=\"\" line-rate=\"1\""));
    insta::assert_snapshot!("cargo_llvm_cov", xml);
}

#[test]
fn coverlet_shards_from_windows_and_linux_are_one_project() {
    let (xml, report) = merge_fixtures(
        Format::Cobertura,
        &[
            "handmade-coverlet-shard1.xml",
            "handmade-coverlet-shard2.xml",
        ],
        &[],
    );
    // Cart.cs and Models/Item.cs (backslashes from Windows made slashes), three classes.
    assert_eq!(report.files, 2);
    let ours = parse_cobertura(&xml);
    assert_eq!(ours.sources, ["src/Shop"]);
    let package = &ours.packages["Shop"];
    assert_eq!(package.attrs["complexity"], "5");
    assert_eq!((report.lines.covered, report.lines.valid), (7, 8));
    insta::assert_snapshot!("coverlet", xml);
}

#[test]
fn jacoco_shards_merge_conservatively_below_the_exec_merge() {
    let (xml, report) = merge_fixtures(
        Format::Jacoco,
        &["jacoco-shard1.xml", "jacoco-shard2.xml"],
        &[],
    );
    assert!(
        report.warnings.iter().any(|w| w.contains("jacococli")),
        "{:?}",
        report.warnings
    );
    let counter = |xml: &str, kind: &str| -> (u64, u64) {
        // The report's own counters are the last ones in the document.
        let tag = format!("<counter type=\"{kind}\" missed=\"");
        let at = xml.rfind(&tag).unwrap() + tag.len();
        let rest = &xml[at..];
        let missed: u64 = rest[..rest.find('"').unwrap()].parse().unwrap();
        let rest = &rest[rest.find("covered=\"").unwrap() + 9..];
        let covered: u64 = rest[..rest.find('"').unwrap()].parse().unwrap();
        (missed, covered)
    };
    let exact = read_fixture("jacoco-combined.xml");
    // A line is covered if any shard covered some of it: exact at line level.
    assert_eq!(counter(&xml, "LINE"), counter(&exact, "LINE"));
    // Instructions and branches: never more than the exact merge, never less than a shard.
    for kind in ["INSTRUCTION", "BRANCH"] {
        let (missed, covered) = counter(&xml, kind);
        let (exact_missed, exact_covered) = counter(&exact, kind);
        assert_eq!(
            missed + covered,
            exact_missed + exact_covered,
            "{kind} total"
        );
        assert!(covered <= exact_covered, "{kind}");
        for shard in ["jacoco-shard1.xml", "jacoco-shard2.xml"] {
            assert!(covered >= counter(&read_fixture(shard), kind).1, "{kind}");
        }
    }
    assert_eq!(report.files, 1);
    insta::assert_snapshot!("jacoco", xml);
}

#[test]
fn broken_inputs_are_reported_and_the_rest_merged() {
    let good = read_fixture("coveragepy-branch-shard1.xml");
    let cut = good.find("<class name=\"text.py\"").unwrap() + 40;
    let truncated = good[..cut].to_owned();
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in good.encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    let junit = std::fs::read(fixture("junit/pytest-xunit2.xml")).unwrap();
    let inputs: Vec<CoverageInput<&[u8]>> = vec![
        CoverageInput {
            label: "truncated".into(),
            reader: truncated.as_bytes(),
        },
        CoverageInput {
            label: "utf16".into(),
            reader: &utf16,
        },
        CoverageInput {
            label: "junit".into(),
            reader: &junit,
        },
        CoverageInput {
            label: "good".into(),
            reader: read_fixture("coveragepy-branch-shard2.xml")
                .leak()
                .as_bytes(),
        },
    ];
    let mut out = Vec::new();
    let report = merge(
        Format::Cobertura,
        inputs,
        &CoverageOptions::default(),
        &mut out,
    )
    .unwrap();
    let problems: Vec<String> = report
        .inputs
        .iter()
        .map(|input| match &input.problem {
            Some(problem) => format!("{}: {problem} ({} files)", input.label, input.files),
            None => format!("{}: ok ({} files)", input.label, input.files),
        })
        .collect();
    insta::assert_snapshot!("broken_inputs", problems.join("\n"));
    // The two files the truncated report held whole are merged; text.py from the good one.
    let ours = parse_cobertura(&String::from_utf8(out).unwrap());
    assert_eq!(ours.packages["sample"].classes.len(), 3);
    assert!(matches!(
        report.inputs[0].problem,
        Some(CoverageError::Truncated { .. })
    ));
    assert!(matches!(
        report.inputs[1].problem,
        Some(CoverageError::Utf16 { .. })
    ));
    assert!(matches!(
        report.inputs[2].problem,
        Some(CoverageError::NotCoverage { .. })
    ));
}

#[test]
fn nothing_readable_is_an_error_and_writes_nothing() {
    let inputs = vec![CoverageInput {
        label: "junit".to_owned(),
        reader: &b"<testsuites/>"[..],
    }];
    let mut out = Vec::new();
    let err = merge(
        Format::Cobertura,
        inputs,
        &CoverageOptions::default(),
        &mut out,
    )
    .unwrap_err();
    assert!(
        matches!(err, CoverageError::NothingReadable { count: 1, .. }),
        "{err}"
    );
    assert!(out.is_empty());
}

/// A file name's extension, in lower case.
fn extension(name: &str) -> String {
    std::path::Path::new(name)
        .extension()
        .map(|extension| extension.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Which fixture names a merge takes.
type Keep = dyn Fn(&str) -> bool;

/// Merges every fixture of `format` (those whose name passes `keep`) with `threads` readers.
fn merge_all(format: Format, keep: &Keep, threads: usize) -> (String, String) {
    let mut names: Vec<String> = std::fs::read_dir(fixture("coverage"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| keep(name))
        .collect();
    names.sort();
    assert!(names.len() >= 3, "{names:?}");
    let inputs = names
        .iter()
        .map(|name| CoverageInput {
            label: name.clone(),
            reader: BufReader::new(
                std::fs::File::open(fixture(&format!("coverage/{name}"))).unwrap(),
            ),
        })
        .collect();
    let options = CoverageOptions {
        threads,
        ..CoverageOptions::default()
    };
    let mut out = Vec::new();
    let report = merge(format, inputs, &options, &mut out).unwrap();
    (String::from_utf8(out).unwrap(), format!("{report:?}"))
}

#[test]
fn reading_on_several_threads_gives_the_same_merge() {
    let cobertura = |name: &str| extension(name) == "xml" && !name.starts_with("jacoco");
    let lcov = |name: &str| matches!(extension(name).as_str(), "lcov" | "info");
    let jacoco = |name: &str| name.starts_with("jacoco");
    let formats: [(Format, &Keep); 3] = [
        (Format::Cobertura, &cobertura),
        (Format::Lcov, &lcov),
        (Format::Jacoco, &jacoco),
    ];
    for (format, keep) in formats {
        let one = merge_all(format, keep, 1);
        assert!(one.0.len() > 500, "{format:?}: {}", one.0);
        for threads in [2, 3, 16] {
            let several = merge_all(format, keep, threads);
            assert!(
                one.0 == several.0,
                "{format:?} on {threads} threads wrote another report"
            );
            assert_eq!(one.1, several.1, "{format:?} on {threads} threads");
        }
    }
}
