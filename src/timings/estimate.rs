//! Estimating durations for known and unknown tests.
//!
//! A test the history has timed is estimated by the history's backtested predictor (see
//! [`super::Predictor`]): the per-test choice for plans of single tests, the per-file choice
//! for plans that keep files together. A new test is assumed to be typical of its neighbours,
//! by empirical-Bayes shrinkage down the tree: the whole history's mean, pulled towards each
//! directory's mean on the way down to the test's file, then towards the file's mean, each
//! step weighing a group's own mean by how many tests it has against a prior strength measured
//! on the history (see [`prior_strength`]). A file of many tests speaks for itself; a file of
//! one new test mostly inherits its directory's typical duration. Means rather than medians:
//! durations are long-tailed, and a median underestimates what a new test costs on average,
//! which is what a shard's total adds up. All statistics are computed once in
//! [`Estimator::new`], so that estimating a known test is one hash lookup and a new one a
//! lookup per directory level.

use super::hash::IdMap;
use super::history::{split_id, to_micros};
use super::{History, Predictor};

/// No estimate is below this: a zero-cost test would be free to pile onto any shard, and below
/// a millisecond the difference does not matter for balancing.
pub const MIN_ESTIMATE_MICROS: u64 = 1_000;

/// What every test weighs when the history has no timing at all, so that plans split evenly
/// by count.
pub const DEFAULT_ESTIMATE_MICROS: u64 = 1_000_000;

/// Where an estimate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EstimateSource {
    /// The test itself is in the history.
    Known,
    /// Other tests of the same file are.
    File,
    /// Tests of the same directory (or an ancestor) are.
    Directory,
    /// Only the history as a whole.
    Global,
    /// The history is empty: every test weighs the same.
    Default,
}

/// An estimate in microseconds (never 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Estimate {
    /// Estimated duration, excluding the file's setup cost.
    pub micros: u64,
    /// Where it came from.
    pub source: EstimateSource,
}

/// The prior strength used when the history cannot measure one (no file or directory has two
/// timed tests, so there is no spread within a group to compare with): a group's own mean and
/// its parent's estimate then weigh the same once the group has one test.
const FALLBACK_PRIOR_STRENGTH: f64 = 1.0;

/// The sum, sum of squares and count of the estimates of a group of timed tests, in
/// microseconds. Integers, so that totals do not depend on the order tests are visited in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Group {
    sum: u64,
    squares: u128,
    count: u64,
}

impl Group {
    fn push(&mut self, micros: u64) {
        self.sum = self.sum.saturating_add(micros);
        self.squares = self
            .squares
            .saturating_add(u128::from(micros) * u128::from(micros));
        self.count += 1;
    }

    fn add(&mut self, other: Group) {
        self.sum = self.sum.saturating_add(other.sum);
        self.squares = self.squares.saturating_add(other.squares);
        self.count += other.count;
    }

    fn mean(self) -> f64 {
        self.sum as f64 / self.count as f64
    }

    /// The group's mean pulled towards `parent` as if the parent contributed `strength`
    /// tests of its own (an infinite strength gives the parent).
    fn shrink(self, parent: f64, strength: f64) -> f64 {
        if strength.is_infinite() {
            parent
        } else {
            (self.sum as f64 + strength * parent) / (self.count as f64 + strength)
        }
    }
}

/// How many tests' worth of weight a group's parent estimate gets, measured on the history as a
/// one-way random-effects model (method of moments) over `groups`: the spread of durations
/// within a group (`w`) against the spread of the true group means (`t`, the spread of the
/// observed means less the part their sampling noise explains). `w / t` is the count at which
/// a group's own mean is as trustworthy as what its neighbours say, the empirical-Bayes weight.
/// Groups that differ by no more than noise give infinity (every new test gets its parent's
/// estimate). `None` without two groups or a group of two.
fn prior_strength(mut groups: Vec<Group>) -> Option<f64> {
    // Float sums depend on their order: a fixed one keeps plans reproducible.
    groups.sort_unstable();
    let (mut within, mut within_df) = (0.0, 0.0);
    let (mut means, mut mean_squares, mut inverse_counts, mut count) = (0.0, 0.0, 0.0, 0.0);
    for group in groups {
        let mean = group.mean();
        // Sum of squared deviations from the mean: squares - sum^2 / count, exact in integers.
        let deviations = group.squares.saturating_sub(
            u128::from(group.sum) * u128::from(group.sum) / u128::from(group.count),
        );
        within += deviations as f64;
        within_df += (group.count - 1) as f64;
        means += mean;
        mean_squares += mean * mean;
        inverse_counts += 1.0 / group.count as f64;
        count += 1.0;
    }
    if within_df < 1.0 || count < 2.0 {
        return None;
    }
    let within = within / within_df;
    let observed = (mean_squares - means * means / count) / (count - 1.0);
    let between = observed - within * inverse_counts / count;
    Some(if between > 0.0 {
        within / between
    } else {
        f64::INFINITY
    })
}

/// Answers duration questions from a history.
pub struct Estimator<'h> {
    history: &'h History,
    /// Timed tests per file key.
    files: IdMap<&'h str, Group>,
    /// Timed tests per directory, over every test below it at any depth.
    directories: IdMap<&'h str, Group>,
    /// Every timed test; `None` when nothing was ever timed.
    global: Option<Group>,
    /// How many tests' worth of weight a parent estimate gets.
    strength: f64,
    /// How known tests are predicted.
    predictor: Predictor,
}

/// The directories above a file key, nearest first: `a/b/c.py` gives `a/b`, then `a`.
fn ancestors(file: &str) -> impl Iterator<Item = &str> {
    let mut rest = file;
    std::iter::from_fn(move || {
        let (parent, _) = rest.rsplit_once('/')?;
        rest = parent;
        Some(parent)
    })
    .filter(|dir| !dir.is_empty())
}

impl<'h> Estimator<'h> {
    /// Builds the estimator for planning single tests: known tests are predicted with the
    /// history's per-test predictor.
    pub fn new(history: &'h History) -> Self {
        Estimator::with_predictor(history, history.predictor())
    }

    /// Builds the estimator for planning whole files: known tests are predicted with the
    /// predictor that did best on file totals.
    pub fn for_files(history: &'h History) -> Self {
        Estimator::with_predictor(history, history.file_predictor())
    }

    /// Builds the estimator (precomputes file and directory statistics), predicting known
    /// tests with `predictor`.
    pub fn with_predictor(history: &'h History, predictor: Predictor) -> Self {
        let mut files: IdMap<&'h str, Group> = IdMap::default();
        let mut directories: IdMap<&'h str, Group> = IdMap::default();
        let mut all = Group::default();
        for (file, tests) in &history.files {
            let mut group = Group::default();
            for entry in tests.tests.values().filter(|entry| entry.samples > 0) {
                group.push(to_micros(entry.predict(predictor)));
            }
            if group.count == 0 {
                continue;
            }
            for dir in ancestors(file) {
                directories.entry(dir).or_default().add(group);
            }
            all.add(group);
            files.insert(file, group);
        }
        // Measured where tests repeat: within files, or, when every file is a single test
        // (suites timed per file), within the directories holding the files.
        let strength = prior_strength(files.values().copied().collect())
            .or_else(|| {
                let mut parents: IdMap<&str, Group> = IdMap::default();
                for (file, group) in &files {
                    let parent = file.rsplit_once('/').map_or("", |(dir, _)| dir);
                    parents.entry(parent).or_default().add(*group);
                }
                prior_strength(parents.into_values().collect())
            })
            .unwrap_or(FALLBACK_PRIOR_STRENGTH);
        Estimator {
            history,
            files,
            directories,
            global: (all.count > 0).then_some(all),
            strength,
            predictor,
        }
    }

    /// The estimate for a test id.
    pub fn estimate(&self, id: &str) -> Estimate {
        let derived = |micros: u64, source| Estimate {
            micros: micros.max(MIN_ESTIMATE_MICROS),
            source,
        };
        let Some(global) = self.global else {
            return Estimate {
                micros: DEFAULT_ESTIMATE_MICROS,
                source: EstimateSource::Default,
            };
        };
        let (file, rest) = split_id(id);
        let known = self
            .history
            .files
            .get(file)
            .and_then(|tests| tests.tests.get(rest));
        if let Some(entry) = known.filter(|entry| entry.samples > 0) {
            return derived(
                to_micros(entry.predict(self.predictor)),
                EstimateSource::Known,
            );
        }
        // From the whole history down to the file, each group's mean is pulled towards its
        // parent's estimate, the more the fewer tests the group has.
        let mut micros = global.mean();
        let mut source = EstimateSource::Global;
        let dirs: Vec<&str> = ancestors(file).collect();
        for dir in dirs.into_iter().rev() {
            if let Some(group) = self.directories.get(dir) {
                micros = group.shrink(micros, self.strength);
                source = EstimateSource::Directory;
            }
        }
        if let Some(group) = self.files.get(file) {
            micros = group.shrink(micros, self.strength);
            source = EstimateSource::File;
        }
        derived(micros.round() as u64, source)
    }

    /// The fixed setup cost of a file key, in microseconds (0 when unknown).
    pub fn file_setup_micros(&self, file: &str) -> u64 {
        self.history.file_setup(file).map_or(0, to_micros)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::junit::Outcome;
    use crate::timings::{Observation, Retention, RunOrder};

    fn history(tests: &[(&str, f64)]) -> History {
        let run: Vec<Observation> = tests
            .iter()
            .map(|&(id, s)| Observation {
                id: id.to_owned(),
                seconds: Some(s),
                outcome: None,
            })
            .collect();
        let mut history = History::new();
        history.record_with(&run, Retention::default(), RunOrder::Unknown);
        history
    }

    fn estimate(estimator: &Estimator<'_>, id: &str) -> (u64, EstimateSource) {
        let e = estimator.estimate(id);
        (e.micros, e.source)
    }

    #[test]
    fn an_empty_history_weighs_every_test_the_same() {
        let empty = History::new();
        let estimator = Estimator::new(&empty);
        assert_eq!(
            estimate(&estimator, "a.py::x"),
            (1_000_000, EstimateSource::Default)
        );
        assert_eq!(estimator.file_setup_micros("a.py"), 0);

        // Outcomes alone are no timing either.
        let mut untimed = History::new();
        let run = [Observation {
            id: "a.py::x".into(),
            seconds: None,
            outcome: Some(Outcome::Passed),
        }];
        untimed.record(&run, Retention::default());
        assert_eq!(
            estimate(&Estimator::new(&untimed), "a.py::x"),
            (1_000_000, EstimateSource::Default)
        );
    }

    #[test]
    fn unknown_tests_are_shrunk_from_global_through_directories_to_their_file() {
        let h = history(&[
            ("tests/unit/a.py::x", 1.0),
            ("tests/unit/a.py::y", 3.0),
            ("tests/unit/b.py::z", 10.0),
            ("tests/e2e/deep/c.py::w", 20.0),
            ("other.py::v", 0.5),
        ]);
        let e = Estimator::new(&h);
        // Measured on the files: only a.py has a spread (1 s vs 3 s), the file means (2, 10,
        // 20, 0.5 s) differ far more, so a group's own mean gets most of the weight.
        let k = e.strength;
        assert!(k > 0.0 && k < 0.1, "{k}");
        let shrink = |sum: f64, count: f64, parent: f64| (sum + k * parent) / (count + k);
        let micros = |seconds: f64| (seconds * 1e6).round() as u64;
        let global = 34.5 / 5.0;
        let tests = shrink(34.0, 4.0, global);
        let unit = shrink(14.0, 3.0, tests);
        assert_eq!(
            estimate(&e, "tests/unit/a.py::y"),
            (3_000_000, EstimateSource::Known)
        );
        assert_eq!(
            estimate(&e, "tests/unit/a.py::new"),
            (micros(shrink(4.0, 2.0, unit)), EstimateSource::File)
        );
        assert_eq!(
            estimate(&e, "tests/unit/new.py::t"),
            (micros(unit), EstimateSource::Directory)
        );
        // Every directory with data on the way down counts: tests, then tests/e2e.
        assert_eq!(
            estimate(&e, "tests/e2e/new.py::t"),
            (micros(shrink(20.0, 1.0, tests)), EstimateSource::Directory)
        );
        assert_eq!(
            estimate(&e, "tests/new/n.py::t"),
            (micros(tests), EstimateSource::Directory)
        );
        assert_eq!(
            estimate(&e, "elsewhere/n.py::t"),
            (micros(global), EstimateSource::Global)
        );
        assert_eq!(
            estimate(&e, "n.py"),
            (micros(global), EstimateSource::Global)
        );
    }

    fn group(values: &[u64]) -> Group {
        let mut group = Group::default();
        for &value in values {
            group.push(value);
        }
        group
    }

    #[test]
    fn prior_strength_weighs_spread_within_groups_against_spread_between_them() {
        // Within: (2 + 2) / 2 = 2. Between: the means 2 and 6 vary by 8, of which 2 * 1/2 is
        // sampling noise, so 7. Strength 2/7.
        let strength = prior_strength(vec![group(&[1, 3]), group(&[5, 7])]).expect("measurable");
        assert!((strength - 2.0 / 7.0).abs() < 1e-12, "{strength}");
        // Groups no more different than noise: always take the parent.
        assert_eq!(
            prior_strength(vec![group(&[1, 3]), group(&[3, 1])]),
            Some(f64::INFINITY)
        );
        assert!((group(&[4, 8]).shrink(10.0, f64::INFINITY) - 10.0).abs() < 1e-12);
        // (4 + 8 + 2 * 10) / (2 + 2)
        assert!((group(&[4, 8]).shrink(10.0, 2.0) - 8.0).abs() < 1e-12);
        // Nothing to measure without a group of two, or with one group.
        assert_eq!(prior_strength(vec![group(&[1]), group(&[5])]), None);
        assert_eq!(prior_strength(vec![group(&[1, 3])]), None);
    }

    #[test]
    fn suites_timed_per_file_measure_the_prior_in_directories() {
        let h = history(&[
            ("spec/a/one_spec.rb", 1.0),
            ("spec/a/two_spec.rb", 3.0),
            ("spec/b/three_spec.rb", 5.0),
            ("spec/b/four_spec.rb", 7.0),
        ]);
        let e = Estimator::new(&h);
        assert!((e.strength - 2.0 / 7.0).abs() < 1e-12, "{}", e.strength);
        let h = history(&[("spec/a/one_spec.rb", 1.0), ("spec/b/two_spec.rb", 3.0)]);
        let strength = Estimator::new(&h).strength;
        assert!(
            (strength - FALLBACK_PRIOR_STRENGTH).abs() < 1e-12,
            "{strength}"
        );
    }

    #[test]
    fn estimates_are_never_below_a_millisecond() {
        let h = history(&[
            ("a.py::fast", 0.0),
            ("a.py::faster", 0.000_2),
            ("b.py::z", 0.0),
        ]);
        let e = Estimator::new(&h);
        assert_eq!(
            estimate(&e, "a.py::fast"),
            (MIN_ESTIMATE_MICROS, EstimateSource::Known)
        );
        assert_eq!(
            estimate(&e, "a.py::new"),
            (MIN_ESTIMATE_MICROS, EstimateSource::File)
        );
        assert_eq!(
            estimate(&e, "c.py::new"),
            (MIN_ESTIMATE_MICROS, EstimateSource::Global)
        );
    }

    #[test]
    fn known_but_untimed_tests_are_estimated_like_new_ones() {
        let mut h = history(&[("a.py::x", 2.0)]);
        let run = [Observation {
            id: "a.py::y".into(),
            seconds: None,
            outcome: Some(Outcome::Passed),
        }];
        h.record(&run, Retention::default());
        assert_eq!(
            estimate(&Estimator::new(&h), "a.py::y"),
            (2_000_000, EstimateSource::File)
        );
    }

    #[test]
    fn setup_costs_come_from_the_history() {
        let mut h = History::new();
        let run: Vec<Observation> = [("f.py::a", 2.5), ("f.py::b", 0.5), ("f.py::c", 0.5)]
            .iter()
            .map(|&(id, s)| Observation {
                id: id.into(),
                seconds: Some(s),
                outcome: None,
            })
            .collect();
        h.record(&run, Retention::default());
        let e = Estimator::new(&h);
        assert_eq!(e.file_setup_micros("f.py"), 2_000_000);
        assert_eq!(e.file_setup_micros("g.py"), 0);
        assert_eq!(estimate(&e, "f.py::a"), (500_000, EstimateSource::Known));
    }
}
