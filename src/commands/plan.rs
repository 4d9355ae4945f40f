//! `rxdist plan`, and the planning both `plan` and `shard` do.

use std::collections::BTreeMap;
use std::path::Path;

use rayon::iter::{IntoParallelRefIterator as _, ParallelIterator as _};

use super::{diagnostics, inputs, render};
use crate::cli::PlanFormat;
use crate::error::{Completion, Error};
use crate::identity::file_key;
use crate::plan::{self, Granularity, Plan, PlanRequest, PlanTest, Unreachable};
use crate::settings::{KeepTogether, PlanSettings, Total};
use crate::timings::hash::IdSet;
use crate::timings::{Estimate, EstimateSource, Estimator, History};

/// A plan and what went into it.
pub struct Planned {
    /// The plan.
    pub plan: Plan,
    /// `Some(reason)` when `--total auto` could not meet the target.
    pub unreachable: Option<String>,
}

/// Runs `rxdist plan`.
pub fn run(settings: &PlanSettings, format: PlanFormat, cwd: &Path) -> Result<Completion, Error> {
    let planned = build(settings, cwd)?;
    let plan = &planned.plan;
    render::emit(settings.output.as_deref(), |out| match format {
        PlanFormat::Json => render::plan_json(plan, out),
        PlanFormat::Text => out.write_all(render::plan_text(plan).as_bytes()),
        PlanFormat::GithubMatrix => render::github_matrix(plan, out),
    })?;
    Ok(if planned.unreachable.is_some() {
        Completion::TargetUnreachable
    } else {
        Completion::Success
    })
}

/// Loads the inputs and computes the plan, printing warnings about what was estimated.
pub fn build(settings: &PlanSettings, cwd: &Path) -> Result<Planned, Error> {
    // Reading (or collecting) the test list and decoding the history are independent and each
    // takes a good part of a second for a million tests: do them side by side.
    let (ids, history) = std::thread::scope(|scope| {
        let history = scope.spawn(|| settings.history.as_deref().map(inputs::load_history));
        let ids = inputs::load_tests(&settings.tests, cwd);
        let history = history
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (ids, history)
    });
    let ids = ids?;
    if ids.is_empty() {
        return Err(Error::NoTests {
            reason: "the test list is empty".into(),
        });
    }
    let history = match (&settings.history, history.transpose()?) {
        (Some(path), None | Some(None)) => {
            diagnostics::warning(format_args!(
                "no timing history at {} yet: splitting by test count",
                path.display()
            ));
            None
        }
        (Some(_), Some(loaded)) => loaded,
        (None, _) => {
            diagnostics::warning("no --history given: splitting by test count");
            None
        }
    };
    // The history is only needed to estimate; it is dropped before partitioning, which for a
    // million tests halves the memory the partitioner runs in.
    let request = request(
        ids,
        &history.unwrap_or_default(),
        settings.granularity,
        &settings.keep_together,
    );
    match settings.total {
        Total::Fixed(total) => Ok(Planned {
            plan: plan::plan(&PlanRequest { total, ..request }),
            unreachable: None,
        }),
        Total::Auto {
            target,
            overhead,
            max_total,
        } => {
            let choice = plan::choose_total(
                &request,
                duration_micros(target),
                duration_micros(overhead),
                max_total,
            );
            let unreachable = choice
                .reason
                .as_ref()
                .map(|reason| unreachable_text(reason, overhead));
            if let Some(reason) = &unreachable {
                diagnostics::warning(format_args!(
                    "target duration {} cannot be met: {reason}; using {} shards, the closest plan",
                    humantime::format_duration(target),
                    choice.plan.total,
                ));
            }
            Ok(Planned {
                plan: choice.plan,
                unreachable,
            })
        }
    }
}

/// The estimator a plan at `granularity` predicts with. Plans that keep files together are
/// balanced on file totals, so they predict with the predictor that did best on file totals.
pub(super) fn estimator(history: &History, granularity: Granularity) -> Estimator<'_> {
    match granularity {
        Granularity::Test => Estimator::new(history),
        Granularity::File | Granularity::Auto => Estimator::for_files(history),
    }
}

/// The planner's request for `ids`, estimated from `history` (warning about estimated tests).
pub(super) fn request(
    ids: Vec<String>,
    history: &History,
    granularity: Granularity,
    keep_together: &KeepTogether,
) -> PlanRequest {
    let estimator = estimator(history, granularity);
    let mut by_source = BTreeMap::<&str, usize>::new();
    let count = ids.len();
    // Estimating is a pair of hash lookups per test: for a million tests worth both cores.
    let guesses: Vec<Estimate> = ids.par_iter().map(|id| estimator.estimate(id)).collect();
    let tests: Vec<PlanTest> = ids
        .into_iter()
        .zip(guesses)
        .map(|(id, estimate)| {
            *by_source.entry(source_name(estimate.source)).or_default() += 1;
            let group = keep_together.group_of(&id);
            let file = file_key(&id).to_owned();
            PlanTest {
                id,
                file,
                group,
                micros: estimate.micros,
            }
        })
        .collect();
    // One setup lookup per distinct file, not per test.
    let mut seen = IdSet::default();
    let file_setup = tests
        .iter()
        .filter(|test| seen.insert(test.file.as_str()))
        .filter_map(|test| {
            let setup = estimator.file_setup_micros(&test.file);
            (setup > 0).then(|| (test.file.clone(), setup))
        })
        .collect();
    let known = by_source.get("known").copied().unwrap_or(0);
    if !history.is_empty() && known < count {
        let estimated: Vec<String> = by_source
            .iter()
            .filter(|&(&source, _)| source != "known")
            .map(|(source, count)| format!("{count} from their {source}"))
            .collect();
        diagnostics::warning(format_args!(
            "{} of {count} tests are not in the history; estimated {}",
            count - known,
            estimated.join(", ")
        ));
    }
    PlanRequest {
        tests,
        file_setup,
        granularity,
        total: 1,
    }
}

fn unreachable_text(reason: &Unreachable, overhead: std::time::Duration) -> String {
    match reason {
        Unreachable::OverheadExceedsTarget { .. } => {
            "the per-shard overhead alone exceeds it".to_owned()
        }
        Unreachable::ItemTooLarge {
            first_test_id,
            micros,
        } => format!(
            "{first_test_id} cannot be split and takes {}{} on its own",
            render::human(*micros),
            if overhead.is_zero() {
                String::new()
            } else {
                format!(
                    " plus {} shard overhead",
                    humantime::format_duration(overhead)
                )
            },
        ),
        Unreachable::TooFewShards { max_total } => {
            format!("even --max-total {max_total} shards are not enough (raise --max-total)")
        }
    }
}

fn source_name(source: EstimateSource) -> &'static str {
    match source {
        EstimateSource::Known => "known",
        EstimateSource::File => "file",
        EstimateSource::Directory => "directory",
        EstimateSource::Global => "whole history",
        EstimateSource::Default => "equal weights",
    }
}

fn duration_micros(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}
