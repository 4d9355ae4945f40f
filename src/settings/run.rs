//! Settings of `rxdist run` (and `rxdist shard ... -- COMMAND`).

use std::path::PathBuf;
use std::time::Duration;

use super::resolve::{parse_count, parse_duration, parse_shard_fraction};
use super::{ConfigFile, GroupConfig, SettingsError};
use crate::ci;
use crate::cli::{DistArg, FlakyResult, GranularityArg, RunArgs, RunnerArg, ShardArgs};
use crate::env::{Env, EnvVars};
use crate::plan::Granularity;
use crate::runner::schedule::DistMode;
use crate::runner::workers::WorkerCount;

/// Default report path, relative to the working directory.
pub const DEFAULT_JUNIT_OUT: &str = ".rxdist/junit.xml";
/// Default coverage report path.
pub const DEFAULT_COV_OUT: &str = ".rxdist/coverage.xml";

/// Everything `rxdist run` needs.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSettings {
    /// The test command.
    pub command: Vec<String>,
    /// 0-based shard index and shard count (`(0, 1)` when not sharded).
    pub shard: (usize, usize),
    /// Where the shard came from, for messages.
    pub shard_from: &'static str,
    /// Worker processes.
    pub workers: usize,
    /// Distribution mode.
    pub dist: DistMode,
    /// Timing history.
    pub history: Option<PathBuf>,
    /// Record the run into the history.
    pub record: bool,
    /// JUnit output.
    pub junit_out: PathBuf,
    /// Per-test timeout.
    pub timeout: Option<Duration>,
    /// Whole-run timeout.
    pub global_timeout: Option<Duration>,
    /// Stop after this many failures (0: never).
    pub maxfail: usize,
    /// Retries per failed test.
    pub retries: u32,
    /// Whether flaky tests fail the run.
    pub flaky_fails: bool,
    /// Marker of serial tests.
    pub serial_marker: String,
    /// Worker deaths tolerated.
    pub max_restarts: usize,
    /// How the command is driven.
    pub runner: RunnerArg,
    /// Test list file (template runner, or to restrict the run).
    pub tests: Option<PathBuf>,
    /// Granularity of sharding.
    pub granularity: Granularity,
    /// Concurrency groups.
    pub groups: Vec<GroupConfig>,
    /// Coverage output, when coverage is on.
    pub coverage: Option<PathBuf>,
}

/// Resolves `rxdist run` settings.
pub fn resolve_run(
    args: &RunArgs,
    file: &ConfigFile,
    env: &Env,
) -> Result<RunSettings, SettingsError> {
    let (index, total, shard_from) = resolve_slot(args, file, env)?;
    let workers_text = match (&args.numprocesses, &file.numprocesses) {
        (Some(text), _) => text.clone(),
        (None, Some(value)) => value.to_flag_text(),
        (None, None) => "auto".to_owned(),
    };
    let count: WorkerCount = workers_text
        .parse()
        .map_err(|reason| SettingsError::Invalid {
            flag: "-n",
            value: workers_text.clone(),
            reason,
        })?;
    let workers = count
        .resolve(env.get(EnvVars::PYTEST_XDIST_AUTO_NUM_WORKERS))
        .map_err(|reason| SettingsError::Invalid {
            flag: "-n",
            value: workers_text,
            reason,
        })?;
    let dist = match args.dist.or(file.dist).unwrap_or(DistArg::Load) {
        DistArg::Load => DistMode::Load,
        DistArg::Loadfile => DistMode::LoadFile,
        DistArg::Loadscope => DistMode::LoadScope,
        DistArg::Loadgroup => DistMode::LoadGroup,
        DistArg::Worksteal => DistMode::WorkSteal,
        DistArg::Static => DistMode::Static,
    };
    let duration =
        |flag: &'static str, arg: &Option<String>, from_file: &Option<super::file::TotalValue>| {
            arg.clone()
                .or_else(|| {
                    from_file
                        .as_ref()
                        .map(super::file::TotalValue::to_flag_text)
                })
                .map(|text| {
                    let value = parse_duration(flag, &text)?;
                    if value.is_zero() {
                        return Err(SettingsError::Invalid {
                            flag,
                            value: text,
                            reason: "must be more than 0".into(),
                        });
                    }
                    Ok(value)
                })
                .transpose()
        };
    let timeout = duration("--timeout", &args.timeout, &file.timeout)?;
    let global_timeout = duration(
        "--global-timeout",
        &args.global_timeout,
        &file.global_timeout,
    )?;
    let maxfail = if args.exitfirst {
        1
    } else {
        args.maxfail.or(file.maxfail).unwrap_or(0)
    };
    let groups = file.groups.clone();
    for group in &groups {
        if group.max_concurrent == 0 {
            return Err(SettingsError::Invalid {
                flag: "groups",
                value: group.name.clone(),
                reason: "max-concurrent must be at least 1".into(),
            });
        }
        if group.marker.is_none() && group.tests.is_empty() {
            return Err(SettingsError::Invalid {
                flag: "groups",
                value: group.name.clone(),
                reason: "a group needs a marker or test patterns".into(),
            });
        }
    }
    let runner = args.runner.or(file.runner).unwrap_or(RunnerArg::Pytest);
    let history = args
        .history
        .clone()
        .or_else(|| file.history.as_deref().map(|path| file.path(path)));
    let tests = args
        .tests
        .clone()
        .or_else(|| file.tests.as_deref().map(|path| file.path(path)));
    if runner == RunnerArg::Template && tests.is_none() && history.is_none() {
        return Err(SettingsError::Missing {
            what: "the test list",
            hint: "--runner template needs --tests FILE (one id per line) or a --history that lists the tests",
        });
    }
    let coverage = args.cov.then(|| {
        args.cov_out
            .clone()
            .or_else(|| file.cov_out.as_deref().map(|path| file.path(path)))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_COV_OUT))
    });
    Ok(RunSettings {
        command: args.command.clone(),
        shard: (index, total),
        shard_from,
        workers,
        dist,
        history,
        record: !args.no_record,
        junit_out: args
            .junit_out
            .clone()
            .or_else(|| file.junit_out.as_deref().map(|path| file.path(path)))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_JUNIT_OUT)),
        timeout,
        global_timeout,
        maxfail,
        retries: args.retries.or(file.retries).unwrap_or(0),
        flaky_fails: args.flaky_result.or(file.flaky_result) == Some(FlakyResult::Fail),
        serial_marker: args
            .serial_marker
            .clone()
            .or_else(|| file.serial_marker.clone())
            .unwrap_or_else(|| "serial".to_owned()),
        max_restarts: args
            .max_worker_restarts
            .or(file.max_worker_restarts)
            .unwrap_or(4 * workers),
        runner,
        tests,
        granularity: match args.by.or(file.by).unwrap_or(GranularityArg::Auto) {
            GranularityArg::Test => Granularity::Test,
            GranularityArg::File => Granularity::File,
            GranularityArg::Auto => Granularity::Auto,
        },
        groups,
        coverage,
    })
}

/// `rxdist shard --index I --total N -- COMMAND` runs the shard: the shard's own flags carry
/// over, everything else takes `rxdist run`'s defaults.
pub fn run_args_from_shard(args: &ShardArgs) -> RunArgs {
    RunArgs {
        index: args.index,
        total: args.plan.total.clone(),
        shard: args.shard.clone(),
        numprocesses: None,
        dist: None,
        history: args.plan.history.clone(),
        no_record: false,
        junit_out: None,
        timeout: None,
        global_timeout: None,
        maxfail: None,
        exitfirst: false,
        retries: None,
        flaky_result: None,
        serial_marker: None,
        max_worker_restarts: None,
        runner: None,
        tests: args.plan.tests.clone(),
        by: args.plan.by,
        cov: false,
        cov_out: None,
        command: args.command.clone(),
    }
}

fn resolve_slot(
    args: &RunArgs,
    file: &ConfigFile,
    env: &Env,
) -> Result<(usize, usize, &'static str), SettingsError> {
    if let Some(text) = &args.shard {
        let (index, total) = parse_shard_fraction(text)?;
        return Ok((index, total, "--shard"));
    }
    let ci_slot = ci::detect_shard(env).map_err(SettingsError::Ci)?;
    let total = match (&args.total, ci_slot, &file.total) {
        (Some(text), _, _) => Some((parse_count("--total", text)?, "--total")),
        (None, Some(slot), _) => Some((slot.total, slot.system.name())),
        (None, None, Some(value)) => Some((
            parse_count("--total", &value.to_flag_text())?,
            "the configuration file",
        )),
        (None, None, None) => None,
    };
    let index = args.index.or(ci_slot.map(|slot| slot.index));
    let (index, total, from) = match (index, total) {
        (Some(index), Some((total, from))) => (index, total, from),
        (None, None) => (0, 1, "default"),
        (None, Some((total, from))) => {
            if total == 1 {
                (0, 1, from)
            } else {
                return Err(SettingsError::Missing {
                    what: "the shard index",
                    hint: "pass --index I (0-based) or --shard K/N (1-based), or set RXDIST_INDEX",
                });
            }
        }
        (Some(_), None) => {
            return Err(SettingsError::Missing {
                what: "the shard count",
                hint: "pass --total N or --shard K/N, or set RXDIST_TOTAL",
            });
        }
    };
    if index >= total {
        return Err(SettingsError::Invalid {
            flag: "--index",
            value: index.to_string(),
            reason: format!(
                "the index is 0-based and must be below the shard count {total} (from {from})"
            ),
        });
    }
    Ok((index, total, from))
}
