//! Merging the layers and validating the result.

use std::path::{Path, PathBuf};
use std::time::Duration;

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::ConfigFile;
use crate::ci::{self, CiError, CiSystem};
use crate::cli::{
    CollectRunner, FrameworkArg, GranularityArg, PlanArgs, RecordArgs, ShardArgs, ShowArgs,
};
use crate::env::{Env, EnvVars};
use crate::identity::Framework;
use crate::plan::Granularity;
use crate::timings::Retention;

/// Default upper limit of `--total auto`.
pub const DEFAULT_MAX_TOTAL: usize = 64;

/// Where the test list comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestSource {
    /// A file with one id per line.
    File(PathBuf),
    /// Standard input.
    Stdin,
    /// Running a runner's collection.
    Collect {
        /// The runner.
        runner: CollectRunner,
        /// Extra arguments.
        args: Vec<String>,
    },
}

/// The shard count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    /// A fixed number of shards.
    Fixed(usize),
    /// The smallest count whose makespan plus overhead meets the target.
    Auto {
        /// Target wall time per shard.
        target: Duration,
        /// Fixed cost per shard.
        overhead: Duration,
        /// Largest count considered.
        max_total: usize,
    },
}

/// Globs of test ids that must share a shard, compiled once.
#[derive(Debug, Clone)]
pub struct KeepTogether {
    patterns: Vec<String>,
    set: GlobSet,
}

impl KeepTogether {
    /// Compiles `patterns`, naming the first one that is not a valid glob.
    pub fn new(patterns: Vec<String>) -> Result<Self, SettingsError> {
        let invalid = |value: String, error: &globset::Error| SettingsError::Invalid {
            flag: "--keep-together",
            value,
            reason: error.kind().to_string(),
        };
        let mut builder = GlobSetBuilder::new();
        for pattern in &patterns {
            builder.add(Glob::new(pattern).map_err(|error| invalid(pattern.clone(), &error))?);
        }
        let set = builder
            .build()
            .map_err(|error| invalid(patterns.join(","), &error))?;
        Ok(KeepTogether { patterns, set })
    }

    /// The group of `id`: the first pattern it matches, if any.
    pub fn group_of(&self, id: &str) -> Option<String> {
        if self.patterns.is_empty() {
            return None;
        }
        let first = self.set.matches(id).into_iter().next()?;
        Some(format!("keep-together:{}", self.patterns[first]))
    }
}

/// Two sets are the same when their patterns are; the compiled matcher follows from them.
impl PartialEq for KeepTogether {
    fn eq(&self, other: &Self) -> bool {
        self.patterns == other.patterns
    }
}

/// Everything `rxdist plan` needs.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanSettings {
    /// The history file, if any.
    pub history: Option<PathBuf>,
    /// The test list.
    pub tests: TestSource,
    /// Planning granularity.
    pub granularity: Granularity,
    /// The shard count.
    pub total: Total,
    /// Where the shard count came from, for messages.
    pub total_from: &'static str,
    /// Compiled keep-together globs.
    pub keep_together: KeepTogether,
    /// Output file, or standard output.
    pub output: Option<PathBuf>,
}

/// Everything `rxdist shard` needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardSettings {
    /// The planning settings (always with a fixed total).
    pub plan: PlanSettings,
    /// 0-based index of this shard.
    pub index: usize,
    /// Bazel's shard status file to touch, if Bazel asked for one.
    pub bazel_status_file: Option<PathBuf>,
}

/// Everything `rxdist timings record` needs.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordSettings {
    /// The history file.
    pub history: PathBuf,
    /// Report files and directories.
    pub inputs: Vec<PathBuf>,
    /// `None` means detect from the reports.
    pub framework: Option<Framework>,
    /// The collected test list, if given.
    pub tests: Option<PathBuf>,
    /// Where relative test file paths are resolved.
    pub rootdir: PathBuf,
    /// Drop tests unseen for this many runs.
    pub retention_runs: u32,
}

/// Everything `rxdist timings show` needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ShowSettings {
    /// The history file.
    pub history: PathBuf,
}

/// A setting that is missing or invalid. Messages name the flag to fix.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A value does not parse.
    #[error("invalid value {value:?} for {flag}: {reason}")]
    Invalid {
        /// The flag (the variable and config key follow from it).
        flag: &'static str,
        /// The value given.
        value: String,
        /// Why it is wrong.
        reason: String,
    },
    /// A required setting is missing.
    #[error("{what} is not set: {hint}")]
    Missing {
        /// What is missing.
        what: &'static str,
        /// How to set it.
        hint: &'static str,
    },
    /// The CI's parallelism variables are inconsistent.
    #[error("cannot use the CI's parallelism variables")]
    Ci(#[source] CiError),
}

/// Resolves `rxdist plan` settings.
pub fn resolve_plan(
    args: &PlanArgs,
    file: &ConfigFile,
    env: &Env,
) -> Result<PlanSettings, SettingsError> {
    let ci_slot = ci::detect_shard(env).map_err(SettingsError::Ci)?;
    let (total_text, total_from) = match (&args.total, ci_slot, &file.total) {
        (Some(text), _, _) => (text.clone(), "--total"),
        (None, Some(slot), _) => (slot.total.to_string(), slot.system.name()),
        (None, None, Some(value)) => (value.to_flag_text(), "the configuration file"),
        (None, None, None) => {
            return Err(SettingsError::Missing {
                what: "the shard count",
                hint: "pass --total N (or --total auto), set RXDIST_TOTAL, or set total: in .rxdist.yml",
            });
        }
    };
    let total = resolve_total(&total_text, args, file)?;
    plan_settings(args, file, env, total, total_from)
}

/// Resolves `rxdist shard` settings: index and total from `--shard K/N`, `--index`/`--total`
/// (flags or `RXDIST_*`), the CI, or the configuration file, in that order.
pub fn resolve_shard(
    args: &ShardArgs,
    file: &ConfigFile,
    env: &Env,
) -> Result<ShardSettings, SettingsError> {
    let ci_slot = ci::detect_shard(env).map_err(SettingsError::Ci)?;
    let (index, total, total_from) = if let Some(text) = &args.shard {
        let (index, total) = parse_shard_fraction(text)?;
        (index, total, "--shard")
    } else {
        let total = fixed_total(args.plan.total.as_ref(), ci_slot, file)?;
        let index = args.index.or(ci_slot.map(|slot| slot.index));
        match (index, total) {
            (Some(index), Some((total, from))) => (index, total, from),
            (None, _) => {
                return Err(SettingsError::Missing {
                    what: "the shard index",
                    hint: "pass --index I (0-based) or --shard K/N (1-based), set RXDIST_INDEX, or run under a CI with parallelism",
                });
            }
            (Some(_), None) => {
                return Err(SettingsError::Missing {
                    what: "the shard count",
                    hint: "pass --total N or --shard K/N, set RXDIST_TOTAL, or set total: in .rxdist.yml",
                });
            }
        }
    };
    check_index(index, total, total_from)?;
    let plan = plan_settings(&args.plan, file, env, Total::Fixed(total), total_from)?;
    let bazel_status_file = ci_slot
        .filter(|slot| slot.system == CiSystem::Bazel)
        .and_then(|_| ci::bazel_shard_status_file(env))
        .map(PathBuf::from);
    Ok(ShardSettings {
        plan,
        index,
        bazel_status_file,
    })
}

/// Resolves `rxdist timings record` settings.
pub fn resolve_record(
    args: &RecordArgs,
    file: &ConfigFile,
) -> Result<RecordSettings, SettingsError> {
    let history = required_history(args.history.as_deref(), file)?;
    let framework = resolve_framework(args.framework.or(file.framework));
    let tests = args
        .tests
        .clone()
        .or_else(|| file.tests.as_deref().map(|path| file.path(path)));
    let retention = args
        .retention
        .or(file.history_retention)
        .unwrap_or(Retention::default().max_unseen_runs);
    if retention == 0 {
        return Err(SettingsError::Invalid {
            flag: "--retention",
            value: "0".into(),
            reason: "must be at least 1 run".into(),
        });
    }
    Ok(RecordSettings {
        history,
        inputs: args.inputs.clone(),
        framework,
        tests,
        rootdir: args.rootdir.clone().unwrap_or_else(|| PathBuf::from(".")),
        retention_runs: retention,
    })
}

/// Resolves `rxdist timings show` settings.
pub fn resolve_show(args: &ShowArgs, file: &ConfigFile) -> Result<ShowSettings, SettingsError> {
    Ok(ShowSettings {
        history: required_history(args.history.as_deref(), file)?,
    })
}

pub(super) fn required_history(
    flag: Option<&Path>,
    file: &ConfigFile,
) -> Result<PathBuf, SettingsError> {
    flag.map(Path::to_path_buf)
        .or_else(|| file.history.as_deref().map(|path| file.path(path)))
        .ok_or(SettingsError::Missing {
            what: "the history file",
            hint: "pass --history FILE, set RXDIST_HISTORY, or set history: in .rxdist.yml",
        })
}

fn plan_settings(
    args: &PlanArgs,
    file: &ConfigFile,
    env: &Env,
    total: Total,
    total_from: &'static str,
) -> Result<PlanSettings, SettingsError> {
    let history = args
        .history
        .clone()
        .or_else(|| file.history.as_deref().map(|path| file.path(path)));
    let tests = resolve_test_source(args, file, env)?;
    let granularity = match args.by.or(file.by).unwrap_or(GranularityArg::Auto) {
        GranularityArg::Test => Granularity::Test,
        GranularityArg::File => Granularity::File,
        GranularityArg::Auto => Granularity::Auto,
    };
    let keep_together = if args.keep_together.is_empty() {
        file.keep_together.clone()
    } else {
        args.keep_together.clone()
    };
    let keep_together = KeepTogether::new(keep_together)?;
    Ok(PlanSettings {
        history,
        tests,
        granularity,
        total,
        total_from,
        keep_together,
        output: args.output.clone(),
    })
}

fn resolve_test_source(
    args: &PlanArgs,
    file: &ConfigFile,
    env: &Env,
) -> Result<TestSource, SettingsError> {
    // Flags, then the variable (split on whitespace), then the file.
    let collect_args: Vec<String> = if !args.collect_arg.is_empty() {
        args.collect_arg.clone()
    } else if let Some(text) = env.get(EnvVars::RXDIST_COLLECT_ARGS) {
        text.split_whitespace().map(str::to_owned).collect()
    } else {
        file.collect_args.clone()
    };
    let source = test_source(args, file, collect_args.clone())?;
    if !collect_args.is_empty() && !matches!(source, TestSource::Collect { .. }) {
        return Err(SettingsError::Invalid {
            flag: "--collect-arg",
            value: collect_args.join(" "),
            reason: "collection arguments need --collect (the test list comes from --tests)".into(),
        });
    }
    Ok(source)
}

fn test_source(
    args: &PlanArgs,
    file: &ConfigFile,
    collect_args: Vec<String>,
) -> Result<TestSource, SettingsError> {
    if let Some(path) = &args.tests {
        return Ok(if path.as_os_str() == "-" {
            TestSource::Stdin
        } else {
            TestSource::File(path.clone())
        });
    }
    if let Some(runner) = args.collect {
        return Ok(TestSource::Collect {
            runner,
            args: collect_args,
        });
    }
    if let Some(path) = &file.tests {
        return Ok(if path.as_os_str() == "-" {
            TestSource::Stdin
        } else {
            TestSource::File(file.path(path))
        });
    }
    if let Some(runner) = &file.collect {
        return match runner.as_str() {
            "pytest" => Ok(TestSource::Collect {
                runner: CollectRunner::Pytest,
                args: collect_args,
            }),
            other => Err(SettingsError::Invalid {
                flag: "--collect",
                value: other.to_owned(),
                reason: "the only collector is 'pytest'".into(),
            }),
        };
    }
    Err(SettingsError::Missing {
        what: "the test list",
        hint: "pass --tests FILE (or - for standard input) or --collect pytest",
    })
}

pub(super) fn resolve_framework(arg: Option<FrameworkArg>) -> Option<Framework> {
    match arg.unwrap_or(FrameworkArg::Auto) {
        FrameworkArg::Auto => None,
        FrameworkArg::Pytest => Some(Framework::Pytest),
        FrameworkArg::Generic => Some(Framework::Generic),
    }
}

fn resolve_total(text: &str, args: &PlanArgs, file: &ConfigFile) -> Result<Total, SettingsError> {
    if !text.trim().eq_ignore_ascii_case("auto") {
        return Ok(Total::Fixed(parse_count("--total", text)?));
    }
    let target_text = args.target_duration.clone().or_else(|| file.target_duration.clone()).ok_or(
        SettingsError::Missing {
            what: "the target duration",
            hint: "--total auto needs --target-duration (e.g. 8m), RXDIST_TARGET_DURATION or target-duration: in .rxdist.yml",
        },
    )?;
    let target = parse_duration("--target-duration", &target_text)?;
    let overhead = match args
        .shard_overhead
        .clone()
        .or_else(|| file.shard_overhead.clone())
    {
        Some(text) => parse_duration("--shard-overhead", &text)?,
        None => Duration::ZERO,
    };
    if overhead >= target {
        return Err(SettingsError::Invalid {
            flag: "--shard-overhead",
            value: humantime::format_duration(overhead).to_string(),
            reason: format!(
                "the per-shard overhead leaves no time for tests within --target-duration {}",
                humantime::format_duration(target)
            ),
        });
    }
    let max_total = args
        .max_total
        .or(file.max_total)
        .unwrap_or(DEFAULT_MAX_TOTAL);
    if max_total == 0 {
        return Err(SettingsError::Invalid {
            flag: "--max-total",
            value: "0".into(),
            reason: "must be at least 1".into(),
        });
    }
    Ok(Total::Auto {
        target,
        overhead,
        max_total,
    })
}

/// The shard count of a job from `--total`, the CI's variables or the file, in that order, and
/// where it came from. `auto` is refused: a job needs the number of jobs that actually run.
pub(super) fn fixed_total(
    flag: Option<&String>,
    ci_slot: Option<ci::ShardSlot>,
    file: &ConfigFile,
) -> Result<Option<(usize, &'static str)>, SettingsError> {
    Ok(match (flag, ci_slot, &file.total) {
        (Some(text), _, _) if text.trim().eq_ignore_ascii_case("auto") => {
            return Err(SettingsError::Invalid {
                flag: "--total",
                value: text.clone(),
                reason: "a shard needs the number of jobs that run; choose it with `rxdist plan --total auto` (e.g. --format github-matrix) and pass that number".into(),
            });
        }
        (Some(text), _, _) => Some((parse_count("--total", text)?, "--total")),
        (None, Some(slot), _) => Some((slot.total, slot.system.name())),
        (None, None, Some(value)) => Some((
            parse_count("--total", &value.to_flag_text())?,
            "the configuration file",
        )),
        (None, None, None) => None,
    })
}

/// An index must name one of `total` shards (0-based).
pub(super) fn check_index(index: usize, total: usize, from: &str) -> Result<(), SettingsError> {
    if index < total {
        return Ok(());
    }
    Err(SettingsError::Invalid {
        flag: "--index",
        value: index.to_string(),
        reason: format!(
            "the index is 0-based and must be below the shard count {total} (from {from})"
        ),
    })
}

pub(super) fn parse_count(flag: &'static str, text: &str) -> Result<usize, SettingsError> {
    match text.trim().parse::<usize>() {
        Ok(count) if count > 0 => Ok(count),
        Ok(_) => Err(SettingsError::Invalid {
            flag,
            value: text.to_owned(),
            reason: "must be at least 1".into(),
        }),
        Err(_) => Err(SettingsError::Invalid {
            flag,
            value: text.to_owned(),
            reason: "expected a whole number of shards (or 'auto' for --total)".into(),
        }),
    }
}

/// Parses `K/N` (1-based) into a 0-based index and a total.
pub(super) fn parse_shard_fraction(text: &str) -> Result<(usize, usize), SettingsError> {
    let invalid = |reason: &str| SettingsError::Invalid {
        flag: "--shard",
        value: text.to_owned(),
        reason: reason.to_owned(),
    };
    let (k, n) = text
        .split_once('/')
        .ok_or_else(|| invalid("expected K/N, e.g. 2/4"))?;
    let k: usize = k
        .trim()
        .parse()
        .map_err(|_| invalid("expected K/N, e.g. 2/4"))?;
    let n: usize = n
        .trim()
        .parse()
        .map_err(|_| invalid("expected K/N, e.g. 2/4"))?;
    if n == 0 || k == 0 || k > n {
        return Err(invalid("K is 1-based and must be between 1 and N"));
    }
    Ok((k - 1, n))
}

/// Parses `8m`, `90s`, `1h 30m`, or a bare number of seconds.
pub(super) fn parse_duration(flag: &'static str, text: &str) -> Result<Duration, SettingsError> {
    let trimmed = text.trim();
    if let Ok(seconds) = trimmed.parse::<f64>()
        && seconds.is_finite()
        && seconds >= 0.0
    {
        return Ok(Duration::from_secs_f64(seconds));
    }
    humantime::parse_duration(trimmed).map_err(|error| SettingsError::Invalid {
        flag,
        value: text.to_owned(),
        reason: format!("{error} (write e.g. 8m, 90s or 1h30m)"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use crate::env::EnvVars;
    use clap::Parser;

    fn shard(
        command_line: &[&str],
        file: &ConfigFile,
        env: &Env,
    ) -> Result<ShardSettings, SettingsError> {
        let cli = Cli::try_parse_from(command_line).unwrap();
        let Command::Shard(args) = cli.command else {
            panic!("not shard")
        };
        resolve_shard(&args, file, env)
    }

    fn plan(
        command_line: &[&str],
        file: &ConfigFile,
        env: &Env,
    ) -> Result<PlanSettings, SettingsError> {
        let cli = Cli::try_parse_from(command_line).unwrap();
        let Command::Plan(args) = cli.command else {
            panic!("not plan")
        };
        resolve_plan(&args.plan, file, env)
    }

    fn circle(index: &str, total: &str) -> Env {
        [
            (EnvVars::CIRCLE_NODE_INDEX, index.to_owned()),
            (EnvVars::CIRCLE_NODE_TOTAL, total.to_owned()),
        ]
        .into_iter()
        .collect()
    }

    #[test]
    fn flags_beat_ci_which_beats_the_file() {
        let file = ConfigFile {
            total: Some(super::super::file::TotalValue::Number(9)),
            ..ConfigFile::default()
        };
        let from_flags = shard(
            &[
                "rxdist", "shard", "--tests", "t", "--index", "1", "--total", "3",
            ],
            &file,
            &circle("0", "2"),
        )
        .unwrap();
        assert_eq!(
            (from_flags.index, from_flags.plan.total),
            (1, Total::Fixed(3))
        );
        let from_ci = shard(
            &["rxdist", "shard", "--tests", "t"],
            &file,
            &circle("1", "2"),
        )
        .unwrap();
        assert_eq!(
            (from_ci.index, from_ci.plan.total, from_ci.plan.total_from),
            (1, Total::Fixed(2), "CircleCI")
        );
        let from_file = shard(
            &["rxdist", "shard", "--tests", "t", "--index", "4"],
            &file,
            &Env::default(),
        )
        .unwrap();
        assert_eq!(
            (from_file.index, from_file.plan.total),
            (4, Total::Fixed(9))
        );
    }

    #[test]
    fn shard_fraction_is_one_based() {
        let settings = shard(
            &["rxdist", "shard", "--tests", "t", "--shard", "2/4"],
            &ConfigFile::default(),
            &Env::default(),
        )
        .unwrap();
        assert_eq!((settings.index, settings.plan.total), (1, Total::Fixed(4)));
        for bad in ["0/4", "5/4", "x", "1/0"] {
            let error = shard(
                &["rxdist", "shard", "--tests", "t", "--shard", bad],
                &ConfigFile::default(),
                &Env::default(),
            )
            .unwrap_err();
            assert!(error.to_string().contains("--shard"), "{bad}: {error}");
        }
    }

    #[test]
    fn index_must_be_below_total() {
        let error = shard(
            &[
                "rxdist", "shard", "--tests", "t", "--index", "4", "--total", "4",
            ],
            &ConfigFile::default(),
            &Env::default(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("0-based"), "{error}");
    }

    #[test]
    fn missing_total_and_index_name_the_flags() {
        let error = plan(
            &["rxdist", "plan", "--tests", "t"],
            &ConfigFile::default(),
            &Env::default(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("--total"), "{error}");
        let error = shard(
            &["rxdist", "shard", "--tests", "t", "--total", "2"],
            &ConfigFile::default(),
            &Env::default(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("--index"), "{error}");
        let error = plan(
            &["rxdist", "plan", "--total", "2"],
            &ConfigFile::default(),
            &Env::default(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("--tests"), "{error}");
    }

    #[test]
    fn auto_total_needs_a_target_and_sane_overhead() {
        let error = plan(
            &["rxdist", "plan", "--tests", "t", "--total", "auto"],
            &ConfigFile::default(),
            &Env::default(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("--target-duration"), "{error}");
        let settings = plan(
            &[
                "rxdist",
                "plan",
                "--tests",
                "t",
                "--total",
                "auto",
                "--target-duration",
                "8m",
                "--shard-overhead",
                "30s",
            ],
            &ConfigFile::default(),
            &Env::default(),
        )
        .unwrap();
        assert_eq!(
            settings.total,
            Total::Auto {
                target: Duration::from_secs(480),
                overhead: Duration::from_secs(30),
                max_total: DEFAULT_MAX_TOTAL
            }
        );
        let error = plan(
            &[
                "rxdist",
                "plan",
                "--tests",
                "t",
                "--total",
                "auto",
                "--target-duration",
                "1m",
                "--shard-overhead",
                "2m",
            ],
            &ConfigFile::default(),
            &Env::default(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("--shard-overhead"), "{error}");
    }

    #[test]
    fn durations_accept_bare_seconds_and_reject_nonsense() {
        assert_eq!(
            parse_duration("--x", "90").unwrap(),
            Duration::from_secs(90)
        );
        assert_eq!(
            parse_duration("--x", "1h30m").unwrap(),
            Duration::from_secs(5400)
        );
        assert!(parse_duration("--x", "soon").is_err());
        assert!(parse_duration("--x", "-3").is_err());
    }

    #[test]
    fn collect_arguments_without_collection_are_rejected() {
        let error = plan(
            &[
                "rxdist",
                "plan",
                "--tests",
                "t",
                "--total",
                "2",
                "--collect-arg",
                "-x",
            ],
            &ConfigFile::default(),
            &Env::default(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("--collect-arg"), "{error}");
        let settings = plan(
            &[
                "rxdist",
                "plan",
                "--collect",
                "pytest",
                "--total",
                "2",
                "--collect-arg=-m",
                "--collect-arg",
                "not slow",
            ],
            &ConfigFile::default(),
            &Env::default(),
        )
        .unwrap();
        assert_eq!(
            settings.tests,
            TestSource::Collect {
                runner: CollectRunner::Pytest,
                args: vec!["-m".into(), "not slow".into()]
            }
        );
    }

    #[test]
    fn invalid_globs_are_rejected() {
        let error = plan(
            &[
                "rxdist",
                "plan",
                "--tests",
                "t",
                "--total",
                "2",
                "--keep-together",
                "a[b",
            ],
            &ConfigFile::default(),
            &Env::default(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("--keep-together"), "{error}");
    }

    #[test]
    fn config_paths_are_relative_to_the_config_file() {
        let file = ConfigFile {
            tests: Some(PathBuf::from("list.txt")),
            base_dir: PathBuf::from("/repo"),
            ..ConfigFile::default()
        };
        let settings = plan(&["rxdist", "plan", "--total", "2"], &file, &Env::default()).unwrap();
        assert_eq!(
            settings.tests,
            TestSource::File(PathBuf::from("/repo/list.txt"))
        );
    }
}
