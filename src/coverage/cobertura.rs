//! Cobertura XML: reading into the merged table, and writing it.
//!
//! The table is keyed by (normalised file name, class name): coverage.py, gcovr, istanbul and
//! cargo-llvm-cov write one class per file, coverlet and Java's Cobertura one per class. Per
//! line, hits are summed. Branches are merged exactly when the producer says which branches
//! were missed (coverage.py's `missing-branches`: a branch is covered if any input covered it,
//! so the merged missing set is the intersection of the inputs'), or when an input took every
//! branch of a line; otherwise a line's merged branch count is the best any input reached,
//! and a warning says how many lines that was. `<conditions>` children are not written (they
//! only repeat `condition-coverage` per condition, which cannot be merged exactly).
//!
//! Every count and rate is recounted from the lines at every level (class, package, root),
//! `complexity` is kept as the inputs wrote it (the largest when they differ), `timestamp` is
//! the newest input's and `version` the inputs' (the highest when they differ), so the output
//! depends only on the inputs, never on their order or the clock.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{self, BufRead, Write};

use super::merge::{Table, Totals};
use super::numbers::{max_kept, parse_count, rate};
use super::paths::Normaliser;
use super::xml::{Element, Visitor, read_xml};
use super::{CoverageError, CoverageOptions, Format, Ratio};
use crate::junit::write::{attr, text};

/// The merged Cobertura report.
#[derive(Debug, Default)]
pub(super) struct CoberturaTable {
    /// Keyed by (normalised file name, class name).
    classes: BTreeMap<(String, String), Class>,
    /// Package name to its kept `complexity`.
    packages: BTreeMap<String, Option<String>>,
    /// The inputs' `<source>` directories, normalised.
    sources: BTreeSet<String>,
    versions: BTreeSet<String>,
    timestamp: Option<u64>,
    complexity: Option<String>,
    /// Whether any input measured branches (then a rate of nothing is `1`, else `0`, as
    /// coverage.py writes it).
    branches_measured: bool,
    /// Inputs read, and how many of them measured no branches.
    inputs_read: usize,
    inputs_without_branches: usize,
}

#[derive(Debug, Default)]
struct Class {
    /// The package it was listed in (the smallest name when inputs differ).
    package: String,
    complexity: Option<String>,
    lines: BTreeMap<u32, Line>,
    /// Keyed by (name, signature).
    methods: BTreeMap<(String, String), Method>,
}

#[derive(Debug, Default)]
struct Method {
    complexity: Option<String>,
    lines: BTreeMap<u32, Line>,
}

/// One merged line.
#[derive(Debug, Default, Clone, PartialEq)]
struct Line {
    hits: u64,
    branch: Option<Box<Branch>>,
}

/// The merged branches of one line.
#[derive(Debug, Clone, PartialEq)]
struct Branch {
    /// Branches on the line (the most any input counted).
    total: u32,
    /// The most branches any input covered.
    best: u32,
    /// The branches every exact input missed (sorted); `None` before the first exact input.
    missing: Option<Vec<Box<str>>>,
    /// Whether an input gave a count without saying which branches it missed.
    inexact: bool,
    /// How many inputs had branches on this line.
    observations: u32,
}

impl Branch {
    fn new(observed: BranchSeen) -> Self {
        let BranchSeen {
            covered,
            total,
            missing,
        } = observed;
        // Exact: the input said which branches it missed (and its count agrees), or it took
        // every branch. A count above what the list implies is a merged report's inexact
        // evidence, kept as such.
        let exact = match &missing {
            Some(missing) => covered <= total.saturating_sub(missing.len() as u32),
            None => covered >= total,
        };
        Branch {
            total,
            best: covered.min(total),
            missing: if exact {
                Some(missing.unwrap_or_default())
            } else {
                missing
            },
            inexact: !exact,
            observations: 1,
        }
    }

    fn add(&mut self, other: &Branch) {
        self.total = self.total.max(other.total);
        self.best = self.best.max(other.best);
        self.missing = match (self.missing.take(), &other.missing) {
            (Some(mine), Some(theirs)) => Some(intersect(mine, theirs)),
            (Some(mine), None) => Some(mine),
            (None, theirs) => theirs.clone(),
        };
        self.inexact |= other.inexact;
        self.observations = self.observations.saturating_add(other.observations);
    }

    /// Covered branches: the branches some exact input covered (all but the ones every exact
    /// input missed), or the most any inexact input covered if that is more. With exact inputs
    /// only, this is exactly the union; the same formula on re-read output keeps the merge
    /// associative.
    fn covered(&self) -> u32 {
        let exact = self
            .missing
            .as_ref()
            .map_or(0, |missing| self.total.saturating_sub(missing.len() as u32));
        exact.max(self.best).min(self.total)
    }

    /// Whether the count is the best evidence of several inputs rather than exact.
    fn is_best_evidence(&self) -> bool {
        self.inexact && self.observations > 1 && self.covered() < self.total
    }
}

impl Line {
    fn add(&mut self, other: &Line) {
        self.hits = self.hits.saturating_add(other.hits);
        match (&mut self.branch, &other.branch) {
            (Some(mine), Some(theirs)) => mine.add(theirs),
            (None, Some(theirs)) => self.branch = Some(theirs.clone()),
            (_, None) => {}
        }
    }
}

/// Adds merged lines into merged lines.
fn add_lines(into: &mut BTreeMap<u32, Line>, lines: BTreeMap<u32, Line>) {
    for (number, line) in lines {
        match into.entry(number) {
            Entry::Vacant(vacant) => {
                vacant.insert(line);
            }
            Entry::Occupied(mut occupied) => {
                occupied.get_mut().add(&line);
            }
        }
    }
}

/// The multiset intersection of two sorted lists.
fn intersect(mine: Vec<Box<str>>, theirs: &[Box<str>]) -> Vec<Box<str>> {
    let mut out = Vec::with_capacity(mine.len().min(theirs.len()));
    let mut other = theirs.iter().peekable();
    for item in mine {
        while other
            .peek()
            .is_some_and(|next| branch_order(next, &item).is_lt())
        {
            other.next();
        }
        if other.peek().is_some_and(|next| **next == item) {
            other.next();
            out.push(item);
        }
    }
    out
}

/// coverage.py's order of missed branch destinations: `exit` first, then line numbers, then
/// anything else by text.
fn branch_order(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |s: &str| match (s == "exit", s.parse::<u64>()) {
        (true, _) => (0, 0),
        (false, Ok(number)) => (1, number),
        (false, Err(_)) => (2, 0),
    };
    key(a).cmp(&key(b)).then_with(|| a.cmp(b))
}

/// What one input says about a line's branches.
struct BranchSeen {
    covered: u32,
    total: u32,
    missing: Option<Vec<Box<str>>>,
}

impl Table for CoberturaTable {
    fn absorb(&mut self, other: Self) {
        for (key, class) in other.classes {
            let merged = match self.classes.entry(key) {
                Entry::Vacant(vacant) => {
                    vacant.insert(class);
                    continue;
                }
                Entry::Occupied(occupied) => occupied.into_mut(),
            };
            if class.package < merged.package {
                merged.package = class.package;
            }
            if let Some(complexity) = &class.complexity {
                max_kept(&mut merged.complexity, complexity);
            }
            add_lines(&mut merged.lines, class.lines);
            for (key, method) in class.methods {
                let entry = merged.methods.entry(key).or_default();
                if let Some(complexity) = &method.complexity {
                    max_kept(&mut entry.complexity, complexity);
                }
                add_lines(&mut entry.lines, method.lines);
            }
        }
        for (name, complexity) in other.packages {
            let kept = self.packages.entry(name).or_default();
            if let Some(complexity) = &complexity {
                max_kept(kept, complexity);
            }
        }
        self.sources.extend(other.sources);
        self.versions.extend(other.versions);
        self.timestamp = self.timestamp.max(other.timestamp);
        if let Some(complexity) = &other.complexity {
            max_kept(&mut self.complexity, complexity);
        }
        self.branches_measured |= other.branches_measured;
        self.inputs_read += other.inputs_read;
        self.inputs_without_branches += other.inputs_without_branches;
    }

    fn read<R: BufRead>(
        &mut self,
        input: R,
        options: &CoverageOptions,
        files: &mut usize,
    ) -> Result<(), CoverageError> {
        let mut reader = InputReader {
            table: self,
            normaliser: Normaliser::new(&options.path_maps),
            max_text: options.limits.max_value_bytes,
            files: HashSet::new(),
            source: None,
            package: None,
            class: None,
            method: None,
            line: None,
            measured_branches: false,
        };
        let result = read_xml(
            input,
            Format::Cobertura,
            "coverage",
            &options.limits,
            &mut reader,
        );
        *files = reader.files.len();
        let measured = reader.measured_branches;
        self.inputs_read += 1;
        self.branches_measured |= measured;
        if !measured {
            self.inputs_without_branches += 1;
        }
        result
    }

    fn write(
        &self,
        inputs: usize,
        warnings: &mut Vec<String>,
        out: &mut dyn Write,
    ) -> io::Result<Totals> {
        self.warn(warnings);
        let mut packages: BTreeMap<&str, Vec<ClassRow<'_>>> = BTreeMap::new();
        let mut total = Counts::default();
        for (key, class) in &self.classes {
            let counts = Counts::of(&class.lines);
            total.add(counts);
            packages
                .entry(class.package.as_str())
                .or_default()
                .push((key, class, counts));
        }
        let branch_rate = |counts: Counts| self.branch_rate(counts.branches);
        writeln!(out, "<?xml version=\"1.0\" ?>")?;
        write!(out, "<coverage")?;
        if let Some(version) = self.versions.last() {
            write!(out, " version=\"{}\"", attr(version))?;
        }
        writeln!(
            out,
            " timestamp=\"{}\" lines-valid=\"{}\" lines-covered=\"{}\" line-rate=\"{}\" \
             branches-valid=\"{}\" branches-covered=\"{}\" branch-rate=\"{}\" complexity=\"{}\">",
            self.timestamp.unwrap_or(0),
            total.lines.valid,
            total.lines.covered,
            rate(total.lines.covered, total.lines.valid),
            total.branches.valid,
            total.branches.covered,
            branch_rate(total),
            attr(self.complexity.as_deref().unwrap_or("0")),
        )?;
        let plural = if inputs == 1 { "" } else { "s" };
        writeln!(
            out,
            "\t<!-- Merged by rxdist from {inputs} Cobertura report{plural} -->"
        )?;
        writeln!(
            out,
            "\t<!-- Based on https://raw.githubusercontent.com/cobertura/web/master/htdocs/xml/coverage-04.dtd -->"
        )?;
        if self.sources.is_empty() {
            writeln!(out, "\t<sources/>")?;
        } else {
            writeln!(out, "\t<sources>")?;
            for source in &self.sources {
                writeln!(out, "\t\t<source>{}</source>", text(source))?;
            }
            writeln!(out, "\t</sources>")?;
        }
        writeln!(out, "\t<packages>")?;
        for (name, classes) in &packages {
            let mut counts = Counts::default();
            for (_, _, class_counts) in classes {
                counts.add(*class_counts);
            }
            let complexity = self.packages.get(*name).and_then(Option::as_deref);
            writeln!(
                out,
                "\t\t<package name=\"{}\" line-rate=\"{}\" branch-rate=\"{}\" complexity=\"{}\">",
                attr(name),
                rate(counts.lines.covered, counts.lines.valid),
                branch_rate(counts),
                attr(complexity.unwrap_or("0")),
            )?;
            writeln!(out, "\t\t\t<classes>")?;
            for ((filename, class_name), class, counts) in classes {
                writeln!(
                    out,
                    "\t\t\t\t<class name=\"{}\" filename=\"{}\" complexity=\"{}\" line-rate=\"{}\" branch-rate=\"{}\">",
                    attr(class_name),
                    attr(filename),
                    attr(class.complexity.as_deref().unwrap_or("0")),
                    rate(counts.lines.covered, counts.lines.valid),
                    branch_rate(*counts),
                )?;
                self.write_methods(out, class)?;
                write_lines(out, &class.lines, "\t\t\t\t\t")?;
                writeln!(out, "\t\t\t\t</class>")?;
            }
            writeln!(out, "\t\t\t</classes>")?;
            writeln!(out, "\t\t</package>")?;
        }
        writeln!(out, "\t</packages>")?;
        writeln!(out, "</coverage>")?;
        let files = self
            .classes
            .keys()
            .map(|(filename, _)| filename)
            .collect::<BTreeSet<_>>()
            .len();
        Ok(Totals {
            files,
            lines: total.lines,
            branches: total.branches,
        })
    }

    fn line_sets(&self) -> Vec<(&str, Vec<u32>)> {
        let mut files: BTreeMap<&str, BTreeSet<u32>> = BTreeMap::new();
        for ((filename, _), class) in &self.classes {
            files
                .entry(filename)
                .or_default()
                .extend(class.lines.keys().copied());
        }
        files
            .into_iter()
            .map(|(file, lines)| (file, lines.into_iter().collect()))
            .collect()
    }
}

impl CoberturaTable {
    fn branch_rate(&self, branches: Ratio) -> String {
        if self.branches_measured || branches.valid > 0 {
            rate(branches.covered, branches.valid)
        } else {
            "0".to_owned()
        }
    }

    fn warn(&self, warnings: &mut Vec<String>) {
        let mut lines = 0;
        let mut files = BTreeSet::new();
        for ((filename, _), class) in &self.classes {
            for line in class.lines.values() {
                if line.branch.as_ref().is_some_and(|b| b.is_best_evidence()) {
                    lines += 1;
                    files.insert(filename);
                }
            }
        }
        if lines > 0 {
            warnings.push(format!(
                "branch coverage of {lines} lines in {} files is the best of the inputs, not their \
                 union: their producer counts branches per line without saying which were taken, \
                 so the merged count is the most any one report covered (for an exact figure, \
                 merge the producer's raw data first, e.g. gcovr's JSON or istanbul's \
                 coverage-final.json)",
                files.len()
            ));
        }
        if self.branches_measured && self.inputs_without_branches > 0 {
            warnings.push(format!(
                "{} of {} Cobertura reports have no branch data (measured without branch \
                 coverage?); branch figures come from the others only",
                self.inputs_without_branches, self.inputs_read
            ));
        }
    }

    fn write_methods(&self, out: &mut dyn Write, class: &Class) -> io::Result<()> {
        if class.methods.is_empty() {
            return writeln!(out, "\t\t\t\t\t<methods/>");
        }
        writeln!(out, "\t\t\t\t\t<methods>")?;
        for ((name, signature), method) in &class.methods {
            let counts = Counts::of(&method.lines);
            writeln!(
                out,
                "\t\t\t\t\t\t<method name=\"{}\" signature=\"{}\" line-rate=\"{}\" branch-rate=\"{}\" complexity=\"{}\">",
                attr(name),
                attr(signature),
                rate(counts.lines.covered, counts.lines.valid),
                self.branch_rate(counts.branches),
                attr(method.complexity.as_deref().unwrap_or("0")),
            )?;
            write_lines(out, &method.lines, "\t\t\t\t\t\t\t")?;
            writeln!(out, "\t\t\t\t\t\t</method>")?;
        }
        writeln!(out, "\t\t\t\t\t</methods>")
    }
}

fn write_lines(out: &mut dyn Write, lines: &BTreeMap<u32, Line>, indent: &str) -> io::Result<()> {
    if lines.is_empty() {
        return writeln!(out, "{indent}<lines/>");
    }
    writeln!(out, "{indent}<lines>")?;
    for (number, line) in lines {
        write!(
            out,
            "{indent}\t<line number=\"{number}\" hits=\"{}\"",
            line.hits
        )?;
        if let Some(branch) = &line.branch {
            let covered = branch.covered();
            // coverage.py floors the percentage.
            let percent = u64::from(covered) * 100 / u64::from(branch.total.max(1));
            write!(
                out,
                " branch=\"true\" condition-coverage=\"{percent}% ({covered}/{})\"",
                branch.total
            )?;
            // Written whenever some input said what it missed, also beside inexact evidence
            // (then the count may be higher than the list implies): the list is what lets a
            // later merge stay exact.
            if let Some(missing) = &branch.missing
                && !missing.is_empty()
            {
                let joined: Vec<&str> = missing.iter().map(AsRef::as_ref).collect();
                write!(out, " missing-branches=\"{}\"", attr(&joined.join(",")))?;
            }
        }
        writeln!(out, "/>")?;
    }
    writeln!(out, "{indent}</lines>")
}

/// A class as written: its key (file name, class name), the class, its counts.
type ClassRow<'t> = (&'t (String, String), &'t Class, Counts);

/// Line and branch counts of a set of lines.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    lines: Ratio,
    branches: Ratio,
}

impl Counts {
    fn of(lines: &BTreeMap<u32, Line>) -> Self {
        let mut counts = Counts::default();
        for line in lines.values() {
            counts.lines.valid += 1;
            counts.lines.covered += u64::from(line.hits > 0);
            if let Some(branch) = &line.branch {
                counts.branches.valid += u64::from(branch.total);
                counts.branches.covered += u64::from(branch.covered());
            }
        }
        counts
    }

    fn add(&mut self, other: Counts) {
        self.lines.valid += other.lines.valid;
        self.lines.covered += other.lines.covered;
        self.branches.valid += other.branches.valid;
        self.branches.covered += other.branches.covered;
    }
}

/// A class being read, merged into the table at its end tag.
struct ClassSeen {
    name: String,
    filename: Option<String>,
    complexity: Option<String>,
    lines: Vec<(u32, Line)>,
    methods: Vec<MethodSeen>,
    offset: u64,
}

struct MethodSeen {
    name: String,
    signature: String,
    complexity: Option<String>,
    lines: Vec<(u32, Line)>,
}

/// The visitor that reads one input into the table.
struct InputReader<'t> {
    table: &'t mut CoberturaTable,
    normaliser: Normaliser,
    max_text: usize,
    /// Distinct files taken from this input.
    files: HashSet<String>,
    /// The text of the `<source>` being read.
    source: Option<String>,
    package: Option<String>,
    class: Option<ClassSeen>,
    method: Option<MethodSeen>,
    /// A `<line>` with children (`<conditions>`), kept until its end tag.
    line: Option<(u32, Line)>,
    measured_branches: bool,
}

impl Visitor for InputReader<'_> {
    fn start(&mut self, element: &Element<'_>) -> Result<(), CoverageError> {
        match element.name() {
            "coverage" => self.read_root(element),
            "source" => {
                self.source = Some(String::new());
                Ok(())
            }
            "package" => {
                let mut name = String::new();
                let mut complexity = None;
                element.attributes(|key, value| {
                    match key {
                        "name" => name = value.into_owned(),
                        "complexity" => complexity = Some(value.into_owned()),
                        _ => {}
                    }
                    Ok(())
                })?;
                let kept = self.table.packages.entry(name.clone()).or_default();
                if let Some(complexity) = complexity {
                    max_kept(kept, &complexity);
                }
                self.package = Some(name);
                Ok(())
            }
            "class" => {
                let mut class = ClassSeen {
                    name: String::new(),
                    filename: None,
                    complexity: None,
                    lines: Vec::new(),
                    methods: Vec::new(),
                    offset: element.offset,
                };
                element.attributes(|key, value| {
                    match key {
                        "name" => class.name = value.into_owned(),
                        "filename" => class.filename = Some(value.into_owned()),
                        "complexity" => class.complexity = Some(value.into_owned()),
                        _ => {}
                    }
                    Ok(())
                })?;
                self.class = Some(class);
                Ok(())
            }
            "method" if self.class.is_some() => {
                let mut method = MethodSeen {
                    name: String::new(),
                    signature: String::new(),
                    complexity: None,
                    lines: Vec::new(),
                };
                element.attributes(|key, value| {
                    match key {
                        "name" => method.name = value.into_owned(),
                        "signature" => method.signature = value.into_owned(),
                        "complexity" => method.complexity = Some(value.into_owned()),
                        _ => {}
                    }
                    Ok(())
                })?;
                self.method = Some(method);
                Ok(())
            }
            "line" if self.class.is_some() => {
                let line = self.read_line(element)?;
                self.line = Some(line);
                Ok(())
            }
            _ => element.attributes(|_, _| Ok(())),
        }
    }

    fn end(&mut self, name: &str) -> Result<(), CoverageError> {
        match name {
            "source" => {
                if let Some(source) = self.source.take() {
                    let source = source.trim();
                    if !source.is_empty() {
                        self.normaliser.add_source(source);
                        self.table.sources.insert(self.normaliser.source(source));
                    }
                }
            }
            "line" => {
                if let Some(line) = self.line.take() {
                    match (&mut self.method, &mut self.class) {
                        (Some(method), _) => method.lines.push(line),
                        (None, Some(class)) => class.lines.push(line),
                        (None, None) => {}
                    }
                }
            }
            "method" => {
                if let (Some(method), Some(class)) = (self.method.take(), &mut self.class) {
                    class.methods.push(method);
                }
            }
            "class" => {
                if let Some(class) = self.class.take() {
                    self.commit(class)?;
                }
            }
            "package" => self.package = None,
            _ => {}
        }
        Ok(())
    }

    fn text(&mut self, text: &str) -> Result<(), CoverageError> {
        if let Some(source) = &mut self.source {
            if source.len() + text.len() > self.max_text {
                return Err(CoverageError::ValueTooLong {
                    name: "source".to_owned(),
                    at: "a <source> element".to_owned(),
                    length: source.len() + text.len(),
                    limit: self.max_text,
                });
            }
            source.push_str(text);
        }
        Ok(())
    }
}

impl InputReader<'_> {
    fn read_root(&mut self, element: &Element<'_>) -> Result<(), CoverageError> {
        let table = &mut *self.table;
        let mut measured = false;
        element.attributes(|key, value| {
            match key {
                "timestamp" => {
                    // coverage.py writes milliseconds; some writers a float.
                    if let Some(timestamp) = parse_count(&value)
                        .or_else(|| value.trim().parse::<f64>().ok().map(|v| v.max(0.0) as u64))
                    {
                        table.timestamp = table.timestamp.max(Some(timestamp));
                    }
                }
                "version" if !value.trim().is_empty() => {
                    table.versions.insert(value.into_owned());
                }
                "complexity" => max_kept(&mut table.complexity, &value),
                "branches-valid" => measured |= parse_count(&value).is_some_and(|n| n > 0),
                "branch-rate" => {
                    measured |= value.trim().parse::<f64>().is_ok_and(|rate| rate > 0.0);
                }
                _ => {}
            }
            Ok(())
        })?;
        self.measured_branches |= measured;
        Ok(())
    }

    fn read_line(&mut self, element: &Element<'_>) -> Result<(u32, Line), CoverageError> {
        let mut number = None;
        let mut hits = None;
        let mut is_branch = false;
        let mut condition = None;
        let mut missing = None;
        element.attributes(|key, value| {
            match key {
                "number" => {
                    number = Some(
                        value
                            .trim()
                            .parse::<u32>()
                            .map_err(|_| bad_value("line number", &value, element.offset))?,
                    );
                }
                "hits" => {
                    hits = Some(
                        parse_count(&value)
                            .ok_or_else(|| bad_value("hit count", &value, element.offset))?,
                    );
                }
                "branch" => is_branch = value.trim().eq_ignore_ascii_case("true"),
                "condition-coverage" => condition = Some(value.into_owned()),
                "missing-branches" => {
                    let mut list: Vec<Box<str>> = value
                        .split(',')
                        .map(str::trim)
                        .filter(|item| !item.is_empty())
                        .map(Box::from)
                        .collect();
                    list.sort_unstable_by(|a, b| branch_order(a, b));
                    missing = Some(list);
                }
                _ => {}
            }
            Ok(())
        })?;
        let number = number.ok_or_else(|| bad_value("line number", "", element.offset))?;
        let branch = match (is_branch, condition) {
            (true, Some(condition)) => {
                let (covered, total) = parse_condition(&condition)
                    .ok_or_else(|| bad_value("condition-coverage", &condition, element.offset))?;
                (total > 0).then(|| {
                    Box::new(Branch::new(BranchSeen {
                        covered,
                        total,
                        missing,
                    }))
                })
            }
            _ => None,
        };
        self.measured_branches |= branch.is_some();
        Ok((
            number,
            Line {
                hits: hits.unwrap_or(0),
                branch,
            },
        ))
    }

    /// Merges a class read whole into the table.
    fn commit(&mut self, class: ClassSeen) -> Result<(), CoverageError> {
        let Some(filename) = class.filename else {
            return Err(bad_value(
                "class without filename",
                &class.name,
                class.offset,
            ));
        };
        let key = self.normaliser.file(&filename);
        self.files.insert(key.clone());
        let package = self.package.clone().unwrap_or_default();
        let merged = match self.table.classes.entry((key, class.name)) {
            Entry::Vacant(vacant) => vacant.insert(Class {
                package,
                ..Class::default()
            }),
            Entry::Occupied(occupied) => {
                let merged = occupied.into_mut();
                if package < merged.package {
                    merged.package = package;
                }
                merged
            }
        };
        if let Some(complexity) = &class.complexity {
            max_kept(&mut merged.complexity, complexity);
        }
        for (number, line) in class.lines {
            merged.lines.entry(number).or_default().add(&line);
        }
        for method in class.methods {
            let entry = merged
                .methods
                .entry((method.name, method.signature))
                .or_default();
            if let Some(complexity) = &method.complexity {
                max_kept(&mut entry.complexity, complexity);
            }
            for (number, line) in method.lines {
                entry.lines.entry(number).or_default().add(&line);
            }
        }
        Ok(())
    }
}

/// `(covered, total)` from `condition-coverage="50% (1/2)"`.
fn parse_condition(text: &str) -> Option<(u32, u32)> {
    let inside = text.split_once('(')?.1.split_once(')')?.0;
    let (covered, total) = inside.split_once('/')?;
    Some((covered.trim().parse().ok()?, total.trim().parse().ok()?))
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
