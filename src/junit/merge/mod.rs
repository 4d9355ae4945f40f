//! Merging JUnit reports, streaming: many seekable inputs in, one report out, in two passes
//! over each input and with memory that grows only by a small record per testcase.
//!
//! **Pass 1** (`index.rs`) walks each input's markup (the walk the reader uses, with its limits
//! and its refusal of entity declarations) without keeping any text: per testcase its offset,
//! outcome, time and a 128-bit hash of its identity (40 bytes in all); per suite its tag's
//! offset, the offsets of its properties, `system-out`/`system-err` and unknown children, and
//! the producer's counters (checked against a recount, never trusted). Between the passes
//! (`group.rs`) suites are joined and retries grouped (a sort of 8-byte keys, freed before pass
//! 2). **Pass 2** (`emit.rs`) seeks back and copies bytes: tags are written again (attributes
//! kept in order, counters recounted, `time` rounded to milliseconds; `junit::tag` copies the common
//! already-normal tags without parsing them), everything else is streamed through `sanitize.rs`
//! in chunks, so a `system-out` of any size costs a 256 KiB buffer.
//!
//! **Counters.** Every suite's `tests`, `failures`, `errors`, `skipped`, `time` (and
//! `assertions`, when testcases carry it) are recounted from what is written. A suite's `time`
//! is the sum of its testcases' times, each rounded to milliseconds first, so sums are exact;
//! producers' own suite times (which include setup, or overlap under parallelism) are not
//! checked, the other counters are, and disagreements are reported as [`CounterMismatch`]es. A
//! suite with neither testcases nor suites keeps the counters it claims, and they count in its
//! parents. A testcase `time` that is no duration (negative, text) is left out, with a note.
//!
//! **Output.** `<?xml version="1.0" encoding="UTF-8"?>`, then one `<testsuites>` root with the
//! attributes of the first input whose root is a `<testsuites>` with attributes other than
//! counters (counters excluded). The normal form of every suite is: its start tag (the first joined suite's attributes in their order,
//! counters replaced by recounted `tests`, `failures`, `errors`, `skipped`, `assertions` when any
//! testcase carries it, and `time`, placed right after `name`), `properties` (identical ones
//! once), testcases, child suites, other children the producer wrote (copied), one
//! `system-out`, one `system-err` (the joined suites' contents concatenated, in input order).
//! Elements written here are indented by two spaces a level; the bodies of testcases and of the
//! elements inside them are the producer's bytes, except that whatever XML 1.0 does not allow is
//! escaped visibly with the convention of [`super::write`]: raw control characters, bytes that
//! are not UTF-8 and character references to illegal characters become `\xNN` / `\uNNNN`, a `&`
//! that does not start a predefined entity or a legal character reference becomes `&amp;`, and
//! comments and processing instructions are dropped. Merging the output again gives the same
//! bytes.
//!
//! **Order.** Inputs in the order given, producers' order inside. A suite is written where its
//! first occurrence was, with every later suite of the same identity joined into it; a group of
//! retries is written where its first attempt was.
//!
//! **Suite identity** is the chain of enclosing suites' names (nested PHPUnit suites), plus each
//! suite's `hostname` only in inputs where it names a project rather than a machine: Playwright
//! puts the project there, while pytest, Gradle, Ant, Vitest and go-junit-report write the
//! machine's name, which differs between CI runners whose shards must join. The rule: `hostname`
//! counts in an input whose root `<testsuites>` has an `id` attribute (Playwright always writes
//! one, empty by default, and none of the machine-name writers does), or in which two suites of
//! the same chain carry different hostnames (one process runs on one machine, so there it cannot
//! be the machine).
//!
//! **Retries.** A testcase's identity is its suite's identity, its `classname` and `name`, and
//! whether it is pytest's teardown-error testcase (an `<error>` whose message starts with
//! `failed on teardown with `): pytest writes that one beside the call's own testcase under the
//! same names, and the pair is not a retry. Same-identity testcases are attempts, in input order;
//! see [`RetryPolicy`]. Skipped attempts are dropped when another attempt ran (except with
//! [`RetryPolicy::Keep`]). Attempts folded into another testcase become Surefire's elements:
//! `flakyFailure`/`flakyError` when the result passed, `rerunFailure`/`rerunError` when every
//! attempt failed, each with `message`/`type` of the failure, the attempt's `time`, its text in
//! `<stackTrace>` and its own `system-out`/`system-err`; the attempts an input had already
//! folded (rxdist run, nextest, Surefire) stay, renamed to match. No failure is lost.
//!
//! Merging is associative, and commutative up to order: the same testcases and the same counts
//! of tests, skips and failures-or-errors whatever the order of the inputs; which of two failed
//! attempts stands (so whether it counts as a failure or an error) and its time follow the
//! order, as the last attempt is the one that stands.
//!
//! Pure: no file system, no clock, no environment; only the readers and the writer handed in.

mod emit;
mod group;
mod index;
mod sanitize;
mod source;

#[cfg(test)]
mod tests;

use std::io::{Read, Seek, SeekFrom, Write};

use super::{JunitError, Limits};

/// One report to merge.
#[derive(Debug)]
pub struct MergeInput<R> {
    /// How the input is named in the report (usually its path).
    pub label: String,
    /// The report, read from its start; read twice, so it must seek.
    pub reader: R,
}

/// What to do with several testcases of the same identity (retries, or one test run by
/// several shards).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RetryPolicy {
    /// Write every attempt as its own testcase.
    Keep,
    /// Write one testcase: a passing attempt (the last one) if any passed, with the failed
    /// attempts as `flakyFailure`/`flakyError`; otherwise the last attempt, with the others as
    /// `rerunFailure`/`rerunError`.
    #[default]
    Collapse,
    /// Write only the last attempt that ran (the last one if none ran); the others are dropped,
    /// failures included.
    Last,
}

/// How to merge.
#[derive(Debug, Clone, Default)]
pub struct MergeOptions {
    /// What to do with retries.
    pub retries: RetryPolicy,
    /// Bounds on what one input may hold (attribute length, nesting depth).
    pub limits: Limits,
}

/// What a merge did.
#[derive(Debug)]
pub struct MergeReport {
    /// One entry per input, in the order of the inputs.
    pub inputs: Vec<InputReport>,
    /// Counters of the merged root.
    pub totals: Totals,
    /// Suites written, at every level (the `<testsuites>` root not counted).
    pub suites: usize,
    /// Testcases folded into another testcase of the same identity (or dropped by
    /// [`RetryPolicy::Last`]).
    pub retries_collapsed: usize,
    /// Skipped testcases dropped because another testcase of the same identity ran.
    pub skips_dropped: usize,
    /// Producers' counters that disagreed with the recount (the first
    /// [`MAX_COUNTER_MISMATCHES`]; a note counts the rest).
    pub counter_mismatches: Vec<CounterMismatch>,
    /// Anything else the user should be warned about.
    pub notes: Vec<String>,
}

/// What was read from one input.
#[derive(Debug)]
pub struct InputReport {
    /// The input's label.
    pub label: String,
    /// Complete testcases read (every one of them is in the output, unless folded or dropped
    /// as a retry).
    pub testcases: usize,
    /// Why the input could not be read to its end; the testcases before the damage are merged.
    pub problem: Option<JunitError>,
}

/// Counters, recounted from the testcases.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    /// Testcases (and counters of suites that have only counters).
    pub tests: u64,
    /// Testcases with `<failure>`.
    pub failures: u64,
    /// Testcases with `<error>`.
    pub errors: u64,
    /// Testcases with `<skipped>`.
    pub skipped: u64,
    /// Passing testcases with `flakyFailure`/`flakyError` attempts.
    pub flaky: u64,
    /// Sum of the testcases' times, in seconds (each rounded to milliseconds first).
    pub time: f64,
}

/// A producer's counter that disagreed with the recount of its own testcases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterMismatch {
    /// The input's label.
    pub input: String,
    /// The suite's name (empty for the `<testsuites>` root).
    pub suite: String,
    /// The counter: `tests`, `failures`, `errors`, `skipped` or `assertions`.
    pub attribute: &'static str,
    /// What the producer wrote.
    pub claimed: String,
    /// What its testcases add up to.
    pub counted: String,
}

/// Most [`CounterMismatch`]es listed in a [`MergeReport`].
pub const MAX_COUNTER_MISMATCHES: usize = 100;

/// Why a merge could not finish. Broken inputs are not errors (see [`InputReport::problem`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// Writing the output failed.
    #[error("could not write the merged report")]
    Write(#[source] std::io::Error),

    /// An input could not be read again in the second pass.
    #[error("could not read {label} again")]
    Reread {
        /// The input's label.
        label: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// An input changed between the two passes (its bytes no longer hold what the first pass
    /// found at `offset`).
    #[error("{label} changed while it was being merged (at byte {offset}); merge it again")]
    Changed {
        /// The input's label.
        label: String,
        /// Where the difference was found.
        offset: u64,
    },
}

/// Fewest bytes a real testcase takes (`<testcase classname="a" name="b" time="0"/>` and a
/// line break), for sizing the testcase table up front.
const MIN_TESTCASE_BYTES: u64 = 48;

/// Fewest bytes a property takes in the inputs that hold many (`<property name="a"
/// value="b"/>` and a line break), for sizing the table of suites' children up front.
const MIN_PIECE_BYTES: u64 = 32;

/// Most testcases (or suites' children) reserved for up front (the table grows past it if need be).
const MAX_RESERVED_CASES: usize = 64 << 20;

/// Merges `inputs` into one JUnit report written to `out`, returning what was merged.
///
/// Broken inputs are reported in [`InputReport::problem`] and contribute every complete
/// testcase before the damage; an error is returned only when the output cannot be written or
/// an input cannot be read a second time.
pub fn merge<R: Read + Seek, W: Write>(
    inputs: &mut [MergeInput<R>],
    options: &MergeOptions,
    out: W,
) -> Result<MergeReport, MergeError> {
    let mut index = index::Index::default();
    // Growing the testcase table by doubling would copy it and touch fresh pages each time,
    // and for a moment hold both copies: reserve once, from the inputs' sizes, for the most
    // testcases they could plausibly hold. Pages never written are never resident.
    let bytes: u64 = inputs
        .iter_mut()
        .filter_map(|input| input.reader.seek(SeekFrom::End(0)).ok())
        .sum();
    let plausible = usize::try_from(bytes / MIN_TESTCASE_BYTES)
        .unwrap_or(usize::MAX)
        .min(MAX_RESERVED_CASES);
    // A refusal only means the table grows as it goes.
    let _ = index.cases.try_reserve_exact(plausible);
    let plausible = usize::try_from(bytes / MIN_PIECE_BYTES)
        .unwrap_or(usize::MAX)
        .min(MAX_RESERVED_CASES);
    let _ = index.pieces.try_reserve_exact(plausible);
    let mut reports = Vec::with_capacity(inputs.len());
    for (number, input) in inputs.iter_mut().enumerate() {
        let read = index.add_input(number, &input.label, &mut input.reader, &options.limits);
        reports.push(InputReport {
            label: input.label.clone(),
            testcases: read.testcases,
            problem: read.problem,
        });
    }
    let plan = group::plan(&mut index, options.retries);
    let mut notes = std::mem::take(&mut index.notes);
    notes.extend(plan.notes.iter().cloned());
    let (suites, emit_notes) = emit::emit(inputs, &index, &plan, out)?;
    notes.extend(emit_notes);
    let root = plan.root_counts();
    if index.more_mismatches > 0 {
        notes.push(format!(
            "{} more producer counters disagreed with the recount than are listed",
            index.more_mismatches
        ));
    }
    Ok(MergeReport {
        inputs: reports,
        totals: Totals {
            tests: root.tests,
            failures: root.failures,
            errors: root.errors,
            skipped: root.skipped,
            flaky: root.flaky,
            time: root.time_ms as f64 / 1000.0,
        },
        suites,
        retries_collapsed: plan.retries_collapsed,
        skips_dropped: plan.skips_dropped,
        counter_mismatches: index.mismatches,
        notes,
    })
}
