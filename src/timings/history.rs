//! The history model and recording.

use crate::junit::Outcome;

/// One test's result in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// The test id.
    pub id: String,
    /// How long it took, when known.
    pub seconds: Option<f64>,
    /// How it ended, when known (duration imports carry none).
    pub outcome: Option<Outcome>,
}

/// How long a history remembers.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// A test not seen for this many recorded runs is dropped.
    pub max_unseen_runs: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention { max_unseen_runs: 30 }
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

/// A summary for `rxdist timings show`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {}

/// The timing history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {}

impl History {
    /// Folds one run's observations (in execution order) into the history.
    pub fn record(&mut self, run: &[Observation], retention: Retention) -> RecordReport {
        let _ = (run, retention);
        unimplemented!("owned by the timings work")
    }
}
