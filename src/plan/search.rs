//! Local search: shave the heaviest shard with moves and swaps, under a work budget.
//!
//! Each step looks at the heaviest shard `h` and the other shards from the lightest up. For a
//! target `t` with gap `D = load(h) − load(t)` the ideal transfer is `D / 2`: first a single
//! unit of about that weight moved from `h` to `t`, then a swap of `a ∈ h` for `b ∈ t` with
//! `weight(a) − weight(b)` about `D / 2`. Per-shard unit lists are kept sorted by weight (units
//! are numbered heaviest first, so a list sorted by index is sorted by weight) and partners are
//! found by binary search. Candidates are judged exactly, setup sharing included, and a step is
//! taken only if both shards end below the old `load(h)`: the sorted load vector then decreases
//! lexicographically, so the search cannot cycle.
//!
//! Work is counted in candidate evaluations (plus charges for per-step bookkeeping), never in
//! time, so the result is the same on every machine. The search stops early once the makespan
//! reaches the lower bound.

use super::loads::Loads;
use super::units::Units;

/// Neighbours examined on each side of a binary-search position. Setup sharing makes the exact
/// gain differ a little from the weight difference, so a couple of neighbours are worth trying.
const WINDOW: usize = 2;

/// A step that lowers the heaviest shard.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Move `unit` from the heaviest shard to `to`.
    Move { unit: u32, to: usize },
    /// Exchange `out` (on the heaviest shard) with `back` (on `with`).
    Swap { out: u32, back: u32, with: usize },
}

/// Improves `assignment` in place (keeping `loads` in step) for at most `budget` candidate
/// evaluations, stopping at `lower_bound`. With `keep_nonempty` no shard is ever emptied.
/// Returns the evaluations spent.
pub(super) fn improve(
    units: &Units,
    loads: &mut Loads<'_>,
    assignment: &mut [u32],
    lower_bound: u64,
    budget: u64,
    keep_nonempty: bool,
) -> u64 {
    let shards = loads.shards();
    let mut spent = 0u64;
    if shards < 2 {
        return spent;
    }
    let mut lists: Vec<Vec<u32>> = vec![Vec::new(); shards];
    for (u, &s) in assignment.iter().enumerate() {
        lists[s as usize].push(u as u32);
    }
    let mut targets: Vec<usize> = Vec::with_capacity(shards);
    loop {
        let h = loads.heaviest();
        let top = loads.load[h];
        if top <= lower_bound || spent >= budget {
            break;
        }
        // Finding `h` and ordering the targets is work too; charging it keeps huge shard counts
        // bounded by the budget.
        spent += shards as u64;
        targets.clear();
        targets.extend((0..shards).filter(|&s| s != h));
        targets.sort_unstable_by_key(|&s| (loads.load[s], s));
        let mut step = None;
        for &t in &targets {
            // A target as loaded as `h` can still help when setup sharing makes a move cheap.
            if spent >= budget {
                break;
            }
            step = best_move(units, loads, &lists[h], h, t, keep_nonempty, &mut spent)
                .map(|unit| Step::Move { unit, to: t })
                .or_else(|| {
                    best_swap(units, loads, &lists[h], &lists[t], h, t, budget, &mut spent)
                        .map(|(out, back)| Step::Swap { out, back, with: t })
                });
            if step.is_some() {
                break;
            }
        }
        // Relocations shift the per-shard lists; charge that memory traffic (at 1/32 per
        // element, roughly its cost relative to an evaluation) so huge shards stay bounded.
        if let Some(Step::Move { to: t, .. } | Step::Swap { with: t, .. }) = step {
            spent += (lists[h].len() + lists[t].len()) as u64 / 32;
        }
        match step {
            None => break,
            Some(Step::Move { unit, to }) => {
                relocate(loads, &mut lists, assignment, unit, h, to);
            }
            Some(Step::Swap { out, back, with }) => {
                relocate(loads, &mut lists, assignment, out, h, with);
                relocate(loads, &mut lists, assignment, back, with, h);
            }
        }
    }
    spent
}

/// Moves `unit` from shard `from` to shard `to`, updating every view of the assignment.
fn relocate(
    loads: &mut Loads<'_>,
    lists: &mut [Vec<u32>],
    assignment: &mut [u32],
    unit: u32,
    from: usize,
    to: usize,
) {
    loads.remove(unit as usize, from);
    loads.add(unit as usize, to);
    assignment[unit as usize] = to as u32;
    if let Ok(i) = lists[from].binary_search(&unit) {
        lists[from].remove(i);
    }
    let (Ok(i) | Err(i)) = lists[to].binary_search(&unit);
    lists[to].insert(i, unit);
}

/// The index range of `WINDOW` list entries either side of the first one weighing at most
/// `weight` (lists run heaviest first).
fn around(units: &Units, list: &[u32], weight: u64) -> std::ops::Range<usize> {
    let p = list.partition_point(|&u| units.weight[u as usize] > weight);
    p.saturating_sub(WINDOW)..(p + WINDOW).min(list.len())
}

/// The best single unit to move from `h` (holding `from_list`) to `t`, if any lowers `h`
/// without lifting `t` to the old maximum.
fn best_move(
    units: &Units,
    loads: &Loads<'_>,
    from_list: &[u32],
    h: usize,
    t: usize,
    keep_nonempty: bool,
    spent: &mut u64,
) -> Option<u32> {
    if keep_nonempty && from_list.len() <= 1 {
        return None;
    }
    let top = loads.load[h];
    let half = (top - loads.load[t]) / 2;
    let mut best: Option<(u64, u32)> = None;
    for &u in &from_list[around(units, from_list, half)] {
        *spent += 1;
        let new_h = top - loads.remove_cost(u as usize, h);
        let new_t = loads.load[t] + loads.add_cost(u as usize, t);
        let score = new_h.max(new_t);
        if score < top && best.is_none_or(|b| (score, u) < b) {
            best = Some((score, u));
        }
    }
    best.map(|(_, u)| u)
}

/// The best pair `(a ∈ h, b ∈ t)` to exchange, if any lowers `h` without lifting `t` to the old
/// maximum. Scans `h`'s units (skipping repeats of an equal, setup-free weight) and looks each
/// one's ideal partner up by binary search; stops early on a perfect split or when the budget
/// runs out.
#[expect(
    clippy::too_many_arguments,
    reason = "a hot inner helper; bundling its inputs into a struct would only add noise"
)]
fn best_swap(
    units: &Units,
    loads: &Loads<'_>,
    h_list: &[u32],
    t_list: &[u32],
    h: usize,
    t: usize,
    budget: u64,
    spent: &mut u64,
) -> Option<(u32, u32)> {
    let top = loads.load[h];
    let half = (top - loads.load[t]) / 2;
    // No exchange can bring the pair below an even split.
    let ideal = top - half;
    let mut best: Option<(u64, u32, u32)> = None;
    let mut previous: Option<u64> = None;
    for &a in h_list {
        let wa = units.weight[a as usize];
        let plain = units.shared(a as usize).is_empty();
        if plain && previous == Some(wa) {
            continue;
        }
        previous = plain.then_some(wa);
        if wa == 0 {
            // Lists run heaviest first: everything after weighs nothing either.
            break;
        }
        for &b in &t_list[around(units, t_list, wa.saturating_sub(half))] {
            *spent += 1;
            let (new_h, new_t) = swap_loads(units, loads, a, h, b, t);
            let score = new_h.max(new_t);
            if score < top && best.is_none_or(|(s, x, y)| (score, a, b) < (s, x, y)) {
                best = Some((score, a, b));
            }
        }
        if best.is_some_and(|(s, _, _)| s <= ideal) || *spent >= budget {
            break;
        }
    }
    best.map(|(_, a, b)| (a, b))
}

/// The loads of `h` and `t` after exchanging `a` (on `h`) and `b` (on `t`).
fn swap_loads(units: &Units, loads: &Loads<'_>, a: u32, h: usize, b: u32, t: usize) -> (u64, u64) {
    let (a, b) = (a as usize, b as usize);
    if units.shared(a).is_empty() && units.shared(b).is_empty() {
        return (
            loads.load[h] - units.base[a] + units.base[b],
            loads.load[t] - units.base[b] + units.base[a],
        );
    }
    (
        loads.load[h] - loads.remove_cost(a, h) + loads.add_cost_after_removing(b, h, a),
        loads.load[t] - loads.remove_cost(b, t) + loads.add_cost_after_removing(a, t, b),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::single_tests as request;
    use crate::plan::units::Prepared;
    use crate::plan::{Granularity, PlanTest};

    #[test]
    fn repairs_a_lopsided_start_and_respects_the_budget() {
        let r = request(&[3, 3, 2, 2, 2]);
        let prep = Prepared::new(&r);
        let units = Units::build(&prep, Granularity::Test, &[false; 5]);
        let start = vec![0u32; 5];

        let mut assignment = start.clone();
        let mut loads = Loads::from_assignment(&units, 2, &assignment);
        assert_eq!(improve(&units, &mut loads, &mut assignment, 6, 0, true), 0);
        assert_eq!(assignment, start);

        let spent = improve(&units, &mut loads, &mut assignment, 6, 1_000, true);
        assert!(spent > 0 && spent < 1_000);
        assert_eq!(loads.load, [6, 6]);
        assert_eq!(
            Loads::from_assignment(&units, 2, &assignment).load,
            loads.load
        );
    }

    #[test]
    fn swaps_account_for_shared_setup() {
        // a1, a2 share a.py (setup 100); b1 is alone. Starting from {a1} | {a2, b1} the move of
        // a2 next to a1 saves a setup.
        let mut r = request(&[]);
        for (id, file, micros) in [("a1", "a.py", 1), ("a2", "a.py", 1), ("b1", "b.py", 50)] {
            r.tests.push(PlanTest {
                id: id.to_owned(),
                file: file.to_owned(),
                group: None,
                micros,
            });
        }
        r.file_setup.insert("a.py".to_owned(), 100);
        let prep = Prepared::new(&r);
        let units = Units::build(&prep, Granularity::Test, &[false, false]);
        // Units heaviest first: a1 (101), a2 (101), b1 (50).
        let mut assignment = vec![0, 1, 1];
        let mut loads = Loads::from_assignment(&units, 2, &assignment);
        assert_eq!(loads.load, [101, 151]);
        improve(&units, &mut loads, &mut assignment, 101, 1_000, true);
        assert_eq!(assignment, [0, 0, 1]);
        assert_eq!(loads.load, [102, 50]);
    }
}
