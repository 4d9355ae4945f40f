#![expect(
    clippy::format_push_string,
    reason = "test documents are built by appending formatted pieces"
)]

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::Label;
use crate::coverage::{
    CoverageError, CoverageInput, CoverageOptions, CoverageReport, Format, merge,
};

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
    let report = merge(Format::Lcov, inputs, &CoverageOptions::default(), &mut out).unwrap();
    (String::from_utf8(out).unwrap(), report)
}

#[test]
fn labels_order_naturally() {
    let mut labels: Vec<Label> = [
        "jump to line 12",
        "10",
        "2",
        "jump to line 9",
        "e1",
        "02",
        "exit",
    ]
    .iter()
    .map(|text| Label((*text).into()))
    .collect();
    labels.sort();
    let texts: Vec<&str> = labels.iter().map(|label| &*label.0).collect();
    assert_eq!(
        texts,
        [
            "02",
            "2",
            "10",
            "e1",
            "exit",
            "jump to line 9",
            "jump to line 12"
        ]
    );
}

#[test]
fn records_merge_exactly() {
    let one = "TN:t\nSF:/home/runner/work/app/app/src/a.c\nFN:3,main\nFN:9,11,helper(int, int)\n\
               FNDA:1,main\nFNDA:0,helper(int, int)\nBRDA:4,0,0,1\nBRDA:4,0,1,0\nBRDA:8,0,0,-\n\
               DA:3,1,abc\nDA:4,1\nDA:9,0\nLF:3\nLH:2\nend_of_record\n";
    let two = "TN:t\nSF:src/a.c\nFNL:0,9,11\nFNA:0,2,helper(int, int)\nBRDA:4,0,0,-\nBRDA:4,0,1,-\n\
               BRDA:8,0,0,0\nDA:3,0,abc\nDA:9,2\nDA:12,0\nMCDC:1,2,t,0,1,x\nend_of_record";
    let (out, report) = merge_texts(&[one, two]);
    insta::assert_snapshot!(out);
    assert_eq!(report.files, 1);
    assert_eq!((report.lines.covered, report.lines.valid), (3, 4));
    assert_eq!((report.branches.covered, report.branches.valid), (1, 3));
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(
        report.warnings[0].contains("MCDC (1)"),
        "{:?}",
        report.warnings
    );
}

#[test]
fn broken_tracefiles_keep_what_came_before_the_damage() {
    let inputs = vec![
        CoverageInput {
            label: "cut".to_owned(),
            reader: &b"SF:a.c\nDA:1,1\nend_of_record\nSF:b.c\nDA:1,1\n"[..],
        },
        CoverageInput {
            label: "garbage".to_owned(),
            reader: &b"hello world\n"[..],
        },
        CoverageInput {
            label: "bad".to_owned(),
            reader: &b"SF:c.c\nDA:x,1\nend_of_record\n"[..],
        },
    ];
    let mut out = Vec::new();
    let report = merge(Format::Lcov, inputs, &CoverageOptions::default(), &mut out).unwrap();
    let problems: Vec<String> = report
        .inputs
        .iter()
        .map(|input| {
            format!(
                "{} ({} files): {:?}",
                input.label,
                input.files,
                input.problem.as_ref().map(ToString::to_string)
            )
        })
        .collect();
    insta::assert_snapshot!(problems.join("\n"));
    assert!(matches!(
        report.inputs[0].problem,
        Some(CoverageError::Truncated { .. })
    ));
    assert_eq!(String::from_utf8(out).unwrap().matches("SF:").count(), 1);
}

/// A generated record per file: lines with hits, branches with `-` or a count.
type GenFile = (
    BTreeMap<u32, u64>,
    BTreeMap<(u32, u8), Option<u64>>,
    BTreeMap<u8, u64>,
);

fn tracefile_strategy() -> impl Strategy<Value = BTreeMap<&'static str, GenFile>> {
    let file = (
        proptest::collection::btree_map(1u32..20, 0u64..3, 0..6),
        proptest::collection::btree_map((1u32..20, 0u8..3), proptest::option::of(0u64..3), 0..6),
        proptest::collection::btree_map(0u8..3, 0u64..3, 0..3),
    );
    proptest::collection::btree_map(
        proptest::sample::select(vec!["a.c", "lib/b.c", "/abs/c.c"]),
        file,
        0..3,
    )
}

fn render(files: &BTreeMap<&'static str, GenFile>) -> String {
    let mut text = String::new();
    for (path, (lines, branches, functions)) in files {
        text.push_str(&format!("TN:\nSF:{path}\n"));
        for (index, hits) in functions {
            text.push_str(&format!(
                "FN:{},f{index}\nFNDA:{hits},f{index}\n",
                index + 1
            ));
        }
        for ((line, branch), taken) in branches {
            let taken = taken.map_or("-".to_owned(), |t| t.to_string());
            text.push_str(&format!("BRDA:{line},0,{branch},{taken}\n"));
        }
        for (line, hits) in lines {
            text.push_str(&format!("DA:{line},{hits}\n"));
        }
        text.push_str("end_of_record\n");
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn merging_one_tracefile_is_its_normal_form(files in tracefile_strategy()) {
        let (once, report) = merge_texts(&[&render(&files)]);
        let (twice, _) = merge_texts(&[&once]);
        prop_assert_eq!(&once, &twice);
        let lines: usize = files.values().map(|f| f.0.len()).sum();
        prop_assert_eq!(report.lines.valid, lines as u64);
    }

    #[test]
    fn merge_is_commutative_and_associative(
        a in tracefile_strategy(),
        b in tracefile_strategy(),
        c in tracefile_strategy(),
    ) {
        let (a, b, c) = (render(&a), render(&b), render(&c));
        let (ab, _) = merge_texts(&[&a, &b]);
        prop_assert_eq!(&ab, &merge_texts(&[&b, &a]).0);
        let (abc, _) = merge_texts(&[&a, &b, &c]);
        prop_assert_eq!(&merge_texts(&[&ab, &c]).0, &abc);
        prop_assert_eq!(&merge_texts(&[&a, &merge_texts(&[&b, &c]).0]).0, &abc);
    }

    #[test]
    fn summaries_are_recounted(a in tracefile_strategy(), b in tracefile_strategy()) {
        let (out, report) = merge_texts(&[&render(&a), &render(&b)]);
        let mut lines = (0u64, 0u64);
        let mut branches = (0u64, 0u64);
        for line in out.lines() {
            if let Some(data) = line.strip_prefix("DA:") {
                lines.1 += 1;
                lines.0 += u64::from(!data.ends_with(",0"));
            } else if let Some(data) = line.strip_prefix("BRDA:") {
                branches.1 += 1;
                branches.0 += u64::from(!data.ends_with(",0") && !data.ends_with(",-"));
            } else if let Some(count) = line.strip_prefix("LF:") {
                prop_assert!(count.parse::<u64>().is_ok());
            }
        }
        prop_assert_eq!((report.lines.covered, report.lines.valid), lines);
        prop_assert_eq!((report.branches.covered, report.branches.valid), branches);
        prop_assert!(report.lines.covered <= report.lines.valid);
    }
}
