//! Between the passes: joins suites of the same identity, groups testcases of the same
//! identity and decides, per [`RetryPolicy`], which one is written and what is folded into it,
//! then recounts every suite's counters from what will be written.

use super::RetryPolicy;
use super::index::{Case, Counts, HAS_FLAKY, HAS_RERUN, Hash, Index, NONE, hash, hash_bytes};
use crate::junit::Outcome;
use crate::timings::hash::{IdHasher, IdMap};

/// [`Case::role`]: written as it is (also the default for a testcase without retries).
pub(super) const SINGLE: u8 = 0;
/// [`Case::role`]: written, with the other attempts of its group folded in.
pub(super) const LEADER: u8 = 1;
/// [`Case::role`]: not written alone; its failures and attempts are folded into the leader.
pub(super) const FOLDED: u8 = 2;
/// [`Case::role`]: not written, nothing of it kept.
pub(super) const DROPPED: u8 = 3;
/// Mask of the role values above.
pub(super) const ROLE: u8 = 3;
/// [`Case::role`] bit: the first attempt of a group, where the group is written.
pub(super) const GROUP_FIRST: u8 = 0x10;
/// [`Case::role`] bit: a leader that passed and has failed attempts (a flaky test).
pub(super) const FLAKY: u8 = 0x20;

/// A suite of the output: every input suite of one identity.
#[derive(Debug, Default)]
pub(super) struct MergedSuite {
    /// The enclosing merged suite ([`NONE`] for the root).
    pub(super) parent: u32,
    /// The input suites joined here, in input order.
    pub(super) members: Vec<u32>,
    /// The merged suites inside, in order of first appearance.
    pub(super) children: Vec<u32>,
    /// Its counters, recounted from what is written.
    pub(super) counts: Counts,
}

/// What grouping decided.
pub(super) struct Plan {
    /// The suites to write; `[0]` is the `<testsuites>` root.
    pub(super) merged: Vec<MergedSuite>,
    pub(super) retries_collapsed: usize,
    pub(super) skips_dropped: usize,
    pub(super) notes: Vec<String>,
}

impl Plan {
    /// The root's counters.
    pub(super) fn root_counts(&self) -> Counts {
        self.merged
            .first()
            .map(|root| root.counts)
            .unwrap_or_default()
    }
}

/// Joins suites, groups retries (setting [`Case::role`] and [`Case::next`]) and recounts.
pub(super) fn plan(index: &mut Index, policy: RetryPolicy) -> Plan {
    // At most one merged suite per input suite, plus the root: sized once.
    let mut merged = Vec::with_capacity(index.suites.len() + 1);
    merged.push(MergedSuite {
        parent: NONE,
        ..MergedSuite::default()
    });
    let mut plan = Plan {
        merged,
        retries_collapsed: 0,
        skips_dropped: 0,
        notes: Vec::new(),
    };
    let chains = join_suites(index, &mut plan);
    for case in &mut index.cases {
        case.hash = hash(&[
            &hash_bytes(&chains[case.suite as usize]),
            &hash_bytes(&case.hash),
        ]);
    }
    drop(chains);
    if policy != RetryPolicy::Keep {
        group(&mut index.cases, policy, &mut plan);
    }
    recount(index, &mut plan);
    plan
}

/// Assigns every input suite to a merged suite; returns each input suite's identity.
fn join_suites(index: &mut Index, plan: &mut Plan) -> Vec<Hash> {
    let root_identity = hash(&[b"testsuites"]);
    let mut chains: Vec<Hash> = Vec::with_capacity(index.suites.len());
    let mut by_identity: IdMap<Hash, u32> =
        IdMap::with_capacity_and_hasher(index.suites.len() + 1, IdHasher::default());
    by_identity.insert(root_identity, 0);
    for number in 0..index.suites.len() {
        let suite = &index.suites[number];
        let (identity, parent) = if suite.parent == NONE {
            (root_identity, NONE)
        } else {
            let parent_chain = hash_bytes(&chains[suite.parent as usize]);
            let name = hash_bytes(&suite.name);
            let identity = match suite.hostname {
                Some(host) if index.hostname_is_project[suite.input as usize] => {
                    hash(&[b"suite", &parent_chain, &name, &hash_bytes(&host)])
                }
                _ => hash(&[b"suite", &parent_chain, &name]),
            };
            (identity, index.suites[suite.parent as usize].merged)
        };
        chains.push(identity);
        let next = plan.merged.len() as u32;
        let merged = *by_identity.entry(identity).or_insert(next);
        if merged == next {
            plan.merged.push(MergedSuite {
                parent,
                ..MergedSuite::default()
            });
            plan.merged[parent as usize].children.push(merged);
        }
        plan.merged[merged as usize].members.push(number as u32);
        index.suites[number].merged = merged;
    }
    chains
}

/// Groups testcases of the same identity and decides what each one becomes.
fn group(cases: &mut [Case], policy: RetryPolicy, plan: &mut Plan) {
    // Sorting 8-byte keys (the hash's top 32 bits, then the index) is cache-friendly where
    // sorting indices by a lookup is not; equal prefixes are then told apart by the full hash.
    let mut keys: Vec<u64> = cases
        .iter()
        .enumerate()
        .map(|(number, case)| (case.hash[0] >> 32 << 32) | number as u64)
        .collect();
    keys.sort_unstable();
    let mut end = 0;
    let mut run = Vec::new();
    while end < keys.len() {
        let begin = end;
        let prefix = keys[begin] >> 32;
        while end < keys.len() && keys[end] >> 32 == prefix {
            end += 1;
        }
        if end - begin < 2 {
            continue;
        }
        let mut same_prefix: Vec<u32> = keys[begin..end].iter().map(|&key| key as u32).collect();
        same_prefix.sort_by_key(|&number| (cases[number as usize].hash, number));
        let mut at = 0;
        while at < same_prefix.len() {
            let identity = cases[same_prefix[at] as usize].hash;
            run.clear();
            while at < same_prefix.len() && cases[same_prefix[at] as usize].hash == identity {
                run.push(same_prefix[at]);
                at += 1;
            }
            decide(cases, &run, policy, plan);
        }
    }
}

/// Decides what each testcase of `run`, the attempts of one identity in input order, becomes.
fn decide(cases: &mut [Case], run: &[u32], policy: RetryPolicy, plan: &mut Plan) {
    if run.len() < 2 {
        return;
    }
    for pair in run.windows(2) {
        cases[pair[0] as usize].next = pair[1];
    }
    let ran = |number: &&u32| cases[**number as usize].outcome != Outcome::Skipped;
    let any_ran = run.iter().any(|number| ran(&number));
    let last_passed = run
        .iter()
        .rev()
        .find(|&&number| cases[number as usize].outcome == Outcome::Passed);
    let last_ran = run.iter().rev().find(ran);
    let leader = match policy {
        RetryPolicy::Collapse => last_passed.or(last_ran),
        RetryPolicy::Last | RetryPolicy::Keep => last_ran,
    }
    .or(run.last())
    .copied()
    .unwrap_or(run[0]);
    let mut flaky = false;
    for &number in run {
        let case = &mut cases[number as usize];
        if number == leader {
            case.role = LEADER;
            continue;
        }
        let skipped_here = any_ran && case.outcome == Outcome::Skipped;
        if skipped_here {
            plan.skips_dropped += 1;
        } else {
            plan.retries_collapsed += 1;
        }
        let attempts = case.flags & (HAS_FLAKY | HAS_RERUN) != 0;
        let failed = case.outcome.is_failure();
        case.role = if policy == RetryPolicy::Collapse && (attempts || (failed && !skipped_here)) {
            flaky = true;
            FOLDED
        } else {
            DROPPED
        };
    }
    cases[run[0] as usize].role |= GROUP_FIRST;
    let leader = &mut cases[leader as usize];
    if leader.outcome == Outcome::Passed && (flaky || leader.flags & HAS_FLAKY != 0) {
        leader.role |= FLAKY;
    }
}

/// Counts every written testcase into its merged suite, adds the counters of suites that have
/// only counters, and sums children into parents.
fn recount(index: &Index, plan: &mut Plan) {
    let mut assertions = index.assertions.iter().peekable();
    for (number, case) in index.cases.iter().enumerate() {
        let assertions = match assertions.next_if(|&&(with, _)| with as usize == number) {
            Some(&(_, count)) => count,
            None => NONE,
        };
        let role = case.role & ROLE;
        if role != SINGLE && role != LEADER {
            continue;
        }
        let flaky = if role == LEADER {
            case.role & FLAKY != 0
        } else {
            case.outcome == Outcome::Passed && case.flags & HAS_FLAKY != 0
        };
        let merged = index.suites[case.suite as usize].merged;
        plan.merged[merged as usize]
            .counts
            .add_case(case, flaky, assertions);
    }
    for suite in &index.suites {
        if let Some(counts) = &suite.counters_only {
            plan.merged[suite.merged as usize].counts.add(counts);
        }
    }
    for merged in &plan.merged {
        let counters_only = merged
            .members
            .iter()
            .filter(|&&member| index.suites[member as usize].counters_only.is_some())
            .count();
        let has_content = merged.members.iter().any(|&member| {
            let suite = &index.suites[member as usize];
            suite.counters_only.is_none() && suite.tag.is_some()
        });
        if counters_only > 0 && has_content {
            plan.notes.push(format!(
                "a suite has testcases in some inputs and only counters in {counters_only} others; \
                 both are counted, so its counters exceed its testcases"
            ));
        }
    }
    for number in (1..plan.merged.len()).rev() {
        let counts = plan.merged[number].counts;
        let parent = plan.merged[number].parent as usize;
        plan.merged[parent].counts.add(&counts);
    }
}
