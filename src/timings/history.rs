//! The history model and recording.
//!
//! A [`History`] maps each test id to a smoothed duration, its last few raw durations, its
//! sample count, its last ten outcomes and the run it was last seen in, and each file key to the
//! fixed setup cost its first test pays. [`History::record`] folds one run in: it is idempotent
//! (a run already recorded is recognised by its digest), splits a file's setup cost off its
//! first test when the run's order is known, and forgets tests that have not been seen for a
//! while.
//!
//! Which summary of a test's past predicts its next duration best depends on the suite: a
//! suite re-measured on every run is noisy and wants an average of recent samples, one whose
//! timings drift between measurement campaigns wants the latest sample. So before a run is
//! folded in, every [`Predictor`] is scored on how well it would have predicted that run (a
//! backtest), and the history predicts with the one whose running error is lowest. It is
//! scored twice: per test, and per file on the sums of a file's tests. Noise that averages out
//! over a file's tests favours an average per test, while a file whose tests drift together
//! favours the latest sample; plans that keep files together use the per-file choice.
//!
//! Plans add estimates up, so every predictor aims at a test's expected duration and the
//! backtest scores squared errors (see [`Backtest`]): a shard's error is the sum of its tests'
//! errors, and for independent errors its variance is the sum of their squares. Format
//! version 1 had a median of the recent samples instead of their mean, scored on absolute
//! errors. Absolute errors reward the median, and the median runs low on right-skewed
//! durations: replaying onegov-cloud's history it underestimated the recorded totals by 2.7%
//! where the mean of the same three samples was within 0.6%, and the shards holding the
//! noisiest tests paid for it.
//! Everything here is pure: no clock, no files.

use std::collections::VecDeque;
use std::fmt;

use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::hash::{IdHasher, IdMap};
use crate::junit::Outcome;

/// How many outcomes a test remembers.
pub const RECENT_OUTCOMES: usize = 10;

/// How many run digests the history keeps to recognise a run recorded twice. CI retries of the
/// recording step happen within minutes, so a window this size is plenty.
pub const REMEMBERED_RUNS: usize = 64;

/// The smallest smoothing weight: the newest sample always moves the estimate by at least 30%,
/// so a test that got slower is noticed within a few runs.
const MIN_ALPHA: f64 = 0.3;

/// How many raw durations a test keeps, newest first. Three let [`Predictor::Mean`] average
/// out measurement noise while a lasting change fully replaces the old level within three runs,
/// at three numbers to store and parse per test.
pub const RECENT_SAMPLES: usize = 3;

/// A file's setup cost is only inferred when the run timed at least this many of its tests: with
/// fewer there is no trustworthy "typical test" to compare the first one against.
const MIN_TESTS_FOR_SETUP: usize = 3;

/// One test's result in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// The test id.
    pub id: String,
    /// How long it took, when known. Negative, NaN or infinite values are treated as unknown.
    pub seconds: Option<f64>,
    /// How it ended, when known (duration imports carry none).
    pub outcome: Option<Outcome>,
}

/// How long a history remembers.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// A test not seen for this many recorded runs is dropped. 0 is treated as 1: a test seen
    /// in the run being recorded is never dropped.
    pub max_unseen_runs: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            max_unseen_runs: 30,
        }
    }
}

/// Whether the observations of a run are in execution order.
///
/// Setup-cost inference needs to know which test of a file ran first; a `JUnit` report gives
/// that, a duration import (pytest-split, knapsack) does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOrder {
    /// Observations are in the order the tests ran: setup costs are inferred.
    Execution,
    /// The order means nothing: no setup cost is inferred.
    Unknown,
}

/// A way of predicting a test's next duration from its past ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Predictor {
    /// The mean of the last [`RECENT_SAMPLES`] durations: the expected duration of a test
    /// whose runs are noisy, outliers included, since a shard pays for those too.
    Mean,
    /// The exponentially weighted moving average (the newest sample weighs at least 30%).
    Ewma,
    /// The latest duration: best when timings shift between measurement campaigns.
    Latest,
}

impl Predictor {
    /// Every predictor; on equal backtest errors the earlier one is chosen, so a history with
    /// no evidence yet predicts with the mean of the recent samples.
    pub const ALL: [Predictor; 3] = [Predictor::Mean, Predictor::Ewma, Predictor::Latest];

    /// The lowercase name used in the history file and in `timings show`.
    pub fn name(self) -> &'static str {
        match self {
            Predictor::Mean => "mean",
            Predictor::Ewma => "ewma",
            Predictor::Latest => "latest",
        }
    }

    /// The predictor called `name`.
    pub fn from_name(name: &str) -> Option<Predictor> {
        Predictor::ALL.into_iter().find(|p| p.name() == name)
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Predictor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How well each [`Predictor`] would have predicted the recorded runs.
///
/// A backtest error is the relative squared error over the tests a run timed that the history
/// already had timed: `sum (predicted - actual)^2 / sum actual^2` (per file: over the sums of
/// each file's tests). Squared, because a shard's error is a sum of its tests' errors whose
/// variance adds their squares, and because its minimiser is the mean, which sums need; an
/// absolute error would reward the median instead. Errors are smoothed across runs like
/// durations are, so the choice follows a suite whose character changes.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Backtest {
    /// How many runs were backtested.
    pub(super) runs: u32,
    /// The smoothed relative squared error of each predictor, in the order of
    /// [`Predictor::ALL`], rounded to millionths.
    pub(super) errors: [f64; Predictor::ALL.len()],
}

impl Backtest {
    /// The predictor with the lowest smoothed error (the first of [`Predictor::ALL`] on ties).
    pub fn chosen(&self) -> Predictor {
        let mut best = Predictor::ALL[0];
        for predictor in Predictor::ALL {
            if self.errors[predictor.index()] < self.errors[best.index()] {
                best = predictor;
            }
        }
        best
    }

    /// How many runs were backtested.
    pub fn runs(&self) -> u32 {
        self.runs
    }

    /// The smoothed relative squared error of `predictor` (0 before any backtest).
    pub fn error(&self, predictor: Predictor) -> f64 {
        self.errors[predictor.index()]
    }

    /// Folds one run's errors in (`errors` in the order of [`Predictor::ALL`]).
    fn fold(&mut self, errors: [f64; Predictor::ALL.len()]) {
        self.runs = self.runs.saturating_add(1);
        for (smoothed, error) in self.errors.iter_mut().zip(errors) {
            *smoothed = smooth(*smoothed, error, self.runs);
        }
    }
}

/// What [`History::record`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordReport {
    /// The same run was recorded before; nothing changed.
    pub already_recorded: bool,
    /// Tests seen for the first time.
    pub added: usize,
    /// Tests already known.
    pub updated: usize,
    /// Tests dropped because they were unseen for too long.
    pub dropped: usize,
}

/// The last few outcomes of a test, oldest first, packed into 32 bits.
///
/// Bits 28..32 hold the count, bits `2i..2i+2` the i-th outcome. A million tests each keep ten
/// outcomes, so this is 4 bytes instead of a 24-byte `String` plus its heap block.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RecentOutcomes(u32);

impl RecentOutcomes {
    const LEN_SHIFT: u32 = 28;

    /// No outcomes.
    pub const EMPTY: RecentOutcomes = RecentOutcomes(0);

    /// How many outcomes are remembered (at most [`RECENT_OUTCOMES`]).
    pub fn len(self) -> usize {
        (self.0 >> Self::LEN_SHIFT) as usize
    }

    /// Whether no outcome is remembered.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The outcome at `index` (0 is the oldest).
    fn at(self, index: usize) -> Outcome {
        match (self.0 >> (2 * index)) & 0b11 {
            0 => Outcome::Passed,
            1 => Outcome::Failed,
            2 => Outcome::Error,
            _ => Outcome::Skipped,
        }
    }

    fn code(outcome: Outcome) -> u32 {
        match outcome {
            Outcome::Passed => 0,
            Outcome::Failed => 1,
            Outcome::Error => 2,
            Outcome::Skipped => 3,
        }
    }

    /// Appends the newest outcome, forgetting the oldest when full.
    pub fn push(&mut self, outcome: Outcome) {
        let mut len = self.len();
        let mut bits = self.0 & ((1 << Self::LEN_SHIFT) - 1);
        if len == RECENT_OUTCOMES {
            bits >>= 2;
            len -= 1;
        }
        bits |= Self::code(outcome) << (2 * len);
        self.0 = bits | (((len + 1) as u32) << Self::LEN_SHIFT);
    }

    /// The outcomes, oldest first.
    pub fn iter(self) -> impl ExactSizeIterator<Item = Outcome> {
        (0..self.len()).map(move |index| self.at(index))
    }

    /// Whether the outcomes include both a pass and a failure or error.
    pub fn is_flaky(self) -> bool {
        let mut passed = false;
        let mut failed = false;
        for outcome in self.iter() {
            passed |= outcome == Outcome::Passed;
            failed |= outcome.is_failure();
        }
        passed && failed
    }

    /// Parses letters as written by [`fmt::Display`] (`"ppfp"`, oldest first). Only the last
    /// [`RECENT_OUTCOMES`] letters are kept. `None` when a letter is not an outcome.
    pub fn from_letters(letters: &str) -> Option<Self> {
        let mut recent = RecentOutcomes::EMPTY;
        for letter in letters.chars() {
            recent.push(Outcome::from_letter(letter)?);
        }
        Some(recent)
    }
}

impl fmt::Display for RecentOutcomes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for outcome in self.iter() {
            fmt::Write::write_char(f, outcome.letter())?;
        }
        Ok(())
    }
}

impl fmt::Debug for RecentOutcomes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecentOutcomes(\"{self}\")")
    }
}

/// What the history knows about one test. 40 bytes: it is stored a million times.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct TestEntry {
    /// Smoothed duration in seconds, rounded to microseconds; meaningless when `samples == 0`.
    pub(super) seconds: f64,
    /// The last durations in seconds, newest first; the first `min(samples, RECENT_SAMPLES)`
    /// are meaningful, the rest 0. Each is a microsecond-rounded value narrowed to `f32` (see
    /// [`narrow`]): relative precision 1e-7 is plenty and halves the memory.
    pub(super) latest: [f32; RECENT_SAMPLES],
    /// The run number this test was last observed in.
    pub(super) last_seen: u64,
    /// How many timed observations went into `seconds`.
    pub(super) samples: u32,
    /// Recent outcomes.
    pub(super) recent: RecentOutcomes,
}

/// A smoothed value with its sample count (used for file setup costs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Smoothed {
    /// Smoothed value in seconds, rounded to microseconds.
    pub(super) seconds: f64,
    /// How many samples went into it (at least 1).
    pub(super) samples: u32,
}

impl TestEntry {
    /// How many of `latest` are meaningful.
    pub(super) fn kept(&self) -> usize {
        (self.samples as usize).min(RECENT_SAMPLES)
    }

    /// The predicted next duration in seconds; meaningless when `samples == 0`.
    pub(super) fn predict(&self, predictor: Predictor) -> f64 {
        let kept = self.kept();
        if kept == 0 {
            return self.seconds;
        }
        match predictor {
            Predictor::Ewma => self.seconds,
            Predictor::Latest => widen(self.latest[0]),
            Predictor::Mean => {
                // Summed in whole microseconds, so the result does not depend on float order.
                let sum: u64 = self.latest[..kept]
                    .iter()
                    .map(|&s| to_micros(widen(s)))
                    .sum();
                round_micros(sum as f64 / kept as f64 / 1e6)
            }
        }
    }

    /// Folds a timed sample in.
    fn push_sample(&mut self, seconds: f64) {
        self.samples = self.samples.saturating_add(1);
        self.seconds = smooth(self.seconds, seconds, self.samples);
        self.latest.copy_within(..RECENT_SAMPLES - 1, 1);
        self.latest[0] = narrow(seconds);
    }
}

/// A duration in seconds as kept in [`TestEntry::latest`]: rounded to microseconds, then the
/// nearest `f32`. Writing such a value rounded to microseconds and narrowing it again gives the
/// same `f32` (below 16 s an `f32` step is under a microsecond, above it the rounding moves
/// the value by less than half a step), so the store round trip is exact.
pub(super) fn narrow(seconds: f64) -> f32 {
    round_micros(seconds) as f32
}

/// A kept duration back in seconds, rounded to microseconds like every other duration.
pub(super) fn widen(seconds: f32) -> f64 {
    round_micros(f64::from(seconds))
}

/// A read-only view of one test in the history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestView {
    entry: TestEntry,
    predictor: Predictor,
}

impl TestView {
    /// The predicted duration in seconds (by the history's chosen [`Predictor`]), or `None`
    /// when the test was never timed.
    pub fn seconds(&self) -> Option<f64> {
        (self.entry.samples > 0).then(|| self.entry.predict(self.predictor))
    }

    /// The last durations in seconds, newest first (at most [`RECENT_SAMPLES`]).
    pub fn latest(&self) -> impl ExactSizeIterator<Item = f64> {
        let latest = self.entry.latest;
        (0..self.entry.kept()).map(move |i| widen(latest[i]))
    }

    /// How many timed observations the estimate is based on.
    pub fn samples(&self) -> u32 {
        self.entry.samples
    }

    /// The last outcomes, oldest first.
    pub fn recent(&self) -> RecentOutcomes {
        self.entry.recent
    }

    /// The run number the test was last observed in (see [`History::runs`]).
    pub fn last_seen(&self) -> u64 {
        self.entry.last_seen
    }
}

/// One of the slowest tests in a [`Summary`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestSummary {
    /// The test id.
    pub id: String,
    /// The predicted duration in seconds.
    pub seconds: f64,
    /// How many samples the estimate is based on.
    pub samples: u32,
}

/// One of the slowest files in a [`Summary`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileSummary {
    /// The file key.
    pub file: String,
    /// Estimated seconds of all its timed tests plus its setup cost.
    pub seconds: f64,
    /// The setup cost part of `seconds`.
    pub setup_seconds: f64,
    /// How many tests of the file the history knows.
    pub tests: usize,
}

/// A test whose recent outcomes include both a pass and a failure or error.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlakySummary {
    /// The test id.
    pub id: String,
    /// Its recent outcomes as letters, oldest first (`p`assed, `f`ailed, `e`rror, `s`kipped).
    pub recent: String,
}

/// The predictor part of a [`Summary`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PredictorSummary {
    /// The predictor chosen.
    pub chosen: Predictor,
    /// How many runs it was chosen on.
    pub backtested_runs: u32,
    /// Each predictor's smoothed backtest error as a relative RMS error (the square root of
    /// [`Backtest::error`], so 0.1 reads "off by about 10%"), in the order of
    /// [`Predictor::ALL`].
    pub errors: Vec<PredictorError>,
}

/// One predictor's backtest error in a [`PredictorSummary`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PredictorError {
    /// The predictor.
    pub predictor: Predictor,
    /// Its smoothed relative RMS error, rounded to millionths.
    pub error: f64,
}

impl Default for PredictorSummary {
    fn default() -> Self {
        PredictorSummary::from(&Backtest::default())
    }
}

impl From<&Backtest> for PredictorSummary {
    fn from(backtest: &Backtest) -> Self {
        PredictorSummary {
            chosen: backtest.chosen(),
            backtested_runs: backtest.runs,
            errors: Predictor::ALL
                .into_iter()
                .map(|predictor| PredictorError {
                    predictor,
                    error: round_micros(backtest.error(predictor).sqrt()),
                })
                .collect(),
        }
    }
}

/// A summary for `rxdist timings show`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// How many runs were recorded.
    pub runs: u64,
    /// How test durations are predicted, and why (scored per test).
    pub predictor: PredictorSummary,
    /// How file durations are predicted when files are planned whole (scored per file).
    pub file_predictor: PredictorSummary,
    /// How many tests the history knows.
    pub tests: usize,
    /// How many distinct file keys those tests belong to.
    pub files: usize,
    /// Estimated seconds of all timed tests plus all setup costs: one serial run of everything.
    pub total_seconds: f64,
    /// The slowest tests, slowest first (ties by id).
    pub slowest_tests: Vec<TestSummary>,
    /// The slowest files including setup, slowest first (ties by file key).
    pub slowest_files: Vec<FileSummary>,
    /// How many tests are flaky.
    pub flaky_count: usize,
    /// Flaky tests with the most failures first (ties by id), at most the requested count.
    pub flaky_tests: Vec<FlakySummary>,
}

/// The tests of one file key, and its setup cost.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct FileTests {
    /// The smoothed setup cost, once one was inferred.
    pub(super) setup: Option<Smoothed>,
    /// Tests by the rest of their id after the file key: `""` for an id that is its own file
    /// key, else a string starting with `::`.
    pub(super) tests: IdMap<Box<str>, TestEntry>,
}

/// The timing history.
///
/// Tests are grouped by file key: each key is stored once rather than in every id (a third of
/// the memory of a typical pytest history), and the per-file tables are small, so decoding
/// fills them while they are in cache and estimating finds a file's statistics in one place.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// How many runs were recorded; also the number of the latest run.
    pub(super) runs: u64,
    /// Tests by file key. A file key is only present while it has tests.
    pub(super) files: IdMap<Box<str>, FileTests>,
    /// How many tests `files` holds, kept so that [`History::len`] is cheap.
    pub(super) test_count: usize,
    /// Digests of the latest recorded runs, oldest first.
    pub(super) recent_runs: VecDeque<[u8; 32]>,
    /// How well each predictor did on the recorded runs, test by test.
    pub(super) backtest: Backtest,
    /// How well each predictor did on the recorded runs, on each file's total.
    pub(super) file_backtest: Backtest,
}

/// Splits an id into its file key and the rest (`""` or `"::…"`), exactly as
/// [`crate::identity::file_key`] does. It scans for `:` bytes instead of searching for the
/// two-byte pattern, which matters when a million ids are split on every load.
pub(super) fn split_id(id: &str) -> (&str, &str) {
    let bytes = id.as_bytes();
    let mut from = 0;
    while let Some(offset) = bytes[from..].iter().position(|&b| b == b':') {
        let at = from + offset;
        if bytes.get(at + 1) == Some(&b':') {
            return id.split_at(at);
        }
        from = at + 1;
    }
    (id, "")
}

/// Rounds seconds to whole microseconds: what the file stores, so that a history survives an
/// encode/decode round trip unchanged.
pub(super) fn round_micros(seconds: f64) -> f64 {
    (seconds * 1e6).round() / 1e6
}

/// Seconds to whole microseconds (saturating; inputs are finite and non-negative).
pub(super) fn to_micros(seconds: f64) -> u64 {
    (seconds * 1e6).round() as u64
}

/// One step of the moving average; `samples` counts the new sample too. The weight is
/// `max(1/samples, 0.3)`: the first sample sets the value exactly, the next few average evenly,
/// then the newest sample keeps a 30% say.
fn smooth(previous: f64, sample: f64, samples: u32) -> f64 {
    let alpha = (1.0 / f64::from(samples.max(1))).max(MIN_ALPHA);
    round_micros(previous + alpha * (sample - previous))
}

/// One test's merged observations within a run.
struct Merged<'r> {
    id: &'r str,
    file: &'r str,
    suffix: &'r str,
    seconds: Option<f64>,
    outcome: Option<Outcome>,
}

/// Merges duplicate ids of one run, keeping the order of first appearance. A test reported
/// twice (a retry, or pytest's call failure plus teardown error) took the longest of its
/// durations and ended with the last outcome reported for it. Keeping it this simple means a
/// retried-then-passed test counts as passed, which the flaky list still catches across runs.
fn merge_duplicates(run: &[Observation]) -> Vec<Merged<'_>> {
    let mut merged: Vec<Merged<'_>> = Vec::with_capacity(run.len());
    let mut index: IdMap<&str, usize> =
        IdMap::with_capacity_and_hasher(run.len(), IdHasher::default());
    for observation in run {
        let seconds = observation.seconds.filter(|s| s.is_finite() && *s >= 0.0);
        if let Some(&at) = index.get(observation.id.as_str()) {
            let entry = &mut merged[at];
            entry.seconds = match (entry.seconds, seconds) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            entry.outcome = observation.outcome.or(entry.outcome);
        } else {
            index.insert(&observation.id, merged.len());
            let (file, suffix) = split_id(&observation.id);
            merged.push(Merged {
                id: &observation.id,
                file,
                suffix,
                seconds,
                outcome: observation.outcome,
            });
        }
    }
    merged
}

/// The digest of a run: sha256 over its observations sorted by id, durations in whole
/// microseconds. Order does not matter, so a run recorded from a re-ordered report is still
/// recognised.
fn run_digest(merged: &[Merged<'_>]) -> [u8; 32] {
    let mut sorted: Vec<&Merged<'_>> = merged.iter().collect();
    sorted.sort_unstable_by(|a, b| a.id.cmp(b.id));
    let mut hasher = Sha256::new();
    hasher.update(b"rxdist-run\x01");
    for m in sorted {
        // Length-prefixed so that no two different runs hash the same byte stream.
        hasher.update((m.id.len() as u64).to_le_bytes());
        hasher.update(m.id.as_bytes());
        match m.seconds {
            Some(seconds) => {
                hasher.update([1]);
                hasher.update(to_micros(seconds).to_le_bytes());
            }
            None => hasher.update([0]),
        }
        hasher.update([m.outcome.map_or(b'-', |o| o.letter() as u8)]);
    }
    hasher.finalize().into()
}

/// The median of `values` (mean of the two middle ones for an even count); reorders `values`.
/// `None` when empty.
pub(super) fn median_micros(values: &mut [u64]) -> Option<u64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let (_, &mut upper, _) = values.select_nth_unstable(n / 2);
    if n % 2 == 1 {
        return Some(upper);
    }
    // The lower middle is the largest value left of the upper middle.
    let lower = values[..n / 2].iter().copied().max().unwrap_or(upper);
    Some(lower.midpoint(upper))
}

/// The run's tests grouped by file key: files in order of first appearance, each with the
/// indices (into the merged run) of its tests in execution order.
fn group_by_file<'r>(merged: &[Merged<'r>]) -> Vec<(&'r str, Vec<usize>)> {
    let mut group_of: IdMap<&str, usize> = IdMap::default();
    let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
    for (index, m) in merged.iter().enumerate() {
        let group = *group_of.entry(m.file).or_insert_with(|| {
            groups.push((m.file, Vec::new()));
            groups.len() - 1
        });
        groups[group].1.push(index);
    }
    groups
}

/// The setup cost one file's tests reveal in this run, in seconds: how much longer its first
/// test took than the median of its other timed tests. `None` unless the first test and at
/// least two others were timed.
fn infer_setup(merged: &[Merged<'_>], tests: &[usize]) -> Option<f64> {
    let (&first, others) = tests.split_first()?;
    let first_seconds = merged[first].seconds?;
    let mut others: Vec<u64> = others
        .iter()
        .filter_map(|&i| merged[i].seconds.map(to_micros))
        .collect();
    if others.len() + 1 < MIN_TESTS_FOR_SETUP {
        return None;
    }
    let typical = median_micros(&mut others)?;
    Some(round_micros(
        (first_seconds - typical as f64 / 1e6).max(0.0),
    ))
}

impl History {
    /// An empty history.
    pub fn new() -> Self {
        History::default()
    }

    /// Folds one run's observations, in execution order, into the history. Same as
    /// [`History::record_with`] with [`RunOrder::Execution`].
    pub fn record(&mut self, run: &[Observation], retention: Retention) -> RecordReport {
        self.record_with(run, retention, RunOrder::Execution)
    }

    /// Folds one run's observations into the history.
    ///
    /// Duplicate ids within the run are merged (longest duration, last outcome). A run whose
    /// digest matches one of the last [`REMEMBERED_RUNS`] recorded runs changes nothing and
    /// reports `already_recorded`; the digest covers ids, durations in whole microseconds and
    /// outcomes, not their order, so re-recording a report that was re-sorted is also caught. An empty run changes nothing either (it is not counted as a
    /// run, so it cannot age tests out). With [`RunOrder::Execution`] each file's setup cost is
    /// inferred from how much longer its first test took than its typical test.
    pub fn record_with(
        &mut self,
        run: &[Observation],
        retention: Retention,
        order: RunOrder,
    ) -> RecordReport {
        let merged = merge_duplicates(run);
        if merged.is_empty() {
            return RecordReport::default();
        }
        let digest = run_digest(&merged);
        if self.recent_runs.contains(&digest) {
            return RecordReport {
                already_recorded: true,
                ..RecordReport::default()
            };
        }
        self.runs += 1;
        let run_number = self.runs;

        let mut report = RecordReport::default();
        // Backtest: what each predictor would have said about the tests this run timed that
        // were timed before, against what they took.
        let mut backtest_error = [0.0; Predictor::ALL.len()];
        let mut file_backtest_error = [0.0; Predictor::ALL.len()];
        let mut backtest_actual = 0.0;
        let mut file_backtest_actual = 0.0;
        for (file, indices) in group_by_file(&merged) {
            let tests = self.files.entry(file.into()).or_default();
            let setup = match order {
                RunOrder::Execution => infer_setup(&merged, &indices),
                RunOrder::Unknown => None,
            };
            if let Some(setup) = setup {
                tests.setup = Some(match tests.setup {
                    Some(known) => {
                        let samples = known.samples.saturating_add(1);
                        Smoothed {
                            seconds: smooth(known.seconds, setup, samples),
                            samples,
                        }
                    }
                    None => Smoothed {
                        seconds: setup,
                        samples: 1,
                    },
                });
            }
            let mut file_predicted = [0.0; Predictor::ALL.len()];
            let mut file_actual = 0.0;
            for (position, &index) in indices.iter().enumerate() {
                let m = &merged[index];
                let mut seconds = m.seconds;
                if position == 0
                    && let Some(setup) = setup
                {
                    // The first test's own duration is what is left once the setup is paid.
                    seconds = seconds.map(|s| round_micros((s - setup).max(0.0)));
                }
                let entry = if let Some(entry) = tests.tests.get_mut(m.suffix) {
                    report.updated += 1;
                    entry
                } else {
                    report.added += 1;
                    let fresh = TestEntry {
                        seconds: 0.0,
                        latest: [0.0; RECENT_SAMPLES],
                        last_seen: run_number,
                        samples: 0,
                        recent: RecentOutcomes::EMPTY,
                    };
                    tests.tests.entry(m.suffix.into()).or_insert(fresh)
                };
                if let Some(seconds) = seconds {
                    if entry.samples > 0 {
                        file_actual += seconds;
                        backtest_actual += seconds * seconds;
                        for predictor in Predictor::ALL {
                            let predicted = entry.predict(predictor);
                            backtest_error[predictor.index()] += (predicted - seconds).powi(2);
                            file_predicted[predictor.index()] += predicted;
                        }
                    }
                    entry.push_sample(seconds);
                }
                if let Some(outcome) = m.outcome {
                    entry.recent.push(outcome);
                }
                entry.last_seen = run_number;
            }
            file_backtest_actual += file_actual * file_actual;
            for (error, predicted) in file_backtest_error.iter_mut().zip(file_predicted) {
                *error += (predicted - file_actual).powi(2);
            }
        }
        self.test_count += report.added;
        // A run whose known tests all took 0 s has nothing to weigh errors against (and then
        // neither have its files).
        if backtest_actual > 0.0 {
            self.backtest
                .fold(backtest_error.map(|error| error / backtest_actual));
            self.file_backtest
                .fold(file_backtest_error.map(|error| error / file_backtest_actual));
        }

        report.dropped = self.apply_retention(retention);
        if self.recent_runs.len() == REMEMBERED_RUNS {
            self.recent_runs.pop_front();
        }
        self.recent_runs.push_back(digest);
        report
    }

    /// Drops tests unseen for too long, and files (with their setup) left without tests;
    /// returns how many tests were dropped.
    fn apply_retention(&mut self, retention: Retention) -> usize {
        let max_unseen = u64::from(retention.max_unseen_runs.max(1));
        let runs = self.runs;
        let before = self.test_count;
        self.files.retain(|_, file| {
            file.tests
                .retain(|_, entry| runs.saturating_sub(entry.last_seen) < max_unseen);
            !file.tests.is_empty()
        });
        self.test_count = self.files.values().map(|file| file.tests.len()).sum();
        before - self.test_count
    }

    /// How many runs were recorded. Run numbers (see [`TestView::last_seen`]) count from 1.
    pub fn runs(&self) -> u64 {
        self.runs
    }

    /// How many tests the history knows.
    pub fn len(&self) -> usize {
        self.test_count
    }

    /// Whether the history knows no test.
    pub fn is_empty(&self) -> bool {
        self.test_count == 0
    }

    /// Whether the history knows `id`.
    pub fn contains(&self, id: &str) -> bool {
        self.entry(id).is_some()
    }

    fn entry(&self, id: &str) -> Option<&TestEntry> {
        let (file, rest) = split_id(id);
        self.files.get(file)?.tests.get(rest)
    }

    /// What the history knows about `id`.
    pub fn get(&self, id: &str) -> Option<TestView> {
        let predictor = self.predictor();
        self.entry(id).map(|&entry| TestView { entry, predictor })
    }

    /// The predictor for single tests: the one with the lowest backtest error per test.
    pub fn predictor(&self) -> Predictor {
        self.backtest.chosen()
    }

    /// The predictor for whole files: the one with the lowest backtest error on file totals.
    pub fn file_predictor(&self) -> Predictor {
        self.file_backtest.chosen()
    }

    /// How well each predictor did on the recorded runs, test by test.
    pub fn backtest(&self) -> &Backtest {
        &self.backtest
    }

    /// How well each predictor did on the recorded runs, on file totals.
    pub fn file_backtest(&self) -> &Backtest {
        &self.file_backtest
    }

    /// The predicted duration of a timed entry, in seconds.
    pub(super) fn predict(&self, entry: &TestEntry) -> f64 {
        entry.predict(self.backtest.chosen())
    }

    /// The smoothed setup cost of a file key in seconds, if it was ever inferred.
    pub fn file_setup(&self, file: &str) -> Option<f64> {
        self.files.get(file)?.setup.map(|s| s.seconds)
    }

    /// All test ids, sorted.
    pub fn ids(&self) -> Vec<String> {
        self.iter().map(|(id, _)| id).collect()
    }

    /// All tests with what is known about them, sorted by id.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (String, TestView)> {
        let predictor = self.predictor();
        let mut tests: Vec<(String, TestView)> = Vec::with_capacity(self.test_count);
        for (file, tests_of_file) in &self.files {
            for (rest, &entry) in &tests_of_file.tests {
                tests.push(([&**file, &**rest].concat(), TestView { entry, predictor }));
            }
        }
        tests.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        tests.into_iter()
    }

    /// Summarises the history, listing at most `top` tests, files and flaky tests.
    pub fn summary(&self, top: usize) -> Summary {
        // Sums are taken in integer microseconds so the result does not depend on hash order.
        // Items keep (file, rest) pairs; ids are only joined for the few that are listed.
        let mut files: Vec<(u64, u64, &str, usize)> = Vec::with_capacity(self.files.len());
        let mut timed: Vec<(u64, (&str, &str), u32)> = Vec::new();
        let mut flaky: Vec<(usize, (&str, &str), RecentOutcomes)> = Vec::new();
        let mut total: u64 = 0;
        let file_predictor = self.file_predictor();
        for (file, tests) in &self.files {
            let setup = tests.setup.map_or(0, |s| to_micros(s.seconds));
            let mut file_total = setup;
            for (rest, entry) in &tests.tests {
                let id = (&**file, &**rest);
                if entry.samples > 0 {
                    let micros = to_micros(self.predict(entry));
                    file_total += to_micros(entry.predict(file_predictor));
                    timed.push((micros, id, entry.samples));
                }
                if entry.recent.is_flaky() {
                    let failures = entry.recent.iter().filter(|o| o.is_failure()).count();
                    flaky.push((failures, id, entry.recent));
                }
            }
            total += file_total;
            files.push((file_total, setup, file, tests.tests.len()));
        }
        // Comparing (file, rest) pairs orders like the joined ids would, except across file
        // keys where one is a prefix of another; joining for the comparison keeps it exact.
        let by_id = |a: (&str, &str), b: (&str, &str)| {
            a.0.bytes()
                .chain(a.1.bytes())
                .cmp(b.0.bytes().chain(b.1.bytes()))
        };
        let join = |(file, rest): (&str, &str)| [file, rest].concat();

        let slowest_tests = top_n(&mut timed, top, |a, b| b.0.cmp(&a.0).then(by_id(a.1, b.1)))
            .iter()
            .map(|&(micros, id, samples)| TestSummary {
                id: join(id),
                seconds: micros as f64 / 1e6,
                samples,
            })
            .collect();
        let slowest_files = top_n(&mut files, top, |a, b| b.0.cmp(&a.0).then(a.2.cmp(b.2)))
            .iter()
            .map(|&(micros, setup, file, tests)| FileSummary {
                file: file.to_owned(),
                seconds: micros as f64 / 1e6,
                setup_seconds: setup as f64 / 1e6,
                tests,
            })
            .collect();
        let flaky_count = flaky.len();
        let flaky_tests = top_n(&mut flaky, top, |a, b| b.0.cmp(&a.0).then(by_id(a.1, b.1)))
            .iter()
            .map(|&(_, id, recent)| FlakySummary {
                id: join(id),
                recent: recent.to_string(),
            })
            .collect();

        Summary {
            runs: self.runs,
            predictor: PredictorSummary::from(&self.backtest),
            file_predictor: PredictorSummary::from(&self.file_backtest),
            tests: self.test_count,
            files: self.files.len(),
            total_seconds: total as f64 / 1e6,
            slowest_tests,
            slowest_files,
            flaky_count,
            flaky_tests,
        }
    }
}

/// The first `n` items of `items` under `order`, sorted; partial selection keeps a summary of a
/// million tests cheap.
fn top_n<T>(items: &mut [T], n: usize, order: impl Fn(&T, &T) -> std::cmp::Ordering) -> &[T] {
    let n = n.min(items.len());
    if n == 0 {
        return &[];
    }
    if n < items.len() {
        items.select_nth_unstable_by(n - 1, &order);
    }
    let head = &mut items[..n];
    head.sort_unstable_by(&order);
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(id: &str, seconds: Option<f64>, outcome: Option<Outcome>) -> Observation {
        Observation {
            id: id.to_owned(),
            seconds,
            outcome,
        }
    }

    fn timed(id: &str, seconds: f64) -> Observation {
        obs(id, Some(seconds), Some(Outcome::Passed))
    }

    fn keep() -> Retention {
        Retention {
            max_unseen_runs: 100,
        }
    }

    #[test]
    fn first_sample_sets_the_average_then_it_averages_then_weighs_the_newest_30_percent() {
        let mut history = History::new();
        let mut seen = Vec::new();
        for (seconds, expected) in [(1.0, 1.0), (2.0, 1.5), (3.0, 2.0), (10.0, 4.4), (4.4, 4.4)] {
            history.record(&[timed("t.py::a", seconds)], keep());
            let entry = history.entry("t.py::a").expect("recorded");
            assert!(
                (entry.predict(Predictor::Ewma) - expected).abs() < 1e-9,
                "{seconds}"
            );
            seen.push(entry.samples);
        }
        assert_eq!(seen, [1, 2, 3, 4, 5]);
        assert_eq!(history.runs(), 5);
    }

    #[test]
    fn the_last_three_samples_are_kept_newest_first_for_the_mean_and_latest() {
        let mut history = History::new();
        let entry = |history: &History| *history.entry("t.py::a").expect("recorded");
        history.record(&[timed("t.py::a", 4.0)], keep());
        let one = entry(&history);
        assert_eq!(
            Predictor::ALL.map(|p| to_micros(one.predict(p))),
            [4_000_000; 3],
            "one sample: every predictor says it"
        );
        history.record(&[timed("t.py::a", 1.0)], keep());
        assert_eq!(
            to_micros(entry(&history).predict(Predictor::Mean)),
            2_500_000
        );
        for seconds in [9.0, 2.0, 3.0, 100.0] {
            history.record(&[timed("t.py::a", seconds)], keep());
        }
        let view = history.get("t.py::a").expect("recorded");
        assert_eq!(
            view.latest().map(to_micros).collect::<Vec<_>>(),
            [100_000_000, 3_000_000, 2_000_000]
        );
        let six = entry(&history);
        // The mean counts the outlier: a shard running this test pays for it on average.
        assert_eq!(to_micros(six.predict(Predictor::Mean)), 35_000_000);
        assert_eq!(to_micros(six.predict(Predictor::Latest)), 100_000_000);
        // Sub-second samples keep their microseconds through the f32 narrowing, and a mean
        // that is no whole number of microseconds is rounded to one.
        history.record(&[timed("t.py::a", 0.123_457)], keep());
        assert_eq!(
            to_micros(entry(&history).predict(Predictor::Latest)),
            123_457
        );
        for seconds in [0.5, 1.5, 2.25] {
            history.record(&[timed("t.py::a", seconds)], keep());
        }
        assert_eq!(
            to_micros(entry(&history).predict(Predictor::Mean)),
            1_416_667
        );
    }

    #[test]
    fn the_backtest_picks_latest_for_shifts_the_mean_for_noise_and_ewma_for_alternation() {
        // An untimed marker per run keeps repeated runs from being recognised as re-recordings.
        let run = |i: usize, x: f64, y: f64| {
            [
                timed("a.py::x", x),
                timed("a.py::y", y),
                obs(&format!("marker{i}"), None, None),
            ]
        };
        let replay = |durations: &[f64]| {
            let mut history = History::new();
            for (i, &seconds) in durations.iter().enumerate() {
                history.record(&run(i, seconds, 2.0 * seconds), keep());
            }
            history
        };
        // Durations that jump to a new level and stay there: the latest sample is right at
        // once, the averages lag behind.
        let shifting = replay(&[1.0, 1.0, 1.0, 5.0, 5.0, 5.0, 2.0, 2.0, 2.0, 8.0, 8.0, 8.0]);
        assert_eq!(shifting.predictor(), Predictor::Latest);
        assert_eq!(shifting.file_predictor(), Predictor::Latest);
        assert_eq!(shifting.backtest().runs(), 11);
        assert_eq!(shifting.get("a.py::x").and_then(|t| t.seconds()), Some(8.0));

        // Noise around a steady level: the mean of the last three averages it out, the
        // latest sample does not, and the moving average still remembers the first runs'
        // even weighting.
        let noisy = replay(&[2.0, 4.0, 3.0].repeat(4));
        assert_eq!(noisy.predictor(), Predictor::Mean);
        assert_eq!(noisy.get("a.py::x").and_then(|t| t.seconds()), Some(3.0));
        let summary = noisy.summary(1).predictor;
        assert_eq!(summary.chosen, Predictor::Mean);
        assert_eq!(summary.backtested_runs, 11);
        assert!(
            summary.errors[0].error < summary.errors[1].error
                && summary.errors[1].error < summary.errors[2].error,
            "{summary:?}"
        );
        // The summary shows the root of the squared error: a relative RMS error.
        let mean_error = noisy.backtest().error(Predictor::Mean);
        assert!(mean_error > 0.0);
        assert_eq!(
            to_micros(summary.errors[0].error),
            to_micros(mean_error.sqrt())
        );

        // Two levels taking turns: the moving average settles between them, closer to both
        // than a mean of three, which always holds two of one level.
        let alternating = replay(&[1.0, 3.0].repeat(4));
        assert_eq!(alternating.predictor(), Predictor::Ewma);

        // Nothing to backtest before a test is timed twice: the mean is the default.
        let mut fresh = History::new();
        fresh.record(&[timed("a.py::x", 1.0)], keep());
        assert_eq!(fresh.backtest().runs(), 0);
        assert_eq!(fresh.predictor(), Predictor::Mean);
    }

    #[test]
    fn the_backtest_weighs_squared_errors_relative_to_squared_durations() {
        // One test timed 1 s then 3 s: every predictor said 1 s, off by 2 s, so each error is
        // 2^2 / 3^2. The file holds only this test, so the per-file error is the same.
        let mut history = History::new();
        history.record(&[timed("a.py::x", 1.0)], keep());
        history.record(&[timed("a.py::x", 3.0)], keep());
        for predictor in Predictor::ALL {
            assert_eq!(to_micros(history.backtest().error(predictor)), 444_444);
            assert_eq!(to_micros(history.file_backtest().error(predictor)), 444_444);
        }
        // Two tests of one file whose errors cancel in the file's sum: per test they count,
        // per file they do not.
        let mut history = History::new();
        history.record(&[timed("a.py::x", 2.0), timed("a.py::y", 2.0)], keep());
        history.record(&[timed("a.py::x", 1.0), timed("a.py::y", 3.0)], keep());
        assert_eq!(
            to_micros(history.backtest().error(Predictor::Latest)),
            200_000
        );
        assert_eq!(
            to_micros(history.file_backtest().error(Predictor::Latest)),
            0
        );
    }

    #[test]
    fn predictors_have_names() {
        for predictor in Predictor::ALL {
            assert_eq!(Predictor::from_name(predictor.name()), Some(predictor));
            assert_eq!(predictor.to_string(), predictor.name());
        }
        assert_eq!(Predictor::from_name("median"), None);
    }

    #[test]
    fn an_untimed_observation_updates_outcomes_and_last_seen_only() {
        let mut history = History::new();
        history.record(&[timed("t.py::a", 2.0)], keep());
        history.record(
            &[
                obs("t.py::a", None, Some(Outcome::Failed)),
                timed("t.py::b", 1.0),
            ],
            keep(),
        );
        let a = history.get("t.py::a").expect("recorded");
        assert_eq!(a.seconds(), Some(2.0));
        assert_eq!(a.samples(), 1);
        assert_eq!(a.recent().to_string(), "pf");
        assert_eq!(a.last_seen(), 2);

        history.record(&[obs("t.py::c", None, None)], keep());
        let c = history.get("t.py::c").expect("recorded");
        assert_eq!((c.seconds(), c.samples(), c.recent().len()), (None, 0, 0));
    }

    #[test]
    fn invalid_durations_count_as_untimed() {
        let mut history = History::new();
        history.record(
            &[
                obs("a", Some(f64::NAN), None),
                obs("b", Some(-1.0), None),
                obs("c", Some(f64::INFINITY), None),
            ],
            keep(),
        );
        assert!(
            ["a", "b", "c"]
                .iter()
                .all(|id| history.get(id).and_then(|t| t.seconds()).is_none())
        );
    }

    #[test]
    fn the_first_test_of_a_file_pays_its_setup() {
        let mut history = History::new();
        let run = [
            timed("f.py::t1", 5.0),
            timed("g.py::x", 3.0),
            timed("f.py::t2", 1.0),
            timed("f.py::t3", 1.2),
            timed("f.py::t4", 0.8),
        ];
        history.record(&run, keep());
        assert_eq!(history.file_setup("f.py"), Some(4.0));
        assert_eq!(history.get("f.py::t1").and_then(|t| t.seconds()), Some(1.0));
        assert_eq!(history.get("f.py::t2").and_then(|t| t.seconds()), Some(1.0));
        // One test is not enough to tell setup from test.
        assert_eq!(history.file_setup("g.py"), None);
        assert_eq!(history.get("g.py::x").and_then(|t| t.seconds()), Some(3.0));

        // A later run where the first test is no slower than the rest says "no setup".
        let run = [
            timed("f.py::t2", 1.0),
            timed("f.py::t3", 1.0),
            timed("f.py::t4", 1.0),
        ];
        history.record(&run, keep());
        assert_eq!(history.file_setup("f.py"), Some(2.0));
    }

    #[test]
    fn setup_needs_three_timed_tests_and_a_timed_first_test() {
        let mut history = History::new();
        history.record(&[timed("f.py::a", 5.0), timed("f.py::b", 1.0)], keep());
        assert_eq!(history.file_setup("f.py"), None);
        let run = [
            obs("f.py::a", None, None),
            timed("f.py::b", 1.0),
            timed("f.py::c", 1.0),
            timed("f.py::d", 1.0),
        ];
        history.record(&run, keep());
        assert_eq!(history.file_setup("f.py"), None);
    }

    #[test]
    fn runs_of_unknown_order_infer_no_setup() {
        let mut history = History::new();
        let run = [
            timed("f.py::t1", 5.0),
            timed("f.py::t2", 1.0),
            timed("f.py::t3", 1.0),
        ];
        history.record_with(&run, keep(), RunOrder::Unknown);
        assert_eq!(history.file_setup("f.py"), None);
        assert_eq!(history.get("f.py::t1").and_then(|t| t.seconds()), Some(5.0));
    }

    #[test]
    fn recording_the_same_run_twice_changes_nothing() {
        let mut history = History::new();
        let run = [
            timed("a.py::x", 1.0),
            obs("a.py::y", Some(2.0), Some(Outcome::Failed)),
        ];
        let first = history.record(&run, keep());
        assert_eq!(
            first,
            RecordReport {
                added: 2,
                ..RecordReport::default()
            }
        );
        let once = history.clone();
        let again = history.record(&run, keep());
        assert_eq!(
            again,
            RecordReport {
                already_recorded: true,
                ..RecordReport::default()
            }
        );
        assert_eq!(history, once);
        // Order does not make it a different run.
        let reversed = [run[1].clone(), run[0].clone()];
        assert!(history.record(&reversed, keep()).already_recorded);
        // A different duration does.
        let changed = [timed("a.py::x", 1.5), run[1].clone()];
        assert_eq!(
            history.record(&changed, keep()),
            RecordReport {
                updated: 2,
                ..RecordReport::default()
            }
        );
    }

    #[test]
    fn an_empty_run_is_not_a_run() {
        let mut history = History::new();
        assert_eq!(history.record(&[], keep()), RecordReport::default());
        assert_eq!(history, History::new());
    }

    #[test]
    fn duplicate_ids_take_the_longest_duration_and_the_last_outcome() {
        let mut history = History::new();
        let run = [
            obs("a.py::x", Some(1.0), Some(Outcome::Failed)),
            obs("a.py::y", Some(0.5), Some(Outcome::Passed)),
            obs("a.py::x", Some(3.0), Some(Outcome::Passed)),
            obs("a.py::x", Some(0.1), Some(Outcome::Error)),
            obs("a.py::x", None, None),
        ];
        let report = history.record(&run, keep());
        assert_eq!(
            report,
            RecordReport {
                added: 2,
                ..RecordReport::default()
            }
        );
        let x = history.get("a.py::x").expect("recorded");
        assert_eq!(
            (x.seconds(), x.samples(), x.recent().to_string()),
            (Some(3.0), 1, "e".to_owned())
        );
    }

    #[test]
    fn tests_unseen_for_too_long_are_dropped_with_their_file_setup() {
        let retention = Retention { max_unseen_runs: 2 };
        let mut history = History::new();
        let run1 = [
            timed("f.py::a", 4.0),
            timed("f.py::b", 1.0),
            timed("f.py::c", 1.0),
            timed("g.py::x", 1.0),
        ];
        history.record(&run1, retention);
        assert!(history.file_setup("f.py").is_some());
        assert_eq!(
            history.record(&[timed("g.py::x", 2.0)], retention).dropped,
            0
        );
        let report = history.record(&[timed("g.py::x", 3.0)], retention);
        assert_eq!(
            report,
            RecordReport {
                updated: 1,
                dropped: 3,
                ..RecordReport::default()
            }
        );
        assert_eq!(history.ids(), ["g.py::x"]);
        assert_eq!(history.file_setup("f.py"), None);
    }

    #[test]
    fn zero_retention_still_keeps_the_run_just_recorded() {
        let mut history = History::new();
        history.record(&[timed("a", 1.0)], Retention { max_unseen_runs: 0 });
        history.record(&[timed("b", 1.0)], Retention { max_unseen_runs: 0 });
        assert_eq!(history.ids(), ["b"]);
    }

    #[test]
    fn only_the_latest_run_digests_are_remembered() {
        let mut history = History::new();
        for i in 0..=REMEMBERED_RUNS {
            history.record(&[timed("a", i as f64)], keep());
        }
        assert_eq!(history.recent_runs.len(), REMEMBERED_RUNS);
        // The very first run has been forgotten, so it counts again.
        assert!(!history.record(&[timed("a", 0.0)], keep()).already_recorded);
    }

    #[test]
    fn recent_outcomes_keep_the_last_ten_oldest_first() {
        let mut recent = RecentOutcomes::EMPTY;
        for letter in "sepppppppppf".chars() {
            recent.push(Outcome::from_letter(letter).expect("letter"));
        }
        assert_eq!(recent.len(), RECENT_OUTCOMES);
        assert_eq!(recent.to_string(), "pppppppppf");
        assert!(recent.is_flaky());
        assert_eq!(
            RecentOutcomes::from_letters("pfes").map(|r| r.to_string()),
            Some("pfes".to_owned())
        );
        assert_eq!(RecentOutcomes::from_letters("px"), None);
        assert!(
            !RecentOutcomes::from_letters("ppss")
                .expect("letters")
                .is_flaky()
        );
        assert!(
            RecentOutcomes::from_letters("ep")
                .expect("letters")
                .is_flaky()
        );
        assert!(
            !RecentOutcomes::from_letters("fe")
                .expect("letters")
                .is_flaky()
        );
    }

    #[test]
    fn accessors_answer_for_known_and_unknown_tests() {
        let mut history = History::new();
        assert!(history.is_empty());
        history.record(
            &[
                timed("b.py::x", 1.0),
                timed("a.py::y", 2.0),
                timed("a.py", 3.0),
            ],
            keep(),
        );
        assert_eq!((history.len(), history.is_empty()), (3, false));
        assert!(history.contains("a.py::y") && !history.contains("a.py::z"));
        assert!(history.get("nope").is_none());
        assert_eq!(history.ids(), ["a.py", "a.py::y", "b.py::x"]);
        let listed: Vec<(String, Option<f64>)> =
            history.iter().map(|(id, t)| (id, t.seconds())).collect();
        assert_eq!(
            listed,
            [
                ("a.py".to_owned(), Some(3.0)),
                ("a.py::y".to_owned(), Some(2.0)),
                ("b.py::x".to_owned(), Some(1.0))
            ]
        );
    }

    #[test]
    fn summary_lists_slowest_first_with_ties_by_id_and_finds_flaky_tests() {
        let mut history = History::new();
        let run = [
            obs("f.py::a", Some(4.0), Some(Outcome::Passed)),
            obs("f.py::b", Some(1.0), Some(Outcome::Passed)),
            obs("f.py::c", Some(1.0), Some(Outcome::Failed)),
            obs("g.py::x", Some(2.0), Some(Outcome::Error)),
            obs("h.py::y", Some(2.0), Some(Outcome::Passed)),
            obs("h.py::z", None, Some(Outcome::Passed)),
        ];
        history.record(&run, keep());
        let run = [
            obs("f.py::c", None, Some(Outcome::Passed)),
            obs("g.py::x", None, Some(Outcome::Passed)),
            obs("h.py::y", None, Some(Outcome::Skipped)),
        ];
        history.record(&run, keep());
        let summary = history.summary(2);
        assert_eq!((summary.runs, summary.tests, summary.files), (2, 6, 3));
        // f.py: setup 3 s inferred, a's own 1 s; totals 1+1+1+3 + 2 + 2.
        assert!(
            (summary.total_seconds - 10.0).abs() < 1e-9,
            "{}",
            summary.total_seconds
        );
        let tests: Vec<(&str, f64)> = summary
            .slowest_tests
            .iter()
            .map(|t| (t.id.as_str(), t.seconds))
            .collect();
        assert_eq!(tests, [("g.py::x", 2.0), ("h.py::y", 2.0)]);
        let files: Vec<(&str, f64, f64, usize)> = summary
            .slowest_files
            .iter()
            .map(|f| (f.file.as_str(), f.seconds, f.setup_seconds, f.tests))
            .collect();
        assert_eq!(files, [("f.py", 6.0, 3.0, 3), ("g.py", 2.0, 0.0, 1)]);
        assert_eq!(summary.flaky_count, 2);
        let flaky: Vec<(&str, &str)> = summary
            .flaky_tests
            .iter()
            .map(|f| (f.id.as_str(), f.recent.as_str()))
            .collect();
        assert_eq!(flaky, [("f.py::c", "fp"), ("g.py::x", "ep")]);
        assert_eq!(history.summary(0).slowest_tests, []);
    }

    #[test]
    fn median_of_even_counts_is_the_mean_of_the_middle_two() {
        assert_eq!(median_micros(&mut []), None);
        assert_eq!(median_micros(&mut [5]), Some(5));
        assert_eq!(median_micros(&mut [9, 1, 4, 2]), Some(3));
        assert_eq!(median_micros(&mut [3, 1, 2]), Some(2));
        assert_eq!(median_micros(&mut [u64::MAX, u64::MAX]), Some(u64::MAX));
    }
}
