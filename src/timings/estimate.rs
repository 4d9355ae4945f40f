//! Estimating durations for known and unknown tests.
//!
//! A test the history has timed is estimated by its own smoothed duration. A new test is
//! assumed to be typical of its neighbours: first its file, then the nearest directory above
//! it that has timed tests, then the whole history. Medians rather than means, because one
//! pathological test should not make every new neighbour look slow. All statistics are
//! computed once in [`Estimator::new`] so that estimating is one or two hash lookups.

use super::History;
use super::hash::IdMap;
use super::history::{median_micros, split_id, to_micros};

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

/// Answers duration questions from a history.
pub struct Estimator<'h> {
    history: &'h History,
    /// Median test estimate per file key.
    files: IdMap<&'h str, u64>,
    /// Median test estimate per directory, over every test below it at any depth.
    directories: IdMap<&'h str, u64>,
    /// Median test estimate over the whole history; `None` when nothing was ever timed.
    global: Option<u64>,
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
    /// Builds the estimator (precomputes file and directory statistics).
    pub fn new(history: &'h History) -> Self {
        let mut files: IdMap<&'h str, u64> = IdMap::default();
        let mut per_directory: IdMap<&'h str, Vec<u64>> = IdMap::default();
        let mut all: Vec<u64> = Vec::with_capacity(history.len());
        let mut values: Vec<u64> = Vec::new();
        for (file, tests) in &history.files {
            values.clear();
            values.extend(
                tests
                    .tests
                    .values()
                    .filter(|entry| entry.samples > 0)
                    .map(|entry| to_micros(history.predict(entry))),
            );
            if values.is_empty() {
                continue;
            }
            for dir in ancestors(file) {
                per_directory
                    .entry(dir)
                    .or_default()
                    .extend_from_slice(&values);
            }
            all.extend_from_slice(&values);
            if let Some(median) = median_micros(&mut values) {
                files.insert(file, median);
            }
        }
        let directories = per_directory
            .into_iter()
            .filter_map(|(dir, mut values)| Some((dir, median_micros(&mut values)?)))
            .collect();
        Estimator {
            history,
            files,
            directories,
            global: median_micros(&mut all),
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
                to_micros(self.history.predict(entry)),
                EstimateSource::Known,
            );
        }
        if let Some(&micros) = self.files.get(file) {
            return derived(micros, EstimateSource::File);
        }
        if let Some(micros) = ancestors(file).find_map(|dir| self.directories.get(dir)) {
            return derived(*micros, EstimateSource::Directory);
        }
        derived(global, EstimateSource::Global)
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
    fn unknown_tests_fall_back_to_file_then_directory_then_global() {
        let h = history(&[
            ("tests/unit/a.py::x", 1.0),
            ("tests/unit/a.py::y", 3.0),
            ("tests/unit/b.py::z", 10.0),
            ("tests/e2e/deep/c.py::w", 20.0),
            ("other.py::v", 0.5),
        ]);
        let e = Estimator::new(&h);
        assert_eq!(
            estimate(&e, "tests/unit/a.py::y"),
            (3_000_000, EstimateSource::Known)
        );
        assert_eq!(
            estimate(&e, "tests/unit/a.py::new"),
            (2_000_000, EstimateSource::File)
        );
        assert_eq!(
            estimate(&e, "tests/unit/new.py::t"),
            (3_000_000, EstimateSource::Directory)
        );
        // The nearest ancestor with data: tests/e2e (via deep/), not tests.
        assert_eq!(
            estimate(&e, "tests/e2e/new.py::t"),
            (20_000_000, EstimateSource::Directory)
        );
        assert_eq!(
            estimate(&e, "tests/new/n.py::t"),
            (6_500_000, EstimateSource::Directory)
        );
        assert_eq!(
            estimate(&e, "elsewhere/n.py::t"),
            (3_000_000, EstimateSource::Global)
        );
        assert_eq!(estimate(&e, "n.py"), (3_000_000, EstimateSource::Global));
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
