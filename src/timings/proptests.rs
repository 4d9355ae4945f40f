//! Property tests of the timing history: whatever runs are recorded, the history survives a
//! store round trip, re-recording is harmless, estimates stay positive, the chosen predictor is
//! the best backtested one and no test appears from nowhere.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::{
    Estimator, History, MIN_ESTIMATE_MICROS, Observation, Predictor, Retention, RunOrder, store,
};
use crate::junit::Outcome;

/// Ids from a small pool so that runs overlap: nested directories, files with several tests,
/// and generic ids without `::`.
fn id() -> impl Strategy<Value = String> {
    (0..3u8, 0..4u8, 0..5u8).prop_map(|(dir, file, test)| match (dir, test) {
        (0, 0) => format!("f{file}.py"),
        (0, _) => format!("f{file}.py::t{test}"),
        (_, _) => format!("d{dir}/s{}/f{file}.py::T::t{test}", dir % 2),
    })
}

fn observation() -> impl Strategy<Value = Observation> {
    let seconds = prop_oneof![Just(None), (0.0..30.0f64).prop_map(Some), Just(Some(0.0))];
    let outcome = prop_oneof![
        Just(None),
        Just(Some(Outcome::Passed)),
        Just(Some(Outcome::Failed)),
        Just(Some(Outcome::Error)),
        Just(Some(Outcome::Skipped)),
    ];
    (id(), seconds, outcome).prop_map(|(id, seconds, outcome)| Observation {
        id,
        seconds,
        outcome,
    })
}

fn runs() -> impl Strategy<Value = (Vec<(Vec<Observation>, bool)>, u32)> {
    (
        prop::collection::vec(
            (prop::collection::vec(observation(), 0..25), any::<bool>()),
            0..8,
        ),
        1..6u32,
    )
}

fn build(runs: &[(Vec<Observation>, bool)], max_unseen_runs: u32) -> History {
    let mut history = History::new();
    for (run, ordered) in runs {
        let order = if *ordered {
            RunOrder::Execution
        } else {
            RunOrder::Unknown
        };
        history.record_with(run, Retention { max_unseen_runs }, order);
    }
    history
}

proptest! {
    #[test]
    fn ids_split_like_identity_file_key(id in "[a:/.]{0,12}") {
        let (file, rest) = super::history::split_id(&id);
        prop_assert_eq!(file, crate::identity::file_key(&id));
        prop_assert_eq!([file, rest].concat(), id);
    }

    #[test]
    fn store_round_trips((runs, retention) in runs()) {
        let history = build(&runs, retention);
        let bytes = store::encode(&history).expect("encode");
        prop_assert_eq!(store::decode(&bytes).expect("decode"), history);
    }

    #[test]
    fn recording_a_run_twice_equals_recording_it_once((runs, retention) in runs(), last in prop::collection::vec(observation(), 0..25)) {
        let mut once = build(&runs, retention);
        once.record(&last, Retention { max_unseen_runs: retention });
        let mut twice = once.clone();
        let report = twice.record(&last, Retention { max_unseen_runs: retention });
        prop_assert!(report.already_recorded || last.is_empty());
        prop_assert_eq!(twice, once);
    }

    #[test]
    fn estimates_are_at_least_a_millisecond((runs, retention) in runs(), probes in prop::collection::vec(id(), 1..20)) {
        let history = build(&runs, retention);
        let estimator = Estimator::new(&history);
        for id in history.ids().into_iter().chain(probes) {
            prop_assert!(estimator.estimate(&id).micros >= MIN_ESTIMATE_MICROS, "{}", id);
        }
    }

    #[test]
    fn the_chosen_predictor_has_the_lowest_error_and_predicts_within_the_kept_samples((runs, retention) in runs()) {
        let history = build(&runs, retention);
        let backtest = history.backtest();
        let chosen = history.predictor();
        prop_assert!(Predictor::ALL.iter().all(|&p| backtest.error(chosen) <= backtest.error(p)));
        prop_assert!(Predictor::ALL.iter().all(|&p| backtest.error(p) >= 0.0));
        let files = history.file_backtest();
        let file_chosen = history.file_predictor();
        prop_assert!(Predictor::ALL.iter().all(|&p| files.error(file_chosen) <= files.error(p)));
        prop_assert_eq!(files.runs(), backtest.runs());
        for (id, test) in history.iter() {
            let Some(seconds) = test.seconds() else { continue };
            let latest: Vec<f64> = test.latest().collect();
            prop_assert_eq!(latest.len(), (test.samples() as usize).min(super::RECENT_SAMPLES));
            if chosen != Predictor::Ewma {
                let low = latest.iter().copied().fold(f64::INFINITY, f64::min);
                let high = latest.iter().copied().fold(0.0, f64::max);
                prop_assert!(low <= seconds && seconds <= high, "{}: {} not in {:?}", id, seconds, latest);
            }
        }
    }

    #[test]
    fn no_test_appears_from_nowhere((runs, retention) in runs()) {
        let history = build(&runs, retention);
        let union: BTreeSet<&str> = runs.iter().flat_map(|(run, _)| run.iter().map(|o| o.id.as_str())).collect();
        prop_assert!(history.len() <= union.len());
        prop_assert!(history.ids().iter().all(|id| union.contains(id.as_str())));
    }
}
