use super::{COUNTER_TYPES, most_covered};
use crate::coverage::{CoverageInput, CoverageOptions, Format, merge};

fn report(lines: &str, method_covered: u64) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <!DOCTYPE report PUBLIC \"-//JACOCO//DTD Report 1.1//EN\" \"report.dtd\">\
         <report name=\"r\"><package name=\"p\"><class name=\"p/A\" sourcefilename=\"A.java\">\
         <method name=\"m\" desc=\"()V\" line=\"1\">\
         <counter type=\"METHOD\" missed=\"{}\" covered=\"{method_covered}\"/></method>\
         <counter type=\"METHOD\" missed=\"{}\" covered=\"{method_covered}\"/>\
         <counter type=\"CLASS\" missed=\"0\" covered=\"1\"/></class>\
         <sourcefile name=\"A.java\">{lines}</sourcefile></package></report>",
        1 - method_covered,
        1 - method_covered
    )
}

fn merged(inputs: &[&str]) -> String {
    let inputs = inputs
        .iter()
        .enumerate()
        .map(|(index, text)| CoverageInput {
            label: index.to_string(),
            reader: text.as_bytes(),
        })
        .collect();
    let mut out = Vec::new();
    let report = merge(
        Format::Jacoco,
        inputs,
        &CoverageOptions::default(),
        &mut out,
    )
    .unwrap();
    assert!(report.inputs.iter().all(|input| input.problem.is_none()));
    String::from_utf8(out).unwrap()
}

#[test]
fn pairs_keep_the_largest_total_and_the_most_covered() {
    assert_eq!(most_covered((3, 1), (1, 3)), (1, 3));
    assert_eq!(most_covered((0, 4), (2, 0)), (0, 4));
    assert_eq!(most_covered((5, 0), (2, 1)), (4, 1));
    assert_eq!(COUNTER_TYPES[super::LINE], "LINE");
}

#[test]
fn lines_merge_conservatively_and_counters_are_recounted() {
    let one = report(
        "<line nr=\"1\" mi=\"3\" ci=\"1\" mb=\"2\" cb=\"0\"/><line nr=\"2\" mi=\"2\" ci=\"0\" mb=\"0\" cb=\"0\"/>",
        0,
    );
    let two = report(
        "<line nr=\"1\" mi=\"1\" ci=\"3\" mb=\"1\" cb=\"1\"/><line nr=\"3\" mi=\"0\" ci=\"5\" mb=\"0\" cb=\"0\"/>",
        1,
    );
    let out = merged(&[&one, &two]);
    assert!(
        out.contains("<line nr=\"1\" mi=\"1\" ci=\"3\" mb=\"1\" cb=\"1\"/>"),
        "{out}"
    );
    assert!(
        out.contains("<line nr=\"2\" mi=\"2\" ci=\"0\" mb=\"0\" cb=\"0\"/>"),
        "{out}"
    );
    // Source file and package: instructions 3 missed of 11, branches 1 of 2, lines 1 of 3.
    let tail = &out[out.find("</class>").unwrap()..];
    assert_eq!(
        tail.matches("<counter type=\"INSTRUCTION\" missed=\"3\" covered=\"8\"/>")
            .count(),
        3,
        "{out}"
    );
    assert!(
        tail.contains("<counter type=\"LINE\" missed=\"1\" covered=\"2\"/>"),
        "{out}"
    );
    // The method ran in one report: covered.
    assert!(
        out.contains("<counter type=\"METHOD\" missed=\"0\" covered=\"1\"/>"),
        "{out}"
    );
    // Order does not matter, and merging the merge again changes nothing.
    assert_eq!(out, merged(&[&two, &one]));
    assert_eq!(merged(&[&out]), merged(&[&one, &two, &one]));
}

#[test]
fn groups_are_kept() {
    let grouped = "<report name=\"r\"><group name=\"module-a\"><package name=\"p\">\
                   <sourcefile name=\"A.java\"><line nr=\"1\" mi=\"0\" ci=\"1\" mb=\"0\" cb=\"0\"/>\
                   </sourcefile></package></group></report>";
    let out = merged(&[grouped, grouped]);
    assert!(
        out.contains("<group name=\"module-a\">\n<package name=\"p\">"),
        "{out}"
    );
    assert_eq!(out.matches("</group>").count(), 1);
    assert_eq!(merged(&[&out]), out);
}
