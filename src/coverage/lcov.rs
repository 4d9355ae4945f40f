//! LCOV tracefiles: reading into the merged table, and writing it.
//!
//! One record per source file (`SF:` to `end_of_record`), merged by normalised path whatever
//! its test name. Line hits (`DA`) are summed over the union of lines; functions (`FN`/`FNDA`,
//! and lcov 2's `FNL`/`FNA`) are merged by name with their hits summed; branches (`BRDA`) keep
//! their exact identity (line, block, branch), with `-` (the block never ran) kept apart from
//! `0` (it ran, the branch was not taken): `-` merged with a count is the count. The summary
//! records (`FNF`, `FNH`, `BRF`, `BRH`, `LF`, `LH`) are recounted, never copied. `DA`
//! checksums are kept when every input agrees on them. Record types rxdist does not merge are
//! dropped with a warning naming them.
//!
//! Lines are read one at a time, each within [`super::Limits::max_value_bytes`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, BufRead, Read, Write};

use super::merge::{Table, Totals};
use super::numbers::parse_count;
use super::paths::Normaliser;
use super::xml::open;
use super::{CoverageError, CoverageOptions, Format, Ratio};

/// The merged tracefile.
#[derive(Debug, Default)]
pub(super) struct LcovTable {
    files: BTreeMap<String, FileRecord>,
    /// Record types that were dropped, and how often.
    dropped: BTreeMap<String, u64>,
}

#[derive(Debug, Default, Clone, PartialEq)]
struct FileRecord {
    /// Every test name the file's records carried.
    test_names: BTreeSet<String>,
    functions: BTreeMap<String, Function>,
    branches: BTreeMap<(u32, Label, Label), Option<u64>>,
    lines: BTreeMap<u32, Line>,
}

#[derive(Debug, Default, Clone, PartialEq)]
struct Function {
    /// First line (`None` when only `FNDA` named it).
    line: Option<u32>,
    /// Last line (lcov 2).
    end: Option<u32>,
    hits: u64,
}

#[derive(Debug, Clone, PartialEq)]
struct Line {
    hits: u64,
    checksum: Checksum,
}

#[derive(Debug, Clone, PartialEq)]
enum Checksum {
    /// No input had one yet.
    Unset,
    /// Every input that listed the line had this one.
    Agreed(Box<str>),
    /// Inputs disagreed, or some had none: not written.
    Dropped,
}

impl Checksum {
    fn merge(&mut self, other: &Checksum) {
        *self = match (&*self, other) {
            (Checksum::Agreed(a), Checksum::Agreed(b)) if a == b => return,
            (Checksum::Unset, Checksum::Unset) => Checksum::Unset,
            _ => Checksum::Dropped,
        };
    }
}

/// A block or branch label of `BRDA`: compared naturally, runs of digits as numbers, so
/// `2` < `10` and `jump to line 9` < `jump to line 12` (coverage.py's labels); equal-valued
/// spellings (`01`, `1`) fall back to the text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Label(Box<str>);

impl Ord for Label {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        natural(&self.0, &other.0).then_with(|| self.0.cmp(&other.0))
    }
}

/// Compares two texts chunk by chunk: digit runs by value, other runs by text.
fn natural(left: &str, right: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let digits = |text: &[u8]| text.iter().take_while(|c| c.is_ascii_digit()).count();
    let value = |run: &[u8]| {
        let zeros = run.iter().take_while(|&&c| c == b'0').count();
        run[zeros..].to_vec()
    };
    let (mut left, mut right) = (left.as_bytes(), right.as_bytes());
    loop {
        match (left.first(), right.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(one), Some(other)) if one.is_ascii_digit() && other.is_ascii_digit() => {
                let (left_run, right_run) = (digits(left), digits(right));
                let (one, other) = (value(&left[..left_run]), value(&right[..right_run]));
                let order = one.len().cmp(&other.len()).then_with(|| one.cmp(&other));
                if order != Ordering::Equal {
                    return order;
                }
                left = &left[left_run..];
                right = &right[right_run..];
            }
            (Some(one), Some(other)) => {
                if one != other {
                    return one.cmp(other);
                }
                left = &left[1..];
                right = &right[1..];
            }
        }
    }
}

impl PartialOrd for Label {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl FileRecord {
    fn merge(&mut self, other: FileRecord) {
        self.test_names.extend(other.test_names);
        for (name, function) in other.functions {
            let merged = self.functions.entry(name).or_default();
            merged.line = match (merged.line, function.line) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            merged.end = merged.end.max(function.end);
            merged.hits = merged.hits.saturating_add(function.hits);
        }
        for (key, taken) in other.branches {
            let merged = self.branches.entry(key).or_insert(None);
            *merged = match (*merged, taken) {
                (Some(a), Some(b)) => Some(a.saturating_add(b)),
                (a, b) => a.or(b),
            };
        }
        for (number, line) in other.lines {
            match self.lines.get_mut(&number) {
                Some(merged) => {
                    merged.hits = merged.hits.saturating_add(line.hits);
                    merged.checksum.merge(&line.checksum);
                }
                None => {
                    self.lines.insert(number, line);
                }
            }
        }
    }
}

impl Table for LcovTable {
    fn absorb(&mut self, other: Self) {
        for (path, record) in other.files {
            match self.files.get_mut(&path) {
                Some(merged) => merged.merge(record),
                None => {
                    self.files.insert(path, record);
                }
            }
        }
        for (kind, count) in other.dropped {
            *self.dropped.entry(kind).or_default() += count;
        }
    }

    fn read<R: BufRead>(
        &mut self,
        mut input: R,
        options: &CoverageOptions,
        files: &mut usize,
    ) -> Result<(), CoverageError> {
        let (head, _) = open(&mut input, Format::Lcov)?;
        let mut reader = InputReader {
            lines: LineReader {
                input: head.chain(input),
                buf: Vec::new(),
                number: 0,
                max: options.limits.max_value_bytes,
            },
            normaliser: Normaliser::new(&options.path_maps),
            seen: std::collections::HashSet::new(),
        };
        let result = reader.read(self);
        *files = reader.seen.len();
        result
    }

    fn write(
        &self,
        _inputs: usize,
        warnings: &mut Vec<String>,
        out: &mut dyn Write,
    ) -> io::Result<Totals> {
        if !self.dropped.is_empty() {
            let kinds: Vec<String> = self
                .dropped
                .iter()
                .map(|(kind, count)| format!("{kind} ({count})"))
                .collect();
            warnings.push(format!(
                "LCOV records rxdist does not merge were left out: {}",
                kinds.join(", ")
            ));
        }
        let mut totals = Totals {
            files: self.files.len(),
            ..Totals::default()
        };
        for (path, record) in &self.files {
            let counts = write_record(out, path, record)?;
            totals.lines.valid += counts.0.valid;
            totals.lines.covered += counts.0.covered;
            totals.branches.valid += counts.1.valid;
            totals.branches.covered += counts.1.covered;
        }
        Ok(totals)
    }

    fn line_sets(&self) -> Vec<(&str, Vec<u32>)> {
        self.files
            .iter()
            .map(|(path, record)| (path.as_str(), record.lines.keys().copied().collect()))
            .collect()
    }
}

/// Writes one record; returns its (lines, branches) counts.
fn write_record(
    out: &mut dyn Write,
    path: &str,
    record: &FileRecord,
) -> io::Result<(Ratio, Ratio)> {
    if record.test_names.len() == 1
        && let Some(name) = record.test_names.first()
    {
        writeln!(out, "TN:{name}")?;
    }
    writeln!(out, "SF:{path}")?;
    let mut functions: Vec<(&String, &Function)> = record.functions.iter().collect();
    functions.sort_by(|(a_name, a), (b_name, b)| a.line.cmp(&b.line).then(a_name.cmp(b_name)));
    for (name, function) in &functions {
        match (function.line, function.end) {
            (Some(line), Some(end)) => writeln!(out, "FN:{line},{end},{name}")?,
            (Some(line), None) => writeln!(out, "FN:{line},{name}")?,
            (None, _) => {}
        }
    }
    for (name, function) in &functions {
        writeln!(out, "FNDA:{},{name}", function.hits)?;
    }
    let hit = functions.iter().filter(|(_, f)| f.hits > 0).count();
    writeln!(out, "FNF:{}", functions.len())?;
    writeln!(out, "FNH:{hit}")?;
    let mut branches = Ratio::default();
    for ((line, block, branch), taken) in &record.branches {
        branches.valid += 1;
        match taken {
            Some(taken) => {
                branches.covered += u64::from(*taken > 0);
                writeln!(out, "BRDA:{line},{},{},{taken}", block.0, branch.0)?;
            }
            None => writeln!(out, "BRDA:{line},{},{},-", block.0, branch.0)?,
        }
    }
    writeln!(out, "BRF:{}", branches.valid)?;
    writeln!(out, "BRH:{}", branches.covered)?;
    let mut lines = Ratio::default();
    for (number, line) in &record.lines {
        lines.valid += 1;
        lines.covered += u64::from(line.hits > 0);
        match &line.checksum {
            Checksum::Agreed(checksum) => writeln!(out, "DA:{number},{},{checksum}", line.hits)?,
            Checksum::Unset | Checksum::Dropped => writeln!(out, "DA:{number},{}", line.hits)?,
        }
    }
    writeln!(out, "LF:{}", lines.valid)?;
    writeln!(out, "LH:{}", lines.covered)?;
    writeln!(out, "end_of_record")?;
    Ok((lines, branches))
}

/// Reads lines within a length limit.
struct LineReader<R> {
    input: R,
    buf: Vec<u8>,
    /// 1-based number of the last line returned.
    number: u64,
    max: usize,
}

impl<R: BufRead> LineReader<R> {
    /// The next line without its line ending, or `None` at the end of the input.
    fn next(&mut self) -> Result<Option<(u64, &str)>, CoverageError> {
        self.buf.clear();
        let mut any = false;
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(chunk) => chunk,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(CoverageError::Io {
                        offset: 0,
                        source: io::Error::new(
                            source.kind(),
                            format!("at line {}: {source}", self.number + 1),
                        ),
                    });
                }
            };
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (amount, done) = match memchr::memchr(b'\n', chunk) {
                Some(at) => (at + 1, true),
                None => (chunk.len(), false),
            };
            if self.buf.len() + amount > self.max + 2 {
                return Err(CoverageError::ValueTooLong {
                    name: "line".to_owned(),
                    at: format!("line {}", self.number + 1),
                    length: self.buf.len() + amount,
                    limit: self.max,
                });
            }
            self.buf.extend_from_slice(&chunk[..amount]);
            self.input.consume(amount);
            if done {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.number += 1;
        while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
            self.buf.pop();
        }
        std::str::from_utf8(&self.buf)
            .map(|line| Some((self.number, line)))
            .map_err(|_| CoverageError::NotUtf8 { line: self.number })
    }
}

/// A record being read, merged into the table at `end_of_record`.
struct RecordSeen {
    path: String,
    record: FileRecord,
    /// lcov 2's `FNL` index to (first line, last line).
    function_lines: HashMap<String, (u32, Option<u32>)>,
}

struct InputReader<R> {
    lines: LineReader<R>,
    normaliser: Normaliser,
    seen: std::collections::HashSet<String>,
}

impl<R: BufRead> InputReader<R> {
    fn read(&mut self, table: &mut LcovTable) -> Result<(), CoverageError> {
        let mut test_name = String::new();
        let mut current: Option<RecordSeen> = None;
        let mut first = true;
        while let Some((at, line)) = self.lines.next()? {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let (kind, value) = line.split_once(':').unwrap_or((line, ""));
            if first {
                first = false;
                if !matches!(kind, "TN" | "SF" | "VER") {
                    return Err(CoverageError::NotCoverage {
                        format: Format::Lcov,
                        reason: format!(
                            "the first line is `{}`, not a TN: or SF: record",
                            super::error::shorten(line)
                        ),
                    });
                }
            }
            match (kind, current.as_mut()) {
                ("TN", None) => value.trim().clone_into(&mut test_name),
                ("SF", None) => {
                    let path = self.normaliser.file(value);
                    let mut record = FileRecord::default();
                    record.test_names.insert(test_name.clone());
                    current = Some(RecordSeen {
                        path,
                        record,
                        function_lines: HashMap::new(),
                    });
                }
                ("end_of_record", Some(_)) => {
                    if let Some(seen) = current.take() {
                        self.seen.insert(seen.path.clone());
                        match table.files.get_mut(&seen.path) {
                            Some(merged) => merged.merge(seen.record),
                            None => {
                                table.files.insert(seen.path, seen.record);
                            }
                        }
                    }
                }
                ("DA", Some(seen)) => read_da(value, at, &mut seen.record)?,
                ("BRDA", Some(seen)) => read_brda(value, at, &mut seen.record)?,
                ("FN", Some(seen)) => read_fn(value, at, &mut seen.record)?,
                ("FNDA", Some(seen)) => {
                    let (count, name) = fields2(value, "FNDA record", at)?;
                    let hits = count_at(count, "FNDA record", value, at)?;
                    let function = seen.record.functions.entry(name.to_owned()).or_default();
                    function.hits = function.hits.saturating_add(hits);
                }
                ("FNL", Some(seen)) => {
                    let mut fields = value.splitn(3, ',');
                    let index = fields.next().unwrap_or("").trim().to_owned();
                    let start = number_at(fields.next().unwrap_or(""), "FNL record", value, at)?;
                    let end = fields
                        .next()
                        .map(|end| number_at(end, "FNL record", value, at))
                        .transpose()?;
                    seen.function_lines.insert(index, (start, end));
                }
                ("FNA", Some(seen)) => {
                    let mut fields = value.splitn(3, ',');
                    let index = fields.next().unwrap_or("").trim();
                    let hits = count_at(fields.next().unwrap_or(""), "FNA record", value, at)?;
                    let name = fields.next().ok_or_else(|| bad("FNA record", value, at))?;
                    let (line, end) = seen.function_lines.get(index).copied().unzip();
                    let function = seen.record.functions.entry(name.to_owned()).or_default();
                    function.line = function.line.or(line);
                    function.end = function.end.or(end.flatten());
                    function.hits = function.hits.saturating_add(hits);
                }
                // Summaries are recounted; VER only names the format version.
                ("FNF" | "FNH" | "BRF" | "BRH" | "LF" | "LH", Some(_)) | ("VER", _) => {}
                ("SF" | "TN", Some(seen)) => {
                    return Err(CoverageError::Truncated {
                        open: format!("the record of {}", seen.path),
                        at: format!("line {at} (a new {kind}: record starts before end_of_record)"),
                    });
                }
                (kind, Some(_)) if is_record_kind(kind) => {
                    *table.dropped.entry(kind.to_owned()).or_default() += 1;
                }
                (_, _) => {
                    return Err(bad("line outside a record", line, at));
                }
            }
        }
        match current {
            Some(seen) => Err(CoverageError::Truncated {
                open: format!("the record of {}", seen.path),
                at: format!("line {}", self.lines.number),
            }),
            None => Ok(()),
        }
    }
}

/// Whether `kind` looks like an LCOV record type (upper-case letters), as opposed to garbage.
fn is_record_kind(kind: &str) -> bool {
    !kind.is_empty() && kind.len() <= 16 && kind.bytes().all(|b| b.is_ascii_uppercase())
}

fn read_da(value: &str, at: u64, record: &mut FileRecord) -> Result<(), CoverageError> {
    let mut fields = value.splitn(3, ',');
    let number = number_at(fields.next().unwrap_or(""), "DA record", value, at)?;
    let hits = count_at(fields.next().unwrap_or(""), "DA record", value, at)?;
    let checksum = match fields.next().map(str::trim) {
        Some(checksum) if !checksum.is_empty() => Checksum::Agreed(checksum.into()),
        _ => Checksum::Unset,
    };
    match record.lines.get_mut(&number) {
        // A line listed twice in one record (some gcov versions): counted once, summed.
        Some(line) => {
            line.hits = line.hits.saturating_add(hits);
            line.checksum.merge(&checksum);
        }
        None => {
            record.lines.insert(number, Line { hits, checksum });
        }
    }
    Ok(())
}

fn read_brda(value: &str, at: u64, record: &mut FileRecord) -> Result<(), CoverageError> {
    let fields: Vec<&str> = value.splitn(4, ',').map(str::trim).collect();
    let [line, block, branch, taken] = fields[..] else {
        return Err(bad("BRDA record", value, at));
    };
    let line = number_at(line, "BRDA record", value, at)?;
    let taken = if taken == "-" {
        None
    } else {
        Some(count_at(taken, "BRDA record", value, at)?)
    };
    let merged = record
        .branches
        .entry((line, Label(block.into()), Label(branch.into())))
        .or_insert(None);
    *merged = match (*merged, taken) {
        (Some(a), Some(b)) => Some(a.saturating_add(b)),
        (a, b) => a.or(b),
    };
    Ok(())
}

/// `FN:line,name` (lcov 1) or `FN:line,end,name` (lcov 2). Names may contain commas
/// (demangled C++), so only a second field that is a number is taken as the end line.
fn read_fn(value: &str, at: u64, record: &mut FileRecord) -> Result<(), CoverageError> {
    let (line, rest) = fields2(value, "FN record", at)?;
    let line = number_at(line, "FN record", value, at)?;
    let (end, name) = match rest.split_once(',') {
        Some((end, name)) if !end.is_empty() && end.trim().bytes().all(|b| b.is_ascii_digit()) => {
            (end.trim().parse::<u32>().ok(), name)
        }
        _ => (None, rest),
    };
    let function = record.functions.entry(name.to_owned()).or_default();
    function.line = Some(function.line.map_or(line, |known| known.min(line)));
    function.end = function.end.max(end);
    Ok(())
}

fn fields2<'v>(
    value: &'v str,
    what: &'static str,
    at: u64,
) -> Result<(&'v str, &'v str), CoverageError> {
    value
        .split_once(',')
        .filter(|(_, rest)| !rest.is_empty())
        .ok_or_else(|| bad(what, value, at))
}

fn number_at(text: &str, what: &'static str, value: &str, at: u64) -> Result<u32, CoverageError> {
    text.trim().parse().map_err(|_| bad(what, value, at))
}

fn count_at(text: &str, what: &'static str, value: &str, at: u64) -> Result<u64, CoverageError> {
    parse_count(text).ok_or_else(|| bad(what, value, at))
}

fn bad(what: &'static str, value: &str, at: u64) -> CoverageError {
    CoverageError::BadValue {
        what,
        value: super::error::shorten(value),
        at: format!("line {at}"),
    }
}

#[cfg(test)]
mod tests;
