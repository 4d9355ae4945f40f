#![expect(
    clippy::format_push_string,
    reason = "test documents are built by appending formatted pieces"
)]

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::{intersect, parse_condition};
use crate::coverage::{CoverageInput, CoverageOptions, CoverageReport, Format, merge};

/// Merges Cobertura documents given as text.
fn merge_texts(texts: &[&str]) -> (String, CoverageReport) {
    let inputs = texts
        .iter()
        .enumerate()
        .map(|(index, text)| CoverageInput {
            label: format!("input {index}"),
            reader: text.as_bytes(),
        })
        .collect();
    let mut out = Vec::new();
    let report = merge(
        Format::Cobertura,
        inputs,
        &CoverageOptions::default(),
        &mut out,
    )
    .unwrap();
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

/// The output without its comment lines (which count the inputs).
fn body(output: &str) -> String {
    output
        .lines()
        .filter(|line| !line.trim_start().starts_with("<!--"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One line of a generated report.
#[derive(Debug, Clone)]
struct GenLine {
    hits: u64,
    /// (total, missed destinations) when exact, (total, covered) when not.
    branch: Option<GenBranch>,
}

#[derive(Debug, Clone)]
enum GenBranch {
    Exact { missing: Vec<&'static str> },
    Counted { total: u32, covered: u32 },
}

/// Every branch line has the same destinations in every report, like one source file.
const DESTINATIONS: [&str; 3] = ["exit", "7", "12"];

type GenReport = BTreeMap<&'static str, BTreeMap<u32, GenLine>>;

fn line_strategy() -> impl Strategy<Value = GenLine> {
    let exact = proptest::sample::subsequence(DESTINATIONS.to_vec(), 0..=3)
        .prop_map(|missing| Some(GenBranch::Exact { missing }));
    let counted = (1u32..4)
        .prop_flat_map(|total| (Just(total), 0..=total))
        .prop_map(|(total, covered)| Some(GenBranch::Counted { total, covered }));
    (
        0u64..3,
        prop_oneof![3 => Just(None), 2 => exact, 1 => counted],
    )
        .prop_map(|(hits, branch)| GenLine { hits, branch })
}

fn report_strategy() -> impl Strategy<Value = GenReport> {
    proptest::collection::btree_map(
        proptest::sample::select(vec!["a.py", "pkg/b.py", "pkg/c.py", "d/e/f.py"]),
        proptest::collection::btree_map(1u32..30, line_strategy(), 0..8),
        0..4,
    )
}

/// Writes a generated report as coverage.py would (one class per file, a package per
/// directory), from a checkout at `root`.
fn render(report: &GenReport, root: &str) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\" ?>\n<coverage version=\"7.17.3\" timestamp=\"1\" branch-rate=\"1\">\n\
         <sources><source>{root}</source></sources><packages>"
    );
    let mut packages: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for file in report.keys() {
        let package = file
            .rsplit_once('/')
            .map_or(".", |(dir, _)| dir)
            .replace('/', ".");
        packages.entry(package).or_default().push(file);
    }
    for (package, files) in packages {
        xml.push_str(&format!("<package name=\"{package}\"><classes>"));
        for file in files {
            let name = file.rsplit('/').next().unwrap();
            xml.push_str(&format!(
                "<class name=\"{name}\" filename=\"{file}\" complexity=\"0\"><methods/><lines>"
            ));
            for (number, line) in &report[file] {
                xml.push_str(&format!("<line number=\"{number}\" hits=\"{}\"", line.hits));
                match &line.branch {
                    None => {}
                    Some(GenBranch::Exact { missing }) => {
                        let total = DESTINATIONS.len();
                        let covered = total - missing.len();
                        xml.push_str(&format!(
                            " branch=\"true\" condition-coverage=\"{}% ({covered}/{total})\"",
                            covered * 100 / total
                        ));
                        if !missing.is_empty() {
                            xml.push_str(&format!(" missing-branches=\"{}\"", missing.join(",")));
                        }
                    }
                    Some(GenBranch::Counted { total, covered }) => xml.push_str(&format!(
                        " branch=\"true\" condition-coverage=\"{}% ({covered}/{total})\"",
                        covered * 100 / total
                    )),
                }
                xml.push_str("/>");
            }
            xml.push_str("</lines></class>");
        }
        xml.push_str("</classes></package>");
    }
    xml.push_str("</packages></coverage>\n");
    xml
}

/// `(number, hits, branch attributes)` of every class line of a merged output.
fn lines_of(output: &str) -> BTreeMap<(String, u32), (u64, String)> {
    let mut lines = BTreeMap::new();
    let mut file = String::new();
    for tag in output.lines().map(str::trim) {
        let attribute = |name: &str| {
            let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
            Some(tag[start..start + tag[start..].find('"')?].to_owned())
        };
        if tag.starts_with("<class ") {
            file = attribute("filename").unwrap();
        } else if tag.starts_with("<line ") {
            let number = attribute("number").unwrap().parse().unwrap();
            let hits = attribute("hits").unwrap().parse().unwrap();
            let branch = [
                attribute("condition-coverage"),
                attribute("missing-branches"),
            ];
            lines.insert((file.clone(), number), (hits, format!("{branch:?}")));
        }
    }
    lines
}

#[test]
fn conditions_and_intersections() {
    assert_eq!(parse_condition("50% (1/2)"), Some((1, 2)));
    assert_eq!(parse_condition("66.66% (2/3)"), Some((2, 3)));
    assert_eq!(parse_condition("100%"), None);
    let list = |items: &[&str]| {
        items
            .iter()
            .map(|s| Box::from(*s))
            .collect::<Vec<Box<str>>>()
    };
    assert_eq!(
        intersect(list(&["exit", "7", "12"]), &list(&["exit", "12", "30"])),
        list(&["exit", "12"])
    );
    assert_eq!(intersect(list(&["7"]), &list(&[])), list(&[]));
}

#[test]
fn exact_branches_are_the_union_and_counted_ones_the_best() {
    let one = "<coverage><packages><package name=\".\"><classes>\
               <class name=\"a.py\" filename=\"a.py\"><lines>\
               <line number=\"1\" hits=\"1\" branch=\"true\" condition-coverage=\"50% (1/2)\" missing-branches=\"exit\"/>\
               <line number=\"2\" hits=\"1\" branch=\"true\" condition-coverage=\"50% (2/4)\"/>\
               </lines></class></classes></package></packages></coverage>";
    let two = "<coverage><packages><package name=\".\"><classes>\
               <class name=\"a.py\" filename=\"a.py\"><lines>\
               <line number=\"1\" hits=\"0\" branch=\"true\" condition-coverage=\"50% (1/2)\" missing-branches=\"3\"/>\
               <line number=\"2\" hits=\"3\" branch=\"true\" condition-coverage=\"75% (3/4)\"/>\
               <line number=\"3\" hits=\"0\"/>\
               </lines></class></classes></package></packages></coverage>";
    let (out, report) = merge_texts(&[one, two]);
    assert!(
        out.contains(
            "<line number=\"1\" hits=\"1\" branch=\"true\" condition-coverage=\"100% (2/2)\"/>"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "<line number=\"2\" hits=\"4\" branch=\"true\" condition-coverage=\"75% (3/4)\"/>"
        ),
        "{out}"
    );
    assert_eq!((report.lines.covered, report.lines.valid), (2, 3));
    assert_eq!((report.branches.covered, report.branches.valid), (5, 6));
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(
        report.warnings[0].contains("1 lines in 1 files"),
        "{:?}",
        report.warnings
    );
}

#[test]
fn classes_methods_and_kept_values() {
    let class = |complexity: &str, hits: u32| {
        format!(
            "<coverage complexity=\"{complexity}\"><packages><package name=\"p\" complexity=\"{complexity}\"><classes>\
             <class name=\"A\" filename=\"A.cs\" complexity=\"{complexity}\"><methods>\
             <method name=\"Run\" signature=\"()\" complexity=\"{complexity}\"><lines><line number=\"4\" hits=\"{hits}\"/></lines></method>\
             </methods><lines><line number=\"4\" hits=\"{hits}\"/><line number=\"5\" hits=\"0\"/></lines></class>\
             <class name=\"A/Inner\" filename=\"A.cs\"><lines><line number=\"9\" hits=\"1\"/></lines></class>\
             </classes></package></packages></coverage>"
        )
    };
    let (out, report) = merge_texts(&[&class("2", 0), &class("10", 2)]);
    assert_eq!(report.files, 1);
    assert_eq!((report.lines.covered, report.lines.valid), (2, 3));
    assert!(out.contains("complexity=\"10\">"), "{out}");
    assert!(
        out.contains(
            "<method name=\"Run\" signature=\"()\" line-rate=\"1\" branch-rate=\"0\" complexity=\"10\">"
        ),
        "{out}"
    );
    assert!(
        out.contains("<class name=\"A/Inner\" filename=\"A.cs\""),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn absolute_file_names_lose_their_source_or_ci_root() {
    let report = |source: &str, file: &str| {
        format!(
            "<coverage><sources><source>{source}</source></sources><packages><package name=\"src\"><classes>\
             <class name=\"x.rs\" filename=\"{file}\"><lines><line number=\"1\" hits=\"1\"/></lines></class>\
             </classes></package></packages></coverage>"
        )
    };
    let (out, report) = merge_texts(&[
        &report(
            "/home/runner/work/app/app",
            "/home/runner/work/app/app/src/x.rs",
        ),
        &report("/somewhere", "D:\\a\\app\\app\\src\\x.rs"),
        &report("C:\\checkout", "src\\x.rs"),
    ]);
    assert_eq!(report.files, 1, "{out}");
    assert!(out.contains("filename=\"src/x.rs\""), "{out}");
    assert!(out.contains("<source>.</source>"), "{out}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn merging_one_report_is_its_normal_form(report in report_strategy()) {
        let text = render(&report, "/tmp/a");
        let (once, _) = merge_texts(&[&text]);
        let (twice, _) = merge_texts(&[&once]);
        prop_assert_eq!(&once, &twice);
        // Nothing changed but the form: every line, its hits and branches are the input's.
        let lines = lines_of(&once);
        let expected: usize = report.values().map(BTreeMap::len).sum();
        prop_assert_eq!(lines.len(), expected);
        for (file, file_lines) in &report {
            for (number, line) in file_lines {
                prop_assert_eq!(lines[&((*file).to_owned(), *number)].0, line.hits);
            }
        }
    }

    #[test]
    fn merge_is_commutative_and_associative(
        a in report_strategy(),
        b in report_strategy(),
        c in report_strategy(),
    ) {
        let (a, b, c) = (render(&a, "/tmp/a"), render(&b, "/home/runner/work/x/x"), render(&c, "/tmp/c"));
        let (ab, _) = merge_texts(&[&a, &b]);
        let (ba, _) = merge_texts(&[&b, &a]);
        prop_assert_eq!(&ab, &ba);
        let (abc, _) = merge_texts(&[&a, &b, &c]);
        let (bc, _) = merge_texts(&[&b, &c]);
        let (ab_c, _) = merge_texts(&[&ab, &c]);
        let (a_bc, _) = merge_texts(&[&a, &bc]);
        prop_assert_eq!(body(&ab_c), body(&abc));
        prop_assert_eq!(body(&a_bc), body(&abc));
    }

    #[test]
    fn totals_are_the_recount_and_covered_never_exceeds_valid(
        a in report_strategy(),
        b in report_strategy(),
    ) {
        let (out, report) = merge_texts(&[&render(&a, "/a"), &render(&b, "/b")]);
        let lines = lines_of(&out);
        let covered = lines.values().filter(|(hits, _)| *hits > 0).count() as u64;
        prop_assert_eq!(report.lines.valid, lines.len() as u64);
        prop_assert_eq!(report.lines.covered, covered);
        prop_assert!(report.branches.covered <= report.branches.valid);
        // Hits are summed over the union of lines.
        for ((file, number), (hits, _)) in &lines {
            let sum: u64 = [&a, &b]
                .iter()
                .filter_map(|r| r.get(file.as_str()).and_then(|l| l.get(number)))
                .map(|line| line.hits)
                .sum();
            prop_assert_eq!(*hits, sum);
        }
        for tag in out.lines().filter(|l| l.contains("line-rate=\"")) {
            let start = tag.find("line-rate=\"").unwrap() + 11;
            let rate: f64 = tag[start..start + tag[start..].find('"').unwrap()].parse().unwrap();
            prop_assert!((0.0..=1.0).contains(&rate), "{}", tag);
        }
    }
}
