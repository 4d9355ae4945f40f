//! A small, independent Cobertura reader for the coverage tests: every attribute of the root,
//! the packages, the classes and the class-level lines, so a merged report can be compared
//! with one coverage.py wrote. Deliberately not rxdist's own reader.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of this module"
)]

use std::collections::BTreeMap;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// Attributes by name.
pub type Attrs = BTreeMap<String, String>;

/// A parsed Cobertura report.
#[derive(Debug, Default)]
pub struct Cobertura {
    pub root: Attrs,
    pub sources: Vec<String>,
    pub packages: BTreeMap<String, Package>,
}

#[derive(Debug, Default)]
pub struct Package {
    pub attrs: Attrs,
    /// By file name.
    pub classes: BTreeMap<String, Class>,
}

#[derive(Debug, Default)]
pub struct Class {
    pub attrs: Attrs,
    /// Class-level lines (not the ones repeated under methods), by number.
    pub lines: BTreeMap<u32, Attrs>,
}

fn attrs(start: &BytesStart<'_>) -> Attrs {
    start
        .attributes()
        .map(|attribute| {
            let attribute = attribute.expect("well-formed attribute");
            (
                attribute.key.as_ref().to_owned(),
                attribute
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .expect("plain value")
                    .into_owned(),
            )
        })
        .collect()
}

/// Parses a whole Cobertura document; panics on anything unexpected.
pub fn parse_cobertura(xml: &str) -> Cobertura {
    let mut reader = Reader::from_str(xml);
    let mut report = Cobertura::default();
    let mut package = String::new();
    let mut class = String::new();
    let mut in_method = false;
    let mut in_source = false;
    loop {
        let event = reader.read_event().expect("well-formed XML");
        let (start, empty) = match &event {
            Event::Start(start) => (Some(start), false),
            Event::Empty(start) => (Some(start), true),
            _ => (None, false),
        };
        if let Some(start) = start {
            match start.name().as_ref() {
                "coverage" => report.root = attrs(start),
                "source" => in_source = !empty,
                "package" => {
                    let attrs = attrs(start);
                    package.clone_from(&attrs["name"]);
                    report.packages.entry(package.clone()).or_default().attrs = attrs;
                }
                "class" => {
                    let attrs = attrs(start);
                    class.clone_from(&attrs["filename"]);
                    let entry = report
                        .packages
                        .get_mut(&package)
                        .expect("class inside a package")
                        .classes
                        .entry(class.clone())
                        .or_default();
                    entry.attrs = attrs;
                }
                "method" => in_method = !empty,
                "line" if !in_method => {
                    let attrs = attrs(start);
                    let number = attrs["number"].parse().expect("numeric line");
                    report
                        .packages
                        .get_mut(&package)
                        .expect("line inside a package")
                        .classes
                        .get_mut(&class)
                        .expect("line inside a class")
                        .lines
                        .insert(number, attrs);
                }
                _ => {}
            }
            continue;
        }
        match event {
            Event::Text(text) if in_source => {
                report.sources.push(text.xml10_content().trim().to_owned());
            }
            Event::End(end) => match end.name().as_ref() {
                "method" => in_method = false,
                "source" => in_source = false,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    report
}

/// Covered line numbers per file name.
pub fn covered_lines(report: &Cobertura) -> BTreeMap<String, Vec<u32>> {
    let mut files: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for package in report.packages.values() {
        for (file, class) in &package.classes {
            let covered = files.entry(file.clone()).or_default();
            for (number, line) in &class.lines {
                if line["hits"].parse::<u64>().expect("numeric hits") > 0 {
                    covered.push(*number);
                }
            }
            covered.sort_unstable();
        }
    }
    files
}

/// Asserts that two reports agree on every count and rate at every level (root, package,
/// class) and on each line's coverage and branches; sources, timestamps, versions and hit
/// counts (coverage.py writes 0/1, a merge sums) may differ.
pub fn assert_same_coverage(ours: &Cobertura, theirs: &Cobertura) {
    for key in [
        "lines-valid",
        "lines-covered",
        "line-rate",
        "branches-valid",
        "branches-covered",
        "branch-rate",
    ] {
        assert_eq!(ours.root.get(key), theirs.root.get(key), "root {key}");
    }
    assert_eq!(
        ours.packages.keys().collect::<Vec<_>>(),
        theirs.packages.keys().collect::<Vec<_>>(),
        "packages"
    );
    for (name, package) in &theirs.packages {
        let mine = &ours.packages[name];
        for key in ["line-rate", "branch-rate"] {
            assert_eq!(
                mine.attrs.get(key),
                package.attrs.get(key),
                "package {name} {key}"
            );
        }
        assert_eq!(
            mine.classes.keys().collect::<Vec<_>>(),
            package.classes.keys().collect::<Vec<_>>(),
            "classes of package {name}"
        );
        for (file, class) in &package.classes {
            let my_class = &mine.classes[file];
            for key in ["name", "line-rate", "branch-rate", "complexity"] {
                assert_eq!(
                    my_class.attrs.get(key),
                    class.attrs.get(key),
                    "class {file} {key}"
                );
            }
            assert_eq!(
                my_class.lines.keys().collect::<Vec<_>>(),
                class.lines.keys().collect::<Vec<_>>(),
                "lines of {file}"
            );
            for (number, line) in &class.lines {
                let my_line = &my_class.lines[number];
                let hit = |attrs: &Attrs| attrs["hits"] != "0";
                assert_eq!(hit(my_line), hit(line), "{file}:{number} covered");
                for key in ["branch", "condition-coverage", "missing-branches"] {
                    assert_eq!(my_line.get(key), line.get(key), "{file}:{number} {key}");
                }
            }
        }
    }
}
