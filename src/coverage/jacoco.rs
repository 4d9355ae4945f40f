//! JaCoCo XML: read into the merged table conservatively, and written back.
//!
//! A JaCoCo XML report does not say which instructions or branches of a line ran, only how
//! many, so two reports cannot be merged exactly (the `.exec` files can: `jacococli merge`).
//! The merge here never claims more than some report saw: per source line, the most covered
//! instructions and branches any report had (of the largest total); per class and method,
//! each counter the same way. Source file counters for instructions, branches and lines are
//! recounted from the merged lines; package, group and report counters are sums of their
//! children (lines from source files, methods, classes and complexity from classes). Every
//! merge of two or more reports carries a warning recommending the `.exec` route.
//!
//! Paths are left alone: JaCoCo names files by package and source file name, the same in
//! every checkout. The DOCTYPE JaCoCo writes is accepted and never fetched.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{self, BufRead, Write};

use super::merge::{Table, Totals};
use super::numbers::parse_count;
use super::xml::{Element, Visitor, read_xml};
use super::{CoverageError, CoverageOptions, Format, Ratio};
use crate::junit::write::attr;

/// Counter types in the order JaCoCo writes them.
const COUNTER_TYPES: [&str; 6] = [
    "INSTRUCTION",
    "BRANCH",
    "LINE",
    "COMPLEXITY",
    "METHOD",
    "CLASS",
];
const INSTRUCTION: usize = 0;
const BRANCH: usize = 1;
const LINE: usize = 2;

/// The merged report.
#[derive(Debug, Default)]
pub(super) struct JacocoTable {
    name: Option<String>,
    /// (id, start, dump) of every session of every input.
    sessions: BTreeSet<(String, u64, u64)>,
    /// Keyed by (enclosing group names, package name).
    packages: BTreeMap<(Vec<String>, String), Package>,
}

#[derive(Debug, Default)]
struct Package {
    classes: BTreeMap<String, Class>,
    sourcefiles: BTreeMap<String, SourceFile>,
}

#[derive(Debug, Default)]
struct Class {
    sourcefilename: Option<String>,
    /// Keyed by (name, descriptor).
    methods: BTreeMap<(String, String), Method>,
    counters: Counters,
}

#[derive(Debug, Default)]
struct Method {
    line: Option<u32>,
    counters: Counters,
}

#[derive(Debug, Default)]
struct SourceFile {
    lines: BTreeMap<u32, SourceLine>,
    /// Counters as the inputs wrote them (only complexity, methods and classes are used).
    counters: Counters,
}

/// Missed and covered instructions and branches of one line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct SourceLine {
    mi: u64,
    ci: u64,
    mb: u64,
    cb: u64,
}

impl SourceLine {
    fn merge(&mut self, other: SourceLine) {
        let (mi, ci) = most_covered((self.mi, self.ci), (other.mi, other.ci));
        let (mb, cb) = most_covered((self.mb, self.cb), (other.mb, other.cb));
        *self = SourceLine { mi, ci, mb, cb };
    }
}

/// Merges two (missed, covered) pairs conservatively: the largest total, the most covered.
fn most_covered(a: (u64, u64), b: (u64, u64)) -> (u64, u64) {
    let total = (a.0 + a.1).max(b.0 + b.1);
    let covered = a.1.max(b.1);
    (total - covered, covered)
}

/// One counter: (missed, covered).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counter {
    missed: u64,
    covered: u64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counters([Option<Counter>; 6]);

impl Counters {
    fn merge(&mut self, other: &Counters) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0) {
            *mine = match (*mine, theirs) {
                (Some(a), Some(b)) => {
                    let (missed, covered) =
                        most_covered((a.missed, a.covered), (b.missed, b.covered));
                    Some(Counter { missed, covered })
                }
                (a, b) => a.or(b),
            };
        }
    }

    fn add(&mut self, index: usize, counter: Option<Counter>) {
        if let Some(counter) = counter {
            let slot = self.0[index].get_or_insert_with(Counter::default);
            slot.missed += counter.missed;
            slot.covered += counter.covered;
        }
    }

    fn add_all(&mut self, other: &Counters, types: &[usize]) {
        for &index in types {
            self.add(index, other.0[index]);
        }
    }
}

impl Class {
    /// Merges `other`, the same class from a later input: the first source file name seen,
    /// counters and methods merged.
    fn absorb(&mut self, other: Class) {
        if self.sourcefilename.is_none() {
            self.sourcefilename = other.sourcefilename;
        }
        self.counters.merge(&other.counters);
        for (key, method) in other.methods {
            let kept = self.methods.entry(key).or_default();
            kept.line = kept.line.or(method.line);
            kept.counters.merge(&method.counters);
        }
    }
}

impl SourceFile {
    /// Merges `other`, the same source file from a later input, line by line.
    fn absorb(&mut self, other: SourceFile) {
        for (number, line) in other.lines {
            self.lines.entry(number).or_default().merge(line);
        }
        self.counters.merge(&other.counters);
    }

    /// Counters recounted from the lines, plus the kept complexity, method and class counts.
    fn counters(&self) -> Counters {
        let mut counters = Counters::default();
        let mut instructions = Counter::default();
        let mut branches = Counter::default();
        let mut lines = Counter::default();
        for line in self.lines.values() {
            instructions.missed += line.mi;
            instructions.covered += line.ci;
            branches.missed += line.mb;
            branches.covered += line.cb;
            if line.ci > 0 {
                lines.covered += 1;
            } else if line.mi > 0 {
                lines.missed += 1;
            }
        }
        counters.0[INSTRUCTION] = Some(instructions);
        counters.0[BRANCH] = Some(branches);
        counters.0[LINE] = Some(lines);
        for index in LINE + 1..COUNTER_TYPES.len() {
            counters.0[index] = self.counters.0[index];
        }
        counters
    }
}

impl Package {
    fn counters(&self) -> Counters {
        let mut counters = Counters::default();
        let from_lines = [INSTRUCTION, BRANCH, LINE];
        let from_classes = [3, 4, 5];
        if self.sourcefiles.is_empty() {
            for class in self.classes.values() {
                counters.add_all(&class.counters, &from_lines);
            }
        } else {
            for file in self.sourcefiles.values() {
                counters.add_all(&file.counters(), &from_lines);
            }
        }
        for class in self.classes.values() {
            counters.add_all(&class.counters, &from_classes);
        }
        counters
    }
}

impl Table for JacocoTable {
    fn absorb(&mut self, other: Self) {
        if let Some(name) = other.name
            && self.name.as_deref().is_none_or(|kept| *name < *kept)
        {
            self.name = Some(name);
        }
        self.sessions.extend(other.sessions);
        for (key, package) in other.packages {
            let merged = self.packages.entry(key).or_default();
            for (name, class) in package.classes {
                merged.classes.entry(name).or_default().absorb(class);
            }
            for (name, file) in package.sourcefiles {
                merged.sourcefiles.entry(name).or_default().absorb(file);
            }
        }
    }

    fn read<R: BufRead>(
        &mut self,
        input: R,
        options: &CoverageOptions,
        files: &mut usize,
    ) -> Result<(), CoverageError> {
        let mut reader = InputReader {
            table: self,
            groups: Vec::new(),
            package: None,
            class: None,
            method: None,
            sourcefile: None,
            files: HashSet::new(),
        };
        let result = read_xml(
            input,
            Format::Jacoco,
            "report",
            &options.limits,
            &mut reader,
        );
        *files = reader.files.len();
        result
    }

    fn write(
        &self,
        inputs: usize,
        warnings: &mut Vec<String>,
        out: &mut dyn Write,
    ) -> io::Result<Totals> {
        if inputs > 1 {
            warnings.push(
                "JaCoCo XML reports were merged conservatively (per line, the most instructions \
                 and branches any one report covered); for exact coverage merge the .exec files \
                 (`java -jar jacococli.jar merge`) and write one report from the result"
                    .to_owned(),
            );
        }
        let package_counters: Vec<Counters> =
            self.packages.values().map(Package::counters).collect();
        let mut report = Counters::default();
        for counters in &package_counters {
            report.add_all(counters, &[0, 1, 2, 3, 4, 5]);
        }
        writeln!(
            out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
             <!DOCTYPE report PUBLIC \"-//JACOCO//DTD Report 1.1//EN\" \"report.dtd\">"
        )?;
        writeln!(
            out,
            "<report name=\"{}\">",
            attr(self.name.as_deref().unwrap_or("merged"))
        )?;
        for (id, start, dump) in &self.sessions {
            writeln!(
                out,
                "<sessioninfo id=\"{}\" start=\"{start}\" dump=\"{dump}\"/>",
                attr(id)
            )?;
        }
        let mut open: Vec<&str> = Vec::new();
        for (((groups, name), package), counters) in self.packages.iter().zip(&package_counters) {
            let shared = open
                .iter()
                .zip(groups)
                .take_while(|(a, b)| **a == b.as_str())
                .count();
            while open.len() > shared {
                write_counters(out, &self.group_counters(&open))?;
                writeln!(out, "</group>")?;
                open.pop();
            }
            for group in &groups[shared..] {
                writeln!(out, "<group name=\"{}\">", attr(group))?;
                open.push(group);
            }
            write_package(out, name, package, counters)?;
        }
        while !open.is_empty() {
            write_counters(out, &self.group_counters(&open))?;
            writeln!(out, "</group>")?;
            open.pop();
        }
        write_counters(out, &report)?;
        writeln!(out, "</report>")?;
        let ratio = |counter: Option<Counter>| {
            counter.map_or(Ratio::default(), |c| Ratio {
                covered: c.covered,
                valid: c.missed + c.covered,
            })
        };
        let files = self
            .packages
            .values()
            .map(|package| package.sourcefiles.len())
            .sum();
        Ok(Totals {
            files,
            lines: ratio(report.0[LINE]),
            branches: ratio(report.0[BRANCH]),
        })
    }

    fn line_sets(&self) -> Vec<(&str, Vec<u32>)> {
        // JaCoCo names files by package, the same in every checkout: nothing to suspect.
        Vec::new()
    }
}

impl JacocoTable {
    /// The sum of the counters of every package inside the group path `groups`.
    fn group_counters(&self, groups: &[&str]) -> Counters {
        let mut counters = Counters::default();
        for ((path, _), package) in &self.packages {
            if path.len() >= groups.len() && path.iter().zip(groups).all(|(a, b)| a == b) {
                counters.add_all(&package.counters(), &[0, 1, 2, 3, 4, 5]);
            }
        }
        counters
    }
}

fn write_package(
    out: &mut dyn Write,
    name: &str,
    package: &Package,
    counters: &Counters,
) -> io::Result<()> {
    writeln!(out, "<package name=\"{}\">", attr(name))?;
    for (class_name, class) in &package.classes {
        write!(out, "<class name=\"{}\"", attr(class_name))?;
        if let Some(file) = &class.sourcefilename {
            write!(out, " sourcefilename=\"{}\"", attr(file))?;
        }
        writeln!(out, ">")?;
        for ((method_name, desc), method) in &class.methods {
            write!(
                out,
                "<method name=\"{}\" desc=\"{}\"",
                attr(method_name),
                attr(desc)
            )?;
            if let Some(line) = method.line {
                write!(out, " line=\"{line}\"")?;
            }
            writeln!(out, ">")?;
            write_counters(out, &method.counters)?;
            writeln!(out, "</method>")?;
        }
        write_counters(out, &class.counters)?;
        writeln!(out, "</class>")?;
    }
    for (file_name, file) in &package.sourcefiles {
        writeln!(out, "<sourcefile name=\"{}\">", attr(file_name))?;
        for (number, line) in &file.lines {
            writeln!(
                out,
                "<line nr=\"{number}\" mi=\"{}\" ci=\"{}\" mb=\"{}\" cb=\"{}\"/>",
                line.mi, line.ci, line.mb, line.cb
            )?;
        }
        write_counters(out, &file.counters())?;
        writeln!(out, "</sourcefile>")?;
    }
    write_counters(out, counters)?;
    writeln!(out, "</package>")
}

/// Writes the counters that measured anything, as JaCoCo does.
fn write_counters(out: &mut dyn Write, counters: &Counters) -> io::Result<()> {
    for (kind, counter) in COUNTER_TYPES.iter().zip(counters.0) {
        if let Some(counter) = counter.filter(|c| c.missed + c.covered > 0) {
            writeln!(
                out,
                "<counter type=\"{kind}\" missed=\"{}\" covered=\"{}\"/>",
                counter.missed, counter.covered
            )?;
        }
    }
    Ok(())
}

struct ClassSeen {
    name: String,
    class: Class,
}

struct MethodSeen {
    key: (String, String),
    method: Method,
}

struct SourceSeen {
    name: String,
    file: SourceFile,
}

struct InputReader<'t> {
    table: &'t mut JacocoTable,
    groups: Vec<String>,
    package: Option<String>,
    class: Option<ClassSeen>,
    method: Option<MethodSeen>,
    sourcefile: Option<SourceSeen>,
    files: HashSet<(Vec<String>, String, String)>,
}

impl Visitor for InputReader<'_> {
    fn start(&mut self, element: &Element<'_>) -> Result<(), CoverageError> {
        match element.name() {
            "report" => {
                let table = &mut *self.table;
                element.attributes(|key, value| {
                    if key == "name" && table.name.as_deref().is_none_or(|name| *value < *name) {
                        table.name = Some(value.into_owned());
                    }
                    Ok(())
                })
            }
            "sessioninfo" => {
                let (mut id, mut start, mut dump) = (String::new(), 0, 0);
                element.attributes(|key, value| {
                    match key {
                        "id" => id = value.into_owned(),
                        "start" => start = parse_count(&value).unwrap_or(0),
                        "dump" => dump = parse_count(&value).unwrap_or(0),
                        _ => {}
                    }
                    Ok(())
                })?;
                self.table.sessions.insert((id, start, dump));
                Ok(())
            }
            "group" => {
                let name = name_of(element)?;
                self.groups.push(name);
                Ok(())
            }
            "package" => {
                self.package = Some(name_of(element)?);
                Ok(())
            }
            "class" => {
                let mut seen = ClassSeen {
                    name: String::new(),
                    class: Class::default(),
                };
                element.attributes(|key, value| {
                    match key {
                        "name" => seen.name = value.into_owned(),
                        "sourcefilename" => seen.class.sourcefilename = Some(value.into_owned()),
                        _ => {}
                    }
                    Ok(())
                })?;
                self.class = Some(seen);
                Ok(())
            }
            "method" => {
                let mut seen = MethodSeen {
                    key: (String::new(), String::new()),
                    method: Method::default(),
                };
                element.attributes(|key, value| {
                    match key {
                        "name" => seen.key.0 = value.into_owned(),
                        "desc" => seen.key.1 = value.into_owned(),
                        "line" => seen.method.line = value.trim().parse().ok(),
                        _ => {}
                    }
                    Ok(())
                })?;
                self.method = Some(seen);
                Ok(())
            }
            "sourcefile" => {
                self.sourcefile = Some(SourceSeen {
                    name: name_of(element)?,
                    file: SourceFile::default(),
                });
                Ok(())
            }
            "line" => self.read_line(element),
            "counter" => self.read_counter(element),
            _ => element.attributes(|_, _| Ok(())),
        }
    }

    fn end(&mut self, name: &str) -> Result<(), CoverageError> {
        match name {
            "group" => {
                self.groups.pop();
            }
            "package" => self.package = None,
            "method" => {
                if let (Some(seen), Some(class)) = (self.method.take(), &mut self.class) {
                    let merged = class.class.methods.entry(seen.key).or_default();
                    merged.line = merged.line.or(seen.method.line);
                    merged.counters.merge(&seen.method.counters);
                }
            }
            "class" => {
                if let Some(seen) = self.class.take() {
                    let package = self.package_entry();
                    package
                        .classes
                        .entry(seen.name)
                        .or_default()
                        .absorb(seen.class);
                }
            }
            "sourcefile" => {
                if let Some(seen) = self.sourcefile.take() {
                    let key = (
                        self.groups.clone(),
                        self.package.clone().unwrap_or_default(),
                        seen.name.clone(),
                    );
                    self.files.insert(key);
                    let package = self.package_entry();
                    package
                        .sourcefiles
                        .entry(seen.name)
                        .or_default()
                        .absorb(seen.file);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn text(&mut self, _text: &str) -> Result<(), CoverageError> {
        Ok(())
    }
}

impl InputReader<'_> {
    fn package_entry(&mut self) -> &mut Package {
        let key = (
            self.groups.clone(),
            self.package.clone().unwrap_or_default(),
        );
        self.table.packages.entry(key).or_default()
    }

    fn read_line(&mut self, element: &Element<'_>) -> Result<(), CoverageError> {
        let mut number = None;
        let mut line = SourceLine::default();
        element.attributes(|key, value| {
            let slot = match key {
                "nr" => {
                    number = Some(
                        value
                            .trim()
                            .parse::<u32>()
                            .map_err(|_| bad_value("line number", &value, element.offset))?,
                    );
                    return Ok(());
                }
                "mi" => &mut line.mi,
                "ci" => &mut line.ci,
                "mb" => &mut line.mb,
                "cb" => &mut line.cb,
                _ => return Ok(()),
            };
            *slot = parse_count(&value)
                .ok_or_else(|| bad_value("line counter", &value, element.offset))?;
            Ok(())
        })?;
        let number = number.ok_or_else(|| bad_value("line number", "", element.offset))?;
        if let Some(seen) = &mut self.sourcefile {
            seen.file.lines.entry(number).or_default().merge(line);
        }
        Ok(())
    }

    fn read_counter(&mut self, element: &Element<'_>) -> Result<(), CoverageError> {
        let mut kind = None;
        let mut counter = Counter::default();
        element.attributes(|key, value| {
            match key {
                "type" => kind = COUNTER_TYPES.iter().position(|t| *t == value.trim()),
                "missed" => {
                    counter.missed = parse_count(&value)
                        .ok_or_else(|| bad_value("counter", &value, element.offset))?;
                }
                "covered" => {
                    counter.covered = parse_count(&value)
                        .ok_or_else(|| bad_value("counter", &value, element.offset))?;
                }
                _ => {}
            }
            Ok(())
        })?;
        let Some(kind) = kind else { return Ok(()) };
        // The innermost element a counter can belong to; package, group and report counters
        // are recounted.
        let target = if let Some(method) = &mut self.method {
            &mut method.method.counters
        } else if let Some(class) = &mut self.class {
            &mut class.class.counters
        } else if let Some(file) = &mut self.sourcefile {
            &mut file.file.counters
        } else {
            return Ok(());
        };
        let mut single = Counters::default();
        single.0[kind] = Some(counter);
        target.merge(&single);
        Ok(())
    }
}

fn name_of(element: &Element<'_>) -> Result<String, CoverageError> {
    let mut name = String::new();
    element.attributes(|key, value| {
        if key == "name" {
            name = value.into_owned();
        }
        Ok(())
    })?;
    Ok(name)
}

fn bad_value(what: &'static str, value: &str, offset: u64) -> CoverageError {
    CoverageError::BadValue {
        what,
        value: super::error::shorten(value),
        at: format!("byte {offset}"),
    }
}

#[cfg(test)]
mod tests;
