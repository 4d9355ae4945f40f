//! The partitioner: the public request and plan types, and the pipeline tying units, LPT,
//! Karmarkar–Karp, local search and the `auto` splitting rule together.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::BTreeMap;

use super::Granularity;
use super::kk::{KK_CELLS_MAX, karmarkar_karp};
use super::loads::Loads;
use super::lpt::lpt;
use super::search::improve;
use super::units::{NONE, Prepared, Units};

/// One test to place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanTest {
    /// The test id, printed as is.
    pub id: String,
    /// The file the test belongs to (its fixed setup cost is paid once per shard holding it).
    pub file: String,
    /// A keep-together group: tests sharing one always land on the same shard.
    pub group: Option<String>,
    /// Estimated duration in microseconds, excluding the file's setup.
    pub micros: u64,
}

/// Everything the partitioner needs.
///
/// Durations are integer microseconds so every machine computes the same plan; their total
/// (setups included) is assumed to fit in a `u64` (about 584,000 years).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRequest {
    /// The tests (any order; of several tests sharing an id, the one smallest by
    /// `(file, group, micros)` is kept).
    pub tests: Vec<PlanTest>,
    /// Per-file fixed setup cost in microseconds (absent means 0).
    pub file_setup: BTreeMap<String, u64>,
    /// How finely tests may be spread.
    pub granularity: Granularity,
    /// Number of shards. Callers should reject 0; [`plan`] treats it as 1.
    pub total: usize,
}

/// One shard of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    /// 0-based index.
    pub index: usize,
    /// Test ids, sorted by byte order.
    pub tests: Vec<String>,
    /// Predicted duration in microseconds: the shard's tests plus, once, the setup of every file
    /// it holds a test of.
    pub predicted_micros: u64,
}

/// A complete plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Number of shards.
    pub total: usize,
    /// `max(ceil(sum / total), largest indivisible item)` in microseconds, where `sum` counts
    /// every test once and every file's setup once, and the largest indivisible item is the
    /// costliest unit at the finest spread the granularity allows (a test plus its file's setup
    /// at `test` and `auto`, a file's tests plus its setup at `file`; a group always), setups
    /// included. No plan can beat it.
    pub lower_bound_micros: u64,
    /// The largest shard's predicted duration.
    pub makespan_micros: u64,
    /// Shards in index order. Non-empty shards are numbered in byte order of their smallest
    /// test id; empty shards (only possible with fewer units than shards) come last.
    pub shards: Vec<Shard>,
    /// Files the `auto` granularity spread test by test, in byte order (empty otherwise).
    pub split_files: Vec<String>,
}

/// Computes the plan.
///
/// Tests are canonicalised (deduplicated, sorted by id), grouped into units (see
/// [`Granularity`]) and partitioned onto `request.total` shards (0 counts as 1): LPT first,
/// then Karmarkar–Karp as a second candidate on small instances, then local search from the
/// better one under a deterministic work budget. The same set of tests always yields the same
/// plan, whatever their order and whatever the machine.
///
/// # `auto` granularity
///
/// Let `L` be the test-level lower bound. Plan with every file whole. Then, while the best
/// makespan so far exceeds `L` by more than 1 % and fewer than 6 rounds have run: of the files
/// with at least two tests outside keep-together groups that are still whole, heaviest first
/// (tests outside groups plus setup; name order on ties), split the first
/// `max(2^round, number of them heavier than L)` into single tests (`round` counts from 0;
/// files split in earlier rounds stay split) and plan again. The plan with the smallest
/// makespan wins, the earliest on ties, so a file ends up split only when that pays. Groups are
/// never split.
///
/// # `test` granularity
///
/// When some file has a setup cost, the `auto` plan is computed first (keeping a file whole is
/// a valid test-granularity plan and pays its setup once). It is taken if it meets the lower
/// bound, or is within the same 1 % of it and no worse than plain test-by-test LPT; otherwise
/// the full test-by-test plan is computed too and the `auto` plan wins only if no worse. Either
/// way the `auto` plan must not leave a shard empty that single tests would have filled.
/// [`Plan::split_files`] stays empty at this granularity.
pub fn plan(request: &PlanRequest) -> Plan {
    let prep = Prepared::new(request);
    Planner::new(&prep, request.granularity).plan(request.total.max(1))
}

/// [`plan`] for a caller that no longer needs the request: the ids move into the plan instead
/// of being copied, which for a million tests saves a million allocations and their memory.
pub fn plan_owned(request: PlanRequest) -> Plan {
    let (layout, origin) = {
        let prep = Prepared::new(&request);
        let layout = Planner::new(&prep, request.granularity).layout(request.total.max(1));
        (layout, prep.origin)
    };
    let mut tests = request.tests;
    layout.into_plan(|t| std::mem::take(&mut tests[origin[t as usize] as usize].id))
}

/// A finished plan in canonical test indices, before ids are attached.
struct Layout {
    total: usize,
    lower_bound_micros: u64,
    makespan_micros: u64,
    /// Per shard in index order: its tests (canonical indices, ascending, so ids come out
    /// sorted) and its predicted duration.
    shards: Vec<(Vec<u32>, u64)>,
    split_files: Vec<String>,
}

impl Layout {
    fn into_plan(self, mut id_of: impl FnMut(u32) -> String) -> Plan {
        Plan {
            total: self.total,
            lower_bound_micros: self.lower_bound_micros,
            makespan_micros: self.makespan_micros,
            shards: self
                .shards
                .into_iter()
                .enumerate()
                .map(|(index, (tests, predicted_micros))| Shard {
                    index,
                    tests: tests.into_iter().map(&mut id_of).collect(),
                    predicted_micros,
                })
                .collect(),
            split_files: self.split_files,
        }
    }
}

/// `auto` stops splitting once the makespan is within this many hundredths of the lower bound...
const AUTO_TOLERANCE_PERCENT: u64 = 1;
/// ... or after this many splitting rounds.
const AUTO_ROUNDS: u32 = 6;
/// Local-search evaluations granted per unit: enough to polish small and medium plans fully.
const SEARCH_PER_UNIT: u64 = 64;
/// Minimum local-search budget, so tiny instances are always searched to a local optimum.
const SEARCH_MIN: u64 = 20_000;
/// Maximum local-search budget. A million single-test units take about 100 ms of search at
/// this budget; LPT leaves such plans so close to balanced that more buys almost nothing.
const SEARCH_MAX: u64 = 1_000_000;

/// The largest item no plan can split: its cost and its smallest test (canonical index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Largest {
    pub micros: u64,
    pub first_test: u32,
}

/// Plans one prepared request for any number of shards, reusing the unit build.
#[derive(Debug)]
pub(super) struct Planner<'p, 'r> {
    prep: &'p Prepared<'r>,
    basis: Basis,
    largest: Largest,
}

/// The unit sets a granularity plans from.
#[derive(Debug)]
enum Basis {
    /// Single tests, built on first use, plus whole files when some file has a setup cost:
    /// keeping a file whole is allowed at test granularity too and, with setup costs, often
    /// cheaper, so the `auto` plan competes (and, when it is close enough to the bound, saves
    /// building and partitioning a unit per test).
    Test {
        tests: OnceCell<Units>,
        files: Option<Units>,
    },
    /// Whole files.
    File(Units),
    /// Whole files, split by the `auto` rule.
    Auto(Units),
}

/// A finished partition of some unit set.
struct Candidate<'a> {
    units: Cow<'a, Units>,
    assignment: Vec<u32>,
    load: Vec<u64>,
    makespan: u64,
    split: Vec<bool>,
}

impl<'p, 'r> Planner<'p, 'r> {
    /// Builds the units for `granularity`.
    pub fn new(prep: &'p Prepared<'r>, granularity: Granularity) -> Self {
        let whole = vec![false; prep.files.len()];
        let files = || Units::build(prep, Granularity::File, &whole);
        let basis = match granularity {
            Granularity::Test => Basis::Test {
                tests: OnceCell::new(),
                files: prep.setup.iter().any(|&s| s > 0).then(files),
            },
            Granularity::File => Basis::File(files()),
            Granularity::Auto => Basis::Auto(files()),
        };
        let (micros, first_test) = match &basis {
            // Units are heaviest first, the smallest test id first among equals.
            Basis::File(units) if units.len() > 0 => (units.weight[0], units.members(0)[0]),
            Basis::File(_) | Basis::Test { .. } | Basis::Auto(_) => prep.largest_test_level_item(),
        };
        Planner {
            prep,
            basis,
            largest: Largest { micros, first_test },
        }
    }

    /// The largest indivisible item (`first_test` is [`NONE`] without tests).
    pub fn largest(&self) -> Largest {
        self.largest
    }

    /// The lower bound on the makespan over `total` shards.
    pub fn lower_bound(&self, total: usize) -> u64 {
        self.prep
            .total_micros
            .div_ceil(total as u64)
            .max(self.largest.micros)
    }

    /// The plan over `total` (at least 1) shards.
    pub fn plan(&self, total: usize) -> Plan {
        self.layout(total)
            .into_plan(|t| self.prep.ids[t as usize].to_owned())
    }

    /// The plan over `total` (at least 1) shards, in canonical test indices.
    fn layout(&self, total: usize) -> Layout {
        let lower_bound = self.lower_bound(total);
        let whole = || vec![false; self.prep.files.len()];
        let best = match &self.basis {
            Basis::File(files) => partition(Cow::Borrowed(files), total, lower_bound, whole()),
            Basis::Auto(files) => self.auto(files, total, lower_bound),
            Basis::Test { tests, files } => {
                let whole_files = files.as_ref().map(|files| {
                    let mut candidate = self.auto(files, total, lower_bound);
                    // Nothing is split "by rule" at test granularity; report no split files.
                    candidate.split = whole();
                    candidate
                });
                let single_tests =
                    || tests.get_or_init(|| Units::build(self.prep, Granularity::Test, &whole()));
                match whole_files {
                    Some(candidate) => {
                        // Fewer whole-file units than shards must not leave a shard empty when
                        // single tests would have filled them all.
                        let fills = candidate.units.len() >= total || single_tests().len() < total;
                        // Nothing beats the bound. Close to it, a plain test-by-test LPT is
                        // enough of a check that searching single tests would not pay.
                        let good_enough = fills
                            && (candidate.makespan <= lower_bound
                                || within_tolerance(candidate.makespan, lower_bound)
                                    && candidate.makespan
                                        <= lpt(single_tests(), total).1.makespan());
                        if good_enough {
                            candidate
                        } else {
                            let single = partition(
                                Cow::Borrowed(single_tests()),
                                total,
                                lower_bound,
                                whole(),
                            );
                            // Ties go to whole files, which pay fewer setups.
                            if fills && candidate.makespan <= single.makespan {
                                candidate
                            } else {
                                single
                            }
                        }
                    }
                    None => partition(Cow::Borrowed(single_tests()), total, lower_bound, whole()),
                }
            }
        };
        self.finish(&best, total, lower_bound)
    }

    /// The `auto` rule (see [`plan`]) from the whole-file units `files`.
    fn auto<'a>(&self, files: &'a Units, total: usize, lower_bound: u64) -> Candidate<'a> {
        let mut best = partition(
            Cow::Borrowed(files),
            total,
            lower_bound,
            vec![false; self.prep.files.len()],
        );
        let splittable = self.splittable_files();
        let mut tried = vec![false; self.prep.files.len()];
        let mut round = 0;
        while !within_tolerance(best.makespan, lower_bound) && round < AUTO_ROUNDS {
            // Later rounds build on earlier ones, won or lost: a losing round's files stay
            // split, so each round tries a strictly larger split set.
            let open: Vec<&(u32, u64)> = splittable
                .iter()
                .filter(|(f, _)| !tried[*f as usize])
                .collect();
            if open.is_empty() {
                break;
            }
            let oversized = open.iter().filter(|(_, w)| *w > lower_bound).count();
            let take = (1usize << round).max(oversized).min(open.len());
            for (f, _) in &open[..take] {
                tried[*f as usize] = true;
            }
            let units = Units::build(self.prep, Granularity::Auto, &tried);
            let candidate = partition(Cow::Owned(units), total, lower_bound, tried.clone());
            if candidate.makespan < best.makespan {
                best = candidate;
            }
            round += 1;
        }
        best
    }

    /// Files `auto` may split: those with at least two tests outside groups, with the cost of
    /// those tests plus the file's setup, heaviest first and in name order on ties.
    fn splittable_files(&self) -> Vec<(u32, u64)> {
        let prep = self.prep;
        let mut weight = prep.setup.clone();
        let mut tests = vec![0u32; prep.files.len()];
        for t in 0..prep.len() {
            if prep.group_of[t] == NONE {
                let f = prep.file_of[t] as usize;
                weight[f] += prep.micros[t];
                tests[f] += 1;
            }
        }
        let mut files: Vec<(u32, u64)> = (0..prep.files.len())
            .filter(|&f| tests[f] >= 2)
            .map(|f| (f as u32, weight[f]))
            .collect();
        files.sort_unstable_by_key(|&(f, w)| (std::cmp::Reverse(w), f));
        files
    }

    /// Turns a partition into the public plan.
    fn finish(&self, best: &Candidate<'_>, total: usize, lower_bound: u64) -> Layout {
        let mut shard_of = vec![0u32; self.prep.len()];
        for (u, &s) in best.assignment.iter().enumerate() {
            for &t in best.units.members(u) {
                shard_of[t as usize] = s;
            }
        }
        // Visiting tests in canonical (id byte) order leaves every shard's list sorted.
        let mut per_shard: Vec<Vec<u32>> = vec![Vec::new(); total];
        for (t, &s) in shard_of.iter().enumerate() {
            per_shard[s as usize].push(t as u32);
        }
        let mut order: Vec<usize> = (0..total).collect();
        order.sort_unstable_by_key(|&s| (per_shard[s].first().copied().unwrap_or(NONE), s));
        let shards = order
            .iter()
            .map(|&s| (std::mem::take(&mut per_shard[s]), best.load[s]))
            .collect();
        let split_files = best
            .split
            .iter()
            .enumerate()
            .filter(|&(_, &s)| s)
            .map(|(f, _)| self.prep.files[f].to_owned())
            .collect();
        Layout {
            total,
            lower_bound_micros: lower_bound,
            makespan_micros: best.makespan,
            shards,
            split_files,
        }
    }
}

/// Partitions `units` onto `total` shards: LPT, Karmarkar–Karp when the instance is small enough
/// and LPT missed the bound, then local search from the better of the two.
fn partition(
    units: Cow<'_, Units>,
    total: usize,
    lower_bound: u64,
    split: Vec<bool>,
) -> Candidate<'_> {
    let (assignment, load) = {
        let (mut assignment, mut loads) = lpt(&units, total);
        let keep_nonempty = units.len() >= total;
        if loads.makespan() > lower_bound
            && total >= 2
            && units.len().saturating_mul(total) <= KK_CELLS_MAX
        {
            let kk = karmarkar_karp(&units, total);
            let kk_loads = Loads::from_assignment(&units, total, &kk);
            let fills = !keep_nonempty || kk_loads.unit_count.iter().all(|&c| c > 0);
            if fills && kk_loads.makespan() < loads.makespan() {
                assignment = kk;
                loads = kk_loads;
            }
        }
        let budget = (units.len() as u64)
            .saturating_mul(SEARCH_PER_UNIT)
            .clamp(SEARCH_MIN, SEARCH_MAX);
        improve(
            &units,
            &mut loads,
            &mut assignment,
            lower_bound,
            budget,
            keep_nonempty,
        );
        (assignment, loads.load)
    };
    let makespan = load.iter().copied().max().unwrap_or(0);
    Candidate {
        units,
        assignment,
        load,
        makespan,
        split,
    }
}

/// Whether `makespan` is within [`AUTO_TOLERANCE_PERCENT`] of `lower_bound`.
fn within_tolerance(makespan: u64, lower_bound: u64) -> bool {
    u128::from(makespan) * 100 <= u128::from(lower_bound) * u128::from(100 + AUTO_TOLERANCE_PERCENT)
}

/// Plain setup-aware LPT on the units `plan` starts from, for tests comparing against it.
#[cfg(test)]
pub(super) fn plain_lpt_makespan(request: &PlanRequest) -> u64 {
    let prep = Prepared::new(request);
    let units = Units::build(&prep, request.granularity, &vec![false; prep.files.len()]);
    lpt(&units, request.total.max(1)).1.makespan()
}
