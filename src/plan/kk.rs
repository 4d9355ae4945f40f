//! Multiway Karmarkar–Karp (largest differencing method).
//!
//! Every unit starts as a partial solution of `n` subsets, itself alone in one. The two partial
//! solutions with the largest spread (largest minus smallest subset) are merged by pairing the
//! largest subset of one with the smallest of the other, which cancels their spreads against
//! each other; this repeats until one solution is left. It beats LPT where few large items must
//! be balanced against each other, e.g. `{8, 7, 6, 5, 4}` on two shards (LPT 17, KK 16).
//!
//! It works on each unit's standalone weight (setup included) and so ignores setup sharing; the
//! caller evaluates the result exactly and keeps it only when it wins. Memory is
//! `units × shards`, so the caller only runs it below [`KK_CELLS_MAX`].

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::units::{NONE, Units};

/// Largest `units × shards` KK is run for (a few tens of MiB of partial solutions). Beyond it
/// units are small relative to shard loads, LPT plus local search is already near optimal, and
/// KK's `units × shards` work would dominate the run time.
pub(super) const KK_CELLS_MAX: usize = 2_000_000;

/// One subset of a partial solution: its sum and the linked list of its units.
#[derive(Debug, Clone, Copy)]
struct Subset {
    sum: u64,
    head: u32,
    tail: u32,
}

/// The KK assignment (`unit -> shard`) of `units` onto `shards` (at least 1) shards.
pub(super) fn karmarkar_karp(units: &Units, shards: usize) -> Vec<u32> {
    let count = units.len();
    let mut assignment = vec![0u32; count];
    if count == 0 {
        return assignment;
    }
    // `next[u]` links the units of one subset.
    let mut next = vec![NONE; count];
    let empty = Subset {
        sum: 0,
        head: NONE,
        tail: NONE,
    };
    let mut partials: Vec<Vec<Subset>> = Vec::with_capacity(count);
    // Max-heap on spread; among equal spreads the older partial first (creation order is
    // deterministic), so the whole run is.
    let mut heap = BinaryHeap::with_capacity(count);
    for u in 0..count {
        let mut subsets = vec![empty; shards];
        subsets[0] = Subset {
            sum: units.weight[u],
            head: u as u32,
            tail: u as u32,
        };
        partials.push(subsets);
        heap.push((units.weight[u], Reverse(u), u));
    }
    let mut created = count;
    let mut merged = Vec::with_capacity(shards);
    while let Some((_, _, a)) = heap.pop() {
        let Some((_, _, b)) = heap.pop() else {
            // The last partial solution: subset i becomes shard i.
            for (s, subset) in partials[a].iter().enumerate() {
                let mut u = subset.head;
                while u != NONE {
                    assignment[u as usize] = s as u32;
                    u = next[u as usize];
                }
            }
            break;
        };
        merged.clear();
        for i in 0..shards {
            let x = partials[a][i];
            let y = partials[b][shards - 1 - i];
            let (first, last) = if x.head == NONE {
                (y.head, y.tail)
            } else if y.head == NONE {
                (x.head, x.tail)
            } else {
                next[x.tail as usize] = y.head;
                (x.head, y.tail)
            };
            merged.push(Subset {
                sum: x.sum + y.sum,
                head: first,
                tail: last,
            });
        }
        // Heads are distinct unit indices (or NONE for empty subsets, which all sum to 0 and
        // are interchangeable), so this order is total where it matters.
        merged.sort_unstable_by_key(|s| (Reverse(s.sum), s.head));
        let spread = merged[0].sum - merged[shards - 1].sum;
        partials[a].clone_from(&merged);
        partials[b] = Vec::new();
        heap.push((spread, Reverse(created), a));
        created += 1;
    }
    assignment
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::plan::loads::Loads;
    use crate::plan::units::Prepared;
    use crate::plan::{Granularity, PlanRequest, PlanTest};

    fn kk_loads(micros: &[u64], shards: usize) -> Vec<u64> {
        let r = PlanRequest {
            tests: micros
                .iter()
                .enumerate()
                .map(|(i, &m)| PlanTest {
                    id: format!("t{i:03}"),
                    file: "f.py".to_owned(),
                    group: None,
                    micros: m,
                })
                .collect(),
            file_setup: BTreeMap::new(),
            granularity: Granularity::Test,
            total: shards,
        };
        let prep = Prepared::new(&r);
        let units = Units::build(&prep, Granularity::Test, &[false]);
        let assignment = karmarkar_karp(&units, shards);
        let mut loads = Loads::from_assignment(&units, shards, &assignment).load;
        loads.sort_unstable();
        loads
    }

    #[test]
    fn beats_lpt_on_the_classic_two_way_instance() {
        // LPT: 8+5+4 = 17 against 7+6 = 13. Differencing: 8-7, 6-5, 4-1, 3-1 leaves 2.
        assert_eq!(kk_loads(&[8, 7, 6, 5, 4], 2), [14, 16]);
    }

    #[test]
    fn three_way_differencing() {
        // 8 alone; 7+1 and 6+2 pair up through differencing.
        assert_eq!(kk_loads(&[8, 7, 6, 2, 1], 3), [8, 8, 8]);
    }

    #[test]
    fn single_unit_and_more_shards_than_units() {
        assert_eq!(kk_loads(&[5], 1), [5]);
        assert_eq!(kk_loads(&[5, 4], 3), [0, 4, 5]);
    }
}
