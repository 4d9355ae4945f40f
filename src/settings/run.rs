//! Settings of `rxdist run` (and `rxdist shard ... -- COMMAND`).

use std::path::PathBuf;
use std::time::Duration;

use super::resolve::{check_index, fixed_total, parse_duration, parse_shard_fraction};
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
    /// Where coverage goes when the command measures it on its own (`--cov` in its pytest
    /// arguments): `--cov-out`, `cov-out` or the default.
    pub cov_out: PathBuf,
}

/// Resolves `rxdist run` settings.
pub fn resolve_run(
    args: &RunArgs,
    file: &ConfigFile,
    env: &Env,
) -> Result<RunSettings, SettingsError> {
    let (index, total, shard_from) = resolve_slot(args, file, env)?;
    let workers = resolve_workers(args, file, env)?;
    let dist = match args.dist.or(file.dist).unwrap_or(DistArg::Load) {
        DistArg::Load => DistMode::Load,
        DistArg::Loadfile => DistMode::LoadFile,
        DistArg::Loadscope => DistMode::LoadScope,
        DistArg::Loadgroup => DistMode::LoadGroup,
        DistArg::Worksteal => DistMode::WorkSteal,
        DistArg::Static => DistMode::Static,
    };
    let timeout = positive_duration("--timeout", args.timeout.as_ref(), file.timeout.as_ref())?;
    let global_timeout = positive_duration(
        "--global-timeout",
        args.global_timeout.as_ref(),
        file.global_timeout.as_ref(),
    )?;
    let maxfail = if args.exitfirst {
        1
    } else {
        args.maxfail.or(file.maxfail).unwrap_or(0)
    };
    let groups = validated_groups(&file.groups)?;
    let runner = args.runner.or(file.runner).unwrap_or(RunnerArg::Pytest);
    let history = args
        .history
        .clone()
        .or_else(|| file.history.as_deref().map(|path| file.path(path)));
    let tests = args
        .tests
        .clone()
        .or_else(|| file.tests.as_deref().map(|path| file.path(path)));
    if runner == RunnerArg::Template && args.cov {
        return Err(SettingsError::Invalid {
            flag: "--cov",
            value: "--runner template".into(),
            reason: "coverage is combined from pytest-cov's data files; with a template runner, let the command measure coverage itself".into(),
        });
    }
    if runner == RunnerArg::Template && tests.is_none() && history.is_none() {
        return Err(SettingsError::Missing {
            what: "the test list",
            hint: "--runner template needs --tests FILE (one id per line) or a --history that lists the tests",
        });
    }
    let cov_out = args
        .cov_out
        .clone()
        .or_else(|| file.cov_out.as_deref().map(|path| file.path(path)))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_COV_OUT));
    // Naming the output asks for coverage as clearly as --cov does.
    let coverage = (args.cov || args.cov_out.is_some()).then(|| cov_out.clone());
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
        cov_out,
    })
}

/// A duration from the flag or the file, which must be more than zero.
fn positive_duration(
    flag: &'static str,
    arg: Option<&String>,
    from_file: Option<&super::file::TotalValue>,
) -> Result<Option<Duration>, SettingsError> {
    let Some(text) = arg
        .cloned()
        .or_else(|| from_file.map(super::file::TotalValue::to_flag_text))
    else {
        return Ok(None);
    };
    let value = parse_duration(flag, &text)?;
    if value.is_zero() {
        return Err(SettingsError::Invalid {
            flag,
            value: text,
            reason: "must be more than 0".into(),
        });
    }
    Ok(Some(value))
}

fn resolve_workers(args: &RunArgs, file: &ConfigFile, env: &Env) -> Result<usize, SettingsError> {
    let text = match (&args.numprocesses, &file.numprocesses) {
        (Some(text), _) => text.clone(),
        (None, Some(value)) => value.to_flag_text(),
        (None, None) => "auto".to_owned(),
    };
    let invalid = |reason| SettingsError::Invalid {
        flag: "-n",
        value: text.clone(),
        reason,
    };
    let count: WorkerCount = text.parse().map_err(invalid)?;
    count
        .resolve(env.get(EnvVars::PYTEST_XDIST_AUTO_NUM_WORKERS))
        .map_err(invalid)
}

fn validated_groups(groups: &[GroupConfig]) -> Result<Vec<GroupConfig>, SettingsError> {
    for group in groups {
        let reason = if group.max_concurrent == 0 {
            "max-concurrent must be at least 1"
        } else if group.marker.is_none() && group.tests.is_empty() {
            "a group needs a marker or test patterns"
        } else {
            continue;
        };
        return Err(SettingsError::Invalid {
            flag: "groups",
            value: group.name.clone(),
            reason: reason.into(),
        });
    }
    Ok(groups.to_vec())
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
    let total = fixed_total(args.total.as_ref(), ci_slot, file)?;
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
    check_index(index, total, from)?;
    Ok((index, total, from))
}
