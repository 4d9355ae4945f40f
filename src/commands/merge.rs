//! `rxdist merge`: one JUnit report and one coverage report per format from every shard's.
//!
//! This layer finds the inputs (files, directories, glob patterns), opens them (`.zst` is
//! decompressed here: into a temporary file for JUnit, whose merge reads twice, and as a stream
//! for coverage), hands them in natural path order to the pure engines in
//! [`crate::junit::merge`] and [`crate::coverage`], writes their output atomically, records the
//! merged run into the history, and reports: a summary on standard output, every broken input
//! and every doubt about the producers' data on standard error.

use std::cmp::Ordering;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::{diagnostics, timings};
use crate::atomic;
use crate::ci::github::{self, Counts, FailureNote, JobSummary, ShardTime};
use crate::cli::RetryPolicyArg;
use crate::coverage::{self, CoverageError, CoverageInput, CoverageOptions, Format, PathMap};
use crate::env::Env;
use crate::error::{Completion, Error};
use crate::identity::{Framework, IdMapper};
use crate::junit::merge::{
    self as junit_merge, MergeInput, MergeOptions, MergeReport, RetryPolicy,
};
use crate::junit::{Limits, Outcome, TestCase, digest};
use crate::runner::signals::{Cancel, CancelFlag};
use crate::settings::{MergeSettings, RecordSettings};

/// Name of the merged JUnit report in the output directory.
pub const JUNIT_OUT: &str = "junit.xml";

/// Largest decompressed size of one `.zst` JUnit input. Inputs are CI artifacts, which a
/// compromised or broken job could turn into a decompression bomb; this keeps the temporary
/// copy from filling the disk.
const MAX_DECOMPRESSED_BYTES: u64 = 16 << 30;

/// How many producer counter disagreements are listed one by one.
const MISMATCH_EXAMPLES: usize = 5;

/// What kind of report a file holds, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sniffed {
    Junit,
    Coverage(Format),
    Unknown,
}

/// Which engine an input list is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Junit,
    Coverage,
}

impl Kind {
    fn flag(self) -> &'static str {
        match self {
            Kind::Junit => "--junit",
            Kind::Coverage => "--coverage",
        }
    }
}

/// An input that could not be used at all, or was used only in part.
struct Broken {
    path: String,
    error: Box<dyn std::error::Error + 'static>,
    /// What was still merged from it, for the warning.
    kept: Option<String>,
}

/// Runs `rxdist merge`.
pub fn run(settings: &MergeSettings, env: &Env) -> Result<Completion, Error> {
    let cancel = CancelFlag::install().map_err(|source| Error::Write {
        path: PathBuf::from("<signal handlers>"),
        source,
    })?;
    let outputs = output_paths(&settings.out_dir);
    let junit_inputs = expand(&settings.junit, Kind::Junit, &outputs);
    let coverage_inputs = expand(&settings.coverage, Kind::Coverage, &outputs);
    if junit_inputs.files.is_empty() && coverage_inputs.files.is_empty() {
        let patterns: Vec<String> = settings
            .junit
            .iter()
            .chain(&settings.coverage)
            .map(|pattern| format!("'{pattern}'"))
            .collect();
        return Err(Error::NoMatch {
            patterns: patterns.join(", "),
        });
    }
    let mut broken: Vec<Broken> = Vec::new();
    broken.extend(junit_inputs.unmatched);
    broken.extend(coverage_inputs.unmatched);
    note_other_kinds(settings, &junit_inputs.skipped, &coverage_inputs.skipped);

    let mut summary = String::new();
    let mut written = 0;
    let mut junit_written: Option<PathBuf> = None;
    let mut coverage_written: Vec<PathBuf> = Vec::new();
    if !junit_inputs.files.is_empty() {
        let merged = merge_junit(
            settings,
            &junit_inputs.files,
            &cancel,
            &mut broken,
            &mut summary,
        );
        if let Some(signal) = cancel.get() {
            return Ok(cancelled(signal, merged.ok().flatten().as_slice()));
        }
        let merged = match merged {
            Ok(merged) => merged,
            Err(error) => {
                report_broken(&broken);
                return Err(error);
            }
        };
        if let Some(junit_out) = &merged {
            written += 1;
            if let Some(history) = &settings.history {
                record(settings, history, junit_out.clone())?;
            }
        }
        junit_written = merged;
    }
    if !coverage_inputs.files.is_empty() {
        let merged = merge_coverage(
            settings,
            &coverage_inputs.files,
            &cancel,
            &mut broken,
            &mut summary,
            &mut coverage_written,
        );
        if let Some(signal) = cancel.get() {
            let done: Vec<PathBuf> = junit_written
                .iter()
                .chain(&coverage_written)
                .cloned()
                .collect();
            return Ok(cancelled(signal, &done));
        }
        written += merged?;
    }
    if super::github::wanted(env) {
        publish_to_github(
            env,
            junit_written.as_deref(),
            &junit_inputs.files,
            &coverage_written,
        );
    }

    finish(settings, &broken, written, &summary)
}

/// Notes the reports of the other kind that a directory or pattern found, when nothing merges
/// them: one artifact tree given to both flags is the documented usage, and no news.
fn note_other_kinds(settings: &MergeSettings, junit: &[String], coverage: &[String]) {
    let notes = [
        (junit, settings.coverage.is_empty()),
        (coverage, settings.junit.is_empty()),
    ];
    for skipped in notes
        .into_iter()
        .filter_map(|(skipped, unmerged)| unmerged.then_some(skipped))
        .flatten()
    {
        diagnostics::info(format_args!("note: {skipped}"));
    }
}

/// Reports broken inputs, prints the summary and says how the merge ended.
fn finish(
    settings: &MergeSettings,
    broken: &[Broken],
    written: usize,
    summary: &str,
) -> Result<Completion, Error> {
    report_broken(broken);
    if written == 0 {
        return Err(Error::NoReadableInput {
            count: broken.len(),
        });
    }
    print!("{summary}");
    if broken.is_empty() {
        Ok(Completion::Success)
    } else if settings.allow_broken {
        diagnostics::info(format_args!(
            "{} inputs were broken or missing (allowed by --allow-broken)",
            broken.len()
        ));
        Ok(Completion::Success)
    } else {
        diagnostics::info(format_args!(
            "the merge is incomplete: {} inputs were broken or missing (pass --allow-broken to \
             exit 0 anyway)",
            broken.len()
        ));
        Ok(Completion::PartialInput)
    }
}

/// Says that a signal stopped the merge and what it had finished, and ends with its code.
/// Reports are written whole or not at all: one being written when the signal came is not
/// there, and an earlier merge's report of the same name is left as it was.
fn cancelled(signal: Cancel, written: &[PathBuf]) -> Completion {
    let (name, completion) = match signal {
        Cancel::Interrupt => ("interrupted", Completion::Interrupted),
        Cancel::Terminate => ("terminated", Completion::Terminated),
    };
    let done = if written.is_empty() {
        "no merged report was written".to_owned()
    } else {
        let names: Vec<String> = written
            .iter()
            .map(|path| path.display().to_string())
            .collect();
        format!("only {} was written", names.join(" and "))
    };
    diagnostics::warning(format_args!(
        "{name}: the merge stopped; {done}, and nothing was recorded into the history"
    ));
    completion
}

/// A reader or writer that fails once a signal asked rxdist to stop, so that a merge ends at
/// its next read or write, and its output's temporary file is removed.
struct Cancellable<T> {
    inner: T,
    cancel: CancelFlag,
}

impl<T> Cancellable<T> {
    fn new(inner: T, cancel: &CancelFlag) -> Self {
        Cancellable {
            inner,
            cancel: cancel.clone(),
        }
    }

    fn check(&self) -> io::Result<()> {
        match self.cancel.get() {
            // Not `Interrupted`, which `read_exact` and `write_all` would retry.
            Some(_) => Err(io::Error::other("stopped by a signal")),
            None => Ok(()),
        }
    }
}

impl<T: Read> Read for Cancellable<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.check()?;
        self.inner.read(buf)
    }
}

impl<T: BufRead> BufRead for Cancellable<T> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.check()?;
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.inner.consume(amount);
    }
}

impl<T: Seek> Seek for Cancellable<T> {
    fn seek(&mut self, position: SeekFrom) -> io::Result<u64> {
        self.inner.seek(position)
    }
}

impl<T: io::Write> io::Write for Cancellable<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.check()?;
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.check()?;
        self.inner.flush()
    }
}

/// Warns about every input that was missing or broken, with its causes.
fn report_broken(broken: &[Broken]) {
    for item in broken {
        match &item.kept {
            Some(kept) => diagnostics::warning(format_args!(
                "{} is broken; {kept} before the damage were merged",
                item.path
            )),
            None => diagnostics::warning(format_args!("skipped {}", item.path)),
        }
        diagnostics::error(item.error.as_ref());
    }
}

/// The files `merge` writes, so that a pattern matching them (a second merge into the same
/// tree) does not read an earlier merge's output as a shard.
fn output_paths(out_dir: &Path) -> Vec<PathBuf> {
    std::iter::once(JUNIT_OUT)
        .chain(
            [Format::Cobertura, Format::Lcov, Format::Jacoco]
                .into_iter()
                .map(Format::output_name),
        )
        .map(|name| out_dir.join(name))
        .collect()
}

/// Merges the JUnit inputs into `DIR/junit.xml`; returns its path when it was written.
fn merge_junit(
    settings: &MergeSettings,
    files: &[PathBuf],
    cancel: &CancelFlag,
    broken: &mut Vec<Broken>,
    summary: &mut String,
) -> Result<Option<PathBuf>, Error> {
    let mut inputs = Vec::with_capacity(files.len());
    for path in files {
        if cancel.get().is_some() {
            return Ok(None);
        }
        match open_seekable(path) {
            Ok(reader) => inputs.push(MergeInput {
                label: path.display().to_string(),
                reader: Cancellable::new(reader, cancel),
            }),
            Err(error) => broken.push(Broken {
                path: path.display().to_string(),
                error: Box::new(error),
                kept: None,
            }),
        }
    }
    if inputs.is_empty() {
        return Ok(None);
    }
    let options = MergeOptions {
        retries: match settings.retries {
            RetryPolicyArg::Keep => RetryPolicy::Keep,
            RetryPolicyArg::Collapse => RetryPolicy::Collapse,
            RetryPolicyArg::Last => RetryPolicy::Last,
        },
        ..MergeOptions::default()
    };
    let out = settings.out_dir.join(JUNIT_OUT);
    let mut report = None;
    let written = atomic::write_with(&out, |writer| {
        let writer = Cancellable::new(writer, cancel);
        let merged = junit_merge::merge(&mut inputs, &options, writer).map_err(io::Error::other)?;
        let nothing_read = merged.totals.tests == 0
            && merged
                .inputs
                .iter()
                .all(|input| input.problem.is_some() && input.testcases == 0);
        report = Some(merged);
        if nothing_read {
            // Keep whatever report was there: an empty one would hide that nothing was read.
            return Err(io::Error::other(NothingReadable));
        }
        Ok(())
    });
    let Some(report) = report else {
        return Err(Error::Write {
            path: out,
            source: written
                .err()
                .unwrap_or_else(|| io::Error::other("the merge produced no report")),
        });
    };
    let nothing_read = match written {
        Ok(()) => false,
        Err(error) if is_nothing_readable(&error) => true,
        Err(source) => return Err(Error::Write { path: out, source }),
    };
    warn_and_summarise(&report, files.len(), &out, summary);
    for input in report.inputs {
        if let Some(problem) = input.problem {
            broken.push(Broken {
                path: input.label,
                error: Box::new(problem),
                kept: (input.testcases > 0).then(|| format!("its {} testcases", input.testcases)),
            });
        }
    }
    if nothing_read {
        return Ok(None);
    }
    Ok(Some(out))
}

/// Warns about what the producers got wrong and adds the JUnit lines to the summary.
fn warn_and_summarise(report: &MergeReport, inputs: usize, out: &Path, summary: &mut String) {
    for mismatch in report.counter_mismatches.iter().take(MISMATCH_EXAMPLES) {
        diagnostics::warning(format_args!(
            "{}: suite '{}' says {}=\"{}\" but its testcases give {}; the merged report has the \
             recount",
            mismatch.input, mismatch.suite, mismatch.attribute, mismatch.claimed, mismatch.counted
        ));
    }
    if report.counter_mismatches.len() > MISMATCH_EXAMPLES {
        diagnostics::warning(format_args!(
            "... and {} more counters that disagreed with their testcases",
            report.counter_mismatches.len() - MISMATCH_EXAMPLES
        ));
    }
    for note in &report.notes {
        diagnostics::warning(note);
    }
    let totals = &report.totals;
    let _ = writeln!(
        summary,
        "merged {} JUnit reports into {}: {} tests, {} failed, {} errors, {} skipped, {} flaky, \
         {} of test time",
        inputs,
        out.display(),
        totals.tests,
        totals.failures,
        totals.errors,
        totals.skipped,
        totals.flaky,
        human_seconds(totals.time),
    );
    let mut folded = Vec::new();
    if report.retries_collapsed > 0 {
        folded.push(format!(
            "{} repeated results folded into their test",
            report.retries_collapsed
        ));
    }
    if report.skips_dropped > 0 {
        folded.push(format!(
            "{} skips dropped because another shard ran the test",
            report.skips_dropped
        ));
    }
    if !folded.is_empty() {
        let _ = writeln!(summary, "  {}", folded.join("; "));
    }
}

/// Marks the write of a merge that read nothing, so the old output is kept.
#[derive(Debug, thiserror::Error)]
#[error("no input could be read")]
struct NothingReadable;

fn is_nothing_readable(error: &io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(<dyn std::error::Error + Send + Sync>::is::<NothingReadable>)
}

/// Records the merged report into the history, exactly as `rxdist timings record` would.
fn record(settings: &MergeSettings, history: &Path, junit_out: PathBuf) -> Result<(), Error> {
    let record = RecordSettings {
        history: history.to_path_buf(),
        inputs: vec![junit_out],
        framework: settings.framework,
        tests: None,
        rootdir: settings.rootdir.clone(),
        retention_runs: settings.retention_runs,
    };
    match timings::record(&record) {
        Ok(_) => Ok(()),
        // A merge of reports without testcases (counters only) has nothing to record; the
        // merge itself still succeeded.
        Err(Error::NoTests { reason }) => {
            diagnostics::warning(format_args!(
                "nothing recorded into {}: {reason}",
                history.display()
            ));
            Ok(())
        }
        Err(error) => Err(error),
    }
}

/// Most threads reading coverage inputs. Each holds a table of its own, so memory is at most
/// this many merged tables.
const COVERAGE_THREADS: usize = 4;

/// Merges the coverage inputs, one output per format found.
fn merge_coverage(
    settings: &MergeSettings,
    files: &[PathBuf],
    cancel: &CancelFlag,
    broken: &mut Vec<Broken>,
    summary: &mut String,
    outputs: &mut Vec<PathBuf>,
) -> Result<usize, Error> {
    let mut written = 0;
    let groups = group_by_format(files, broken);
    let options = CoverageOptions {
        path_maps: settings
            .path_maps
            .iter()
            .map(|(from, to)| PathMap {
                from: from.clone(),
                to: to.clone(),
            })
            .collect(),
        threads: COVERAGE_THREADS.min(std::thread::available_parallelism().map_or(1, usize::from)),
        ..CoverageOptions::default()
    };
    for (format, paths) in groups {
        if cancel.get().is_some() {
            break;
        }
        let inputs: Vec<CoverageInput<Cancellable<LazyReport>>> = paths
            .iter()
            .map(|path| CoverageInput {
                label: path.display().to_string(),
                reader: Cancellable::new(LazyReport::new(path.clone()), cancel),
            })
            .collect();
        let out = settings.out_dir.join(format.output_name());
        let mut merged = None;
        let write_result = atomic::write_with(&out, |writer| {
            let writer = Cancellable::new(writer, cancel);
            match coverage::merge(format, inputs, &options, writer) {
                Err(CoverageError::Write(source)) => Err(source),
                result => {
                    // Any other error means nothing was readable; nothing is written for it.
                    let failed = result.is_err();
                    merged = Some(result);
                    if failed {
                        Err(io::Error::other(NothingReadable))
                    } else {
                        Ok(())
                    }
                }
            }
        });
        let report = match (write_result, merged) {
            (Ok(()), Some(Ok(report))) => report,
            (_, Some(Err(CoverageError::NothingReadable { inputs, .. }))) => {
                for input in inputs {
                    if let Some(problem) = input.problem {
                        broken.push(Broken {
                            path: input.label,
                            error: Box::new(problem),
                            kept: None,
                        });
                    }
                }
                continue;
            }
            (_, Some(Err(error))) => {
                broken.push(Broken {
                    path: out.display().to_string(),
                    error: Box::new(error),
                    kept: None,
                });
                continue;
            }
            (Err(source), _) => return Err(Error::Write { path: out, source }),
            (Ok(()), None) => continue,
        };
        for input in report.inputs {
            if let Some(problem) = input.problem {
                broken.push(Broken {
                    path: input.label,
                    error: Box::new(problem),
                    kept: (input.files > 0).then(|| format!("its {} files", input.files)),
                });
            }
        }
        for warning in &report.warnings {
            diagnostics::warning(warning);
        }
        let _ = writeln!(
            summary,
            "merged {} {} reports into {}: {} files, lines {}, branches {}",
            paths.len(),
            format.name(),
            out.display(),
            report.files,
            percent(report.lines.covered, report.lines.valid),
            percent(report.branches.covered, report.branches.valid),
        );
        written += 1;
        outputs.push(out);
    }
    Ok(written)
}

/// How many failed and flaky testcases the job summary reads from the merged report.
const SUMMARY_CASES: usize = 200;

/// How many of the slowest testcases the job summary lists.
const SUMMARY_SLOWEST: usize = 10;

/// How much of a failure's text (its end: where the traceback says what went wrong) the job
/// summary shows.
const SUMMARY_DETAILS_BYTES: u64 = 4000;

/// The job summary, annotations and outputs of a merge, for GitHub Actions. Reading the
/// reports again costs one more streaming pass, only inside GitHub Actions; anything that
/// cannot be read is a warning, never a failed merge.
fn publish_to_github(env: &Env, junit: Option<&Path>, inputs: &[PathBuf], coverage: &[PathBuf]) {
    let mut outputs: Vec<(&str, String)> = Vec::new();
    let mut job = JobSummary {
        title: match junit {
            Some(_) => format!("rxdist merge: {} JUnit reports", inputs.len()),
            None => "rxdist merge".to_owned(),
        },
        ..JobSummary::default()
    };
    if let Some(junit) = junit {
        outputs.push(("junit", junit.display().to_string()));
        match summarise_junit(junit, inputs, &mut job) {
            Ok(()) => {}
            Err(error) => diagnostics::warning(format_args!(
                "no job summary: cannot read {} back: {error}",
                junit.display()
            )),
        }
    }
    if let Some(first) = coverage.first() {
        outputs.push(("coverage", first.display().to_string()));
    }
    for path in coverage {
        job.notes
            .push(format!("Merged coverage: `{}`", path.display()));
    }
    outputs.extend([
        ("tests", job.counts.tests.to_string()),
        (
            "failed",
            (job.counts.failed + job.counts.errors).to_string(),
        ),
        ("flaky", job.counts.flaky.to_string()),
    ]);
    super::github::publish(env, &job, &outputs);
}

fn summarise_junit(junit: &Path, inputs: &[PathBuf], job: &mut JobSummary) -> io::Result<()> {
    let limits = Limits::default();
    let merged = digest::digest(
        BufReader::new(File::open(junit)?),
        &limits,
        SUMMARY_CASES,
        SUMMARY_SLOWEST,
    )
    .map_err(io::Error::other)?;
    let framework = Framework::detect_from_cases(
        merged
            .failed
            .iter()
            .map(|failed| &failed.case)
            .chain(&merged.slowest),
    );
    let nothing = |_: &str| false;
    let mapper = IdMapper::new(framework, &nothing, &nothing);
    let id = |case: &TestCase| {
        mapper.map(case).unwrap_or_else(|| match &case.classname {
            Some(classname) if !classname.is_empty() => format!("{classname}::{}", case.name),
            _ => case.name.clone(),
        })
    };
    let mut file = File::open(junit)?;
    for failed in &merged.failed {
        let details = match &failed.body {
            Some(body) => {
                let start = body
                    .start
                    .max(body.end.saturating_sub(SUMMARY_DETAILS_BYTES));
                let mut raw = Vec::new();
                file.seek(io::SeekFrom::Start(start))?;
                (&mut file).take(body.end - start).read_to_end(&mut raw)?;
                Some(digest::body_text(&raw))
            }
            None => None,
        };
        let case = &failed.case;
        // pytest writes 0-based lines; its traceback names the failing line itself.
        let python = case
            .file
            .as_deref()
            .is_some_and(|f| Path::new(f).extension().is_some_and(|e| e == "py"));
        let line = match (&case.file, &details) {
            (Some(file), Some(details)) if python => github::pytest_failure_line(details, file),
            _ => None,
        }
        .or(case.line.map(|line| u64::from(line) + u64::from(python)));
        job.failures.push(FailureNote {
            id: id(case),
            kind: match case.outcome {
                Outcome::Error => "error".to_owned(),
                Outcome::Failed | Outcome::Passed | Outcome::Skipped => "failed".to_owned(),
            },
            file: case.file.clone(),
            line,
            message: failed.message.clone(),
            details,
        });
    }
    job.flaky = merged.flaky_cases.iter().map(&id).collect();
    job.slowest = merged
        .slowest
        .iter()
        .map(|case| (id(case), case.time.unwrap_or(0.0)))
        .collect();
    job.counts = Counts {
        tests: merged.tests,
        passed: merged
            .tests
            .saturating_sub(merged.failures + merged.errors + merged.skipped + merged.flaky),
        failed: merged.failures,
        errors: merged.errors,
        skipped: merged.skipped,
        flaky: merged.flaky,
        not_run: 0,
        seconds: merged.seconds,
    };
    for input in inputs {
        let Ok(stream) = open_stream(input) else {
            continue;
        };
        let Ok(shard) = digest::digest(stream, &limits, 0, 0) else {
            continue;
        };
        let property = |name: &str| {
            shard
                .properties
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        };
        job.shards.push(ShardTime {
            shard: property("rxdist.shard").unwrap_or_else(|| input.display().to_string()),
            tests: shard.tests,
            predicted_seconds: property("rxdist.predicted_seconds").and_then(|v| v.parse().ok()),
            actual_seconds: shard.seconds,
        });
    }
    Ok(())
}

/// Sorts the coverage inputs by the format their first bytes show; anything else is broken.
fn group_by_format(files: &[PathBuf], broken: &mut Vec<Broken>) -> Vec<(Format, Vec<PathBuf>)> {
    let mut groups: Vec<(Format, Vec<PathBuf>)> = Vec::new();
    for path in files {
        match sniff_file(path) {
            Ok(Sniffed::Coverage(format)) => {
                match groups.iter_mut().find(|(known, _)| *known == format) {
                    Some((_, paths)) => paths.push(path.clone()),
                    None => groups.push((format, vec![path.clone()])),
                }
            }
            Ok(Sniffed::Junit | Sniffed::Unknown) => broken.push(Broken {
                path: path.display().to_string(),
                error: "not a Cobertura, LCOV or JaCoCo XML report".into(),
                kept: None,
            }),
            Err(error) => broken.push(Broken {
                path: path.display().to_string(),
                error: Box::new(error),
                kept: None,
            }),
        }
    }
    groups.sort_by_key(|(format, _)| *format);
    groups
}

fn percent(covered: u64, valid: u64) -> String {
    if valid == 0 {
        return "n/a".into();
    }
    format!(
        "{:.2}% ({covered}/{valid})",
        covered as f64 * 100.0 / valid as f64
    )
}

fn human_seconds(seconds: f64) -> String {
    let rounded = seconds.max(0.0).round() as u64;
    match rounded {
        0..60 => format!("{seconds:.1}s"),
        60..3600 => format!("{}m{:02}s", rounded / 60, rounded % 60),
        _ => format!("{}h{:02}m", rounded / 3600, rounded % 3600 / 60),
    }
}

/// Opens a JUnit input for the two-pass merge: plain files as they are, `.zst` decompressed
/// into an anonymous temporary file.
fn open_seekable(path: &Path) -> io::Result<File> {
    let file = File::open(path)?;
    if !is_zst(path) {
        return Ok(file);
    }
    let mut decoder = zstd::Decoder::new(file)?.take(MAX_DECOMPRESSED_BYTES + 1);
    let mut temp = tempfile::tempfile()?;
    let copied = io::copy(&mut decoder, &mut temp)?;
    if copied > MAX_DECOMPRESSED_BYTES {
        return Err(io::Error::other(format!(
            "decompresses to more than {} GiB",
            MAX_DECOMPRESSED_BYTES >> 30
        )));
    }
    temp.rewind()?;
    Ok(temp)
}

/// Opens any input as a stream, decompressing `.zst`.
fn open_stream(path: &Path) -> io::Result<Box<dyn BufRead + Send>> {
    Ok(Box::new(BufReader::with_capacity(
        256 * 1024,
        open_raw(path)?,
    )))
}

/// A report's bytes, decompressed, unbuffered.
fn open_raw(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    let file = File::open(path)?;
    Ok(if is_zst(path) {
        Box::new(zstd::Decoder::new(file)?.take(MAX_DECOMPRESSED_BYTES))
    } else {
        Box::new(file)
    })
}

fn is_zst(path: &Path) -> bool {
    path.extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("zst"))
}

/// A coverage input opened on first read and closed at its end, so fifty shard files never
/// hold fifty decompressors and buffers at once.
struct LazyReport {
    path: PathBuf,
    reader: Option<Box<dyn BufRead + Send>>,
    done: bool,
}

impl LazyReport {
    fn new(path: PathBuf) -> Self {
        LazyReport {
            path,
            reader: None,
            done: false,
        }
    }
}

impl Read for LazyReport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let count = available.len().min(buf.len());
        buf[..count].copy_from_slice(&available[..count]);
        self.consume(count);
        Ok(count)
    }
}

impl BufRead for LazyReport {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.done {
            return Ok(&[]);
        }
        if self.reader.is_none() {
            self.reader = Some(open_stream(&self.path)?);
        }
        let at_end = match &mut self.reader {
            Some(reader) => reader.fill_buf()?.is_empty(),
            None => true,
        };
        if at_end {
            self.reader = None;
            self.done = true;
            return Ok(&[]);
        }
        match &mut self.reader {
            Some(reader) => reader.fill_buf(),
            None => Ok(&[]),
        }
    }

    fn consume(&mut self, amount: usize) {
        if let Some(reader) = &mut self.reader {
            reader.consume(amount);
        }
    }
}

/// Reads the first few KiB of a report and tells what it holds.
fn sniff_file(path: &Path) -> io::Result<Sniffed> {
    // Unbuffered: a buffer would read far more of each input than the sniff looks at.
    let mut head = Vec::with_capacity(8192);
    open_raw(path)?.take(8192).read_to_end(&mut head)?;
    Ok(sniff(&head))
}

fn sniff(head: &[u8]) -> Sniffed {
    if let Some(format) = coverage::sniff(head) {
        return Sniffed::Coverage(format);
    }
    match first_element(head) {
        Some(b"testsuites" | b"testsuite") => Sniffed::Junit,
        _ => Sniffed::Unknown,
    }
}

/// The name of the first element, skipping the declaration, comments, processing
/// instructions and a DOCTYPE.
fn first_element(head: &[u8]) -> Option<&[u8]> {
    let mut rest = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    loop {
        let open = memchr::memchr(b'<', rest)?;
        rest = &rest[open + 1..];
        match rest.first() {
            Some(b'?' | b'!') => {
                if rest.starts_with(b"!--") {
                    let end = memchr::memmem::find(rest, b"-->")?;
                    rest = &rest[end..];
                }
            }
            Some(_) => {
                let end = rest
                    .iter()
                    .position(|&byte| byte.is_ascii_whitespace() || matches!(byte, b'>' | b'/'))?;
                return Some(&rest[..end]);
            }
            None => return None,
        }
    }
}

/// Inputs found for one flag.
#[derive(Default)]
struct Expanded {
    /// Files to merge, in natural path order.
    files: Vec<PathBuf>,
    /// Patterns or paths that matched nothing (or could not be listed).
    unmatched: Vec<Broken>,
    /// Files found by a directory or pattern and left out because they hold the other kind of
    /// report (a shard's artifact usually holds both).
    skipped: Vec<String>,
}

/// Expands the given paths, directories and patterns of one flag.
fn expand(patterns: &[String], kind: Kind, outputs: &[PathBuf]) -> Expanded {
    let mut expanded = Expanded::default();
    let mut other_kind = 0usize;
    for pattern in patterns {
        let literal = Path::new(pattern);
        let mut found = Vec::new();
        let explicit = match std::fs::metadata(literal) {
            Ok(meta) if meta.is_dir() => {
                if let Err(error) = walk(literal, kind, &mut found) {
                    expanded.unmatched.push(Broken {
                        path: pattern.clone(),
                        error: Box::new(error),
                        kept: None,
                    });
                }
                false
            }
            Ok(_) => {
                found.push(literal.to_path_buf());
                true
            }
            Err(_) if is_pattern(pattern) => {
                match glob::glob(pattern) {
                    Ok(paths) => {
                        for path in paths {
                            match path {
                                Ok(path) if path.is_dir() => {
                                    if let Err(error) = walk(&path, kind, &mut found) {
                                        expanded.unmatched.push(Broken {
                                            path: path.display().to_string(),
                                            error: Box::new(error),
                                            kept: None,
                                        });
                                    }
                                }
                                Ok(path) => found.push(path),
                                Err(error) => expanded.unmatched.push(Broken {
                                    path: error.path().display().to_string(),
                                    error: Box::new(io::Error::from(error)),
                                    kept: None,
                                }),
                            }
                        }
                    }
                    Err(error) => expanded.unmatched.push(Broken {
                        path: pattern.clone(),
                        error: Box::new(error),
                        kept: None,
                    }),
                }
                false
            }
            Err(error) => {
                expanded.unmatched.push(Broken {
                    path: pattern.clone(),
                    error: Box::new(error),
                    kept: None,
                });
                continue;
            }
        };
        let mut kept = 0usize;
        for path in found {
            if is_output(&path, outputs) {
                continue;
            }
            // A directory or pattern picks up both kinds of report; a file named explicitly is
            // always read, so that a wrong one is reported rather than ignored.
            if !explicit && !holds(kind, &path) {
                other_kind += 1;
                continue;
            }
            kept += 1;
            expanded.files.push(path);
        }
        if kept == 0 && !explicit {
            expanded.unmatched.push(Broken {
                path: pattern.clone(),
                error: format!("no {} report found here", kind_name(kind)).into(),
                kept: None,
            });
        }
    }
    if other_kind > 0 {
        let other = match kind {
            Kind::Junit => Kind::Coverage,
            Kind::Coverage => Kind::Junit,
        };
        expanded.skipped.push(format!(
            "{} matched {other_kind} files that are {} reports, not {}; they were left out \
             ({} merges them)",
            kind.flag(),
            kind_name(other),
            kind_name(kind),
            other.flag()
        ));
    }
    expanded
        .files
        .sort_by(|a, b| natural_cmp(&a.to_string_lossy(), &b.to_string_lossy()));
    expanded.files.dedup();
    expanded
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Junit => "JUnit",
        Kind::Coverage => "coverage",
    }
}

/// Whether a file found by a directory walk or a pattern holds this kind of report. A file
/// that cannot be read is kept, so that its error is reported.
fn holds(kind: Kind, path: &Path) -> bool {
    match (kind, sniff_file(path)) {
        (_, Err(_)) => true,
        (Kind::Junit, Ok(sniffed)) => !matches!(sniffed, Sniffed::Coverage(_)),
        (Kind::Coverage, Ok(sniffed)) => !matches!(sniffed, Sniffed::Junit),
    }
}

fn is_pattern(text: &str) -> bool {
    text.contains(['*', '?', '['])
}

fn is_output(path: &Path, outputs: &[PathBuf]) -> bool {
    let Ok(path) = path.canonicalize() else {
        return false;
    };
    outputs
        .iter()
        .filter_map(|output| output.canonicalize().ok())
        .any(|output| output == path)
}

/// Walks a directory for report files of this kind, by name.
fn walk(dir: &Path, kind: Kind, files: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            walk(&path, kind, files)?;
        } else if file_type.is_file() && is_report_name(kind, &path) {
            files.push(path);
        }
    }
    Ok(())
}

fn is_report_name(kind: Kind, path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let name = name.strip_suffix(".zst").unwrap_or(&name);
    let extension = Path::new(name)
        .extension()
        .and_then(|extension| extension.to_str())
        .unwrap_or_default();
    match kind {
        Kind::Junit => extension == "xml",
        Kind::Coverage => matches!(extension, "xml" | "lcov" | "info"),
    }
}

/// Compares paths so that runs of digits compare by value: `shard-2` before `shard-10`.
/// Ties (`01` and `1`) fall back to the plain byte order, so the order is total.
fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut left, mut right) = (a.as_bytes(), b.as_bytes());
    loop {
        match (left.first(), right.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let digits = |text: &[u8]| text.iter().take_while(|c| c.is_ascii_digit()).count();
                let (left_len, right_len) = (digits(left), digits(right));
                let trim = |run: &[u8]| {
                    let zeros = run.iter().take_while(|&&c| c == b'0').count();
                    run[zeros..].to_vec()
                };
                let (x_run, y_run) = (trim(&left[..left_len]), trim(&right[..right_len]));
                let by_value = x_run
                    .len()
                    .cmp(&y_run.len())
                    .then_with(|| x_run.cmp(&y_run));
                if by_value != Ordering::Equal {
                    return by_value;
                }
                left = &left[left_len..];
                right = &right[right_len..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                left = &left[1..];
                right = &right[1..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_numbers_sort_by_value() {
        let mut names = vec![
            "s/shard-10.xml",
            "s/shard-2.xml",
            "s/shard-1.xml",
            "s/a.xml",
        ];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            vec![
                "s/a.xml",
                "s/shard-1.xml",
                "s/shard-2.xml",
                "s/shard-10.xml"
            ]
        );
        assert_eq!(natural_cmp("x01", "x1"), "x01".cmp("x1"));
        assert_ne!(natural_cmp("x01", "x1"), Ordering::Equal);
    }

    #[test]
    fn the_first_element_is_found_past_declarations_and_comments() {
        assert_eq!(
            first_element(
                b"\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<!-- <coverage> -->\n<testsuites>"
            ),
            Some(&b"testsuites"[..])
        );
        assert_eq!(
            first_element(b"<!DOCTYPE x><testsuite name=\"a\">"),
            Some(&b"testsuite"[..])
        );
        assert_eq!(first_element(b"no markup"), None);
    }

    #[test]
    fn directories_yield_only_their_kind_of_report() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("shard-10/junit.xml", "<testsuites/>");
        write("shard-2/junit.xml", "<testsuite name='a'/>");
        write("shard-2/notes.txt", "x");
        write(
            "shard-2/coverage.xml",
            "<?xml version=\"1.0\" ?>\n<coverage version=\"7\"><packages/></coverage>",
        );
        let root = dir.path().to_string_lossy().into_owned();
        let junit = expand(std::slice::from_ref(&root), Kind::Junit, &[]);
        let names: Vec<_> = junit
            .files
            .iter()
            .map(|path| path.strip_prefix(dir.path()).unwrap().to_owned())
            .collect();
        assert_eq!(
            names,
            vec![
                PathBuf::from("shard-2/junit.xml"),
                PathBuf::from("shard-10/junit.xml")
            ]
        );
        assert_eq!(junit.skipped.len(), 1, "the coverage file is noted");
        let coverage = expand(&[root], Kind::Coverage, &[]);
        assert_eq!(coverage.files.len(), 1);
    }

    #[test]
    fn patterns_that_match_nothing_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let pattern = format!("{}/*/junit.xml", dir.path().display());
        let expanded = expand(&[pattern], Kind::Junit, &[]);
        assert!(expanded.files.is_empty());
        assert_eq!(expanded.unmatched.len(), 1);
        let missing = expand(
            &[format!("{}/absent.xml", dir.path().display())],
            Kind::Junit,
            &[],
        );
        assert_eq!(missing.unmatched.len(), 1);
    }

    #[test]
    fn an_earlier_merge_output_is_not_an_input() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("merged");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join(JUNIT_OUT), "<testsuites/>").unwrap();
        std::fs::write(dir.path().join("shard.xml"), "<testsuites/>").unwrap();
        let pattern = format!("{}/**/*.xml", dir.path().display());
        let expanded = expand(&[pattern], Kind::Junit, &output_paths(&out));
        assert_eq!(expanded.files, vec![dir.path().join("shard.xml")]);
    }
}
