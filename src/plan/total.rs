//! Choosing the number of shards for a wall-time target.
//!
//! The lower bound prunes almost all of the search: no `N` with `ceil(sum / N)` above the room
//! left by the per-shard overhead can work, so plans are only computed from the first `N` whose
//! bound fits, and near-optimal plans make that `N` or the next one the answer in practice.

use super::partition::{Plan, PlanRequest, Planner};
use super::units::Prepared;

/// Why no shard count meets the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreachable {
    /// The per-shard overhead alone exceeds the target.
    OverheadExceedsTarget {
        /// The per-shard overhead in microseconds.
        overhead_micros: u64,
        /// The target in microseconds.
        target_micros: u64,
    },
    /// An item that cannot be split (a test with its file's setup, a whole file at `file`
    /// granularity, a keep-together group) plus the overhead exceeds the target.
    ItemTooLarge {
        /// The item's first test id in byte order.
        first_test_id: String,
        /// The item's cost in microseconds, setup included.
        micros: u64,
    },
    /// Even `max_total` shards do not get the makespan down to the target.
    TooFewShards {
        /// The largest shard count allowed.
        max_total: usize,
    },
}

/// The outcome of [`choose_total`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotalChoice {
    /// The chosen number of shards.
    pub total: usize,
    /// The plan for `total` shards.
    pub plan: Plan,
    /// Whether `plan.makespan_micros + overhead <= target`.
    pub reachable: bool,
    /// Why the target is out of reach; `Some` exactly when `reachable` is false.
    pub reason: Option<Unreachable>,
}

/// When hunting for the closest plan to an unreachable target, give up after this many shard
/// counts in a row bring no improvement (the makespan is then pinned by the largest item).
const CLOSEST_PATIENCE: usize = 8;

/// The smallest shard count in `1..=max_total` (0 counts as 1) whose plan makespan plus
/// `per_shard_overhead_micros` is at most `target_micros`, with its plan. `request.total` is
/// ignored.
///
/// Counts are tried upwards from the first whose lower bound fits, so the result is the smallest
/// count that works. When none does, the result is the count that comes closest: the smallest
/// one with the minimal makespan among those tried (upwards from the first count whose lower
/// bound is the largest indivisible item, stopping once the makespan equals that item or has not
/// improved for 8 counts in a row), with `reachable: false` and the reason.
pub fn choose_total(
    request: &PlanRequest,
    target_micros: u64,
    per_shard_overhead_micros: u64,
    max_total: usize,
) -> TotalChoice {
    let prep = Prepared::new(request);
    let planner = Planner::new(&prep, request.granularity);
    let max_total = max_total.max(1);
    let largest = planner.largest();

    let Some(room) = target_micros.checked_sub(per_shard_overhead_micros) else {
        return closest(
            &planner,
            prep.total_micros,
            max_total,
            Unreachable::OverheadExceedsTarget {
                overhead_micros: per_shard_overhead_micros,
                target_micros,
            },
        );
    };
    if largest.micros > room {
        // An item heavier than `room` exists, so it has a first test.
        let first_test_id = prep
            .ids
            .get(largest.first_test as usize)
            .map_or_else(String::new, |id| (*id).to_owned());
        return closest(
            &planner,
            prep.total_micros,
            max_total,
            Unreachable::ItemTooLarge {
                first_test_id,
                micros: largest.micros,
            },
        );
    }
    // `room` is positive here unless every item weighs nothing, and then one shard does.
    let first = if room == 0 {
        1
    } else {
        prep.total_micros.div_ceil(room).max(1)
    };
    let first = usize::try_from(first).unwrap_or(usize::MAX);
    if first > max_total {
        return closest(
            &planner,
            prep.total_micros,
            max_total,
            Unreachable::TooFewShards { max_total },
        );
    }
    let mut best: Option<(u64, usize, Plan)> = None;
    for total in first..=max_total {
        let plan = planner.plan(total);
        if plan.makespan_micros <= room {
            return TotalChoice {
                total,
                plan,
                reachable: true,
                reason: None,
            };
        }
        if best
            .as_ref()
            .is_none_or(|(m, _, _)| plan.makespan_micros < *m)
        {
            best = Some((plan.makespan_micros, total, plan));
        }
    }
    let reason = Unreachable::TooFewShards { max_total };
    match best {
        Some((_, total, plan)) => TotalChoice {
            total,
            plan,
            reachable: false,
            reason: Some(reason),
        },
        // `first <= max_total`, so the loop ran; this arm only keeps the code total.
        None => closest(&planner, prep.total_micros, max_total, reason),
    }
}

/// The smallest count with the minimal makespan, searched as [`choose_total`] documents.
fn closest(
    planner: &Planner<'_, '_>,
    sum: u64,
    max_total: usize,
    reason: Unreachable,
) -> TotalChoice {
    let floor = planner.largest().micros;
    let start = if floor == 0 {
        1
    } else {
        sum.div_ceil(floor).max(1)
    };
    let start = usize::try_from(start).unwrap_or(usize::MAX).min(max_total);
    let mut best = (planner.plan(start), start);
    let mut stale = 0;
    let mut total = start;
    while best.0.makespan_micros > floor && total < max_total && stale < CLOSEST_PATIENCE {
        total += 1;
        let plan = planner.plan(total);
        if plan.makespan_micros < best.0.makespan_micros {
            best = (plan, total);
            stale = 0;
        } else {
            stale += 1;
        }
    }
    TotalChoice {
        total: best.1,
        plan: best.0,
        reachable: false,
        reason: Some(reason),
    }
}
