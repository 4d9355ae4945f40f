//! Which tests each worker process runs, and when: the scheduler (pure, no processes, no clock).
//!
//! Work is a queue of units (whole files, parts of files, or single tests) ordered longest first
//! by their estimated seconds. A free worker takes a batch from the head whose estimate is a
//! share of what remains (`remaining / (2 × workers)`, never below a floor), so early batches are
//! large (few process starts, imports paid once) and late ones small (the tail balances).
//!
//! Around that queue: the catch-all batch for test files the history does not know, batches with
//! constraints (an `xdist_group` in one process, named groups under a concurrency limit, serial
//! tests that run alone after everything else), retries in fresh processes, and requeued
//! remainders of batches whose process died. `static` mode instead gives each worker one fixed
//! batch: the files whose path hashes to it.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use super::protocol::{BatchSpec, CatchAll, Defer, FileRule, Slices};
use crate::identity::file_key;

/// pytest-xdist's distribution modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DistMode {
    /// Dynamic batches; large files may be split by test.
    #[default]
    Load,
    /// A file's tests always run in one process.
    LoadFile,
    /// A module's or class's tests always run in one process.
    LoadScope,
    /// Like `load`, and each `xdist_group` runs in one process, in order.
    LoadGroup,
    /// Like `load` with a smaller tail, so idle workers pick up more, shorter batches.
    WorkSteal,
    /// One fixed batch per worker, chosen by file path alone: the same on every run.
    Static,
}

impl DistMode {
    /// Splits a file into units of this mode's smallest indivisible piece.
    fn scope_of(self, id: &str) -> &str {
        match self {
            DistMode::LoadScope => {
                // `file.py::Class::test[param]` -> `file.py::Class`; `file.py::test` -> `file.py`.
                let mut parts = id.splitn(3, "::");
                let file = parts.next().unwrap_or(id);
                match (parts.next(), parts.next()) {
                    (Some(class), Some(_)) => &id[..file.len() + 2 + class.len()],
                    _ => file,
                }
            }
            DistMode::Load | DistMode::LoadGroup | DistMode::WorkSteal => id,
            DistMode::LoadFile | DistMode::Static => file_key(id),
        }
    }
}

/// One test with its estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimated {
    /// Runnable id.
    pub id: String,
    /// Estimated seconds.
    pub seconds: f64,
}

/// The tests of one file rxdist knows about.
#[derive(Debug, Clone, PartialEq)]
pub struct FileWork {
    /// The file (a node id's path part).
    pub file: String,
    /// Its known tests, in collection (or history) order.
    pub tests: Vec<Estimated>,
    /// Fixed cost of the file (imports, module fixtures), paid once per process that runs it.
    pub setup_seconds: f64,
    /// Whether the file may hold tests rxdist does not know (its list came from the history,
    /// not from a collection); whole-file batches then run them, and split files use
    /// "all but the ids other batches run".
    pub open: bool,
    /// Ids of this open file that other shards run (the file is split across shards and this
    /// shard owns its unknown tests).
    pub excluded: Vec<String>,
}

/// A queue entry: part or all of one file.
#[derive(Debug, Clone, PartialEq)]
struct Unit {
    file: String,
    /// `None`: the whole file.
    ids: Option<Vec<String>>,
    /// The ids rxdist knows the unit holds (for a whole open file, the history's).
    known: Vec<String>,
    /// For a whole open file: ids of it that other shards run.
    excluded: Vec<String>,
    seconds: f64,
}

/// What a batch runs: these files, each whole or restricted, and possibly the files the history
/// does not know (the catch-all rides along with the first batch instead of costing a process).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Selection {
    /// Files, each whole (`None`) or restricted.
    pub files: BTreeMap<String, Option<FileRule>>,
    /// Files the history does not know.
    pub catch_all: Option<CatchAll>,
}

impl Selection {
    fn files(files: BTreeMap<String, Option<FileRule>>) -> Self {
        Selection {
            files,
            catch_all: None,
        }
    }
}

/// One process's worth of work.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Sequence number, from 0, in dispatch order.
    pub id: usize,
    /// What it runs.
    pub selection: Selection,
    /// The test ids rxdist knows it contains (a whole file may hold more).
    pub known_ids: Vec<String>,
    /// Estimated seconds.
    pub predicted_seconds: f64,
    /// 1 for a first attempt, 2 for the first retry...
    pub attempt: u32,
    /// Runs with nothing else running (serial tests).
    pub exclusive: bool,
    /// Concurrency groups it holds a place in while it runs.
    pub groups: Vec<String>,
    /// Whether the plugin should set serial and grouped tests aside.
    pub defer: bool,
    /// The worker this batch must run on (`static` mode).
    pub slot: Option<usize>,
}

impl Batch {
    /// The spec the plugin reads.
    pub fn spec(
        &self,
        events: std::path::PathBuf,
        defer: Option<&Defer>,
        maxfail: Option<usize>,
        coverage: bool,
    ) -> BatchSpec {
        // A catch-all batch with no files of its own names no `files` at all, so that every
        // file not known to the history is collected.
        let files = if self.selection.files.is_empty() && self.selection.catch_all.is_some() {
            None
        } else {
            Some(self.selection.files.clone())
        };
        BatchSpec {
            events,
            files,
            catch_all: self.selection.catch_all.clone(),
            defer: if self.defer { defer.cloned() } else { None },
            maxfail,
            coverage,
        }
    }
}

/// A batch that must wait for its constraints, before it gets an id.
#[derive(Debug, Clone, PartialEq)]
struct Pending {
    ids: Vec<String>,
    seconds: f64,
    attempt: u32,
    exclusive: bool,
    groups: Vec<String>,
    slot: Option<usize>,
}

/// Tuning knobs.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleOptions {
    /// Worker processes that run at once.
    pub workers: usize,
    /// Distribution mode.
    pub mode: DistMode,
    /// The smallest batch worth a process start, in estimated seconds.
    pub min_batch_seconds: f64,
    /// Concurrency limit of each named group.
    pub group_limits: BTreeMap<String, usize>,
    /// The catch-all batch for files the history does not know: `known` must list every
    /// known file of every shard, not only this shard's.
    pub catch_all: Option<CatchAll>,
    /// `(index, total)` of this shard: `static` mode hashes files over every worker of every
    /// shard.
    pub shard: (usize, usize),
    /// Share of the remaining work one round of batches takes (a batch is
    /// `remaining × share / workers`): large when the estimates are good (few process starts),
    /// smaller when they are guesses (a balanced tail matters more).
    pub round_share: f64,
    /// With no history and no collection: cut the unknown files into this many slices (by
    /// path hash) and hand them out like queue units, through the catch-all. 0: off.
    pub slices: usize,
}

/// What is running, as far as constraints are concerned.
#[derive(Debug, Clone, Default)]
pub struct Running {
    /// Batches running.
    pub batches: usize,
    /// Whether an exclusive batch is running.
    pub exclusive: bool,
    /// Running batches per group.
    pub groups: HashMap<String, usize>,
}

/// The scheduler's state.
#[derive(Debug)]
pub struct Scheduler {
    options: ScheduleOptions,
    queue: VecDeque<Unit>,
    remaining_seconds: f64,
    /// Split open files: units not yet dispatched, and ids dispatched so far.
    split_open: HashMap<String, (usize, Vec<String>)>,
    catch_all: Option<CatchAll>,
    /// Slices of unknown files not yet dispatched, and the catch-all they ride on.
    slices: VecDeque<usize>,
    slice_template: Option<CatchAll>,
    /// Catch-alls of stopped batches, to name their tests as not run.
    unnamed: Vec<CatchAll>,
    constrained: VecDeque<Pending>,
    serial: Vec<(String, u32)>,
    urgent: VecDeque<Pending>,
    next_id: usize,
    /// Deferred tests already scheduled, so a test reported twice runs once.
    deferred_seen: BTreeSet<String>,
}

impl Scheduler {
    /// Builds the queue. `files` in any order; the result does not depend on it.
    pub fn new(mut files: Vec<FileWork>, options: ScheduleOptions) -> Scheduler {
        files.sort_by(|a, b| a.file.cmp(&b.file));
        let workers = options.workers.max(1);
        let mut units = Vec::new();
        let total: f64 = files
            .iter()
            .map(|file| file.setup_seconds + file.tests.iter().map(|t| t.seconds).sum::<f64>())
            .sum();
        // A file longer than this share is split (where the mode allows) so it cannot become the
        // tail on its own.
        let split_above = total / (4 * workers) as f64;
        let mut split_open = HashMap::new();
        let static_mode = options.mode == DistMode::Static;
        for file in files {
            let seconds: f64 =
                file.setup_seconds + file.tests.iter().map(|t| t.seconds).sum::<f64>();
            let splittable = !matches!(options.mode, DistMode::LoadFile | DistMode::Static);
            if static_mode {
                continue;
            }
            if !splittable || seconds <= split_above || file.tests.len() < 2 {
                let known: Vec<String> = file.tests.iter().map(|t| t.id.clone()).collect();
                let ids = if file.open { None } else { Some(known.clone()) };
                units.push(Unit {
                    file: file.file,
                    ids,
                    known,
                    excluded: file.excluded,
                    seconds,
                });
                continue;
            }
            let mut scopes: Vec<(String, Vec<String>, f64)> = Vec::new();
            for test in &file.tests {
                let scope = options.mode.scope_of(&test.id);
                match scopes.last_mut() {
                    Some((last, ids, secs)) if last == scope => {
                        ids.push(test.id.clone());
                        *secs += test.seconds;
                    }
                    _ => scopes.push((scope.to_owned(), vec![test.id.clone()], test.seconds)),
                }
            }
            let share = file.setup_seconds / scopes.len() as f64;
            if file.open {
                split_open.insert(file.file.clone(), (scopes.len(), file.excluded.clone()));
            }
            for (_, ids, secs) in scopes {
                units.push(Unit {
                    file: file.file.clone(),
                    known: ids.clone(),
                    ids: Some(ids),
                    excluded: Vec::new(),
                    seconds: secs + share,
                });
            }
        }
        units.sort_by(|a, b| {
            b.seconds
                .total_cmp(&a.seconds)
                .then_with(|| a.file.cmp(&b.file))
                .then_with(|| a.ids.cmp(&b.ids))
        });
        let remaining_seconds = units.iter().map(|unit| unit.seconds).sum();
        let catch_all = options.catch_all.clone();
        let mut scheduler = Scheduler {
            options,
            queue: units.into(),
            remaining_seconds,
            split_open,
            catch_all,
            slices: VecDeque::new(),
            slice_template: None,
            unnamed: Vec::new(),
            constrained: VecDeque::new(),
            serial: Vec::new(),
            urgent: VecDeque::new(),
            next_id: 0,
            deferred_seen: BTreeSet::new(),
        };
        if static_mode {
            scheduler.catch_all = None;
        }
        if scheduler.options.slices > 0 && !static_mode {
            scheduler.slices = (0..scheduler.options.slices).collect();
            scheduler.slice_template = scheduler.catch_all.take().or_else(|| {
                Some(CatchAll {
                    known: Vec::new(),
                    bucket: None,
                    slices: None,
                })
            });
        }
        scheduler
    }

    /// Adds tests that must run under constraints: serial ones, an `xdist_group` (one batch, in
    /// the given order), or members of concurrency groups. Tests already added are ignored.
    pub fn add_constrained(&mut self, tests: Vec<ConstrainedTest>) {
        let mut xdist_groups: BTreeMap<String, Vec<Estimated>> = BTreeMap::new();
        let mut limited: BTreeMap<Vec<String>, Vec<Estimated>> = BTreeMap::new();
        for test in tests {
            if !self.deferred_seen.insert(test.test.id.clone()) {
                continue;
            }
            if test.serial {
                self.serial.push((test.test.id, 1));
            } else if let Some(group) = test.xdist_group {
                xdist_groups.entry(group).or_default().push(test.test);
            } else {
                let mut groups = test.groups;
                groups.sort();
                groups.dedup();
                limited.entry(groups).or_default().push(test.test);
            }
        }
        for (_, tests) in xdist_groups {
            self.constrained.push_back(Pending {
                seconds: tests.iter().map(|t| t.seconds).sum(),
                ids: tests.into_iter().map(|t| t.id).collect(),
                attempt: 1,
                exclusive: false,
                groups: Vec::new(),
                slot: None,
            });
        }
        let workers = self.options.workers.max(1);
        for (groups, tests) in limited {
            let limit = groups
                .iter()
                .filter_map(|g| self.options.group_limits.get(g).copied())
                .min()
                .unwrap_or(workers)
                .clamp(1, workers);
            // As many batches as may run at once, each a contiguous run of the tests.
            let per = tests.len().div_ceil(limit);
            for chunk in tests.chunks(per.max(1)) {
                self.constrained.push_back(Pending {
                    ids: chunk.iter().map(|t| t.id.clone()).collect(),
                    seconds: chunk.iter().map(|t| t.seconds).sum(),
                    attempt: 1,
                    exclusive: false,
                    groups: groups.clone(),
                    slot: None,
                });
            }
        }
        let mut sorted: Vec<Pending> = self.constrained.drain(..).collect();
        sorted.sort_by(|a, b| b.seconds.total_cmp(&a.seconds).then(a.ids.cmp(&b.ids)));
        self.constrained = sorted.into();
    }

    /// Runs `ids` again in a fresh process (a retry, or the rest of a batch whose process
    /// died), before any other work, keeping the constraints of the batch they came from.
    pub fn requeue(&mut self, ids: Vec<String>, attempt: u32, from: &Batch) {
        if ids.is_empty() {
            return;
        }
        if from.exclusive {
            self.serial.extend(ids.into_iter().map(|id| (id, attempt)));
            return;
        }
        self.urgent.push_back(Pending {
            ids,
            seconds: 0.0,
            attempt,
            exclusive: false,
            groups: from.groups.clone(),
            slot: from.slot,
        });
    }

    /// Whether this is `static` mode (one fixed batch per worker, see [`Scheduler::static_batch`]).
    pub fn is_static(&self) -> bool {
        self.options.mode == DistMode::Static
    }

    /// Tests known before anything ran.
    pub fn known_tests(&self) -> usize {
        self.queue
            .iter()
            .map(|unit| unit.known.len())
            .sum::<usize>()
            + self.constrained.iter().map(|p| p.ids.len()).sum::<usize>()
            + self.serial.len()
    }

    /// The most batches that could ever run at once: one per queued unit, constrained batch
    /// and requeue, the catch-all, and the serial batch (at least 1).
    pub fn max_concurrency(&self) -> usize {
        (self.queue.len()
            + self.slices.len()
            + self.constrained.len()
            + self.urgent.len()
            + usize::from(self.catch_all.is_some())
            + usize::from(!self.serial.is_empty()))
        .max(1)
    }

    /// Whether anything is left to dispatch.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
            && self.slices.is_empty()
            && self.catch_all.is_none()
            && self.constrained.is_empty()
            && self.serial.is_empty()
            && self.urgent.is_empty()
    }

    /// Everything not yet dispatched, as known ids (for "not run" reporting; a whole file
    /// from the history counts the tests the history knows).
    pub fn drain_not_run(&mut self) -> Vec<String> {
        let mut ids = Vec::new();
        for unit in self.queue.drain(..) {
            ids.extend(unit.known);
        }
        for pending in self.constrained.drain(..).chain(self.urgent.drain(..)) {
            ids.extend(pending.ids);
        }
        ids.extend(self.serial.drain(..).map(|(id, _)| id));
        self.catch_all = None;
        self.slices.clear();
        ids
    }

    /// Takes back the catch-all of a batch that was stopped before it said what it collected,
    /// so that the tests of its unknown files can still be named (see
    /// [`Scheduler::take_unnamed`]).
    pub fn give_back_unnamed(&mut self, batch: &Batch) {
        let Some(catch_all) = &batch.selection.catch_all else {
            return;
        };
        match &catch_all.slices {
            Some(Slices { take, .. }) => self.slices.extend(take.iter().copied()),
            None => self.unnamed.push(catch_all.clone()),
        }
    }

    /// The catch-alls whose tests nobody collected: slices never handed out, the catch-all
    /// for unknown files if it never ran, and those given back. For "not run" reporting.
    pub fn take_unnamed(&mut self) -> Vec<CatchAll> {
        let mut unnamed = std::mem::take(&mut self.unnamed);
        unnamed.extend(self.catch_all.take());
        if !self.slices.is_empty()
            && let Some(mut catch_all) = self.slice_template.clone()
        {
            let mut take: Vec<usize> = self.slices.drain(..).collect();
            take.sort_unstable();
            catch_all.slices = Some(Slices {
                of: self.options.slices,
                take,
            });
            unnamed.push(catch_all);
        }
        unnamed
    }

    /// The static mode's batch for `slot`: every file whose path hashes to it.
    pub fn static_batch(&mut self, slot: usize) -> Batch {
        let id = self.next_id;
        self.next_id += 1;
        Batch {
            id,
            selection: Selection {
                files: BTreeMap::new(),
                catch_all: Some(CatchAll {
                    known: Vec::new(),
                    bucket: Some(static_bucket(
                        self.options.shard,
                        slot,
                        self.options.workers,
                    )),
                    slices: None,
                }),
            },
            known_ids: Vec::new(),
            predicted_seconds: 0.0,
            attempt: 1,
            exclusive: false,
            groups: Vec::new(),
            defer: true,
            slot: Some(slot),
        }
    }

    /// The next batch for a free worker `slot`, given what runs now; `None` when nothing may
    /// start now (wait for a batch to finish) or nothing is left.
    pub fn next(&mut self, slot: usize, running: &Running) -> Option<Batch> {
        if running.exclusive {
            return None;
        }
        if let Some(index) = self
            .urgent
            .iter()
            .position(|p| p.slot.is_none_or(|s| s == slot) && self.fits(&p.groups, running))
        {
            let pending = self.urgent.remove(index).expect("index is in range");
            return Some(self.pending_batch(pending, false));
        }
        if self.queue.is_empty()
            && let Some(catch_all) = self.catch_all.take()
        {
            let selection = Selection {
                files: BTreeMap::new(),
                catch_all: Some(catch_all),
            };
            return Some(self.make(selection, Vec::new(), 0.0, BatchShape::first_attempt()));
        }
        if let Some(index) = self
            .constrained
            .iter()
            .position(|p| self.fits(&p.groups, running))
        {
            let pending = self.constrained.remove(index).expect("index is in range");
            return Some(self.pending_batch(pending, false));
        }
        if !self.queue.is_empty() {
            return Some(self.take_from_queue());
        }
        if !self.slices.is_empty() {
            return Some(self.take_slices());
        }
        if running.batches == 0 && !self.serial.is_empty() && self.constrained.is_empty() {
            // Serial tests, one process, alone; retries of serial tests come back here.
            let attempt = self.serial.iter().map(|(_, a)| *a).min().unwrap_or(1);
            let (ids, rest): (Vec<_>, Vec<_>) =
                self.serial.drain(..).partition(|(_, a)| *a == attempt);
            self.serial = rest;
            let pending = Pending {
                ids: ids.into_iter().map(|(id, _)| id).collect(),
                seconds: 0.0,
                attempt,
                exclusive: true,
                groups: Vec::new(),
                slot: None,
            };
            return Some(self.pending_batch(pending, true));
        }
        None
    }

    fn fits(&self, groups: &[String], running: &Running) -> bool {
        groups.iter().all(|group| {
            let limit = self
                .options
                .group_limits
                .get(group)
                .copied()
                .unwrap_or(usize::MAX);
            running.groups.get(group).copied().unwrap_or(0) < limit
        })
    }

    /// The share of the remaining work a batch takes now.
    fn share(&self) -> f64 {
        let mut share = self.options.round_share / self.options.workers.max(1) as f64;
        if self.options.mode == DistMode::WorkSteal {
            share /= 2.0;
        }
        share
    }

    fn take_slices(&mut self) -> Batch {
        let count = ((self.slices.len() as f64 * self.share()).round() as usize)
            .clamp(1, self.slices.len());
        let mut take: Vec<usize> = self.slices.drain(..count).collect();
        take.sort_unstable();
        let mut catch_all = self
            .slice_template
            .clone()
            .expect("slices always have a template");
        catch_all.slices = Some(Slices {
            of: self.options.slices,
            take,
        });
        let selection = Selection {
            files: BTreeMap::new(),
            catch_all: Some(catch_all),
        };
        self.make(selection, Vec::new(), 0.0, BatchShape::first_attempt())
    }

    fn take_from_queue(&mut self) -> Batch {
        let mut floor = self.options.min_batch_seconds;
        if self.options.mode == DistMode::WorkSteal {
            floor /= 2.0;
        }
        let target = (self.remaining_seconds * self.share()).max(floor);
        let mut taken: Vec<Unit> = Vec::new();
        let mut seconds = 0.0;
        while let Some(unit) = self.queue.front() {
            if !taken.is_empty() && seconds + unit.seconds > target {
                // Look further down for smaller units that still fit; the head waits.
                break;
            }
            let unit = self.queue.pop_front().expect("front exists");
            seconds += unit.seconds;
            taken.push(unit);
        }
        if seconds < target {
            // Fill the rest of the batch from the short end of the queue.
            while let Some(unit) = self.queue.back() {
                if seconds + unit.seconds > target {
                    break;
                }
                let unit = self.queue.pop_back().expect("back exists");
                seconds += unit.seconds;
                taken.push(unit);
            }
        }
        self.remaining_seconds = (self.remaining_seconds - seconds).max(0.0);
        let mut files: BTreeMap<String, Option<FileRule>> = BTreeMap::new();
        let mut known_ids = Vec::new();
        for unit in taken {
            known_ids.extend(unit.known);
            let Some(ids) = unit.ids else {
                let rule = if unit.excluded.is_empty() {
                    None
                } else {
                    Some(FileRule::Except(unit.excluded))
                };
                files.insert(unit.file, rule);
                continue;
            };
            let entry = files
                .entry(unit.file.clone())
                .or_insert_with(|| Some(FileRule::Only(Vec::new())));
            if let Some(FileRule::Only(existing)) = entry {
                existing.extend(ids.iter().cloned());
            }
            if let Some((left, dispatched)) = self.split_open.get_mut(&unit.file) {
                *left -= 1;
                if *left == 0 {
                    // The file's last part: run everything but what other batches run, so
                    // tests added since the history was recorded run here, exactly once.
                    let mine: BTreeSet<&String> = match entry {
                        Some(FileRule::Only(existing)) => existing.iter().collect(),
                        _ => BTreeSet::new(),
                    };
                    let others = std::mem::take(dispatched)
                        .into_iter()
                        .filter(|id| !mine.contains(id))
                        .collect();
                    *entry = Some(FileRule::Except(others));
                } else {
                    dispatched.extend(ids);
                }
            }
        }
        let selection = Selection {
            files,
            // Unknown files run early, with the first (largest) batch, so a slow new test
            // cannot become the tail.
            catch_all: self.catch_all.take(),
        };
        self.make(selection, known_ids, seconds, BatchShape::first_attempt())
    }

    fn pending_batch(&mut self, pending: Pending, exclusive: bool) -> Batch {
        let mut files: BTreeMap<String, Option<FileRule>> = BTreeMap::new();
        for id in &pending.ids {
            let entry = files
                .entry(file_key(id).to_owned())
                .or_insert(Some(FileRule::Only(Vec::new())));
            if let Some(FileRule::Only(ids)) = entry {
                ids.push(id.clone());
            }
        }
        let shape = BatchShape {
            attempt: pending.attempt,
            exclusive: exclusive || pending.exclusive,
            groups: pending.groups,
            defer: false,
            slot: pending.slot,
        };
        self.make(Selection::files(files), pending.ids, pending.seconds, shape)
    }

    fn make(
        &mut self,
        selection: Selection,
        known_ids: Vec<String>,
        predicted_seconds: f64,
        shape: BatchShape,
    ) -> Batch {
        let id = self.next_id;
        self.next_id += 1;
        Batch {
            id,
            selection,
            known_ids,
            predicted_seconds,
            attempt: shape.attempt,
            exclusive: shape.exclusive,
            groups: shape.groups,
            defer: shape.defer,
            slot: shape.slot,
        }
    }
}

/// Worker `slot` of shard `index` of `total` owns bucket `index * workers + slot` of
/// `total * workers`, so every file belongs to exactly one worker of one shard.
fn static_bucket((index, total): (usize, usize), slot: usize, workers: usize) -> (usize, usize) {
    let workers = workers.max(1);
    (index * workers + slot, total.max(1) * workers)
}

struct BatchShape {
    attempt: u32,
    exclusive: bool,
    groups: Vec<String>,
    defer: bool,
    slot: Option<usize>,
}

impl BatchShape {
    fn first_attempt() -> Self {
        BatchShape {
            attempt: 1,
            exclusive: false,
            groups: Vec::new(),
            defer: true,
            slot: None,
        }
    }
}

/// A test that runs under a constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct ConstrainedTest {
    /// The test and its estimate.
    pub test: Estimated,
    /// Runs alone.
    pub serial: bool,
    /// Its `xdist_group` (under `--dist loadgroup`).
    pub xdist_group: Option<String>,
    /// Its concurrency groups.
    pub groups: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, tests: &[(&str, f64)], open: bool) -> FileWork {
        FileWork {
            file: name.to_owned(),
            tests: tests
                .iter()
                .map(|(id, seconds)| Estimated {
                    id: format!("{name}::{id}"),
                    seconds: *seconds,
                })
                .collect(),
            setup_seconds: 0.0,
            open,
            excluded: Vec::new(),
        }
    }

    fn options(workers: usize, mode: DistMode) -> ScheduleOptions {
        ScheduleOptions {
            workers,
            mode,
            min_batch_seconds: 0.0,
            group_limits: BTreeMap::new(),
            catch_all: None,
            shard: (0, 1),
            round_share: 0.5,
            slices: 0,
        }
    }

    fn drain(scheduler: &mut Scheduler) -> Vec<Batch> {
        let mut batches = Vec::new();
        while let Some(batch) = scheduler.next(0, &Running::default()) {
            batches.push(batch);
        }
        batches
    }

    fn ids_of(batches: &[Batch]) -> Vec<String> {
        let mut ids: Vec<String> = batches.iter().flat_map(|b| b.known_ids.clone()).collect();
        ids.sort();
        ids
    }

    #[test]
    fn every_known_test_is_dispatched_exactly_once() {
        let files = vec![
            file("a.py", &[("t1", 5.0), ("t2", 1.0)], false),
            file("b.py", &[("t1", 0.1)], false),
            file("c.py", &[("t1", 30.0), ("t2", 30.0), ("t3", 0.5)], false),
        ];
        let mut scheduler = Scheduler::new(files, options(2, DistMode::Load));
        let batches = drain(&mut scheduler);
        assert_eq!(
            ids_of(&batches),
            vec![
                "a.py::t1", "a.py::t2", "b.py::t1", "c.py::t1", "c.py::t2", "c.py::t3"
            ]
        );
        assert!(scheduler.is_empty());
    }

    #[test]
    fn batches_shrink_toward_the_end() {
        let tests: Vec<(String, f64)> = (0..200).map(|i| (format!("t{i:03}"), 1.0)).collect();
        let files: Vec<FileWork> = tests
            .iter()
            .map(|(id, s)| file(&format!("{id}.py"), &[("x", *s)], false))
            .collect();
        let mut scheduler = Scheduler::new(files, options(2, DistMode::Load));
        let sizes: Vec<f64> = drain(&mut scheduler)
            .iter()
            .map(|b| b.predicted_seconds)
            .collect();
        assert!((sizes[0] - 50.0).abs() < 1e-9, "{sizes:?}");
        assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
        assert!((sizes.iter().sum::<f64>() - 200.0).abs() < 1e-9);
    }

    #[test]
    fn loadfile_never_splits_a_file() {
        let files = vec![
            file("big.py", &[("a", 50.0), ("b", 50.0)], false),
            file("small.py", &[("a", 1.0)], false),
        ];
        let mut scheduler = Scheduler::new(files, options(2, DistMode::LoadFile));
        let batches = drain(&mut scheduler);
        let big: Vec<&Batch> = batches
            .iter()
            .filter(|b| b.known_ids.iter().any(|id| id.starts_with("big.py")))
            .collect();
        assert_eq!(big.len(), 1);
    }

    #[test]
    fn loadscope_keeps_a_class_together() {
        let files = vec![file(
            "m.py",
            &[
                ("A::t1", 40.0),
                ("A::t2", 40.0),
                ("B::t1", 40.0),
                ("f", 40.0),
            ],
            false,
        )];
        let mut scheduler = Scheduler::new(files, options(4, DistMode::LoadScope));
        let batches = drain(&mut scheduler);
        let with_a: Vec<&Batch> = batches
            .iter()
            .filter(|b| b.known_ids.iter().any(|id| id.starts_with("m.py::A::")))
            .collect();
        assert_eq!(with_a.len(), 1);
        assert_eq!(with_a[0].known_ids.len(), 2);
    }

    #[test]
    fn a_split_open_file_closes_with_all_but_the_ids_others_ran() {
        let files = vec![file(
            "big.py",
            &[("a", 50.0), ("b", 50.0), ("c", 50.0)],
            true,
        )];
        let mut scheduler = Scheduler::new(files, options(4, DistMode::Load));
        let batches = drain(&mut scheduler);
        assert_eq!(batches.len(), 3);
        let rules: Vec<&Option<FileRule>> = batches
            .iter()
            .map(|b| &b.selection.files["big.py"])
            .collect();
        assert!(matches!(rules[0], Some(FileRule::Only(_))));
        assert!(matches!(rules[1], Some(FileRule::Only(_))));
        let Some(FileRule::Except(others)) = rules[2] else {
            panic!("the last part must close the file: {rules:?}");
        };
        assert_eq!(others.len(), 2);
    }

    #[test]
    fn an_open_whole_file_runs_whole() {
        let files = vec![file("a.py", &[("t", 1.0)], true)];
        let mut scheduler = Scheduler::new(files, options(2, DistMode::Load));
        let batches = drain(&mut scheduler);
        assert_eq!(batches[0].selection.files.get("a.py"), Some(&None));
    }

    #[test]
    fn the_catch_all_rides_with_the_first_batch() {
        let mut opts = options(2, DistMode::Load);
        opts.catch_all = Some(CatchAll {
            known: vec!["a.py".into()],
            bucket: Some((1, 3)),
            slices: None,
        });
        let files = vec![file("a.py", &[("t", 1.0)], true)];
        let mut scheduler = Scheduler::new(files, opts);
        let first = scheduler.next(0, &Running::default()).unwrap();
        assert_eq!(
            first.selection.catch_all,
            Some(CatchAll {
                known: vec!["a.py".into()],
                bucket: Some((1, 3)),
                slices: None,
            })
        );
        assert!(first.selection.files.contains_key("a.py"));
        assert!(scheduler.next(0, &Running::default()).is_none());
    }

    #[test]
    fn with_nothing_known_the_catch_all_runs_alone() {
        let mut opts = options(2, DistMode::Load);
        opts.catch_all = Some(CatchAll {
            known: Vec::new(),
            bucket: None,
            slices: None,
        });
        let mut scheduler = Scheduler::new(Vec::new(), opts);
        let only = scheduler.next(0, &Running::default()).unwrap();
        let spec = only.spec("/e".into(), None, None, false);
        assert!(spec.files.is_none());
        assert!(spec.catch_all.is_some());
    }

    #[test]
    fn serial_tests_wait_until_nothing_runs_and_then_run_alone() {
        let mut scheduler = Scheduler::new(
            vec![file("a.py", &[("t", 1.0)], false)],
            options(2, DistMode::Load),
        );
        scheduler.add_constrained(vec![ConstrainedTest {
            test: Estimated {
                id: "s.py::serial".into(),
                seconds: 1.0,
            },
            serial: true,
            xdist_group: None,
            groups: Vec::new(),
        }]);
        let first = scheduler.next(0, &Running::default()).unwrap();
        assert!(!first.exclusive);
        let busy = Running {
            batches: 1,
            ..Running::default()
        };
        assert!(scheduler.next(1, &busy).is_none(), "serial must wait");
        let serial = scheduler.next(0, &Running::default()).unwrap();
        assert!(serial.exclusive);
        assert_eq!(serial.known_ids, vec!["s.py::serial".to_owned()]);
        let exclusive = Running {
            batches: 1,
            exclusive: true,
            ..Running::default()
        };
        assert!(scheduler.next(1, &exclusive).is_none());
    }

    #[test]
    fn an_xdist_group_is_one_batch_in_order() {
        let mut scheduler = Scheduler::new(Vec::new(), options(2, DistMode::LoadGroup));
        let tests = ["g.py::b", "g.py::a", "h.py::c"]
            .iter()
            .map(|id| ConstrainedTest {
                test: Estimated {
                    id: (*id).to_owned(),
                    seconds: 1.0,
                },
                serial: false,
                xdist_group: Some("g".into()),
                groups: Vec::new(),
            })
            .collect();
        scheduler.add_constrained(tests);
        let batches = drain(&mut scheduler);
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].known_ids, vec!["g.py::b", "g.py::a", "h.py::c"]);
    }

    #[test]
    fn group_limits_are_never_exceeded() {
        let mut opts = options(4, DistMode::Load);
        opts.group_limits.insert("db".into(), 1);
        let mut scheduler = Scheduler::new(Vec::new(), opts);
        scheduler.add_constrained(
            (0..6)
                .map(|i| ConstrainedTest {
                    test: Estimated {
                        id: format!("d.py::t{i}"),
                        seconds: 1.0,
                    },
                    serial: false,
                    xdist_group: None,
                    groups: vec!["db".into()],
                })
                .collect(),
        );
        let first = scheduler.next(0, &Running::default()).unwrap();
        assert_eq!(first.groups, vec!["db".to_owned()]);
        let mut running = Running {
            batches: 1,
            ..Running::default()
        };
        running.groups.insert("db".into(), 1);
        assert!(scheduler.next(1, &running).is_none());
    }

    #[test]
    fn requeued_work_goes_first_with_the_next_attempt() {
        let mut scheduler = Scheduler::new(
            vec![file("a.py", &[("t", 1.0)], false)],
            options(1, DistMode::Load),
        );
        let first = scheduler.next(0, &Running::default()).unwrap();
        scheduler.requeue(vec!["a.py::t".into()], 2, &first);
        let retry = scheduler.next(0, &Running::default()).unwrap();
        assert_eq!(retry.attempt, 2);
        assert_eq!(retry.known_ids, vec!["a.py::t".to_owned()]);
    }

    #[test]
    fn static_batches_cover_each_bucket() {
        let mut scheduler = Scheduler::new(Vec::new(), options(3, DistMode::Static));
        let batch = scheduler.static_batch(2);
        assert_eq!(
            batch.selection.catch_all,
            Some(CatchAll {
                known: Vec::new(),
                bucket: Some((2, 3)),
                slices: None,
            })
        );
        assert!(scheduler.is_empty());
    }

    #[test]
    fn slices_are_each_handed_out_once_in_shrinking_batches() {
        let mut opts = options(2, DistMode::Load);
        opts.slices = 32;
        opts.catch_all = Some(CatchAll {
            known: Vec::new(),
            bucket: Some((1, 4)),
            slices: None,
        });
        let mut scheduler = Scheduler::new(Vec::new(), opts);
        let batches = drain(&mut scheduler);
        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        for batch in &batches {
            let catch_all = batch.selection.catch_all.as_ref().unwrap();
            assert_eq!(catch_all.bucket, Some((1, 4)), "the shard's bucket is kept");
            let slices = catch_all.slices.as_ref().unwrap();
            assert_eq!(slices.of, 32);
            sizes.push(slices.take.len());
            seen.extend(slices.take.iter().copied());
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..32).collect::<Vec<_>>());
        assert_eq!(sizes[0], 8);
        assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
        assert!(scheduler.is_empty());
    }

    #[test]
    fn a_stopped_run_names_every_catch_all_nobody_collected() {
        let mut opts = options(2, DistMode::Load);
        opts.slices = 8;
        let mut scheduler = Scheduler::new(Vec::new(), opts);
        let first = scheduler.next(0, &Running::default()).unwrap();
        // The first batch was stopped while importing: its slices come back.
        scheduler.give_back_unnamed(&first);
        let unnamed = scheduler.take_unnamed();
        assert_eq!(unnamed.len(), 1);
        let slices = unnamed[0].slices.as_ref().unwrap();
        assert_eq!(slices.take, (0..8).collect::<Vec<_>>());
        assert!(scheduler.take_unnamed().is_empty());

        let mut opts = options(2, DistMode::Load);
        opts.catch_all = Some(CatchAll {
            known: vec!["a.py".into()],
            bucket: None,
            slices: None,
        });
        let mut scheduler = Scheduler::new(vec![file("a.py", &[("t", 1.0)], true)], opts);
        let unnamed = scheduler.take_unnamed();
        assert_eq!(unnamed.len(), 1, "the catch-all never ran");
        assert!(unnamed[0].slices.is_none());
    }

    #[test]
    fn never_more_workers_than_batches() {
        let scheduler = Scheduler::new(
            vec![
                file("a.py", &[("t", 1.0)], false),
                file("b.py", &[("t", 1.0)], false),
            ],
            options(8, DistMode::Load),
        );
        assert_eq!(scheduler.max_concurrency(), 2);
        let empty = Scheduler::new(Vec::new(), options(8, DistMode::Load));
        assert_eq!(empty.max_concurrency(), 1);
    }

    #[test]
    fn static_buckets_cover_every_worker_of_every_shard_once() {
        let mut seen = BTreeSet::new();
        for index in 0..3 {
            for slot in 0..2 {
                let (bucket, of) = static_bucket((index, 3), slot, 2);
                assert_eq!(of, 6);
                assert!(seen.insert(bucket));
            }
        }
        assert_eq!(seen.len(), 6);
    }

    #[test]
    fn scheduling_does_not_depend_on_input_order() {
        let make = || {
            vec![
                file("a.py", &[("t1", 3.0), ("t2", 1.0)], false),
                file("b.py", &[("t1", 3.0)], false),
                file("c.py", &[("t1", 2.0)], false),
            ]
        };
        let mut reversed = make();
        reversed.reverse();
        let one = drain(&mut Scheduler::new(make(), options(2, DistMode::Load)));
        let two = drain(&mut Scheduler::new(reversed, options(2, DistMode::Load)));
        assert_eq!(one, two);
    }
}
