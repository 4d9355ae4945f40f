//! The merge itself, common to the three formats: read every input into one table, write the
//! table, and report what happened (per input, totals, warnings).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, BufRead, BufWriter, Write};

use super::cobertura::CoberturaTable;
use super::jacoco::JacocoTable;
use super::lcov::LcovTable;
use super::{
    CoverageError, CoverageInput, CoverageOptions, CoverageReport, Format, InputReport, Ratio,
};

/// What a format's table does; one implementation per format.
pub(super) trait Table: Default + Send {
    /// Reads one input, merging each file into the table as soon as it is read whole.
    /// `files` counts the distinct files taken from this input, also when an error follows.
    fn read<R: BufRead>(
        &mut self,
        input: R,
        options: &CoverageOptions,
        files: &mut usize,
    ) -> Result<(), CoverageError>;

    /// Merges `other`, a table of inputs that come after this table's, into this one: the
    /// same table as reading those inputs here would give.
    fn absorb(&mut self, other: Self);

    /// Writes the merged report and returns its totals; adds the format's own warnings.
    fn write(
        &self,
        inputs: usize,
        warnings: &mut Vec<String>,
        out: &mut dyn Write,
    ) -> io::Result<Totals>;

    /// Every merged file with the sorted numbers of its measured lines, for the
    /// unnormalised-roots check.
    fn line_sets(&self) -> Vec<(&str, Vec<u32>)>;
}

/// The totals of a merged report.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Totals {
    pub(super) files: usize,
    pub(super) lines: Ratio,
    pub(super) branches: Ratio,
}

/// Merges reports of one `format` and writes the result to `out`.
///
/// Every input is read, whatever happened to the others; one that cannot be read completely
/// is named in the returned report with its problem, and what it held before the problem is
/// merged. Returns an error only when writing fails, or when there was nothing to merge
/// (no inputs, or none of them yielded anything and each had a problem); nothing is written
/// then.
pub fn merge<R: BufRead + Send, W: Write>(
    format: Format,
    inputs: Vec<CoverageInput<R>>,
    options: &CoverageOptions,
    out: W,
) -> Result<CoverageReport, CoverageError> {
    match format {
        Format::Cobertura => merge_into::<CoberturaTable, _, _>(inputs, options, out),
        Format::Lcov => merge_into::<LcovTable, _, _>(inputs, options, out),
        Format::Jacoco => merge_into::<JacocoTable, _, _>(inputs, options, out),
    }
}

/// Reads `inputs` in order into one table.
fn read_all<T: Table, R: BufRead>(
    inputs: Vec<CoverageInput<R>>,
    options: &CoverageOptions,
) -> (T, Vec<InputReport>) {
    let mut table = T::default();
    let mut reports = Vec::with_capacity(inputs.len());
    for input in inputs {
        let mut files = 0;
        let problem = table.read(input.reader, options, &mut files).err();
        reports.push(InputReport {
            label: input.label,
            files,
            problem,
        });
    }
    (table, reports)
}

/// Reads `inputs` on up to `options.threads` threads, each a run of consecutive inputs into
/// its own table, then absorbs the tables in input order: the same table as one thread gives.
fn read_parallel<T: Table, R: BufRead + Send>(
    inputs: Vec<CoverageInput<R>>,
    options: &CoverageOptions,
) -> (T, Vec<InputReport>) {
    let threads = options.threads.clamp(1, inputs.len().max(1));
    if threads == 1 {
        return read_all(inputs, options);
    }
    let per_thread = inputs.len().div_ceil(threads);
    let mut runs = Vec::with_capacity(threads);
    let mut rest = inputs.into_iter();
    loop {
        let run: Vec<_> = rest.by_ref().take(per_thread).collect();
        if run.is_empty() {
            break;
        }
        runs.push(run);
    }
    let read: Vec<(T, Vec<InputReport>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .into_iter()
            .map(|run| scope.spawn(move || read_all::<T, R>(run, options)))
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut read = read.into_iter();
    let (mut table, mut reports) = read.next().unwrap_or_default();
    for (later, later_reports) in read {
        table.absorb(later);
        reports.extend(later_reports);
    }
    (table, reports)
}

fn merge_into<T: Table, R: BufRead + Send, W: Write>(
    inputs: Vec<CoverageInput<R>>,
    options: &CoverageOptions,
    out: W,
) -> Result<CoverageReport, CoverageError> {
    let count = inputs.len();
    let (table, reports) = read_parallel::<T, R>(inputs, options);
    let nothing = reports
        .iter()
        .all(|report| report.problem.is_some() && report.files == 0);
    if nothing {
        return Err(CoverageError::NothingReadable {
            count,
            inputs: reports,
        });
    }
    let mut warnings = Vec::new();
    let mut out = BufWriter::with_capacity(64 * 1024, out);
    let totals = table
        .write(count, &mut warnings, &mut out)
        .and_then(|totals| out.flush().map(|()| totals))
        .map_err(CoverageError::Write)?;
    warnings.extend(shared_basenames(&table.line_sets()));
    Ok(CoverageReport {
        inputs: reports,
        files: totals.files,
        lines: totals.lines,
        branches: totals.branches,
        warnings,
    })
}

/// Most pairs named before the rest are only counted.
const MAX_NAMED_PAIRS: usize = 5;

/// Pairs of distinct files with the same base name and the same measured lines: almost always
/// one file under two checkout roots that normalisation did not recognise, so its coverage is
/// split in two. Two small files that happen to match (`__init__.py` with one import) are not
/// named: a pair must share a directory as well as the name, or have at least 20 lines.
pub(super) fn shared_basenames(files: &[(&str, Vec<u32>)]) -> Vec<String> {
    let mut by_name: HashMap<&str, Vec<(usize, u64)>> = HashMap::new();
    for (index, (path, lines)) in files.iter().enumerate() {
        if lines.is_empty() {
            continue;
        }
        let name = path.rsplit('/').next().unwrap_or(path);
        let mut hasher = DefaultHasher::new();
        lines.hash(&mut hasher);
        by_name
            .entry(name)
            .or_default()
            .push((index, hasher.finish()));
    }
    let mut pairs = Vec::new();
    for group in by_name.values().filter(|group| group.len() > 1) {
        for (i, &(a, hash_a)) in group.iter().enumerate() {
            for &(b, hash_b) in &group[i + 1..] {
                let (path_a, lines_a) = (&files[a].0, &files[a].1);
                let (path_b, lines_b) = (&files[b].0, &files[b].1);
                if hash_a == hash_b
                    && lines_a == lines_b
                    && (common_segments(path_a, path_b) >= 2 || lines_a.len() >= 20)
                {
                    let (first, second) = if path_a <= path_b {
                        (*path_a, *path_b)
                    } else {
                        (*path_b, *path_a)
                    };
                    pairs.push((first, second));
                }
            }
        }
    }
    pairs.sort_unstable();
    let mut warnings: Vec<String> = pairs
        .iter()
        .take(MAX_NAMED_PAIRS)
        .map(|(first, second)| {
            let hint = match suggested_map(first, second) {
                Some((from, to)) => format!("e.g. --path-map {from}={to}"),
                None => "with --path-map FROM=TO".to_owned(),
            };
            format!(
                "`{first}` and `{second}` have the same name and the same measured lines: \
                 probably one file under two checkout roots, counted twice; map one onto the \
                 other, {hint}"
            )
        })
        .collect();
    if pairs.len() > MAX_NAMED_PAIRS {
        warnings.push(format!(
            "{} more pairs of files look like one file under two checkout roots",
            pairs.len() - MAX_NAMED_PAIRS
        ));
    }
    warnings
}

/// How many trailing path segments two paths share.
fn common_segments(a: &str, b: &str) -> usize {
    a.rsplit('/')
        .zip(b.rsplit('/'))
        .take_while(|(x, y)| x == y)
        .count()
}

/// A `--path-map` that rewrites the longer path's distinct prefix into the shorter one's.
fn suggested_map(first: &str, second: &str) -> Option<(String, String)> {
    let shared = common_segments(first, second);
    let prefix = |path: &str| {
        let segments: Vec<&str> = path.split('/').collect();
        segments[..segments.len() - shared].join("/")
    };
    let (a, b) = (prefix(first), prefix(second));
    // Map the longer (usually absolute, unrecognised) prefix onto the shorter one.
    let (from, to) = if a.len() > b.len() { (a, b) } else { (b, a) };
    (!from.is_empty()).then_some((from, to))
}

#[cfg(test)]
mod tests {
    use super::shared_basenames;

    #[test]
    fn names_files_under_two_roots() {
        let lines: Vec<u32> = (1..=5).collect();
        let files = vec![
            ("/tmp/b/proj/pkg/mod.py", lines.clone()),
            ("pkg/mod.py", lines.clone()),
            ("other/mod.py", vec![1, 2]),
            ("a/__init__.py", vec![1]),
            ("b/__init__.py", vec![1]),
        ];
        let warnings = shared_basenames(&files);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("`/tmp/b/proj/pkg/mod.py` and `pkg/mod.py`"),
            "{warnings:?}"
        );
        assert!(
            warnings[0].contains("--path-map /tmp/b/proj="),
            "{warnings:?}"
        );
    }

    #[test]
    fn large_identical_files_count_without_a_shared_directory() {
        let lines: Vec<u32> = (1..=20).collect();
        let files = vec![("/tmp/a/x.py", lines.clone()), ("/tmp/b/x.py", lines)];
        let warnings = shared_basenames(&files);
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains("--path-map /tmp/b=/tmp/a"),
            "{warnings:?}"
        );
    }
}
