//! Timing history: what earlier runs took, kept small, versioned and verifiable.
//!
//! A history holds per test a smoothed duration, its last few durations, its sample count,
//! recent outcomes and the run it was last seen in; per file the fixed setup cost that lands on
//! the file's first test; and which predictor, backtested on every recorded run, turns a
//! test's past into its next duration. [`History::record`] folds one run's observations in ([`History::record_with`] and
//! [`RunOrder::Unknown`] for imports, whose order says nothing about setup); [`Estimator`]
//! answers "how long will this test take" for known and unknown tests;
//! [`read_durations_json`] reads pytest-split and knapsack files. The on-disk form ([`store`])
//! is one zstd-compressed, versioned file with a sha256 content digest.
//!
//! Nothing here touches files, the environment or the clock: callers pass bytes and
//! observations in and get values out.

mod estimate;
pub mod hash;
mod history;
mod import;
pub mod store;

#[cfg(test)]
mod proptests;

pub use estimate::{
    DEFAULT_ESTIMATE_MICROS, Estimate, EstimateSource, Estimator, MIN_ESTIMATE_MICROS,
};
pub use history::{
    Backtest, FileSummary, FlakySummary, History, Observation, Predictor, PredictorError,
    PredictorSummary, RECENT_OUTCOMES, RECENT_SAMPLES, REMEMBERED_RUNS, RecentOutcomes,
    RecordReport, Retention, RunOrder, Summary, TestSummary, TestView,
};
pub use import::{ImportError, read_durations_json};
pub use store::{ContentDigest, StoreError, looks_like_history};
