//! Behavioural tests of the whole planning pipeline: known cases, the invariants as properties,
//! and a quality check on long-tailed data.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use proptest::prelude::*;

use super::partition::plain_lpt_makespan;
use super::units::{NONE, Prepared, Units};
use super::{
    Granularity, Plan, PlanRequest, PlanTest, Unreachable, choose_total, plan, plan_owned,
};

fn test(id: &str, file: &str, micros: u64) -> PlanTest {
    PlanTest {
        id: id.to_owned(),
        file: file.to_owned(),
        group: None,
        micros,
    }
}

fn grouped(id: &str, file: &str, group: &str, micros: u64) -> PlanTest {
    PlanTest {
        group: Some(group.to_owned()),
        ..test(id, file, micros)
    }
}

fn request(tests: Vec<PlanTest>, granularity: Granularity, total: usize) -> PlanRequest {
    PlanRequest {
        tests,
        file_setup: BTreeMap::new(),
        granularity,
        total,
    }
}

/// One test per file, so setup and granularity play no part.
fn singles(micros: &[u64], total: usize) -> PlanRequest {
    let tests = micros
        .iter()
        .enumerate()
        .map(|(i, &m)| test(&format!("t{i:03}"), &format!("f{i:03}.py"), m))
        .collect();
    request(tests, Granularity::Test, total)
}

fn loads(plan: &Plan) -> Vec<u64> {
    plan.shards.iter().map(|s| s.predicted_micros).collect()
}

/// What each shard should cost, recomputed from scratch from the request.
fn recomputed_loads(request: &PlanRequest, plan: &Plan) -> Vec<u64> {
    let prep = Prepared::new(request);
    let by_id: HashMap<&str, usize> = prep
        .ids
        .iter()
        .enumerate()
        .map(|(i, &id)| (id, i))
        .collect();
    plan.shards
        .iter()
        .map(|shard| {
            let mut files = BTreeSet::new();
            let mut sum = 0;
            for id in &shard.tests {
                let t = by_id[id.as_str()];
                sum += prep.micros[t];
                files.insert(prep.file_of[t]);
            }
            sum + files.iter().map(|&f| prep.setup[f as usize]).sum::<u64>()
        })
        .collect()
}

/// Number of units the final plan was partitioned from.
fn unit_count(request: &PlanRequest, plan: &Plan) -> usize {
    let prep = Prepared::new(request);
    let split: Vec<bool> = prep
        .files
        .iter()
        .map(|f| plan.split_files.iter().any(|s| s == f))
        .collect();
    Units::build(&prep, request.granularity, &split).len()
}

fn shard_of(plan: &Plan) -> HashMap<&str, usize> {
    plan.shards
        .iter()
        .flat_map(|s| s.tests.iter().map(move |t| (t.as_str(), s.index)))
        .collect()
}

#[test]
fn local_search_fixes_the_classic_lpt_miss() {
    // LPT: 3+2+2 against 3+2. One swap reaches the optimum 6.
    let p = plan(&singles(&[3, 3, 2, 2, 2], 2));
    assert_eq!(p.makespan_micros, 6);
    assert_eq!(p.lower_bound_micros, 6);
    assert_eq!(plain_lpt_makespan(&singles(&[3, 3, 2, 2, 2], 2)), 7);
}

#[test]
fn differencing_and_search_reach_the_optimum() {
    let r = singles(&[8, 7, 6, 5, 4], 2);
    assert_eq!(plain_lpt_makespan(&r), 17);
    assert_eq!(plan(&r).makespan_micros, 15);
    let r = singles(&[5, 5, 4, 4, 3, 3, 3], 3);
    assert_eq!(plain_lpt_makespan(&r), 11);
    assert_eq!(plan(&r).makespan_micros, 9);
}

#[test]
fn setup_is_paid_once_per_shard_holding_the_file() {
    let tests = (0..4).map(|i| test(&format!("a{i}"), "a.py", 10)).collect();
    let mut r = request(tests, Granularity::Test, 2);
    r.file_setup.insert("a.py".to_owned(), 100);
    let p = plan(&r);
    // Spreading pays the setup twice (240 in all), yet each shard runs 120 against 140 for
    // the whole file on one shard, so the file is spread.
    assert_eq!(loads(&p), [120, 120]);
    assert_eq!(p.lower_bound_micros, 110);
    assert_eq!(loads(&p), recomputed_loads(&r, &p));
}

#[test]
fn setup_keeps_cheap_files_together() {
    // Two files of two tests each; setup dwarfs the tests, so each file stays on one shard.
    let tests = vec![
        test("a1", "a.py", 1),
        test("a2", "a.py", 1),
        test("b1", "b.py", 1),
        test("b2", "b.py", 1),
    ];
    let mut r = request(tests, Granularity::Test, 2);
    r.file_setup.insert("a.py".to_owned(), 50);
    r.file_setup.insert("b.py".to_owned(), 50);
    let p = plan(&r);
    assert_eq!(loads(&p), [52, 52]);
    assert_eq!(p.shards[0].tests, ["a1", "a2"]);
}

#[test]
fn test_granularity_keeps_files_whole_when_setup_makes_that_cheaper() {
    // Test-by-test LPT deals each file's tests round-robin and pays every setup four times.
    let tests = (0..40)
        .map(|i| {
            test(
                &format!("{}{i:02}", ["a", "b", "c", "d"][i / 10]),
                &format!("{}.py", i / 10),
                1,
            )
        })
        .collect();
    let mut r = request(tests, Granularity::Test, 4);
    for f in 0..4 {
        r.file_setup.insert(format!("{f}.py"), 100);
    }
    assert!(plain_lpt_makespan(&r) > 200);
    let p = plan(&r);
    assert_eq!((p.makespan_micros, p.lower_bound_micros), (110, 110));
    assert!(p.shards.iter().all(|s| s.tests.len() == 10));
    assert!(p.split_files.is_empty());
}

#[test]
fn groups_never_split_even_across_files() {
    let mut tests: Vec<PlanTest> = (0..6)
        .map(|i| grouped(&format!("g{i}"), &format!("f{i}.py"), "db", 10))
        .collect();
    tests.extend((0..6).map(|i| test(&format!("t{i}"), "x.py", 10)));
    let p = plan(&request(tests, Granularity::Test, 3));
    let shard = shard_of(&p);
    assert!((1..6).all(|i| shard[format!("g{i}").as_str()] == shard["g0"]));
    assert_eq!(p.lower_bound_micros, 60);
    assert_eq!(p.makespan_micros, 60);
}

#[test]
fn auto_splits_only_the_dominant_file() {
    let mut tests: Vec<PlanTest> = (0..10)
        .map(|i| test(&format!("big{i}"), "big.py", 10))
        .collect();
    tests.extend((0..21).map(|i| test(&format!("small{i:02}"), &format!("s{i:02}.py"), 2)));
    tests.extend((0..4).map(|i| test(&format!("pair{i}"), &format!("p{}.py", i / 2), 3)));
    let r = request(tests, Granularity::Auto, 3);
    let p = plan(&r);
    assert_eq!(p.split_files, ["big.py"]);
    // 154 over 3 shards: bound 52, met once big.py is spread.
    assert_eq!(p.lower_bound_micros, 52);
    assert_eq!(p.makespan_micros, 52);
    let shard = shard_of(&p);
    assert_eq!(shard["pair0"], shard["pair1"]);
    assert_eq!(shard["pair2"], shard["pair3"]);
}

#[test]
fn auto_keeps_files_whole_when_balanced() {
    // Eight files of 50 on four shards: whole files already meet the bound.
    let tests = (0..40)
        .map(|i| test(&format!("t{i:02}"), &format!("f{}.py", i / 5), 10))
        .collect();
    let p = plan(&request(tests, Granularity::Auto, 4));
    assert!(p.split_files.is_empty());
    assert_eq!(p.makespan_micros, 100);
}

#[test]
fn file_granularity_bound_uses_whole_files() {
    let tests = vec![
        test("a1", "a.py", 30),
        test("a2", "a.py", 30),
        test("b1", "b.py", 10),
    ];
    let p = plan(&request(tests, Granularity::File, 2));
    assert_eq!(p.lower_bound_micros, 60);
    assert_eq!(loads(&p), [60, 10]);
}

#[test]
fn empty_shards_only_when_units_are_fewer_than_shards() {
    let p = plan(&singles(&[5, 1], 4));
    assert_eq!(loads(&p), [5, 1, 0, 0]);
    assert!(p.shards[2].tests.is_empty() && p.shards[3].tests.is_empty());
    let p = plan(&singles(&[0, 0, 0, 9], 4));
    assert!(p.shards.iter().all(|s| s.tests.len() == 1));
}

#[test]
fn degenerate_requests() {
    let p = plan(&request(Vec::new(), Granularity::Auto, 3));
    assert_eq!(
        (p.total, p.makespan_micros, p.lower_bound_micros),
        (3, 0, 0)
    );
    assert_eq!(p.shards.len(), 3);
    let p = plan(&singles(&[4, 2], 0));
    assert_eq!(p.total, 1);
    assert_eq!(p.shards[0].tests, ["t000", "t001"]);
}

#[test]
fn shards_are_numbered_by_their_smallest_test() {
    let p = plan(&singles(&[1, 9, 5, 5], 2));
    assert_eq!(p.shards[0].tests, ["t000", "t001"]);
    assert_eq!(p.shards[1].tests, ["t002", "t003"]);
    assert_eq!(p.shards.iter().map(|s| s.index).collect::<Vec<_>>(), [0, 1]);
}

#[test]
fn choose_total_picks_the_smallest_count_meeting_the_target() {
    // 100 tests of 10: N shards give ceil(100 / N) × 10.
    let r = singles(&[10; 100], 0);
    let c = choose_total(&r, 250 + 30, 30, 64);
    assert!(c.reachable);
    assert_eq!(c.total, 4);
    assert_eq!(c.plan.makespan_micros, 250);
    assert_eq!(c.reason, None);
    let c = choose_total(&r, 249 + 30, 30, 64);
    assert_eq!(c.total, 5);
}

#[test]
fn choose_total_reports_an_item_too_large() {
    let r = singles(&[500, 10, 10, 10], 0);
    let c = choose_total(&r, 400, 0, 16);
    assert!(!c.reachable);
    assert_eq!(
        c.reason,
        Some(Unreachable::ItemTooLarge {
            first_test_id: "t000".to_owned(),
            micros: 500
        })
    );
    // Two shards already pin the makespan to the large test.
    assert_eq!((c.total, c.plan.makespan_micros), (2, 500));
}

#[test]
fn choose_total_reports_overhead_and_shard_limits() {
    let r = singles(&[10; 10], 0);
    let c = choose_total(&r, 5, 6, 16);
    assert_eq!(
        c.reason,
        Some(Unreachable::OverheadExceedsTarget {
            overhead_micros: 6,
            target_micros: 5
        })
    );
    assert_eq!((c.total, c.plan.makespan_micros), (10, 10));
    let c = choose_total(&r, 30, 0, 2);
    assert_eq!(c.reason, Some(Unreachable::TooFewShards { max_total: 2 }));
    assert_eq!((c.total, c.plan.makespan_micros), (2, 50));
}

#[test]
fn choose_total_on_nothing_is_one_shard() {
    let c = choose_total(&request(Vec::new(), Granularity::Auto, 0), 10, 1, 8);
    assert!(c.reachable);
    assert_eq!(c.total, 1);
}

/// splitmix64: a tiny, fixed generator so the quality data is the same everywhere.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Pareto(α = 1.2) with a 1 ms scale, capped at 60 s: the shape of real test suites.
    fn long_tailed(&mut self) -> u64 {
        let u = ((self.next() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        (1_000.0 / u.powf(1.0 / 1.2)).min(60_000_000.0) as u64
    }
}

#[test]
fn long_tailed_plans_are_within_a_thousandth_of_the_bound() {
    let mut rng = SplitMix(0x5EED);
    for &total in &[4, 8, 16] {
        let tests = (0..3_000)
            .map(|i| {
                test(
                    &format!("t{i:04}"),
                    &format!("f{:03}.py", i / 10),
                    rng.long_tailed(),
                )
            })
            .collect();
        let p = plan(&request(tests, Granularity::Test, total));
        let ratio = p.makespan_micros as f64 / p.lower_bound_micros as f64;
        assert!(ratio <= 1.001, "N = {total}: ratio {ratio}");
    }
}

#[test]
fn long_tailed_plans_with_setup_are_within_a_thousandth_of_the_bound() {
    // 200 files of 15 tests, each file with a long-tailed setup cost. The bound counts every
    // setup once, so it is only reachable by keeping most files whole.
    let mut rng = SplitMix(0xF11E5);
    for granularity in [Granularity::Auto, Granularity::Test] {
        for &total in &[4, 8, 16] {
            let tests = (0..3_000)
                .map(|i| {
                    test(
                        &format!("t{i:04}"),
                        &format!("f{:03}.py", i / 15),
                        rng.long_tailed(),
                    )
                })
                .collect();
            let mut r = request(tests, granularity, total);
            for f in 0..200 {
                r.file_setup
                    .insert(format!("f{f:03}.py"), rng.long_tailed());
            }
            let p = plan(&r);
            let ratio = p.makespan_micros as f64 / p.lower_bound_micros as f64;
            assert!(
                ratio <= 1.001,
                "{granularity:?}, N = {total}: ratio {ratio}"
            );
        }
    }
}

fn arbitrary_request() -> impl Strategy<Value = PlanRequest> {
    let test = (
        0u32..12,
        prop::option::weighted(0.15, 0u32..3),
        prop_oneof![0u64..50, 0u64..5_000],
        0u32..40,
    );
    (
        prop::collection::vec(test, 0..80),
        prop::collection::vec(prop_oneof![Just(0u64), 0u64..200], 12),
        prop_oneof![
            Just(Granularity::Test),
            Just(Granularity::File),
            Just(Granularity::Auto)
        ],
        1usize..12,
    )
        .prop_map(|(tests, setup, granularity, total)| PlanRequest {
            // Ids drawn from a small range produce duplicates, which must be ignored.
            tests: tests
                .into_iter()
                .map(|(file, group, micros, id)| PlanTest {
                    id: format!("t{id:02}"),
                    file: format!("f{file:02}.py"),
                    group: group.map(|g| format!("g{g}")),
                    micros,
                })
                .collect(),
            file_setup: setup
                .into_iter()
                .enumerate()
                .map(|(f, s)| (format!("f{f:02}.py"), s))
                .collect(),
            granularity,
            total,
        })
}

/// A test-granularity request of one test per file, `t000`, `t001`, ... with these durations.
pub(super) fn single_tests(micros: &[u64]) -> PlanRequest {
    PlanRequest {
        tests: micros
            .iter()
            .enumerate()
            .map(|(i, &m)| PlanTest {
                id: format!("t{i:03}"),
                file: format!("f{i:03}.py"),
                group: None,
                micros: m,
            })
            .collect(),
        file_setup: BTreeMap::new(),
        granularity: Granularity::Test,
        total: 1,
    }
}

proptest! {
    #[test]
    fn moving_ids_out_gives_the_same_plan(r in arbitrary_request()) {
        prop_assert_eq!(plan_owned(r.clone()), plan(&r));
    }

    #[test]
    fn every_test_exactly_once(r in arbitrary_request()) {
        let p = plan(&r);
        let mut placed: Vec<&str> = p.shards.iter().flat_map(|s| s.tests.iter().map(String::as_str)).collect();
        let count = placed.len();
        placed.sort_unstable();
        placed.dedup();
        prop_assert_eq!(placed.len(), count);
        let expected: BTreeSet<&str> = r.tests.iter().map(|t| t.id.as_str()).collect();
        prop_assert_eq!(placed, expected.into_iter().collect::<Vec<_>>());
        for shard in &p.shards {
            prop_assert!(shard.tests.windows(2).all(|w| w[0] < w[1]));
        }
    }

    #[test]
    fn input_order_does_not_matter(
        (r, shuffled) in arbitrary_request().prop_flat_map(|r| {
            let tests = r.tests.clone();
            (Just(r), Just(tests).prop_shuffle())
        })
    ) {
        let other = PlanRequest { tests: shuffled, ..r.clone() };
        prop_assert_eq!(plan(&r), plan(&other));
    }

    #[test]
    fn loads_bounds_and_structure_hold(r in arbitrary_request()) {
        let p = plan(&r);
        prop_assert_eq!(p.shards.len(), p.total);
        prop_assert_eq!(loads(&p), recomputed_loads(&r, &p));
        prop_assert_eq!(p.makespan_micros, loads(&p).into_iter().max().unwrap_or(0));
        prop_assert!(p.makespan_micros >= p.lower_bound_micros);
        prop_assert!(p.makespan_micros <= plain_lpt_makespan(&r));
        if unit_count(&r, &p) >= p.total {
            prop_assert!(p.shards.iter().all(|s| !s.tests.is_empty()));
        }
        let shard = shard_of(&p);
        // Of duplicated ids only the kept variant binds, so check the canonical tests.
        let prep = Prepared::new(&r);
        let mut home: HashMap<(bool, u32), usize> = HashMap::new();
        for (t, id) in prep.ids.iter().enumerate() {
            let s = shard[id];
            if prep.group_of[t] != NONE {
                prop_assert_eq!(*home.entry((true, prep.group_of[t])).or_insert(s), s);
            } else if r.granularity == Granularity::File {
                prop_assert_eq!(*home.entry((false, prep.file_of[t])).or_insert(s), s);
            }
        }
    }

    #[test]
    fn choose_total_is_minimal(r in arbitrary_request(), target in 0u64..20_000, overhead in 0u64..500) {
        let c = choose_total(&r, target, overhead, 12);
        prop_assert_eq!(c.reachable, c.reason.is_none());
        prop_assert_eq!(c.plan.total, c.total);
        if c.reachable {
            prop_assert!(c.plan.makespan_micros + overhead <= target);
            for smaller in 1..c.total {
                let p = plan(&PlanRequest { total: smaller, ..r.clone() });
                prop_assert!(p.makespan_micros + overhead > target);
            }
        } else {
            for total in 1..=12 {
                let p = plan(&PlanRequest { total, ..r.clone() });
                prop_assert!(p.makespan_micros + overhead > target);
            }
        }
    }
}
