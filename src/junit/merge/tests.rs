//! Tests of the merge on small inline documents, on every fixture, and properties.

use std::io::Cursor;

use super::{MergeInput, MergeOptions, MergeReport, RetryPolicy, merge};

/// Merges `inputs` (label, bytes) with `policy`; returns the output and the report.
pub(super) fn merge_with(inputs: &[(&str, &[u8])], policy: RetryPolicy) -> (String, MergeReport) {
    let mut inputs: Vec<MergeInput<Cursor<&[u8]>>> = inputs
        .iter()
        .map(|(label, bytes)| MergeInput {
            label: (*label).to_owned(),
            reader: Cursor::new(*bytes),
        })
        .collect();
    let options = MergeOptions {
        retries: policy,
        ..MergeOptions::default()
    };
    let mut out = Vec::new();
    let report = merge(&mut inputs, &options, &mut out).expect("in memory");
    (String::from_utf8(out).expect("the output is UTF-8"), report)
}

#[test]
fn smoke() {
    let root = env!("CARGO_MANIFEST_DIR");
    for file in [
        "pytest-xunit2.xml",
        "nextest.xml",
        "phpunit.xml",
        "playwright.xml",
    ] {
        let bytes = std::fs::read(format!("{root}/tests/fixtures/junit/{file}")).unwrap();
        let (out, report) = merge_with(&[("a", &bytes), ("b", &bytes)], RetryPolicy::Collapse);
        println!("{out}\n{report:#?}");
    }
}
