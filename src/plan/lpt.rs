//! Longest processing time first, setup-aware.
//!
//! Units arrive heaviest first; each goes to the shard where the resulting load is smallest,
//! lowest index on ties. Without setup costs that is simply the least loaded shard. With them a
//! shard already holding one of the unit's files may be cheaper, so the candidates are the least
//! loaded shard plus the shards holding one of the unit's tracked files (at most 64 per file).
//! Below that cap the set always contains an optimal choice: a shard holding none of the files
//! pays the full weight, and the least loaded shard pays at most that on the smallest load.

use super::loads::{Loads, MinTree};
use super::units::Units;

/// At most this many holders of a file are examined per unit, the first shards that took the
/// file. It bounds LPT at `units × 64` cost evaluations however many shards there are; a file
/// already on 64 shards has its setup paid so often that which holder gets one more test
/// hardly matters.
const HOLDER_SCAN_MAX: usize = 64;

/// LPT over `units` on `shards` (at least 1) shards: the assignment (`unit -> shard`) and loads.
///
/// When there are at least as many units as shards, none is left empty: once the remaining
/// units are only just enough to give every empty shard one, they go to empty shards. (Plain
/// LPT already does this unless zero-cost units tie with a non-empty shard.)
pub(super) fn lpt(units: &Units, shards: usize) -> (Vec<u32>, Loads<'_>) {
    let mut loads = Loads::new(units, shards);
    let mut tree = MinTree::new(shards);
    let mut assignment = Vec::with_capacity(units.len());
    // Shards holding each tracked file, to find the cheap candidates without scanning all.
    let mut holders: Vec<Vec<u32>> = vec![Vec::new(); units.tracked_files()];
    let mut empty = shards;
    let mut first_empty = 0;

    for u in 0..units.len() {
        let remaining = units.len() - u;
        let target = if empty > 0 && remaining <= empty {
            while loads.unit_count[first_empty] > 0 {
                first_empty += 1;
            }
            first_empty
        } else {
            let least = tree.min();
            let mut best = (loads.load[least] + loads.add_cost(u, least), least);
            for &(f, _) in units.shared(u) {
                for &s in holders[f as usize].iter().take(HOLDER_SCAN_MAX) {
                    let s = s as usize;
                    best = best.min((loads.load[s] + loads.add_cost(u, s), s));
                }
            }
            best.1
        };
        if loads.unit_count[target] == 0 {
            empty -= 1;
        }
        for &(f, _) in units.shared(u) {
            if !loads.holds(target, f) {
                holders[f as usize].push(target as u32);
            }
        }
        loads.add(u, target);
        tree.set(target, loads.load[target]);
        assignment.push(target as u32);
    }
    (assignment, loads)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Granularity;
    use crate::plan::tests::single_tests as request;
    use crate::plan::units::Prepared;

    fn loads_of(micros: &[u64], shards: usize) -> Vec<u64> {
        let r = request(micros);
        let prep = Prepared::new(&r);
        let units = Units::build(&prep, Granularity::Test, &vec![false; prep.files.len()]);
        let (_, loads) = lpt(&units, shards);
        loads.load
    }

    #[test]
    fn textbook_cases() {
        // Greedy heaviest-first: 7 | 6 | 5 then 4 -> shard 2, 3 -> shard 1, 2 -> shard 0 ...
        assert_eq!(loads_of(&[7, 6, 5, 4, 3, 2], 3), [9, 9, 9]);
        // The classic 4/3 - 1/(3m) instance: LPT gets 11 where 9 is optimal.
        assert_eq!(loads_of(&[5, 5, 4, 4, 3, 3, 3], 3), [11, 8, 8]);
        assert_eq!(loads_of(&[3, 3, 2, 2, 2], 2), [7, 5]);
    }

    #[test]
    fn more_shards_than_units_leaves_the_tail_empty() {
        assert_eq!(loads_of(&[5, 1], 4), [5, 1, 0, 0]);
    }

    #[test]
    fn zero_weight_units_still_fill_every_shard() {
        let r = request(&[0, 0, 0]);
        let prep = Prepared::new(&r);
        let units = Units::build(&prep, Granularity::Test, &[false; 3]);
        let (_, loads) = lpt(&units, 3);
        assert_eq!(loads.unit_count, [1, 1, 1]);
    }
}
