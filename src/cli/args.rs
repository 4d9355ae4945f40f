//! The clap structs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::github::Token;

const AFTER_HELP: &str = "\
Settings come from, in order of precedence: command-line flags, RXDIST_* environment variables,
the CI system's own parallelism variables (shard index and total only), the configuration file
(.rxdist.yml, or RXDIST_CONFIG), then defaults.

Exit codes: 0 success, 1 test failures (run), 2 usage, 3 unreadable input, 4 some inputs broken
(the rest used), 5 no tests, 6 collection failed, 7 file I/O, 8 target duration unreachable,
9 the test command could not start or workers kept dying (run), 10 global timeout (run),
11 no usable timings with --require-timings (timings fetch), 130 SIGINT, 143 SIGTERM.";

/// Duration-balanced test sharding for CI.
#[derive(Debug, Parser)]
#[command(name = "rxdist", version, about, long_about = None, after_help = AFTER_HELP)]
#[command(propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// Configuration file [default: .rxdist.yml when present]
    #[arg(long, global = true, value_name = "FILE", env = "RXDIST_CONFIG")]
    pub config: Option<PathBuf>,

    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compute the whole shard plan from the test list and the timing history.
    #[command(after_help = AFTER_HELP)]
    Plan(PlanCommand),
    /// Print the tests of one shard (the same plan every shard computes).
    #[command(after_help = AFTER_HELP)]
    Shard(ShardArgs),
    /// Run this shard's tests on local parallel workers and write one JUnit report.
    #[command(after_help = RUN_AFTER_HELP)]
    Run(RunArgs),
    /// Merge the JUnit and coverage reports of all shards into one of each.
    #[command(after_help = MERGE_AFTER_HELP)]
    Merge(MergeArgs),
    /// Record runs into a timing history and inspect it.
    #[command(subcommand)]
    Timings(TimingsCommand),
}

const MERGE_AFTER_HELP: &str = "\
Examples:
  rxdist merge --junit 'shards/*/junit.xml' --coverage 'shards/*/coverage.xml' --out-dir merged
  rxdist merge --junit shards/ --out-dir merged --history .rxdist/history.zst

Inputs are files, directories (searched recursively for *.xml, and for coverage also *.lcov and
*.info; each optionally .zst-compressed) or glob patterns, quoted so that rxdist expands them the
same way on every shell. They are merged in natural path order (shard-2 before shard-10).
JUnit goes to DIR/junit.xml; coverage to DIR/coverage.xml (Cobertura), DIR/coverage.lcov
(LCOV) or DIR/jacoco.xml (JaCoCo XML), one file per format found. Every output is written
through a temporary file and renamed, so a reader never sees half a report.

Exit codes: 0 merged, 2 usage, 3 nothing readable, 4 some inputs broken or missing (the rest
merged; --allow-broken makes this 0), 5 no input matched, 7 file I/O.";

const RUN_AFTER_HELP: &str = "\
Examples:
  rxdist run -n auto -- pytest
  rxdist run --index 1 --total 4 --history .rxdist/history.zst -- python -m pytest tests/
  rxdist run --runner template --tests ids.txt -- \\
      npx vitest run --reporter=junit --outputFile={junit} {tests}

Every worker process gets RXDIST_WORKER=gwN, RXDIST_WORKER_COUNT, RXDIST_SHARD_INDEX,
RXDIST_SHARD_TOTAL, RXDIST_ATTEMPT, RXDIST_RUN_ID and its own TMPDIR; pytest workers also get
PYTEST_XDIST_WORKER, PYTEST_XDIST_WORKER_COUNT, PYTEST_XDIST_TESTRUNUID and their own --basetemp.

Settings come from, in order of precedence: command-line flags, RXDIST_* environment variables,
the CI system's own parallelism variables (shard index and total only), the configuration file
(.rxdist.yml, or RXDIST_CONFIG), then defaults.

Exit codes: 0 all passed, 1 test failures, 2 usage, 5 no tests ran, 6 collection failed,
7 file I/O, 9 the test command could not start or workers kept dying, 10 global timeout,
130 SIGINT, 143 SIGTERM.";

/// Arguments shared by `plan` and `shard`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Timing history file (created by `rxdist timings record`)
    #[arg(long, value_name = "FILE", env = "RXDIST_HISTORY")]
    pub history: Option<PathBuf>,

    /// File with the tests to plan, one id per line ('-' reads standard input)
    #[arg(
        long,
        value_name = "FILE",
        env = "RXDIST_TESTS",
        conflicts_with = "collect"
    )]
    pub tests: Option<PathBuf>,

    /// Collect the test list by running this test runner's collection
    #[arg(long, value_name = "RUNNER", env = "RXDIST_COLLECT")]
    pub collect: Option<CollectRunner>,

    /// Extra arguments for the collection command.
    #[arg(
        long,
        value_name = "ARG",
        allow_hyphen_values = true,
        help = "Extra argument for the collection command (repeatable), e.g. --collect-arg=tests/unit\n\n[env: RXDIST_COLLECT_ARGS=, space-separated]"
    )]
    pub collect_arg: Vec<String>,

    /// How finely tests may be spread over shards [default: auto]
    #[arg(long, value_name = "UNIT", env = "RXDIST_BY")]
    pub by: Option<GranularityArg>,

    /// Number of shards, or 'auto' to pick the smallest count meeting --target-duration
    #[arg(long, value_name = "N|auto", env = "RXDIST_TOTAL")]
    pub total: Option<String>,

    /// Wall time one shard should not exceed with --total auto (e.g. 8m, 90s)
    #[arg(long, value_name = "DURATION", env = "RXDIST_TARGET_DURATION")]
    pub target_duration: Option<String>,

    /// Fixed cost of starting one shard (checkout, install), counted by --total auto [default: 0s]
    #[arg(long, value_name = "DURATION", env = "RXDIST_SHARD_OVERHEAD")]
    pub shard_overhead: Option<String>,

    /// Most shards --total auto may choose [default: 64]
    #[arg(long, value_name = "N", env = "RXDIST_MAX_TOTAL")]
    pub max_total: Option<usize>,

    /// Glob of test ids that must all run on one shard (repeatable; comma-separated in the
    /// environment)
    #[arg(
        long,
        value_name = "GLOB",
        env = "RXDIST_KEEP_TOGETHER",
        value_delimiter = ','
    )]
    pub keep_together: Vec<String>,

    /// Write the output to this file (atomically) instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `rxdist plan`.
#[derive(Debug, Args)]
pub struct PlanCommand {
    /// Planning inputs.
    #[command(flatten)]
    pub plan: PlanArgs,

    /// Output format
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub format: PlanFormat,
}

/// `rxdist shard`.
#[derive(Debug, Args)]
pub struct ShardArgs {
    /// Planning inputs.
    #[command(flatten)]
    pub plan: PlanArgs,

    /// 0-based index of this shard (GitHub's strategy.job-index) [default: from the CI]
    #[arg(long, value_name = "I", env = "RXDIST_INDEX", conflicts_with = "shard")]
    pub index: Option<usize>,

    /// This shard as K/N, 1-based (e.g. 2/4), instead of --index and --total
    #[arg(long, value_name = "K/N", conflicts_with = "total")]
    pub shard: Option<String>,

    /// Output format
    #[arg(long, value_name = "FORMAT", default_value = "list")]
    pub format: ShardFormat,

    /// Run the shard with this command instead of printing it (as `rxdist run` does)
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// `rxdist run` (and `rxdist shard ... -- COMMAND`).
#[derive(Debug, Args)]
pub struct RunArgs {
    /// 0-based index of this shard [default: from the CI, else the only shard]
    #[arg(long, value_name = "I", env = "RXDIST_INDEX", conflicts_with = "shard")]
    pub index: Option<usize>,

    /// Number of shards [default: from the CI, else 1]
    #[arg(long, value_name = "N", env = "RXDIST_TOTAL")]
    pub total: Option<String>,

    /// This shard as K/N, 1-based (e.g. 2/4), instead of --index and --total
    #[arg(long, value_name = "K/N", conflicts_with = "total")]
    pub shard: Option<String>,

    /// Worker processes: auto (usable CPUs), logical (all logical CPUs) or a number
    /// [default: auto]
    #[arg(
        short = 'n',
        long = "numprocesses",
        value_name = "N",
        env = "RXDIST_NUMPROCESSES"
    )]
    pub numprocesses: Option<String>,

    /// How tests are distributed over workers [default: load]
    #[arg(long, value_name = "MODE", env = "RXDIST_DIST")]
    pub dist: Option<DistArg>,

    /// Timing history: read to plan and order the work, updated with this run's timings
    #[arg(long, value_name = "FILE", env = "RXDIST_HISTORY")]
    pub history: Option<PathBuf>,

    /// Do not record this run into --history
    #[arg(long)]
    pub no_record: bool,

    /// Where the shard's JUnit report is written [default: .rxdist/junit.xml]
    #[arg(long, value_name = "FILE", env = "RXDIST_JUNIT_OUT")]
    pub junit_out: Option<PathBuf>,

    /// Interrupt a test (a whole batch with --runner template) that runs longer than this
    /// (seconds, or e.g. 90s, 5m)
    #[arg(long, value_name = "DURATION", env = "RXDIST_TIMEOUT")]
    pub timeout: Option<String>,

    /// Stop the whole run after this long; what did not finish is reported
    #[arg(long, value_name = "DURATION", env = "RXDIST_GLOBAL_TIMEOUT")]
    pub global_timeout: Option<String>,

    /// Stop all workers after this many failed tests
    #[arg(long, value_name = "N", env = "RXDIST_MAXFAIL")]
    pub maxfail: Option<usize>,

    /// Stop all workers at the first failed test (--maxfail 1)
    #[arg(short = 'x', long = "exitfirst")]
    pub exitfirst: bool,

    /// Rerun a failed test up to N times, each in a fresh process [default: 0]
    #[arg(long, value_name = "N", env = "RXDIST_RETRIES")]
    pub retries: Option<u32>,

    /// Whether a test that passes on a retry passes or fails the run [default: pass]
    #[arg(long, value_name = "RESULT", env = "RXDIST_FLAKY_RESULT")]
    pub flaky_result: Option<FlakyResult>,

    /// Marker of tests that must run with no other test running [default: serial]
    #[arg(long, value_name = "NAME", env = "RXDIST_SERIAL_MARKER")]
    pub serial_marker: Option<String>,

    /// Worker processes that may die before the rest is reported as not run
    /// [default: 4 per worker]
    #[arg(long, value_name = "N", env = "RXDIST_MAX_WORKER_RESTARTS")]
    pub max_worker_restarts: Option<usize>,

    /// How the command is driven [default: pytest]
    #[arg(long, value_name = "RUNNER", env = "RXDIST_RUNNER")]
    pub runner: Option<RunnerArg>,

    /// Test ids to run, one per line (required by --runner template without --history)
    #[arg(long, value_name = "FILE", env = "RXDIST_TESTS")]
    pub tests: Option<PathBuf>,

    /// How finely tests may be spread over shards [default: auto]
    #[arg(long, value_name = "UNIT", env = "RXDIST_BY")]
    pub by: Option<GranularityArg>,

    /// Collect coverage (pytest-cov) per process and combine it into one Cobertura XML
    #[arg(long)]
    pub cov: bool,

    /// Where the combined Cobertura XML is written [default: .rxdist/coverage.xml]
    #[arg(long, value_name = "FILE", env = "RXDIST_COV_OUT")]
    pub cov_out: Option<PathBuf>,

    /// The test command and its arguments
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// pytest-xdist's distribution modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DistArg {
    /// Batches from a longest-first queue; large files may be split by test
    Load,
    /// A file's tests run in one process
    Loadfile,
    /// A module's or class's tests run in one process
    Loadscope,
    /// Like load; each `xdist_group` runs in one process, in order
    Loadgroup,
    /// Like load, with more and smaller tail batches
    Worksteal,
    /// One fixed batch per worker, by file path only: the same on every run
    Static,
}

/// How a test that passes on a retry counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlakyResult {
    /// It passes (and is reported as flaky)
    Pass,
    /// It fails the run
    Fail,
}

/// How `rxdist run` drives the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunnerArg {
    /// pytest with rxdist's plugin: per-test events, timeouts, crash recovery
    Pytest,
    /// Any command: {tests}, @{testfile} and {junit} placeholders, one batch per process
    Template,
}

/// `rxdist merge`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("inputs").required(true).multiple(true).args(["junit", "coverage"])))]
pub struct MergeArgs {
    /// JUnit XML reports: files, directories or quoted glob patterns (repeatable)
    #[arg(long, value_name = "PATH_OR_GLOB", num_args = 1..)]
    pub junit: Vec<String>,

    /// Coverage reports (Cobertura, LCOV or `JaCoCo` XML): files, directories or quoted glob
    /// patterns (repeatable)
    #[arg(long, value_name = "PATH_OR_GLOB", num_args = 1..)]
    pub coverage: Vec<String>,

    /// Directory the merged reports are written to
    #[arg(long, value_name = "DIR", env = "RXDIST_OUT_DIR")]
    pub out_dir: Option<PathBuf>,

    /// Timing history to record the merged run into (created if absent)
    #[arg(long, value_name = "FILE", env = "RXDIST_HISTORY")]
    pub history: Option<PathBuf>,

    /// What to do with several results of one test (retries, re-run jobs) [default: collapse]
    #[arg(long, value_name = "POLICY", env = "RXDIST_MERGE_RETRIES")]
    pub retries: Option<RetryPolicyArg>,

    /// Rewrite coverage paths starting with FROM to start with TO (repeatable), e.g.
    /// --path-map /builds/app/=
    #[arg(
        long,
        value_name = "FROM=TO",
        env = "RXDIST_PATH_MAP",
        value_delimiter = ','
    )]
    pub path_map: Vec<String>,

    /// Exit 0 even when some inputs were broken or missing (they are still reported)
    #[arg(long, env = "RXDIST_ALLOW_BROKEN")]
    pub allow_broken: bool,

    /// How test ids are formed when recording into --history [default: auto]
    #[arg(long, value_name = "FRAMEWORK", env = "RXDIST_FRAMEWORK")]
    pub framework: Option<FrameworkArg>,

    /// Directory that relative test file paths are resolved against when recording [default: .]
    #[arg(long, value_name = "DIR")]
    pub rootdir: Option<PathBuf>,
}

/// What `rxdist merge` does with several results of one test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RetryPolicyArg {
    /// Keep every result as its own testcase
    Keep,
    /// One testcase: the final outcome, earlier failures as flakyFailure/rerunFailure
    Collapse,
    /// Only the last result
    Last,
}

/// `rxdist timings ...`.
#[derive(Debug, Subcommand)]
pub enum TimingsCommand {
    /// Add one run's results to the timing history (creating it if absent).
    Record(RecordArgs),
    /// Summarise a timing history.
    Show(ShowArgs),
    /// Download the newest timing history a workflow run uploaded as a GitHub artifact.
    Fetch(FetchArgs),
}

/// `rxdist timings record`.
#[derive(Debug, Args)]
#[command(after_help = "\
Inputs are JUnit XML files (optionally .zst-compressed), directories searched for *.xml and
*.xml.zst, pytest-split .test_durations files and knapsack_*_report.json files. All inputs of one
invocation are one run. Recording the same run again changes nothing.

Exit codes: 0 recorded, 2 usage, 3 nothing readable, 4 some inputs broken (the rest recorded),
5 no testcases, 7 file I/O.")]
pub struct RecordArgs {
    /// Timing history file to update (created if absent)
    #[arg(long, value_name = "FILE", env = "RXDIST_HISTORY")]
    pub history: Option<PathBuf>,

    /// Report files or directories of this run (repeatable)
    #[arg(long = "input", short = 'i', value_name = "PATH", required = true, num_args = 1..)]
    pub inputs: Vec<PathBuf>,

    /// How test ids are formed [default: auto]
    #[arg(long, value_name = "FRAMEWORK", env = "RXDIST_FRAMEWORK")]
    pub framework: Option<FrameworkArg>,

    /// The collected test list (one id per line), used to map pytest xunit2 testcases
    #[arg(long, value_name = "FILE", env = "RXDIST_TESTS")]
    pub tests: Option<PathBuf>,

    /// Directory that relative test file paths are resolved against [default: .]
    #[arg(long, value_name = "DIR")]
    pub rootdir: Option<PathBuf>,

    /// Drop tests not seen in this many recorded runs [default: 30]
    #[arg(long, value_name = "RUNS", env = "RXDIST_HISTORY_RETENTION")]
    pub retention: Option<u32>,
}

/// `rxdist timings show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Timing history file
    #[arg(long, value_name = "FILE", env = "RXDIST_HISTORY")]
    pub history: Option<PathBuf>,

    /// How many of the slowest tests and files to list
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,

    /// Output format
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub format: ShowFormat,
}

/// `rxdist timings fetch`.
#[derive(Debug, Args)]
#[command(after_help = "\
Looks for the newest artifact of that name that has not expired, was uploaded by a workflow run
on the branch, and not by a run on a fork; downloads it (at most --max-bytes), checks GitHub's
sha256 digest of it, and installs the one file at its root, which must have the same file name
as --history and be a timing history, into --history (atomically).

GitHub is GITHUB_API_URL (default https://api.github.com). The token needs `actions: read`.
Rate limits, 5xx answers and network errors are retried with backoff, for a minute at most.

When no usable timings are found, a warning is printed (a ::warning:: annotation inside GitHub
Actions), --history is left as it was, and the exit code is 0: planning goes on without history.

Exit codes: 0 installed, or no usable timings (a warning), 2 usage, 7 file I/O,
11 no usable timings with --require-timings.")]
pub struct FetchArgs {
    /// Where the history is installed; its file name is the file looked for in the artifact
    #[arg(long, value_name = "FILE", env = "RXDIST_HISTORY")]
    pub history: Option<PathBuf>,

    /// The repository.
    #[arg(
        long,
        value_name = "OWNER/NAME",
        help = "The repository, as OWNER/NAME [default: GITHUB_REPOSITORY, else the git remote origin]"
    )]
    pub repo: Option<String>,

    /// Name of the artifact holding the history [default: rxdist-timings]
    #[arg(long, value_name = "NAME", env = "RXDIST_ARTIFACT")]
    pub artifact: Option<String>,

    /// Use timings uploaded on this branch [default: the repository's default branch]
    #[arg(long, value_name = "BRANCH", env = "RXDIST_TIMINGS_BRANCH")]
    pub branch: Option<String>,

    /// The GitHub token (redacted in `Debug`).
    #[arg(
        long,
        value_name = "TOKEN",
        value_parser = parse_token,
        help = "GitHub token [default: GITHUB_TOKEN, else GH_TOKEN; prefer those: arguments are visible to other processes]"
    )]
    pub token: Option<Token>,

    /// Fail (exit code 11) instead of warning when no usable timings are found
    #[arg(
        long,
        env = "RXDIST_REQUIRE_TIMINGS",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub require_timings: bool,

    /// Largest artifact zip, and largest history file inside it, in bytes [default: 268435456]
    #[arg(long, value_name = "BYTES", env = "RXDIST_MAX_BYTES")]
    pub max_bytes: Option<u64>,

    /// Milliseconds one second of retry waiting lasts (tests shorten the waits)
    #[arg(
        long,
        value_name = "MS",
        env = "RXDIST_FETCH_WAIT_UNIT_MS",
        hide = true
    )]
    pub wait_unit_ms: Option<u64>,
}

/// Never fails: clap would print a rejected value, and this one is a secret. The settings
/// check it.
#[expect(
    clippy::unnecessary_wraps,
    reason = "clap's value parsers return a Result"
)]
fn parse_token(text: &str) -> Result<Token, std::convert::Infallible> {
    Ok(Token::new(text))
}

/// A test runner whose collection rxdist can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CollectRunner {
    /// `pytest --collect-only -q`
    Pytest,
}

/// How test ids are formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FrameworkArg {
    /// pytest if the reports or ids look like pytest's, generic otherwise
    Auto,
    /// pytest node ids (`path.py::Class::test[param]`)
    Pytest,
    /// The testcase's file, else `classname::name`
    Generic,
}

/// How finely tests may be spread over shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GranularityArg {
    /// Any test may go to any shard
    Test,
    /// A file's tests stay together
    File,
    /// Files stay together unless one alone would unbalance the plan
    Auto,
}

/// Output formats of `rxdist plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// A readable table
    Text,
    /// The whole plan as JSON
    Json,
    /// {"include": [...]} for a GitHub Actions matrix via fromJSON
    GithubMatrix,
}

/// Output formats of `rxdist shard`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShardFormat {
    /// One test id per line
    List,
    /// The shard as JSON
    Json,
    /// An argument file for `pytest @FILE` (one id per line; an empty shard selects nothing)
    PytestArgs,
}

/// Output formats of `rxdist timings show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    /// A readable summary
    Text,
    /// The summary as JSON
    Json,
}
