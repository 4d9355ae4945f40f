//! The run loop: starts batches on free worker slots, follows each process through the events
//! its plugin appends, enforces timeouts, and turns every way a process can end into results.
//!
//! One thread does all of it, polling every few milliseconds: the work per poll is a read of a
//! few small files and a `try_wait` per worker, and with one thread there is one reporter and no
//! locking. Worker output goes to a log file per batch (shown when a process crashes), never to
//! a pipe that could fill up and block the worker.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::process::{self, Stop};
use super::protocol::{
    CatchAll, Defer, Event, EventReader, Finished, PLUGIN_MODULE, PLUGIN_SOURCE,
};
use super::reporter::Reporter;
use super::results::{AttemptResult, Results, Status};
use super::schedule::{Batch, ConstrainedTest, Estimated, Running, Scheduler};
use super::signals::{Cancel, CancelFlag};
use super::template::TemplateRun;

/// How often the loop polls its workers.
const POLL: Duration = Duration::from_millis(5);
/// Time pytest gets after SIGINT to stop on its own, and after SIGTERM before SIGKILL.
const GRACE: Duration = Duration::from_secs(3);

/// Why the executor failed to run at all.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The scratch directory or a batch file could not be written.
    #[error("cannot prepare the worker files in {path}")]
    Scratch {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The test command could not be started.
    #[error("cannot start `{program}`")]
    Spawn {
        /// The program.
        program: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Everything the loop needs besides the scheduler.
#[derive(Debug, Clone)]
pub struct ExecConfig {
    /// The user's command (`pytest ...`).
    pub command: Vec<String>,
    /// Working directory (pytest's rootdir).
    pub cwd: PathBuf,
    /// Worker slots.
    pub workers: usize,
    /// Per-test timeout.
    pub timeout: Option<Duration>,
    /// Whole-run timeout.
    pub global_timeout: Option<Duration>,
    /// Stop after this many final failures (0: never).
    pub maxfail: usize,
    /// Retries of a failed test.
    pub retries: u32,
    /// Worker processes that may die before the rest is reported as not run.
    pub max_restarts: usize,
    /// Deferral rules for the plugin.
    pub defer: Option<Defer>,
    /// `(index, total)` of the shard, for the worker environment.
    pub shard: (usize, usize),
    /// Identifies the run to workers.
    pub run_id: String,
    /// Extra environment for every worker.
    pub env: Vec<(String, String)>,
    /// Directory for per-process coverage data files (`COVERAGE_FILE`), when measuring.
    pub coverage_dir: Option<PathBuf>,
    /// Estimated seconds of tests the history knows, for deferred tests found while running.
    pub estimates: std::sync::Arc<std::collections::HashMap<String, f64>>,
    /// How batches become processes and processes results.
    pub driver: Driver,
}

/// How batches become processes, and finished processes results.
#[derive(Debug, Clone, Default)]
pub enum Driver {
    /// pytest with rxdist's plugin, which streams an event per test.
    #[default]
    Pytest,
    /// Any command, from a template; results come from the JUnit it writes, once it exits.
    Template(std::sync::Arc<TemplateRun>),
}

/// How the run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// Everything ran (results say whether it passed).
    Complete,
    /// `--maxfail` was reached.
    MaxFail,
    /// Ctrl-C or SIGTERM.
    Cancelled(Cancel),
    /// `--global-timeout` was reached.
    GlobalTimeout,
    /// Workers kept dying.
    RestartBudget,
    /// The test command could not start: the log tail says why.
    Infrastructure(String),
    /// pytest stopped before collecting anything (a usage error, a conftest that fails to
    /// import): the log tail says why.
    Collection(String),
}

/// What the plugin said about options it took over, and the pytest version.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Option name to value, from the first process that reported any.
    pub taken: BTreeMap<String, serde_json::Value>,
    /// pytest's version.
    pub pytest_version: Option<String>,
    /// The Python interpreter that runs pytest.
    pub python: Option<String>,
}

/// The loop's outcome.
pub struct Outcome {
    /// How it ended.
    pub ending: Ending,
    /// Options the plugin took over.
    pub observed: Observed,
    /// Batches started.
    pub batches: usize,
    /// Worker processes that died.
    pub restarts: usize,
    /// Unknown files whose tests nobody collected because the run was stopped, to name.
    pub unstarted: Vec<CatchAll>,
    /// Why tests did not run, for the "not run" message.
    pub not_run_reason: &'static str,
}

/// Why rxdist stopped a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum StopReason {
    /// This test (pytest) or this batch (template) ran past `--timeout`.
    Timeout(String),
    /// The whole run is stopping.
    Everything,
}

/// The test a process is running, from its start event.
#[derive(Debug, Clone)]
struct RunningTest {
    id: String,
    since: Instant,
    file: Option<String>,
    line: Option<u64>,
}

impl RunningTest {
    /// An attempt rxdist decided on for this test, placed at its location.
    fn attempt(&self, status: Status, message: String, seconds: f64) -> AttemptResult {
        AttemptResult::synthetic(status, message, seconds).located(
            &self.id,
            self.file.clone(),
            self.line,
        )
    }
}

/// A batch whose process has exited, for drivers that read results only then.
pub(super) struct Exited {
    /// The batch.
    pub batch: Batch,
    /// Its worker slot.
    pub slot: usize,
    /// How the process ended.
    pub status: std::process::ExitStatus,
    /// Its output.
    pub log: PathBuf,
    /// How long it ran.
    pub elapsed: Duration,
    /// Why rxdist stopped it, if it did.
    pub stopped: Option<StopReason>,
}

struct Active {
    batch: Batch,
    child: Child,
    events: File,
    reader: EventReader,
    log: PathBuf,
    started: Instant,
    saw_any_event: bool,
    collected: Option<Vec<String>>,
    finished: HashSet<String>,
    current: Option<RunningTest>,
    done: Option<i32>,
    stopping: Option<(StopReason, Stop, Instant)>,
}

/// Scratch files of a run: the plugin, the batch specs and events, the logs.
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    /// Creates the directory and writes the plugin into it.
    pub fn new() -> Result<Scratch, ExecError> {
        let dir = tempfile::Builder::new()
            .prefix("rxdist-run-")
            .tempdir()
            .map_err(|source| ExecError::Scratch {
                path: std::env::temp_dir(),
                source,
            })?;
        let plugin = dir.path().join(format!("{PLUGIN_MODULE}.py"));
        std::fs::write(&plugin, PLUGIN_SOURCE).map_err(|source| ExecError::Scratch {
            path: plugin,
            source,
        })?;
        Ok(Scratch { dir })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(super) fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Builds the worker command for `batch` on `slot`: the user's command plus the plugin and the
/// per-process isolation options.
pub fn worker_command(
    config: &ExecConfig,
    scratch: &Scratch,
    slot: usize,
    batch_id: &str,
    attempt: u32,
    spec: &Path,
    extra_args: &[&str],
) -> Result<Command, ExecError> {
    let mut command = Command::new(&config.command[0]);
    command.args(&config.command[1..]);
    command.args(extra_args);
    let basetemp = scratch.file(&format!("basetemp-{batch_id}"));
    let cache = scratch.file(&format!("cache-{batch_id}"));
    command
        .arg("-p")
        .arg(PLUGIN_MODULE)
        .arg(format!("--basetemp={}", basetemp.display()))
        .arg("-o")
        .arg(format!("cache_dir={}", cache.display()))
        .arg("--continue-on-collection-errors");
    let python_path = match std::env::var_os("PYTHONPATH") {
        Some(existing) if !existing.is_empty() => {
            let mut paths = vec![scratch.path().to_path_buf()];
            paths.extend(std::env::split_paths(&existing));
            std::env::join_paths(paths).map_err(|error| ExecError::Scratch {
                path: scratch.path().to_path_buf(),
                source: std::io::Error::other(error),
            })?
        }
        _ => scratch.path().as_os_str().to_owned(),
    };
    command
        .env("PYTHONPATH", python_path)
        .env("RXDIST_BATCH", spec)
        .env("PYTEST_XDIST_WORKER", format!("gw{slot}"))
        .env("PYTEST_XDIST_WORKER_COUNT", config.workers.to_string())
        .env("PYTEST_XDIST_TESTRUNUID", &config.run_id);
    if let Some(dir) = &config.coverage_dir {
        // One data file per process; `coverage combine` joins them at the end.
        command.env("COVERAGE_FILE", dir.join(format!(".coverage.{batch_id}")));
    }
    environment(&mut command, config, scratch, slot, attempt)?;
    Ok(command)
}

/// What every worker process gets, whatever the runner: the working directory, the `RXDIST_*`
/// variables, a temporary directory per worker slot, no standard input, its own process group.
pub(super) fn environment(
    command: &mut Command,
    config: &ExecConfig,
    scratch: &Scratch,
    slot: usize,
    attempt: u32,
) -> Result<(), ExecError> {
    let tmp = scratch.file(&format!("tmp-gw{slot}"));
    std::fs::create_dir_all(&tmp).map_err(|source| ExecError::Scratch {
        path: tmp.clone(),
        source,
    })?;
    command
        .current_dir(&config.cwd)
        .env("RXDIST_WORKER", format!("gw{slot}"))
        .env("RXDIST_WORKER_COUNT", config.workers.to_string())
        .env("RXDIST_SHARD_INDEX", config.shard.0.to_string())
        .env("RXDIST_SHARD_TOTAL", config.shard.1.to_string())
        .env("RXDIST_ATTEMPT", attempt.to_string())
        .env("RXDIST_RUN_ID", &config.run_id)
        .env("TMPDIR", &tmp)
        .env("TEMP", &tmp)
        .env("TMP", &tmp)
        .stdin(Stdio::null());
    for (key, value) in &config.env {
        command.env(key, value);
    }
    process::isolate(command);
    Ok(())
}

/// Runs every batch the scheduler hands out until it is empty, the run is stopped, or the
/// global timeout passes. Every selected test ends up in `results`.
#[allow(clippy::too_many_lines)]
pub fn execute(
    config: &ExecConfig,
    scratch: &Scratch,
    scheduler: &mut Scheduler,
    results: &mut Results,
    reporter: &mut Reporter,
    cancel: &CancelFlag,
) -> Result<Outcome, ExecError> {
    let started = Instant::now();
    let deadline = config.global_timeout.map(|timeout| started + timeout);
    let mut slots: Vec<Option<Active>> = (0..config.workers).map(|_| None).collect();
    let mut observed = Observed::default();
    let mut ending: Option<Ending> = None;
    let mut batches = 0usize;
    let mut restarts = 0usize;
    let mut static_started = vec![false; config.workers];
    let static_mode = scheduler.is_static();
    reporter.started(config.workers, scheduler.known_tests());

    loop {
        // Decide whether to stop everything.
        if ending.is_none() {
            if let Some(signal) = cancel.get() {
                ending = Some(Ending::Cancelled(signal));
            } else if deadline.is_some_and(|d| Instant::now() >= d) {
                ending = Some(Ending::GlobalTimeout);
            }
            if let Some(why) = &ending {
                reporter.note(&match why {
                    Ending::Cancelled(Cancel::Interrupt) => {
                        "interrupted (SIGINT): stopping workers, keeping every result so far"
                            .to_owned()
                    }
                    Ending::Cancelled(Cancel::Terminate) => {
                        "terminated (SIGTERM): stopping workers, keeping every result so far"
                            .to_owned()
                    }
                    _ => "global timeout reached: stopping workers".to_owned(),
                });
            }
        }
        if ending.is_some() {
            for active in slots.iter_mut().flatten() {
                if active.stopping.is_none() {
                    process::signal(&mut active.child, Stop::Interrupt);
                    active.stopping =
                        Some((StopReason::Everything, Stop::Interrupt, Instant::now()));
                }
            }
        }

        // Start batches on free slots.
        if ending.is_none() {
            // Indexing, not iterating: each start looks at every slot's constraints.
            #[allow(clippy::needless_range_loop)]
            for slot in 0..slots.len() {
                if slots[slot].is_some() {
                    continue;
                }
                let batch = if static_mode && !static_started[slot] {
                    static_started[slot] = true;
                    Some(scheduler.static_batch(slot))
                } else {
                    let running = running_state(&slots);
                    scheduler.next(slot, &running)
                };
                let Some(batch) = batch else { continue };
                reporter.add_expected(if batch.attempt == 1 {
                    batch.known_ids.len()
                } else {
                    0
                });
                // A process that cannot be retried stops itself at what is left of --maxfail.
                let limit = effective_maxfail(config, &observed);
                let budget = (limit > 0 && batch.attempt > config.retries)
                    .then(|| limit.saturating_sub(reporter.failures()).max(1));
                slots[slot] = Some(start(config, scratch, slot, batch, budget)?);
                batches += 1;
            }
        }

        // Follow every running process.
        let mut any_running = false;
        // Indexing, not iterating: a finished batch's slot is emptied inside the loop.
        #[allow(clippy::needless_range_loop)]
        for slot in 0..slots.len() {
            let Some(active) = slots[slot].as_mut() else {
                continue;
            };
            any_running = true;
            pump(
                active,
                slot,
                config,
                scheduler,
                results,
                reporter,
                &mut observed,
            );
            // Per-test timeout (a whole batch's, when the runner does not say which test runs).
            if active.stopping.is_none()
                && let Some(timeout) = config.timeout
                && let Some(what) = overdue(active, &config.driver, timeout)
            {
                reporter.note(&format!(
                    "{what} ran longer than {}s: interrupting it",
                    timeout.as_secs_f64()
                ));
                process::signal(&mut active.child, Stop::Interrupt);
                active.stopping =
                    Some((StopReason::Timeout(what), Stop::Interrupt, Instant::now()));
            }
            // Escalate when the process ignores the last signal.
            if let Some((reason, stage, since)) = active.stopping.clone()
                && since.elapsed() > GRACE
                && let Some(next) = stage.next()
            {
                process::signal(&mut active.child, next);
                active.stopping = Some((reason, next, Instant::now()));
            }
            let status = match active.child.try_wait() {
                Ok(Some(status)) => status,
                Ok(None) => continue,
                Err(_) => {
                    process::signal(&mut active.child, Stop::Kill);
                    active.child.wait().unwrap_or_else(|_| exit_unknown())
                }
            };
            let mut active = slots[slot].take().expect("the slot is active");
            process::reap_group(&active.child);
            pump(
                &mut active,
                slot,
                config,
                scheduler,
                results,
                reporter,
                &mut observed,
            );
            reporter.slot_idle(slot);
            let end = match &config.driver {
                Driver::Pytest => finish_batch(
                    active,
                    slot,
                    status,
                    config,
                    scheduler,
                    results,
                    reporter,
                    &mut restarts,
                    ending.is_some(),
                    scratch.path(),
                ),
                Driver::Template(template) => template.finish(
                    &Exited {
                        elapsed: active.started.elapsed(),
                        stopped: active.stopping.map(|(reason, ..)| reason),
                        batch: active.batch,
                        slot,
                        status,
                        log: active.log,
                    },
                    config,
                    scratch,
                    scheduler,
                    results,
                    reporter,
                    &mut restarts,
                ),
            };
            if let Some(end) = end
                && ending.is_none()
            {
                reporter.note(&match &end {
                    Ending::RestartBudget => format!(
                        "{restarts} worker processes died, more than --max-worker-restarts allows: not running the rest"
                    ),
                    Ending::Infrastructure(why) | Ending::Collection(why) => why.clone(),
                    _ => String::new(),
                });
                ending = Some(end);
            }
        }

        // --maxfail counts final failures only (a failure that will be retried is not final).
        // A -x or --maxfail in the user's pytest options applies to the whole run too.
        let maxfail = effective_maxfail(config, &observed);
        if ending.is_none() && maxfail > 0 && reporter.failures() >= maxfail {
            reporter.note(&format!(
                "{} failed, --maxfail is {maxfail}: stopping",
                reporter.failures(),
            ));
            ending = Some(Ending::MaxFail);
            continue;
        }

        // Nothing ran during this pass and nothing could start: done (or stopped).
        if !any_running {
            break;
        }
        reporter.tick();
        std::thread::sleep(POLL);
    }

    let why = match &ending {
        None | Some(Ending::Complete) => "rxdist could not schedule it",
        Some(Ending::MaxFail) => "--maxfail reached",
        Some(Ending::Cancelled(Cancel::Interrupt)) => "interrupted (SIGINT)",
        Some(Ending::Cancelled(Cancel::Terminate)) => "terminated (SIGTERM)",
        Some(Ending::GlobalTimeout) => "--global-timeout reached",
        Some(Ending::RestartBudget) => "too many worker processes died",
        Some(Ending::Infrastructure(_) | Ending::Collection(_)) => "pytest could not start",
    };
    let unstarted = scheduler.take_unnamed();
    for id in scheduler.drain_not_run() {
        if results.not_run(&id, why) {
            report_final(reporter, results, &id, None);
        }
    }
    Ok(Outcome {
        ending: ending.unwrap_or(Ending::Complete),
        observed,
        batches,
        restarts,
        unstarted,
        not_run_reason: why,
    })
}

fn exit_unknown() -> std::process::ExitStatus {
    // Only reached when waiting itself failed; report it as a crash with an odd exit code.
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        std::process::ExitStatus::from_raw(255 << 8)
    }
    #[cfg(not(unix))]
    {
        use std::os::windows::process::ExitStatusExt as _;
        std::process::ExitStatus::from_raw(255)
    }
}

/// What ran past `timeout` in `active`: its current test, or for a template runner (which says
/// nothing until it exits) the whole batch.
fn overdue(active: &Active, driver: &Driver, timeout: Duration) -> Option<String> {
    match driver {
        Driver::Pytest => active
            .current
            .as_ref()
            .filter(|running| running.since.elapsed() > timeout)
            .map(|running| running.id.clone()),
        Driver::Template(_) => (active.started.elapsed() > timeout)
            .then(|| format!("batch {} (tests {})", active.batch.id, brief(&active.batch))),
    }
}

/// The first ids of a batch, for messages.
fn brief(batch: &Batch) -> String {
    let ids = &batch.known_ids;
    let first = ids.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
    match ids.len() {
        0..=3 => first,
        more => format!("{first} and {} more", more - 3),
    }
}

fn running_state(slots: &[Option<Active>]) -> Running {
    let mut running = Running::default();
    for active in slots.iter().flatten() {
        running.batches += 1;
        running.exclusive |= active.batch.exclusive;
        for group in &active.batch.groups {
            *running.groups.entry(group.clone()).or_default() += 1;
        }
    }
    running
}

fn start(
    config: &ExecConfig,
    scratch: &Scratch,
    slot: usize,
    batch: Batch,
    maxfail: Option<usize>,
) -> Result<Active, ExecError> {
    let name = format!("b{}", batch.id);
    let events_path = scratch.file(&format!("events-{name}.jsonl"));
    let spec_path = scratch.file(&format!("batch-{name}.json"));
    let log = scratch.file(&format!("output-{name}.log"));
    let scratch_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExecError::Scratch { path, source }
    };
    let events = File::create(&events_path).map_err(scratch_error(&events_path))?;
    drop(events);
    let events = File::open(&events_path).map_err(scratch_error(&events_path))?;
    let log_file = File::create(&log).map_err(scratch_error(&log))?;
    let log_err = log_file.try_clone().map_err(scratch_error(&log))?;
    let mut command = match &config.driver {
        Driver::Pytest => {
            let spec = batch.spec(
                events_path.clone(),
                config.defer.as_ref(),
                maxfail,
                config.coverage_dir.is_some(),
            );
            std::fs::write(
                &spec_path,
                serde_json::to_vec(&spec).expect("a batch spec always serializes"),
            )
            .map_err(scratch_error(&spec_path))?;
            worker_command(config, scratch, slot, &name, batch.attempt, &spec_path, &[])?
        }
        Driver::Template(template) => template.command(config, scratch, slot, &batch)?,
    };
    command.stdout(log_file).stderr(log_err);
    let child = command.spawn().map_err(|source| ExecError::Spawn {
        program: config.command[0].clone(),
        source,
    })?;
    Ok(Active {
        batch,
        child,
        events,
        reader: EventReader::default(),
        log,
        started: Instant::now(),
        saw_any_event: false,
        collected: None,
        finished: HashSet::new(),
        current: None,
        done: None,
        stopping: None,
    })
}

/// Reads and handles the events `active` appended since the last call.
fn pump(
    active: &mut Active,
    slot: usize,
    config: &ExecConfig,
    scheduler: &mut Scheduler,
    results: &mut Results,
    reporter: &mut Reporter,
    observed: &mut Observed,
) {
    let mut bytes = Vec::new();
    if active.events.read_to_end(&mut bytes).is_err() || bytes.is_empty() {
        return;
    }
    let (events, bad) = active.reader.feed(&bytes);
    for line in bad {
        reporter.note(&format!("ignoring an unreadable worker event: {line}"));
    }
    for event in events {
        active.saw_any_event = true;
        match event {
            Event::Options {
                taken,
                pytest,
                python,
            } => {
                if observed.pytest_version.is_none() {
                    observed.pytest_version = Some(pytest);
                    observed.python = python;
                }
                for (key, value) in taken {
                    observed.taken.entry(key).or_insert(value);
                }
            }
            Event::Collected { items, deferred } => {
                on_collected(active, items, deferred, config, scheduler, reporter);
            }
            Event::CollectError {
                path,
                message,
                details,
            } => {
                let mut attempt = AttemptResult::synthetic(
                    Status::CollectionError,
                    format!("collection failure: {message}"),
                    0.0,
                );
                attempt.details = Some(details);
                if results.push_once(&path, attempt) {
                    reporter.add_expected(1);
                    report_final(reporter, results, &path, Some(slot));
                }
            }
            Event::Start { id, file, line } => {
                reporter.test_started(slot, &id);
                active.current = Some(RunningTest {
                    id,
                    since: Instant::now(),
                    file,
                    line,
                });
            }
            Event::CollectSkip { path, message } => {
                let attempt =
                    AttemptResult::synthetic(Status::CollectionSkipped, "collection skipped", 0.0);
                let attempt = AttemptResult {
                    details: Some(message),
                    ..attempt
                };
                if results.push_once(&path, attempt) {
                    reporter.add_expected(1);
                    report_final(reporter, results, &path, Some(slot));
                }
            }
            Event::Finish(finished) => {
                let finished: Finished = *finished;
                let id = finished.id.clone();
                active.current = None;
                active.finished.insert(id.clone());
                let attempt = AttemptResult::from_finished(finished);
                record_attempt(
                    results,
                    reporter,
                    scheduler,
                    &active.batch,
                    Some(slot),
                    config.retries,
                    &id,
                    attempt,
                );
            }
            Event::Done { exit } => active.done = Some(exit),
        }
    }
}

/// `--maxfail`, or else a `-x`/`--maxfail` the plugin found in the user's pytest options.
fn effective_maxfail(config: &ExecConfig, observed: &Observed) -> usize {
    if config.maxfail > 0 {
        return config.maxfail;
    }
    observed
        .taken
        .get("maxfail")
        .and_then(serde_json::Value::as_u64)
        .map_or(0, |n| n as usize)
}

/// A process said what it will run: count new tests, and schedule the ones it set aside.
fn on_collected(
    active: &mut Active,
    items: Vec<String>,
    deferred: Vec<super::protocol::Deferred>,
    config: &ExecConfig,
    scheduler: &mut Scheduler,
    reporter: &mut Reporter,
) {
    if active.batch.attempt == 1 {
        let known: HashSet<&String> = active.batch.known_ids.iter().collect();
        let new = items.iter().filter(|id| !known.contains(id)).count();
        reporter.add_expected(new);
    }
    active.collected = Some(items);
    if deferred.is_empty() {
        return;
    }
    reporter.add_expected(deferred.len());
    scheduler.add_constrained(
        deferred
            .into_iter()
            .map(|d| ConstrainedTest {
                test: Estimated {
                    seconds: config.estimates.get(&d.id).copied().unwrap_or(1.0),
                    id: d.id,
                },
                serial: d.serial,
                xdist_group: d.xdist_group,
                groups: d.groups,
            })
            .collect(),
    );
}

/// Records an attempt, prints it, and queues a retry when it failed and retries remain.
#[allow(clippy::too_many_arguments)]
pub(super) fn record_attempt(
    results: &mut Results,
    reporter: &mut Reporter,
    scheduler: &mut Scheduler,
    batch: &Batch,
    slot: Option<usize>,
    retries: u32,
    id: &str,
    attempt: AttemptResult,
) {
    let retry = attempt.status.retryable() && batch.attempt <= retries;
    results.push(id, attempt);
    let result = results.get(id).expect("just pushed");
    let last = result.last().expect("just pushed");
    reporter.test_finished(slot, id, last, batch.attempt, !retry, result.is_flaky());
    if retry {
        scheduler.requeue(vec![id.to_owned()], batch.attempt + 1, batch);
    }
}

pub(super) fn report_final(
    reporter: &mut Reporter,
    results: &Results,
    id: &str,
    slot: Option<usize>,
) {
    let result = results.get(id).expect("caller recorded it");
    let last = result.last().expect("caller recorded it");
    reporter.test_finished(
        slot,
        id,
        last,
        result.attempts.len() as u32,
        true,
        result.is_flaky(),
    );
}

/// Accounts for every test of a batch whose process has exited. Returns an ending when the run
/// cannot go on.
// One match over the ways a process can end; splitting it would scatter that table.
#[allow(clippy::too_many_arguments, clippy::too_many_lines)]
fn finish_batch(
    active: Active,
    slot: usize,
    status: std::process::ExitStatus,
    config: &ExecConfig,
    scheduler: &mut Scheduler,
    results: &mut Results,
    reporter: &mut Reporter,
    restarts: &mut usize,
    stopping_all: bool,
    scratch_dir: &Path,
) -> Option<Ending> {
    let Active {
        batch,
        log,
        saw_any_event,
        collected,
        finished,
        current,
        done,
        stopping,
        ..
    } = active;
    let expected: Vec<String> = collected.clone().unwrap_or_else(|| batch.known_ids.clone());
    let mut remaining: Vec<String> = expected
        .into_iter()
        .filter(|id| !finished.contains(id))
        .collect();
    if let Some(running) = &current {
        remaining.retain(|other| *other != running.id);
    }

    match stopping.map(|(reason, ..)| reason) {
        Some(StopReason::Timeout(id)) => {
            let seconds = config.timeout.map_or(0.0, |t| t.as_secs_f64());
            if !finished.contains(&id) {
                let message = format!(
                    "timeout: test ran longer than {seconds}s and was interrupted (--timeout)"
                );
                let attempt = match &current {
                    Some(running) if running.id == id => running.attempt(
                        Status::TimedOut,
                        message,
                        running.since.elapsed().as_secs_f64(),
                    ),
                    _ => AttemptResult::synthetic(Status::TimedOut, message, seconds),
                };
                record_attempt(
                    results,
                    reporter,
                    scheduler,
                    &batch,
                    None,
                    config.retries,
                    &id,
                    attempt,
                );
            }
            // The rest of the batch runs on, in a fresh process.
            if stopping_all {
                mark_not_run(results, reporter, &remaining, "the run was stopped");
            } else {
                scheduler.requeue(remaining, batch.attempt, &batch);
            }
            None
        }
        Some(StopReason::Everything) => {
            if collected.is_none() {
                // Stopped while importing: its files' tests are still to be named.
                scheduler.give_back_unnamed(&batch);
            }
            let mut all = remaining;
            if let Some(running) = current {
                all.push(running.id);
            }
            mark_not_run(
                results,
                reporter,
                &all,
                "the run was stopped while it waited or ran",
            );
            None
        }
        None if done.is_some() && collected.is_some() => {
            // A normal end. Anything collected but not reported did not run.
            mark_not_run(results, reporter, &remaining, "pytest did not run it");
            None
        }
        None if !saw_any_event || (collected.is_none() && matches!(done, Some(3 | 4))) => {
            // pytest never got as far as the plugin, or stopped on a usage or internal error.
            let tail = log_tail(&log, 30);
            let why = format!(
                "the test command failed before running any test ({}):\n{tail}",
                process::describe_exit(status)
            );
            let mut all = remaining;
            if let Some(running) = current {
                all.push(running.id);
            }
            mark_not_run(results, reporter, &all, "pytest could not start");
            // pytest's exit code 4 is a usage error, which includes a conftest.py that fails to
            // import: nothing could be collected. Anything else is the command itself failing.
            if status.code() == Some(4) || done == Some(4) {
                Some(Ending::Collection(why))
            } else {
                Some(Ending::Infrastructure(why))
            }
        }
        None => {
            // The process died.
            *restarts += 1;
            let how = process::describe_exit(status);
            let tail = scrub(&log_tail(&log, 20), scratch_dir);
            match current {
                Some(running) => {
                    let mut attempt = running.attempt(
                        Status::Crashed,
                        format!("worker crashed while running this test: {how}"),
                        running.since.elapsed().as_secs_f64(),
                    );
                    attempt.details = Some(tail);
                    let id = running.id;
                    record_attempt(
                        results,
                        reporter,
                        scheduler,
                        &batch,
                        Some(slot),
                        config.retries,
                        &id,
                        attempt,
                    );
                }
                None if collected.is_none() => {
                    // Died while collecting: its known tests cannot be blamed one by one.
                    for id in &remaining {
                        let mut attempt = AttemptResult::synthetic(
                            Status::Crashed,
                            format!("worker crashed while collecting: {how}"),
                            0.0,
                        );
                        attempt.details = Some(tail.clone());
                        results.push(id, attempt);
                        report_final(reporter, results, id, None);
                    }
                    remaining.clear();
                }
                None => {}
            }
            if *restarts > config.max_restarts {
                mark_not_run(
                    results,
                    reporter,
                    &remaining,
                    "too many worker processes died (--max-worker-restarts)",
                );
                return Some(Ending::RestartBudget);
            }
            reporter.note(&format!(
                "worker gw{slot} {how}; requeueing the {} tests it had not run",
                remaining.len()
            ));
            scheduler.requeue(remaining, batch.attempt, &batch);
            None
        }
    }
}

pub(super) fn mark_not_run(
    results: &mut Results,
    reporter: &mut Reporter,
    ids: &[String],
    why: &str,
) {
    for id in ids {
        if results.not_run(id, why) {
            report_final(reporter, results, id, None);
        }
    }
}

/// Replaces the run's scratch directory in worker output, which changes on every run.
fn scrub(text: &str, scratch: &Path) -> String {
    text.replace(&*scratch.to_string_lossy(), "<rxdist-scratch>")
}

pub(super) fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// What one collection pass found.
#[derive(Debug, Default)]
pub struct Collection {
    /// Tests to run normally, in collection order.
    pub items: Vec<String>,
    /// Tests set aside for constraints.
    pub deferred: Vec<super::protocol::Deferred>,
    /// Files that failed to collect: `(path, message, details)`.
    pub errors: Vec<(String, String, String)>,
    /// Modules skipped at import: `(path, reason)`.
    pub skipped: Vec<(String, String)>,
    /// Options the plugin took over.
    pub observed: Observed,
}

/// Why collection produced nothing usable.
#[derive(Debug, thiserror::Error)]
pub enum CollectFailure {
    /// Scratch files or spawning failed.
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// pytest ended without reporting a collection.
    #[error("pytest collection failed ({how}):\n{tail}")]
    Failed {
        /// How the process ended.
        how: String,
        /// The end of its output.
        tail: String,
    },
    /// Ctrl-C or SIGTERM during collection.
    #[error("cancelled during collection")]
    Cancelled(Cancel),
}

/// Runs pytest's collection once, with the plugin reporting what it found.
pub fn collect(
    config: &ExecConfig,
    scratch: &Scratch,
    cancel: &CancelFlag,
) -> Result<Collection, CollectFailure> {
    collect_selection(config, scratch, "collect", None, Some(cancel), None)
}

/// Names the tests of slices a stopped run never started, so they are reported as not run
/// rather than silently missing. Bounded by `deadline` (the run is being stopped); `None` when
/// pytest could not say in time.
pub fn enumerate_unstarted(
    config: &ExecConfig,
    scratch: &Scratch,
    unstarted: CatchAll,
    index: usize,
    deadline: Duration,
) -> Option<Vec<String>> {
    let collection = collect_selection(
        config,
        scratch,
        &format!("unstarted-{index}"),
        Some(unstarted),
        None,
        Some(deadline),
    )
    .ok()?;
    let mut ids = collection.items;
    ids.extend(collection.deferred.into_iter().map(|d| d.id));
    Some(ids)
}

fn collect_selection(
    config: &ExecConfig,
    scratch: &Scratch,
    name: &str,
    catch_all: Option<CatchAll>,
    cancel: Option<&CancelFlag>,
    deadline: Option<Duration>,
) -> Result<Collection, CollectFailure> {
    let started = Instant::now();
    let events_path = scratch.file(&format!("events-{name}.jsonl"));
    let spec_path = scratch.file(&format!("batch-{name}.json"));
    let log = scratch.file(&format!("output-{name}.log"));
    let spec = super::protocol::BatchSpec {
        events: events_path.clone(),
        files: None,
        catch_all,
        defer: config.defer.clone(),
        maxfail: None,
        coverage: false,
    };
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExecError::Scratch { path, source }
    };
    std::fs::write(&spec_path, serde_json::to_vec(&spec).expect("serializes"))
        .map_err(io(&spec_path))?;
    let log_file = File::create(&log).map_err(io(&log))?;
    let log_err = log_file.try_clone().map_err(io(&log))?;
    let mut command = worker_command(
        config,
        scratch,
        0,
        name,
        1,
        &spec_path,
        &["--collect-only", "-q"],
    )?;
    command.stdout(log_file).stderr(log_err);
    let mut child = command.spawn().map_err(|source| ExecError::Spawn {
        program: config.command[0].clone(),
        source,
    })?;
    let status = loop {
        if let Some(signal) = cancel.and_then(CancelFlag::get) {
            process::signal(&mut child, Stop::Kill);
            let _ = child.wait();
            return Err(CollectFailure::Cancelled(signal));
        }
        if deadline.is_some_and(|d| started.elapsed() > d) {
            process::signal(&mut child, Stop::Kill);
            let status = child.wait().unwrap_or_else(|_| exit_unknown());
            return Err(CollectFailure::Failed {
                how: format!(
                    "stopped after {:?}: {}",
                    deadline.unwrap_or_default(),
                    process::describe_exit(status)
                ),
                tail: String::new(),
            });
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(POLL),
            Err(_) => {
                process::signal(&mut child, Stop::Kill);
                break child.wait().unwrap_or_else(|_| exit_unknown());
            }
        }
    };
    process::reap_group(&child);
    let bytes = std::fs::read(&events_path).unwrap_or_default();
    let (events, _) = EventReader::default().feed(&bytes);
    let mut collection = Collection::default();
    let mut collected = false;
    for event in events {
        match event {
            Event::Options {
                taken,
                pytest,
                python,
            } => {
                collection.observed.taken = taken;
                collection.observed.pytest_version = Some(pytest);
                collection.observed.python = python;
            }
            Event::Collected { items, deferred } => {
                collected = true;
                collection.items = items;
                collection.deferred = deferred;
            }
            Event::CollectError {
                path,
                message,
                details,
            } => collection.errors.push((path, message, details)),
            Event::CollectSkip { path, message } => collection.skipped.push((path, message)),
            Event::Start { .. } | Event::Finish(_) | Event::Done { .. } => {}
        }
    }
    if !collected {
        return Err(CollectFailure::Failed {
            how: process::describe_exit(status),
            tail: log_tail(&log, 30),
        });
    }
    Ok(collection)
}
