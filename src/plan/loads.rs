//! Shard loads with exact setup accounting.
//!
//! A shard pays a tracked file's setup once if it holds at least one of the file's tests, so the
//! cost of adding or removing a unit depends on what the shard already holds. [`Loads`] keeps
//! per-(shard, tracked file) test counts to answer that in time proportional to the unit's
//! tracked files (almost always zero or one).

use std::collections::HashMap;

use super::units::Units;

/// Above this many (shard, tracked file) cells the counts live in a hash map instead of a dense
/// array, so memory stays proportional to what is actually held (64 MiB of `u32` at most).
const DENSE_CELLS_MAX: usize = 1 << 24;

/// Per-(shard, tracked file) test counts.
#[derive(Debug, Clone)]
enum FileCounts {
    /// `cells[shard * tracked + file]`.
    Dense { tracked: usize, cells: Vec<u32> },
    /// Only non-zero cells, keyed by `(shard, file)`.
    Sparse(HashMap<(u32, u32), u32>),
}

impl FileCounts {
    fn new(shards: usize, tracked: usize) -> Self {
        match shards.checked_mul(tracked) {
            Some(cells) if cells <= DENSE_CELLS_MAX => FileCounts::Dense {
                tracked,
                cells: vec![0; cells],
            },
            _ => FileCounts::Sparse(HashMap::new()),
        }
    }

    fn get(&self, shard: usize, file: u32) -> u32 {
        match self {
            FileCounts::Dense { tracked, cells } => cells[shard * tracked + file as usize],
            FileCounts::Sparse(map) => map.get(&(shard as u32, file)).copied().unwrap_or(0),
        }
    }

    /// Adds `delta` (which never takes a count below zero, by construction) and returns the new count.
    fn adjust(&mut self, shard: usize, file: u32, delta: i64) -> u32 {
        match self {
            FileCounts::Dense { tracked, cells } => {
                let cell = &mut cells[shard * *tracked + file as usize];
                *cell = (i64::from(*cell) + delta) as u32;
                *cell
            }
            FileCounts::Sparse(map) => {
                let key = (shard as u32, file);
                let value = (i64::from(map.get(&key).copied().unwrap_or(0)) + delta) as u32;
                if value == 0 {
                    map.remove(&key);
                } else {
                    map.insert(key, value);
                }
                value
            }
        }
    }
}

/// The state of a partition in progress: which shard holds what, and what each shard costs.
#[derive(Debug, Clone)]
pub(super) struct Loads<'u> {
    units: &'u Units,
    /// Predicted duration of each shard, setup included.
    pub load: Vec<u64>,
    /// Number of units on each shard.
    pub unit_count: Vec<u32>,
    counts: FileCounts,
}

impl<'u> Loads<'u> {
    /// `shards` empty shards.
    pub fn new(units: &'u Units, shards: usize) -> Self {
        Loads {
            units,
            load: vec![0; shards],
            unit_count: vec![0; shards],
            counts: FileCounts::new(shards, units.tracked_files()),
        }
    }

    /// The loads of a complete assignment (`assignment[unit] = shard`).
    pub fn from_assignment(units: &'u Units, shards: usize, assignment: &[u32]) -> Self {
        let mut loads = Loads::new(units, shards);
        for (u, &s) in assignment.iter().enumerate() {
            loads.add(u, s as usize);
        }
        loads
    }

    /// Number of shards.
    pub fn shards(&self) -> usize {
        self.load.len()
    }

    /// How much shard `s` would grow by taking unit `u`.
    pub fn add_cost(&self, u: usize, s: usize) -> u64 {
        let mut cost = self.units.base[u];
        for &(f, _) in self.units.shared(u) {
            if self.counts.get(s, f) == 0 {
                cost += self.units.tracked_setup[f as usize];
            }
        }
        cost
    }

    /// How much shard `s` would shrink by giving up unit `u` (which it holds).
    pub fn remove_cost(&self, u: usize, s: usize) -> u64 {
        let mut cost = self.units.base[u];
        for &(f, n) in self.units.shared(u) {
            if self.counts.get(s, f) == n {
                cost += self.units.tracked_setup[f as usize];
            }
        }
        cost
    }

    /// How much shard `s` would grow by taking unit `u` right after giving up unit `gone`
    /// (which it holds): the exact cost of one half of a swap, without mutating anything.
    pub fn add_cost_after_removing(&self, u: usize, s: usize, gone: usize) -> u64 {
        let mut cost = self.units.base[u];
        let gone = self.units.shared(gone);
        for &(f, _) in self.units.shared(u) {
            let leaving = gone.iter().find(|&&(g, _)| g == f).map_or(0, |&(_, n)| n);
            if self.counts.get(s, f) == leaving {
                cost += self.units.tracked_setup[f as usize];
            }
        }
        cost
    }

    /// Puts unit `u` on shard `s`.
    pub fn add(&mut self, u: usize, s: usize) {
        self.load[s] += self.add_cost(u, s);
        self.unit_count[s] += 1;
        for &(f, n) in self.units.shared(u) {
            self.counts.adjust(s, f, i64::from(n));
        }
    }

    /// Takes unit `u` off shard `s`.
    pub fn remove(&mut self, u: usize, s: usize) {
        self.load[s] -= self.remove_cost(u, s);
        self.unit_count[s] -= 1;
        for &(f, n) in self.units.shared(u) {
            self.counts.adjust(s, f, -i64::from(n));
        }
    }

    /// Whether shard `s` holds any test of tracked file `f`.
    pub fn holds(&self, s: usize, f: u32) -> bool {
        self.counts.get(s, f) > 0
    }

    /// The largest load (0 without shards).
    pub fn makespan(&self) -> u64 {
        self.load.iter().copied().max().unwrap_or(0)
    }

    /// The heaviest shard, lowest index on ties.
    pub fn heaviest(&self) -> usize {
        let mut best = 0;
        for (s, &load) in self.load.iter().enumerate() {
            if load > self.load[best] {
                best = s;
            }
        }
        best
    }
}

/// A tournament tree answering "least loaded shard, lowest index on ties" in O(1) with O(log n)
/// updates, so LPT stays O(units · log shards) however many shards there are.
#[derive(Debug)]
pub(super) struct MinTree {
    leaves: usize,
    /// Heap layout, node `i` has children `2i` and `2i + 1`; entries are `(load, shard)`.
    nodes: Vec<(u64, u32)>,
}

impl MinTree {
    /// A tree over `shards` shards, all at load 0.
    pub fn new(shards: usize) -> Self {
        let leaves = shards.next_power_of_two().max(1);
        let mut nodes = vec![(u64::MAX, u32::MAX); 2 * leaves];
        for s in 0..shards {
            nodes[leaves + s] = (0, s as u32);
        }
        for i in (1..leaves).rev() {
            nodes[i] = nodes[2 * i].min(nodes[2 * i + 1]);
        }
        MinTree { leaves, nodes }
    }

    /// The least loaded shard.
    pub fn min(&self) -> usize {
        self.nodes[1].1 as usize
    }

    /// Records shard `s`'s new load.
    pub fn set(&mut self, s: usize, load: u64) {
        let mut i = self.leaves + s;
        self.nodes[i] = (load, s as u32);
        while i > 1 {
            i /= 2;
            self.nodes[i] = self.nodes[2 * i].min(self.nodes[2 * i + 1]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_tree_prefers_the_lowest_index_on_ties() {
        let mut tree = MinTree::new(5);
        assert_eq!(tree.min(), 0);
        tree.set(0, 7);
        tree.set(1, 3);
        tree.set(2, 3);
        tree.set(3, 9);
        tree.set(4, 4);
        assert_eq!(tree.min(), 1);
        tree.set(1, 10);
        assert_eq!(tree.min(), 2);
    }

    #[test]
    fn sparse_and_dense_counts_agree() {
        let mut dense = FileCounts::new(3, 4);
        let mut sparse = FileCounts::Sparse(HashMap::new());
        for (s, f, d) in [(0, 1, 2), (2, 3, 1), (0, 1, -1), (2, 3, -1)] {
            assert_eq!(dense.adjust(s, f, d), sparse.adjust(s, f, d));
        }
        for s in 0..3 {
            for f in 0..4 {
                assert_eq!(dense.get(s, f), sparse.get(s, f));
            }
        }
    }
}
