//! Building the units the partitioner moves around.
//!
//! A request is first canonicalised ([`Prepared`]): tests sorted by id, duplicates dropped,
//! files and groups interned in name order. Everything downstream works on those integer
//! indices, so no later step can observe the order the caller listed tests in. [`Units`] then
//! gathers tests into indivisible units for one granularity and orders them heaviest first,
//! which is the order every partitioner consumes them in.

use std::collections::HashMap;

use rayon::slice::ParallelSliceMut as _;

use super::PlanRequest;

/// How finely tests may be spread over shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Granularity {
    /// Every test may go to any shard.
    Test,
    /// A file's tests always stay together.
    File,
    /// Files stay together unless one alone would unbalance the plan.
    #[default]
    Auto,
}

/// Marks "no index" in the dense `u32` index arrays below.
pub(super) const NONE: u32 = u32::MAX;

/// The request in canonical form, shared by every shard count a caller tries.
///
/// Indices are `u32` to halve the memory of the per-test arrays; a request is assumed to hold
/// fewer than 2^32 − 1 tests.
#[derive(Debug)]
pub(super) struct Prepared<'r> {
    /// Test ids in byte order, one per distinct id.
    pub ids: Vec<&'r str>,
    /// For each test, its index in the request's `tests` (the kept one of duplicates).
    pub origin: Vec<u32>,
    /// The file of each test (index into `files`).
    pub file_of: Vec<u32>,
    /// The group of each test (index into the sorted group names) or [`NONE`].
    pub group_of: Vec<u32>,
    /// Estimated duration of each test, setup excluded.
    pub micros: Vec<u64>,
    /// Distinct file names in byte order.
    pub files: Vec<&'r str>,
    /// Setup cost of each file.
    pub setup: Vec<u64>,
    /// Number of distinct groups.
    pub groups: usize,
    /// Every test once plus every file's setup once: what any plan must pay in total.
    pub total_micros: u64,
}

impl<'r> Prepared<'r> {
    /// Canonicalises `request`.
    ///
    /// Of several tests sharing an id the one smallest by `(file, group, micros)` is kept, a rule
    /// that depends only on the set of tests, never on their order.
    pub fn new(request: &'r PlanRequest) -> Self {
        let tests = &request.tests;
        // Sorting (id, index) pairs keeps the hot comparisons on one contiguous array; only
        // runs of a duplicated id need the full-tuple comparison that makes the kept variant
        // independent of input order.
        let mut keyed: Vec<(&str, u32)> = tests
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.as_str(), i as u32))
            .collect();
        // Ids are compared as byte strings scattered over the heap; for a million of them the
        // sort is the largest single cost of planning, and a parallel sort halves it. The
        // order is a total order on the ids, so the result does not depend on threads.
        keyed.par_sort_unstable_by(|a, b| a.0.cmp(b.0));
        for run in keyed.chunk_by_mut(|a, b| a.0 == b.0) {
            if run.len() > 1 {
                run.sort_unstable_by(|&(_, a), &(_, b)| {
                    let (a, b) = (&tests[a as usize], &tests[b as usize]);
                    (a.file.as_str(), a.group.as_deref(), a.micros).cmp(&(
                        b.file.as_str(),
                        b.group.as_deref(),
                        b.micros,
                    ))
                });
            }
        }
        keyed.dedup_by(|b, a| a.0 == b.0);
        let order: Vec<u32> = keyed.iter().map(|&(_, i)| i).collect();

        let file_of_raw = intern(order.iter().map(|&i| Some(tests[i as usize].file.as_str())));
        let group_of_raw = intern(order.iter().map(|&i| tests[i as usize].group.as_deref()));

        let setup: Vec<u64> = file_of_raw
            .names
            .iter()
            .map(|name| request.file_setup.get(*name).copied().unwrap_or(0))
            .collect();
        let micros: Vec<u64> = order.iter().map(|&i| tests[i as usize].micros).collect();
        let total_micros = micros
            .iter()
            .chain(&setup)
            .fold(0u64, |acc, &m| acc.saturating_add(m));
        Prepared {
            ids: keyed.iter().map(|&(id, _)| id).collect(),
            origin: order,
            file_of: file_of_raw.index,
            group_of: group_of_raw.index,
            micros,
            files: file_of_raw.names,
            setup,
            groups: group_of_raw.names.len(),
            total_micros,
        }
    }

    /// Number of distinct tests.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// The cost of running test `t` alone: its duration plus its file's setup.
    pub fn single_test_cost(&self, t: usize) -> u64 {
        self.micros[t].saturating_add(self.setup[self.file_of[t] as usize])
    }

    /// The most expensive item that no granularity finer than `file` can split: a keep-together
    /// group (its tests plus the setup of each of its files) or a test outside any group (plus
    /// its file's setup). Returns `(cost, smallest test index)`, the smallest index on ties, or
    /// `(0, NONE)` without tests.
    pub fn largest_test_level_item(&self) -> (u64, u32) {
        let mut best = (0u64, NONE);
        let mut consider = |cost: u64, first: u32| {
            if cost > best.0 || (cost == best.0 && first < best.1) {
                best = (cost, first);
            }
        };
        let mut group_cost = vec![0u64; self.groups];
        let mut group_first = vec![NONE; self.groups];
        let mut group_files: Vec<(u32, u32)> = Vec::new();
        for t in 0..self.len() {
            let g = self.group_of[t];
            if g == NONE {
                consider(self.single_test_cost(t), t as u32);
            } else {
                group_cost[g as usize] += self.micros[t];
                group_first[g as usize] = group_first[g as usize].min(t as u32);
                group_files.push((g, self.file_of[t]));
            }
        }
        group_files.sort_unstable();
        group_files.dedup();
        for (g, f) in group_files {
            group_cost[g as usize] += self.setup[f as usize];
        }
        for (g, &cost) in group_cost.iter().enumerate() {
            consider(cost, group_first[g]);
        }
        best
    }
}

/// Names interned to dense indices assigned in byte order of the names.
struct Interned<'r> {
    names: Vec<&'r str>,
    index: Vec<u32>,
}

/// Interns `values` (in sequence), giving [`NONE`] for `None`. A hash map does the lookups
/// because it is several times faster than a tree for a million tests; its iteration order is
/// never observed, the final indices come from sorting the distinct names.
fn intern<'r>(values: impl Iterator<Item = Option<&'r str>>) -> Interned<'r> {
    let mut first_seen: HashMap<&'r str, u32> = HashMap::new();
    let mut names: Vec<&'r str> = Vec::new();
    // Neighbours in id order usually share their file: comparing with the previous name first
    // skips most hash lookups.
    let mut last: Option<(&'r str, u32)> = None;
    let provisional: Vec<u32> = values
        .map(|value| match value {
            None => NONE,
            Some(name) => match last {
                Some((previous, index)) if previous == name => index,
                _ => {
                    let index = *first_seen.entry(name).or_insert_with(|| {
                        names.push(name);
                        (names.len() - 1) as u32
                    });
                    last = Some((name, index));
                    index
                }
            },
        })
        .collect();
    let mut by_name: Vec<u32> = (0..names.len() as u32).collect();
    by_name.sort_unstable_by_key(|&i| names[i as usize]);
    let mut rank = vec![0u32; names.len()];
    for (position, &i) in by_name.iter().enumerate() {
        rank[i as usize] = position as u32;
    }
    Interned {
        names: by_name.iter().map(|&i| names[i as usize]).collect(),
        index: provisional
            .into_iter()
            .map(|i| if i == NONE { NONE } else { rank[i as usize] })
            .collect(),
    }
}

/// Indivisible units for one granularity, heaviest first.
///
/// Setup costs are modelled exactly: a file whose tests all sit in one unit has its setup folded
/// into that unit's `base`. Only files spread over several units (and with a non-zero setup) are
/// "tracked": their setup is charged per shard holding them, through per-(shard, file) counts.
#[derive(Debug, Clone)]
pub(super) struct Units {
    /// Members (test indices, ascending) of unit `u`: `members[member_start[u]..member_start[u + 1]]`.
    member_start: Vec<u32>,
    members: Vec<u32>,
    /// Tracked files of unit `u` with the number of its tests in each, same layout.
    shared_start: Vec<u32>,
    shared: Vec<(u32, u32)>,
    /// Duration of the unit's tests plus the setup of its untracked files.
    pub base: Vec<u64>,
    /// The unit's cost on a shard of its own: `base` plus the setup of its tracked files.
    /// Non-increasing in the unit index.
    pub weight: Vec<u64>,
    /// Setup cost of each tracked file.
    pub tracked_setup: Vec<u64>,
}

impl Units {
    /// Builds the units of `prep` at `granularity`. `File` and `Auto` both keep files whole
    /// except those marked in `split`, which are spread test by test (how `auto` splits a
    /// dominant file); `Test` ignores `split`.
    pub fn build(prep: &Prepared<'_>, granularity: Granularity, split: &[bool]) -> Self {
        let tests = prep.len();
        let (unit_of, count) = raw_units(prep, granularity, split);

        // Members per raw unit; tests are visited in id order so each list comes out sorted.
        let raw_start = prefix_starts(count, unit_of.iter().map(|&u| u as usize));
        let mut raw_members = vec![0u32; tests];
        let mut fill = raw_start.clone();
        for (t, &u) in unit_of.iter().enumerate() {
            raw_members[fill[u as usize] as usize] = t as u32;
            fill[u as usize] += 1;
        }

        // Distinct files per unit and, per file, how many units hold it.
        let mut unit_files: Vec<(u32, u32)> = Vec::new();
        let mut unit_files_start = Vec::with_capacity(count + 1);
        let mut units_per_file = vec![0u32; prep.files.len()];
        let mut scratch: Vec<u32> = Vec::new();
        for u in 0..count {
            unit_files_start.push(unit_files.len() as u32);
            let members = &raw_members[raw_start[u] as usize..raw_start[u + 1] as usize];
            if let [t] = members {
                // The common case at test granularity, without the scratch sort.
                let f = prep.file_of[*t as usize];
                unit_files.push((f, 1));
                units_per_file[f as usize] += 1;
                continue;
            }
            scratch.clear();
            scratch.extend(members.iter().map(|&t| prep.file_of[t as usize]));
            scratch.sort_unstable();
            for chunk in scratch.chunk_by(|a, b| a == b) {
                unit_files.push((chunk[0], chunk.len() as u32));
                units_per_file[chunk[0] as usize] += 1;
            }
        }
        unit_files_start.push(unit_files.len() as u32);

        let mut tracked_of = vec![NONE; prep.files.len()];
        let mut tracked_setup = Vec::new();
        for (f, &holders) in units_per_file.iter().enumerate() {
            if holders >= 2 && prep.setup[f] > 0 {
                tracked_of[f] = tracked_setup.len() as u32;
                tracked_setup.push(prep.setup[f]);
            }
        }

        let mut raw_base = vec![0u64; count];
        let mut raw_weight = vec![0u64; count];
        for u in 0..count {
            let members = &raw_members[raw_start[u] as usize..raw_start[u + 1] as usize];
            let micros = members
                .iter()
                .map(|&t| prep.micros[t as usize])
                .sum::<u64>();
            let files = &unit_files[unit_files_start[u] as usize..unit_files_start[u + 1] as usize];
            let (mut private, mut tracked) = (0u64, 0u64);
            for &(f, _) in files {
                if tracked_of[f as usize] == NONE {
                    private += prep.setup[f as usize];
                } else {
                    tracked += prep.setup[f as usize];
                }
            }
            raw_base[u] = micros + private;
            raw_weight[u] = micros + private + tracked;
        }

        // Heaviest first; raw numbering (smallest test id) breaks ties.
        // Sorting (key, index) pairs rather than indices keeps the comparisons on one array.
        let mut order: Vec<(std::cmp::Reverse<u64>, u32)> = raw_weight
            .iter()
            .enumerate()
            .map(|(u, &w)| (std::cmp::Reverse(w), u as u32))
            .collect();
        order.sort_unstable();

        let mut units = Units {
            member_start: Vec::with_capacity(count + 1),
            members: Vec::with_capacity(tests),
            shared_start: Vec::with_capacity(count + 1),
            shared: Vec::new(),
            base: Vec::with_capacity(count),
            weight: Vec::with_capacity(count),
            tracked_setup,
        };
        for &(_, u) in &order {
            let u = u as usize;
            units.member_start.push(units.members.len() as u32);
            units
                .members
                .extend_from_slice(&raw_members[raw_start[u] as usize..raw_start[u + 1] as usize]);
            units.shared_start.push(units.shared.len() as u32);
            let files = &unit_files[unit_files_start[u] as usize..unit_files_start[u + 1] as usize];
            units.shared.extend(files.iter().filter_map(|&(f, n)| {
                let tracked = tracked_of[f as usize];
                (tracked != NONE).then_some((tracked, n))
            }));
            units.base.push(raw_base[u]);
            units.weight.push(raw_weight[u]);
        }
        units.member_start.push(units.members.len() as u32);
        units.shared_start.push(units.shared.len() as u32);
        units
    }

    /// Number of units.
    pub fn len(&self) -> usize {
        self.base.len()
    }

    /// Test indices of unit `u`, ascending.
    pub fn members(&self, u: usize) -> &[u32] {
        &self.members[self.member_start[u] as usize..self.member_start[u + 1] as usize]
    }

    /// Tracked files of unit `u` with its test count in each.
    pub fn shared(&self, u: usize) -> &[(u32, u32)] {
        &self.shared[self.shared_start[u] as usize..self.shared_start[u + 1] as usize]
    }

    /// Number of tracked files.
    pub fn tracked_files(&self) -> usize {
        self.tracked_setup.len()
    }
}

/// Each test's raw unit, and the number of units. Raw units are numbered in order of their
/// smallest test id, the stable tie-break key among equally heavy units.
fn raw_units(prep: &Prepared<'_>, granularity: Granularity, split: &[bool]) -> (Vec<u32>, usize) {
    let mut group_unit = vec![NONE; prep.groups];
    let mut file_unit = vec![NONE; prep.files.len()];
    let mut count = 0u32;
    let mut unit_of = Vec::with_capacity(prep.len());
    for t in 0..prep.len() {
        let file = prep.file_of[t] as usize;
        let group = prep.group_of[t];
        let slot = if group == NONE {
            let whole = match granularity {
                Granularity::Test => false,
                Granularity::File | Granularity::Auto => !split[file],
            };
            whole.then(|| &mut file_unit[file])
        } else {
            Some(&mut group_unit[group as usize])
        };
        let unit = match slot {
            Some(slot) if *slot != NONE => *slot,
            Some(slot) => {
                *slot = count;
                count += 1;
                *slot
            }
            None => {
                count += 1;
                count - 1
            }
        };
        unit_of.push(unit);
    }
    (unit_of, count as usize)
}

/// CSR start offsets for `count` buckets given each item's bucket.
fn prefix_starts(count: usize, buckets: impl Iterator<Item = usize>) -> Vec<u32> {
    let mut start = vec![0u32; count + 1];
    for b in buckets {
        start[b + 1] += 1;
    }
    for i in 0..count {
        start[i + 1] += start[i];
    }
    start
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::plan::PlanTest;

    fn test(id: &str, file: &str, group: Option<&str>, micros: u64) -> PlanTest {
        PlanTest {
            id: id.to_owned(),
            file: file.to_owned(),
            group: group.map(str::to_owned),
            micros,
        }
    }

    fn request(tests: Vec<PlanTest>, setup: &[(&str, u64)]) -> PlanRequest {
        PlanRequest {
            tests,
            file_setup: setup
                .iter()
                .map(|&(f, s)| (f.to_owned(), s))
                .collect::<BTreeMap<_, _>>(),
            granularity: Granularity::Test,
            total: 2,
        }
    }

    #[test]
    fn duplicates_keep_the_smallest_variant_whatever_the_order() {
        let a = request(
            vec![test("t", "b.py", None, 9), test("t", "a.py", None, 5)],
            &[],
        );
        let b = request(
            vec![test("t", "a.py", None, 5), test("t", "b.py", None, 9)],
            &[],
        );
        for r in [&a, &b] {
            let prep = Prepared::new(r);
            assert_eq!(prep.ids, ["t"]);
            assert_eq!(prep.micros, [5]);
            assert_eq!(prep.files, ["a.py"]);
        }
    }

    #[test]
    fn file_units_fold_private_setup_and_track_shared_files() {
        let r = request(
            vec![
                test("a1", "a.py", None, 1),
                test("a2", "a.py", Some("g"), 2),
                test("b1", "b.py", None, 4),
            ],
            &[("a.py", 10), ("b.py", 100)],
        );
        let prep = Prepared::new(&r);
        let units = Units::build(&prep, Granularity::File, &[false, false]);
        // b.py is whole in one unit: setup folded. a.py is split between its file unit and g.
        assert_eq!(units.len(), 3);
        assert_eq!(units.weight, [104, 12, 11]);
        assert_eq!(units.base, [104, 2, 1]);
        assert_eq!(units.tracked_setup, [10]);
        // Tests in id order: a1 (0), a2 (1, in g), b1 (2).
        assert_eq!(units.members(0), [2]);
        assert_eq!(units.members(1), [1]);
        assert_eq!(units.shared(1), [(0, 1)]);
        assert_eq!(units.members(2), [0]);
    }

    #[test]
    fn groups_span_files_and_stay_one_unit() {
        let r = request(
            vec![
                test("x", "a.py", Some("g"), 3),
                test("y", "b.py", Some("g"), 4),
                test("z", "b.py", None, 1),
            ],
            &[],
        );
        let prep = Prepared::new(&r);
        let units = Units::build(&prep, Granularity::Test, &[false, false]);
        assert_eq!(units.len(), 2);
        assert_eq!(units.members(0), [0, 1]);
        assert_eq!(units.weight, [7, 1]);
    }
}
