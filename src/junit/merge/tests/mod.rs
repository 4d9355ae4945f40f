//! Tests of the merge: small inline documents ([`cases`]), golden files on every fixture
//! ([`golden`]), and properties on generated reports ([`properties`]). Every output any of
//! them produces goes through [`check_output`].

mod cases;
mod golden;
mod properties;

use std::collections::BTreeMap;
use std::io::Cursor;

use super::{MergeInput, MergeOptions, MergeReport, RetryPolicy, merge};
use crate::junit::write::allowed;
use crate::junit::{Limits, Outcome, read_testcases};

/// Merges in-memory `inputs` (label, bytes) with `retries`; checks the output; returns it and
/// the report.
pub(super) fn merge_bytes(inputs: &[(&str, &[u8])], retries: RetryPolicy) -> (String, MergeReport) {
    let (out, report) = merge_unchecked(inputs, retries);
    check_output(&out, retries);
    (out, report)
}

/// [`merge_bytes`] without the checks.
pub(super) fn merge_unchecked(
    inputs: &[(&str, &[u8])],
    retries: RetryPolicy,
) -> (String, MergeReport) {
    let mut inputs: Vec<MergeInput<Cursor<&[u8]>>> = inputs
        .iter()
        .map(|(label, bytes)| MergeInput {
            label: (*label).to_owned(),
            reader: Cursor::new(*bytes),
        })
        .collect();
    let options = MergeOptions {
        retries,
        ..MergeOptions::default()
    };
    let mut out = Vec::new();
    let report = merge(&mut inputs, &options, &mut out).expect("merging in memory");
    let out = String::from_utf8(out).expect("the output is UTF-8");
    (out, report)
}

/// Checks that `out` is well-formed XML 1.0 (every event, end names, references, characters,
/// no `]]>` in text), that rxdist's reader reads it whole, and that merging it again with
/// `retries` gives the same bytes and finds no counter to complain about.
pub(super) fn check_output(out: &str, retries: RetryPolicy) {
    use quick_xml::events::Event;
    let bad =
        |what: &dyn std::fmt::Display| -> ! { panic!("the output is not XML 1.0: {what}\n{out}") };
    if let Some(c) = out.chars().find(|&c| !allowed(c)) {
        bad(&format!("character {c:?}"));
    }
    let mut reader = quick_xml::Reader::from_str(out);
    reader.config_mut().check_end_names = true;
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(Event::Start(start) | Event::Empty(start)) => {
                for attribute in start.attributes() {
                    let attribute = attribute.unwrap_or_else(|err| bad(&err));
                    attribute
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .unwrap_or_else(|err| bad(&err));
                }
            }
            Ok(Event::GeneralRef(reference)) => {
                let name: &str = &reference;
                let known = matches!(name, "lt" | "gt" | "amp" | "apos" | "quot")
                    || reference
                        .resolve_char_ref()
                        .ok()
                        .flatten()
                        .is_some_and(allowed);
                if !known {
                    bad(&format!("reference &{name};"));
                }
            }
            Ok(Event::Text(text)) => {
                if text.contains("]]>") {
                    bad(&"]]> in text");
                }
            }
            Ok(_) => {}
            Err(err) => bad(&err),
        }
    }
    read_testcases(out.as_bytes(), &Limits::default(), |_| {})
        .unwrap_or_else(|err| panic!("rxdist cannot read the output: {err}\n{out}"));
    let (again, report) = merge_unchecked(&[("merged", out.as_bytes())], retries);
    assert!(
        report.counter_mismatches.is_empty(),
        "{:?}\n{out}",
        report.counter_mismatches
    );
    assert_eq!(again, out, "merging the output again changed it");
}

/// A fixture file's bytes, by its path under `tests/fixtures`.
pub(super) fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|err| panic!("{full}: {err}"))
}

/// Every testcase `read_testcases` finds in `xml` (up to any damage), as (suites, classname,
/// name) -> outcomes in document order.
pub(super) fn testcases(xml: &[u8]) -> BTreeMap<(Vec<String>, String, String), Vec<Outcome>> {
    let mut found: BTreeMap<_, Vec<Outcome>> = BTreeMap::new();
    let _ = read_testcases(xml, &Limits::default(), |case| {
        found
            .entry((case.suites, case.classname.unwrap_or_default(), case.name))
            .or_default()
            .push(case.outcome);
    });
    found
}
