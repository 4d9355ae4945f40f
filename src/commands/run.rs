//! `rxdist run`: plan this shard, run it on local workers, write one JUnit report, record the
//! timings.
//!
//! Where the test list comes from decides how much pytest must do before the first test runs:
//! - `--dist static` needs nothing: worker `w` runs the files whose path hashes to `w`.
//! - With a history that describes the files on disk, nothing is collected up front: batches
//!   name whole files (or parts of large ones), a catch-all batch runs files the history does
//!   not know, and each process reports what it collected.
//! - Otherwise (no history, or `--dist loadgroup`, which must know every group before it runs
//!   one) pytest collects once, and batches name exact node ids.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{diagnostics, inputs, last_failed, plan};
use crate::atomic;
use crate::ci::github::{self, Counts, FailureNote, JobSummary, ShardTime};
use crate::cli::RunnerArg;
use crate::env::Env;
use crate::error::{Completion, Error};
use crate::identity::file_key;
use crate::plan::{Granularity, plan_owned};
use crate::runner::executor::{self, Collection, Driver, Ending, ExecConfig, Observed, Scratch};
use crate::runner::protocol::{CatchAll, Defer, DeferGroup, file_bucket};
use crate::runner::reporter::Reporter;
use crate::runner::results::{AttemptResult, Results, Status};
use crate::runner::schedule::{
    ConstrainedTest, DistMode, Estimated, FileWork, ScheduleOptions, Scheduler,
};
use crate::runner::signals::{Cancel, CancelFlag};
use crate::runner::template::{Template, TemplateError, TemplateRun};
use crate::settings::{KeepTogether, RunSettings, TestSource};
use crate::timings::{Estimator, History, Observation, Retention, RunOrder, store};

/// Smallest batch worth a process start, in estimated seconds: pytest's own start-up and the
/// imports it repeats cost a good part of a second.
const MIN_BATCH_SECONDS: f64 = 2.0;
/// Share of the remaining work a round of batches takes when the history estimates it: most
/// of it goes out in one large batch per worker (each process start repeats pytest's start-up,
/// imports and session fixtures), and the rest balances the tail.
const KNOWN_ROUND_SHARE: f64 = 0.8;
/// The same when durations are guesses (test counts): half, so the tail can still even out a
/// batch that turns out long.
const GUESSED_ROUND_SHARE: f64 = 0.5;
/// Slices per worker of a run with neither history nor collection.
const SLICES_PER_WORKER: usize = 16;
/// How long a stopped run may spend listing the tests of files it never started.
const ENUMERATE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);
/// Slowest tests listed in the summary.
const SLOWEST: usize = 10;

/// Runs `rxdist run`.
pub fn run(
    settings: &RunSettings,
    cwd: &Path,
    interactive: bool,
    env: &Env,
) -> Result<Completion, Error> {
    let started = Instant::now();
    let cancel = CancelFlag::install().map_err(|source| Error::Write {
        path: PathBuf::from("<signal handlers>"),
        source,
    })?;
    let history = match &settings.history {
        Some(path) => inputs::load_history(path)?,
        None => None,
    };
    let history = history.unwrap_or_default();
    let scratch = Scratch::new().map_err(Error::Exec)?;
    let estimator = Estimator::new(&history);
    let mut command = settings.command.clone();
    let last_failed = take_last_failed(&mut command, cwd, settings.runner);
    let coverage_dir = scratch.path().join("coverage");
    let coverage_out = prepare_coverage(settings, &mut command, &coverage_dir)?;
    let mut config = ExecConfig {
        command,
        cwd: cwd.to_path_buf(),
        workers: settings.workers,
        timeout: settings.timeout,
        global_timeout: settings.global_timeout,
        maxfail: settings.maxfail,
        retries: settings.retries,
        max_restarts: settings.max_restarts,
        defer: Some(defer_rules(settings)),
        shard: settings.shard,
        run_id: run_id(),
        env: Vec::new(),
        coverage_dir: coverage_out.as_ref().map(|_| coverage_dir.clone()),
        estimates: Arc::new(known_estimates(&history, &estimator)),
        driver: driver(settings, &history, cwd)?,
    };
    let mut results = Results::default();
    let options = ScheduleOptions {
        workers: settings.workers,
        mode: settings.dist,
        min_batch_seconds: MIN_BATCH_SECONDS,
        group_limits: settings
            .groups
            .iter()
            .map(|g| (g.name.clone(), g.max_concurrent))
            .collect(),
        catch_all: None,
        shard: settings.shard,
        round_share: GUESSED_ROUND_SHARE,
        slices: 0,
    };

    let (mut scheduler, observed) = match build_work(
        settings,
        cwd,
        &history,
        &estimator,
        options,
        last_failed.as_deref(),
        &config,
        &scratch,
        &cancel,
        &mut results,
    )? {
        Work::Ready(scheduler, observed) => (*scheduler, *observed),
        Work::Cancelled(Cancel::Interrupt) => return Ok(Completion::Interrupted),
        Work::Cancelled(Cancel::Terminate) => return Ok(Completion::Terminated),
    };
    explain_taken(&observed, settings);
    if !scheduler.is_static() {
        // Never more workers than batches that could run at once.
        config.workers = config.workers.min(scheduler.max_concurrency());
    }
    let mut reporter = Reporter::new(config.workers, interactive);

    let outcome = executor::execute(
        &config,
        &scratch,
        &mut scheduler,
        &mut results,
        &mut reporter,
        &cancel,
    )
    .map_err(Error::Exec)?;
    name_unstarted(&config, &scratch, &outcome, &mut results);
    if observed.taken.is_empty() {
        explain_taken(&outcome.observed, settings);
    }

    write_outputs(
        settings,
        cwd,
        &outcome,
        &results,
        &mut reporter,
        started,
        last_failed,
        coverage_out
            .as_deref()
            .map(|out| (out, coverage_dir.as_path())),
        history,
        env,
    )?;
    Ok(completion(&outcome.ending, &results, settings))
}

/// Writes `bytes` to `path` atomically, creating its directory.
fn write_output(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|source| Error::Write {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    atomic::write(path, bytes).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Everything a finished run writes, the shard report first: whatever happened, every result
/// so far is kept.
#[allow(clippy::too_many_arguments)]
fn write_outputs(
    settings: &RunSettings,
    cwd: &Path,
    outcome: &executor::Outcome,
    results: &Results,
    reporter: &mut Reporter,
    started: Instant,
    last_failed: Option<Vec<String>>,
    coverage: Option<(&Path, &Path)>,
    history: History,
    env: &Env,
) -> Result<(), Error> {
    let (index, total) = settings.shard;
    let predicted = predicted_seconds(&history, results, settings.granularity);
    let mut properties = vec![(
        "rxdist.shard".to_owned(),
        format!("{}/{}", index + 1, total),
    )];
    // What `rxdist merge` needs to show how balanced the split was.
    if let Some(predicted) = predicted {
        properties.push((
            "rxdist.predicted_seconds".to_owned(),
            format!("{predicted:.3}"),
        ));
    }
    properties.push((
        "rxdist.wall_seconds".to_owned(),
        format!("{:.3}", started.elapsed().as_secs_f64()),
    ));
    if let Some(version) = &outcome.observed.pytest_version {
        properties.push(("pytest.version".to_owned(), version.clone()));
    }
    let report = results.report("rxdist", properties);
    write_output(&settings.junit_out, &report.to_bytes())?;
    let mut also = Vec::new();
    if let Some(serde_json::Value::String(path)) = outcome.observed.taken.get("junitxml") {
        let path = cwd.join(path);
        write_output(&path, &report.to_bytes())?;
        also.push(path);
    }
    reporter.finish(results, started.elapsed(), SLOWEST);
    reporter.line(&format!(
        "rxdist: wrote {}{} ({} worker processes)",
        settings.junit_out.display(),
        also.iter().fold(String::new(), |text, path| format!(
            "{text} and {}",
            path.display()
        )),
        outcome.batches
    ));

    if let Some(previous) = last_failed
        && let Err(error) = last_failed::write(cwd, &last_failed::updated(previous, results))
    {
        diagnostics::warning(format_args!(
            "cannot update .pytest_cache for --lf: {error}"
        ));
    }

    if let Some((out, data_dir)) = coverage {
        let python = outcome
            .observed
            .python
            .clone()
            .unwrap_or_else(|| "python3".to_owned());
        match crate::runner::coverage::combine(&python, data_dir, cwd, out) {
            Ok(()) => reporter.line(&format!("rxdist: wrote coverage to {}", out.display())),
            Err(error) => diagnostics::warning(format_args!("no coverage report: {error}")),
        }
    }

    if let Some(path) = &settings.history
        && settings.record
        && !results.is_empty()
    {
        record(path, history, results)?;
    }

    let mut outputs = vec![("junit", settings.junit_out.display().to_string())];
    if let Some((out, _)) = coverage {
        outputs.push(("coverage", out.display().to_string()));
    }
    let summary = job_summary(settings, results, started.elapsed(), predicted);
    outputs.extend([
        ("tests", summary.counts.tests.to_string()),
        (
            "failed",
            (summary.counts.failed + summary.counts.errors).to_string(),
        ),
        ("flaky", summary.counts.flaky.to_string()),
    ]);
    super::github::publish(env, &summary, &outputs);
    Ok(())
}

/// What the history predicted this shard's tests take, one after another, counted as the plan
/// counts a shard (so the merge's balance table compares like with like): each test's estimate
/// by the predictor the plan uses at this granularity, plus once the setup cost of every file
/// the shard ran tests of. `None` without a history (every estimate would be the same guess).
fn predicted_seconds(
    history: &History,
    results: &Results,
    granularity: Granularity,
) -> Option<f64> {
    if history.runs() == 0 {
        return None;
    }
    let estimator = plan::estimator(history, granularity);
    let mut files = BTreeSet::new();
    let mut micros: u64 = 0;
    for (id, _) in results.iter() {
        micros += estimator.estimate(id).micros;
        files.insert(file_key(id));
    }
    micros += files
        .into_iter()
        .map(|file| estimator.file_setup_micros(file))
        .sum::<u64>();
    Some(micros as f64 / 1e6)
}

/// The run as GitHub's job summary shows it.
fn job_summary(
    settings: &RunSettings,
    results: &Results,
    elapsed: Duration,
    predicted: Option<f64>,
) -> JobSummary {
    let (index, total) = settings.shard;
    let tally = results.tally();
    let mut failures = Vec::new();
    let mut flaky = Vec::new();
    let mut timed = Vec::new();
    let mut test_seconds = 0.0;
    for (id, result) in results.in_order() {
        let Some(last) = result.last() else { continue };
        test_seconds += result.attempts.iter().map(|a| a.seconds).sum::<f64>();
        if last.status != Status::NotRun {
            timed.push((id.clone(), last.seconds));
        }
        if result.is_flaky() {
            flaky.push(id.clone());
        } else if last.status.is_failure() {
            let location = last.location.as_ref();
            let file = location.and_then(|l| l.file.clone());
            // The traceback's line of the test file; else pytest's 0-based line of the test.
            let line = match (&file, &last.details, settings.runner) {
                (Some(file), Some(details), RunnerArg::Pytest) => {
                    github::pytest_failure_line(details, file)
                }
                _ => None,
            }
            .or_else(|| match settings.runner {
                RunnerArg::Pytest => location.and_then(|l| l.line).map(|line| line + 1),
                RunnerArg::Template => location.and_then(|l| l.line),
            });
            failures.push(FailureNote {
                id: id.clone(),
                kind: last.status.label().to_ascii_lowercase(),
                file,
                line,
                message: last.message.clone().unwrap_or_default(),
                details: last.details.clone(),
            });
        }
    }
    timed.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    timed.truncate(SLOWEST);
    // Timeouts count as failures, crashes as errors, as in the report's counters.
    let errors = tally.errors as u64;
    JobSummary {
        title: if total > 1 {
            format!("rxdist run: shard {}/{total}", index + 1)
        } else {
            "rxdist run".to_owned()
        },
        counts: Counts {
            tests: tally.total as u64,
            passed: tally.passed as u64,
            failed: tally.failed as u64 - errors,
            errors,
            skipped: (tally.skipped + tally.xfailed) as u64,
            flaky: tally.flaky as u64,
            not_run: tally.not_run as u64,
            seconds: test_seconds,
        },
        failures,
        flaky,
        slowest: timed,
        shards: vec![ShardTime {
            shard: format!("{}/{total}", index + 1),
            tests: (tally.total - tally.not_run) as u64,
            predicted_seconds: predicted,
            actual_seconds: test_seconds,
        }],
        notes: vec![format!(
            "Wall time {:.1}s on {} workers; report: `{}`",
            elapsed.as_secs_f64(),
            settings.workers,
            settings.junit_out.display()
        )],
    }
}

/// The exit status of a finished run.
fn completion(ending: &Ending, results: &Results, settings: &RunSettings) -> Completion {
    let (index, total) = settings.shard;
    let tally = results.tally();
    match ending {
        Ending::Cancelled(Cancel::Interrupt) => Completion::Interrupted,
        Ending::Cancelled(Cancel::Terminate) => Completion::Terminated,
        Ending::GlobalTimeout => Completion::GlobalTimeout,
        Ending::Infrastructure(_) | Ending::RestartBudget => Completion::Infrastructure,
        Ending::Collection(_) => Completion::CollectionFailed,
        Ending::Complete | Ending::MaxFail => {
            if tally.failed > 0 || (settings.flaky_fails && tally.flaky > 0) {
                Completion::TestFailures
            } else if tally.total == tally.not_run && total > 1 {
                // A shard can legitimately be empty (fewer files than shards × workers); a red
                // job for it would be noise.
                diagnostics::warning(format_args!("shard {index} of {total} ran no tests"));
                Completion::Success
            } else if tally.total == tally.not_run {
                diagnostics::warning("no tests ran");
                Completion::NoTests
            } else {
                Completion::Success
            }
        }
    }
}

/// The work of this shard, and what collection (if any) observed.
enum Work {
    Ready(Box<Scheduler>, Box<Observed>),
    Cancelled(Cancel),
}

/// Decides where the test list comes from (see the module docs) and builds the scheduler.
#[allow(clippy::too_many_arguments)]
fn build_work(
    settings: &RunSettings,
    cwd: &Path,
    history: &History,
    estimator: &Estimator<'_>,
    options: ScheduleOptions,
    last_failed: Option<&[String]>,
    config: &ExecConfig,
    scratch: &Scratch,
    cancel: &CancelFlag,
    results: &mut Results,
) -> Result<Work, Error> {
    let (index, total) = settings.shard;
    let known_files = history_files(history, cwd);
    let use_history = settings.dist != DistMode::LoadGroup
        && !known_files.is_empty()
        && matches!(config.driver, Driver::Pytest);
    let scheduler = if let Some(ids) = last_failed.filter(|ids| !ids.is_empty()) {
        // Exact ids: nothing to collect. Deleted tests simply do not run.
        let ids: Vec<String> = if total > 1 {
            let assignment = shard_assignment(ids.to_vec(), history, settings, &HashMap::new());
            ids.iter()
                .filter(|id| assignment.get(*id) == Some(&index))
                .cloned()
                .collect()
        } else {
            ids.to_vec()
        };
        Scheduler::new(files_from_ids(&ids, estimator, history), options)
    } else if settings.dist == DistMode::Static {
        Scheduler::new(Vec::new(), options)
    } else if use_history {
        let mut options = options;
        options.catch_all = Some(CatchAll {
            known: known_files.clone(),
            bucket: (total > 1).then_some((index, total)),
            slices: None,
        });
        options.round_share = KNOWN_ROUND_SHARE;
        let files = files_from_history(history, estimator, &known_files, settings);
        Scheduler::new(files, options)
    } else if settings.dist != DistMode::LoadGroup && matches!(config.driver, Driver::Pytest) {
        // Nothing known and nothing to wait for: no collection pass. The files are cut into
        // slices by path hash and each batch collects only its own slices, so every test file
        // is imported once in the whole run. (loadgroup must see every group first.)
        let mut options = options;
        options.catch_all = Some(CatchAll {
            known: Vec::new(),
            bucket: (total > 1).then_some((index, total)),
            slices: None,
        });
        options.slices = SLICES_PER_WORKER * settings.workers;
        Scheduler::new(Vec::new(), options)
    } else {
        let collected = match &config.driver {
            // A template runner's ids are known: they are its "collection".
            Driver::Template(template) => Ok(Collection {
                items: template.ids().to_vec(),
                ..Collection::default()
            }),
            Driver::Pytest => executor::collect(config, scratch, cancel),
        };
        let collection = match collected {
            Ok(collection) => collection,
            Err(executor::CollectFailure::Cancelled(signal)) => {
                return Ok(Work::Cancelled(signal));
            }
            Err(executor::CollectFailure::Exec(error)) => return Err(Error::Exec(error)),
            Err(failure) => {
                return Err(Error::RunCollect {
                    reason: failure.to_string(),
                });
            }
        };
        let observed = collection.observed.clone();
        let (files, constrained) =
            files_from_collection(collection, history, estimator, settings, results);
        let mut options = options;
        if history.is_empty() {
            // Without timings every test counts as one second: size batches by count, a few per
            // worker, since every extra process repeats pytest's start-up.
            let count: usize = files.iter().map(|f| f.tests.len()).sum();
            options.min_batch_seconds = (count as f64 / (4 * settings.workers) as f64).max(1.0);
        }
        let mut scheduler = Scheduler::new(files, options);
        scheduler.add_constrained(constrained);
        return Ok(Work::Ready(Box::new(scheduler), Box::new(observed)));
    };
    Ok(Work::Ready(Box::new(scheduler), Box::default()))
}

/// A run stopped before every slice of unknown files ran: name their tests, so none is missing
/// from the report (within [`ENUMERATE_DEADLINE`]).
fn name_unstarted(
    config: &ExecConfig,
    scratch: &Scratch,
    outcome: &executor::Outcome,
    results: &mut Results,
) {
    let started = Instant::now();
    for (index, unstarted) in outcome.unstarted.iter().enumerate() {
        let left = ENUMERATE_DEADLINE.saturating_sub(started.elapsed());
        match executor::enumerate_unstarted(config, scratch, unstarted.clone(), index, left) {
            Some(ids) => {
                for id in ids {
                    results.not_run(&id, outcome.not_run_reason);
                }
            }
            None => {
                diagnostics::warning(format_args!(
                    "could not list the tests of the files no worker had collected within {}s; they are missing from the report",
                    ENUMERATE_DEADLINE.as_secs()
                ));
                return;
            }
        }
    }
}

/// Estimated seconds of every test the history knows.
fn known_estimates(history: &History, estimator: &Estimator<'_>) -> HashMap<String, f64> {
    history
        .iter()
        .map(|(id, _)| {
            let seconds = estimator.estimate(&id).micros as f64 / 1e6;
            (id, seconds)
        })
        .collect()
}

/// What the plugin sets aside for rxdist to schedule.
fn defer_rules(settings: &RunSettings) -> Defer {
    Defer {
        serial_marker: Some(settings.serial_marker.clone()),
        xdist_group: settings.dist == DistMode::LoadGroup,
        groups: settings
            .groups
            .iter()
            .map(|group| DeferGroup {
                name: group.name.clone(),
                marker: group.marker.clone(),
                tests: group.tests.clone(),
            })
            .collect(),
    }
}

/// Takes `--lf` out of a pytest command and reads the ids it means (see [`last_failed`]); a
/// template runner's flags are its own.
fn take_last_failed(
    command: &mut Vec<String>,
    cwd: &Path,
    runner: RunnerArg,
) -> Option<Vec<String>> {
    if runner == RunnerArg::Template || !last_failed::take_flag(command) {
        return None;
    }
    let ids = last_failed::read(cwd);
    if ids.is_empty() {
        diagnostics::info("--lf: no failures recorded in .pytest_cache, running every test");
    } else {
        diagnostics::info(format_args!(
            "--lf: running the {} tests that failed last time",
            ids.len()
        ));
    }
    Some(ids)
}

/// Coverage is on with `--cov`, or when the command has pytest-cov options of its own: every
/// process then writes data only, and rxdist writes the one report. Returns where.
fn prepare_coverage(
    settings: &RunSettings,
    command: &mut Vec<String>,
    data_dir: &Path,
) -> Result<Option<PathBuf>, Error> {
    let measures = crate::runner::coverage::command_measures(command);
    let out = settings
        .coverage
        .clone()
        .or_else(|| measures.then(|| settings.cov_out.clone()));
    if out.is_some() {
        if !measures {
            command.push("--cov".to_owned());
        }
        command.push("--cov-report=".to_owned());
        std::fs::create_dir_all(data_dir).map_err(|source| Error::Write {
            path: data_dir.to_path_buf(),
            source,
        })?;
    }
    Ok(out)
}

/// Says what rxdist did with pytest options that would fight it.
fn explain_taken(observed: &Observed, settings: &RunSettings) {
    for (option, value) in &observed.taken {
        let text = match option.as_str() {
            "junitxml" => format!(
                "--junitxml={} (from your pytest options) would make every worker overwrite one file: rxdist writes the merged report to {} and copies it there",
                value.as_str().unwrap_or("?"),
                settings.junit_out.display()
            ),
            "maxfail" => format!(
                "--maxfail/-x (from your pytest options) would stop only one worker: rxdist stops all workers after {value} failures"
            ),
            "numprocesses" => format!(
                "-n {} (pytest-xdist, from your pytest options) is disabled inside workers: rxdist runs {} workers (rxdist -n)",
                value.as_str().unwrap_or("?"),
                settings.workers
            ),
            "lf" | "failedfirst" | "newfirst" | "stepwise" => format!(
                "--{option} needs pytest's cache, which workers do not share: every selected test runs, in rxdist's order"
            ),
            other => format!("pytest option {other} is handled by rxdist"),
        };
        diagnostics::info(text);
    }
}

/// How batches run: pytest, or the template command over the `--tests` list (else every test
/// the history knows).
fn driver(settings: &RunSettings, history: &History, cwd: &Path) -> Result<Driver, Error> {
    if settings.runner == RunnerArg::Pytest {
        return Ok(Driver::Pytest);
    }
    if settings.dist == DistMode::Static {
        return Err(TemplateError::Static.into());
    }
    let template = Template::parse(&settings.command)?;
    let ids = match &settings.tests {
        Some(path) => inputs::load_tests(&TestSource::File(path.clone()), cwd)?,
        None => history.iter().map(|(id, _)| id).collect(),
    };
    Ok(Driver::Template(Arc::new(TemplateRun::new(template, ids))))
}

/// Files the history knows that exist under `cwd`.
fn history_files(history: &History, cwd: &Path) -> Vec<String> {
    let mut files: Vec<String> = history
        .iter()
        .map(|(id, _)| file_key(&id).to_owned())
        .collect();
    files.sort_unstable();
    files.dedup();
    files.retain(|file| cwd.join(file).is_file());
    files
}

/// Work for history mode: every known file on disk, whole, or this shard's part of it.
fn files_from_history(
    history: &History,
    estimator: &Estimator<'_>,
    known_files: &[String],
    settings: &RunSettings,
) -> Vec<FileWork> {
    let known: std::collections::HashSet<&str> = known_files.iter().map(String::as_str).collect();
    let ids: Vec<String> = history
        .iter()
        .map(|(id, _)| id)
        .filter(|id| known.contains(file_key(id)))
        .collect();
    let (index, total) = settings.shard;
    // Which shard runs each known test.
    let assignment: HashMap<String, usize> = if total > 1 {
        shard_assignment(ids.clone(), history, settings, &HashMap::new())
    } else {
        ids.iter().map(|id| (id.clone(), 0)).collect()
    };
    let mut by_file: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for id in ids {
        by_file
            .entry(file_key(&id).to_owned())
            .or_default()
            .push(id);
    }
    let mut files = Vec::new();
    for (file, ids) in by_file {
        let shards: std::collections::BTreeSet<usize> =
            ids.iter().map(|id| assignment[id]).collect();
        let Some(&owner) = shards.iter().next() else {
            continue;
        };
        if !shards.contains(&index) {
            continue;
        }
        let (mine, others): (Vec<String>, Vec<String>) =
            ids.into_iter().partition(|id| assignment[id] == index);
        let setup = estimator.file_setup_micros(&file) as f64 / 1e6;
        files.push(FileWork {
            tests: mine
                .into_iter()
                .map(|id| Estimated {
                    seconds: estimator.estimate(&id).micros as f64 / 1e6,
                    id,
                })
                .collect(),
            setup_seconds: setup,
            // The owner (the lowest shard holding part of the file) also runs its new tests.
            open: owner == index,
            excluded: if owner == index { others } else { Vec::new() },
            file,
        });
    }
    files
}

/// Work for an exact list of ids (`--lf`), none of them open.
fn files_from_ids(ids: &[String], estimator: &Estimator<'_>, history: &History) -> Vec<FileWork> {
    closed_files(ids.iter().cloned(), estimator, history)
}

/// Exact ids grouped into files, each estimated from the history (one pseudo-second each
/// without one, so batches are sized by count).
fn closed_files(
    ids: impl Iterator<Item = String>,
    estimator: &Estimator<'_>,
    history: &History,
) -> Vec<FileWork> {
    let mut by_file: BTreeMap<String, Vec<Estimated>> = BTreeMap::new();
    for id in ids {
        let seconds = if history.is_empty() {
            1.0
        } else {
            estimator.estimate(&id).micros as f64 / 1e6
        };
        by_file
            .entry(file_key(&id).to_owned())
            .or_default()
            .push(Estimated { id, seconds });
    }
    by_file
        .into_iter()
        .map(|(file, tests)| FileWork {
            setup_seconds: estimator.file_setup_micros(&file) as f64 / 1e6,
            file,
            tests,
            open: false,
            excluded: Vec::new(),
        })
        .collect()
}

/// Work for collection mode: the collected tests of this shard, and its constrained tests.
fn files_from_collection(
    collection: Collection,
    history: &History,
    estimator: &Estimator<'_>,
    settings: &RunSettings,
    results: &mut Results,
) -> (Vec<FileWork>, Vec<ConstrainedTest>) {
    let (index, total) = settings.shard;
    for (path, message, details) in collection.errors {
        if total > 1 && file_bucket(&path, total) != index {
            continue;
        }
        let mut attempt = AttemptResult::synthetic(
            Status::CollectionError,
            format!("collection failure: {message}"),
            0.0,
        );
        attempt.details = Some(details);
        results.push(&path, attempt);
    }
    for (path, reason) in collection.skipped {
        if total > 1 && file_bucket(&path, total) != index {
            continue;
        }
        let mut attempt =
            AttemptResult::synthetic(Status::CollectionSkipped, "collection skipped", 0.0);
        attempt.details = Some(reason);
        results.push(&path, attempt);
    }
    let seconds = |id: &str| {
        if history.is_empty() {
            1.0
        } else {
            estimator.estimate(id).micros as f64 / 1e6
        }
    };
    let xdist_groups: HashMap<String, String> = collection
        .deferred
        .iter()
        .filter_map(|d| d.xdist_group.clone().map(|g| (d.id.clone(), g)))
        .collect();
    let mut keep: Option<std::collections::HashSet<String>> = None;
    if total > 1 {
        let mut all = collection.items.clone();
        all.extend(collection.deferred.iter().map(|d| d.id.clone()));
        let assignment = shard_assignment(all, history, settings, &xdist_groups);
        keep = Some(
            assignment
                .into_iter()
                .filter(|&(_, shard)| shard == index)
                .map(|(id, _)| id)
                .collect(),
        );
    }
    let mine = |id: &String| keep.as_ref().is_none_or(|set| set.contains(id));
    let files = closed_files(
        collection.items.into_iter().filter(|id| mine(id)),
        estimator,
        history,
    );
    let constrained = collection
        .deferred
        .into_iter()
        .filter(|d| mine(&d.id))
        .map(|d| ConstrainedTest {
            test: Estimated {
                seconds: seconds(&d.id),
                id: d.id,
            },
            serial: d.serial,
            xdist_group: d.xdist_group,
            groups: d.groups,
        })
        .collect();
    (files, constrained)
}

/// The shard of every id, from the same planner `rxdist plan` uses (so `plan` and `run` agree).
fn shard_assignment(
    ids: Vec<String>,
    history: &History,
    settings: &RunSettings,
    groups: &HashMap<String, String>,
) -> HashMap<String, usize> {
    let keep = KeepTogether::new(Vec::new()).expect("no patterns are valid patterns");
    let mut request = plan::request(ids, history, settings.granularity, &keep);
    for test in &mut request.tests {
        if let Some(group) = groups.get(&test.id) {
            test.group = Some(format!("xdist_group:{group}"));
        }
    }
    request.total = settings.shard.1;
    if settings.granularity == Granularity::Test && !groups.is_empty() {
        request.granularity = Granularity::Auto;
    }
    let plan = plan_owned(request);
    plan.shards
        .into_iter()
        .flat_map(|shard| {
            let index = shard.index;
            shard.tests.into_iter().map(move |id| (id, index))
        })
        .collect()
}

fn record(path: &Path, mut history: History, results: &Results) -> Result<(), Error> {
    let observations: Vec<Observation> = results
        .in_order()
        .filter_map(|(id, result)| {
            let last = result.last()?;
            let outcome = match last.status {
                Status::Passed | Status::XPassed => crate::junit::Outcome::Passed,
                Status::Failed | Status::TimedOut => crate::junit::Outcome::Failed,
                Status::Error | Status::Crashed => crate::junit::Outcome::Error,
                Status::Skipped | Status::XFailed => crate::junit::Outcome::Skipped,
                Status::NotRun | Status::CollectionError | Status::CollectionSkipped => {
                    return None;
                }
            };
            let outcome = if result.is_flaky() {
                crate::junit::Outcome::Failed
            } else {
                outcome
            };
            // A crash says nothing about how long the test takes.
            let seconds = (last.status != Status::Crashed).then_some(last.seconds);
            Some(Observation {
                id: id.clone(),
                seconds,
                outcome: Some(outcome),
            })
        })
        .collect();
    history.record_with(&observations, Retention::default(), RunOrder::Execution);
    let bytes = store::encode(&history).map_err(|source| Error::History {
        path: path.to_path_buf(),
        source,
    })?;
    write_output(path, &bytes)?;
    diagnostics::info(format_args!(
        "recorded {} tests into {} (run {})",
        observations.len(),
        path.display(),
        history.runs()
    ));
    Ok(())
}

/// A run id for `PYTEST_XDIST_TESTRUNUID`: unique per run, never part of any output file.
fn run_id() -> String {
    use sha2::{Digest, Sha256};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seed = format!("{}-{}", std::process::id(), now.as_nanos());
    let digest = Sha256::digest(seed.as_bytes());
    digest[..16].iter().fold(String::new(), |mut hex, byte| {
        use std::fmt::Write as _;
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}
