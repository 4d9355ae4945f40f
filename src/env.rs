//! The registry of environment variables rxdist reads, and the one place it reads them.
//!
//! Every variable is declared here once. Commands never call `std::env::var`; they are handed
//! an [`Env`] snapshot, so tests can build one by hand and nothing leaks in from the machine a
//! test happens to run on (a `GITHUB_*` variable on a CI runner, say). The `RXDIST_*` settings
//! variables are read by clap (each flag names its variable) and listed here for the docs.

use std::collections::BTreeMap;

/// Names of the environment variables rxdist reads.
pub struct EnvVars;

impl EnvVars {
    /// Path of the configuration file (default `.rxdist.yml`).
    pub const RXDIST_CONFIG: &'static str = "RXDIST_CONFIG";
    /// The timing history file.
    pub const RXDIST_HISTORY: &'static str = "RXDIST_HISTORY";
    /// The test list file.
    pub const RXDIST_TESTS: &'static str = "RXDIST_TESTS";
    /// Collect the test list with this runner (`pytest`).
    pub const RXDIST_COLLECT: &'static str = "RXDIST_COLLECT";
    /// Space-separated extra arguments for the collection command.
    pub const RXDIST_COLLECT_ARGS: &'static str = "RXDIST_COLLECT_ARGS";
    /// `auto`, `pytest` or `generic`.
    pub const RXDIST_FRAMEWORK: &'static str = "RXDIST_FRAMEWORK";
    /// `test`, `file` or `auto`.
    pub const RXDIST_BY: &'static str = "RXDIST_BY";
    /// Shard count, or `auto`.
    pub const RXDIST_TOTAL: &'static str = "RXDIST_TOTAL";
    /// 0-based shard index.
    pub const RXDIST_INDEX: &'static str = "RXDIST_INDEX";
    /// Target wall time of a shard for `--total auto`.
    pub const RXDIST_TARGET_DURATION: &'static str = "RXDIST_TARGET_DURATION";
    /// Fixed cost of starting one shard.
    pub const RXDIST_SHARD_OVERHEAD: &'static str = "RXDIST_SHARD_OVERHEAD";
    /// Upper limit for `--total auto`.
    pub const RXDIST_MAX_TOTAL: &'static str = "RXDIST_MAX_TOTAL";
    /// Comma-separated globs of tests that must share a shard.
    pub const RXDIST_KEEP_TOGETHER: &'static str = "RXDIST_KEEP_TOGETHER";
    /// Runs after which an unseen test leaves the history.
    pub const RXDIST_HISTORY_RETENTION: &'static str = "RXDIST_HISTORY_RETENTION";
    /// `rxdist timings fetch --artifact`.
    pub const RXDIST_ARTIFACT: &'static str = "RXDIST_ARTIFACT";
    /// `rxdist timings fetch --branch`.
    pub const RXDIST_TIMINGS_BRANCH: &'static str = "RXDIST_TIMINGS_BRANCH";
    /// `rxdist timings fetch --require-timings`.
    pub const RXDIST_REQUIRE_TIMINGS: &'static str = "RXDIST_REQUIRE_TIMINGS";
    /// `rxdist timings fetch --max-bytes`.
    pub const RXDIST_MAX_BYTES: &'static str = "RXDIST_MAX_BYTES";
    /// `rxdist timings fetch`: milliseconds one second of retry waiting lasts (hidden; tests).
    pub const RXDIST_FETCH_WAIT_UNIT_MS: &'static str = "RXDIST_FETCH_WAIT_UNIT_MS";

    /// `rxdist run -n`.
    pub const RXDIST_NUMPROCESSES: &'static str = "RXDIST_NUMPROCESSES";
    /// `rxdist run --dist`.
    pub const RXDIST_DIST: &'static str = "RXDIST_DIST";
    /// `rxdist run --junit-out`.
    pub const RXDIST_JUNIT_OUT: &'static str = "RXDIST_JUNIT_OUT";
    /// `rxdist run --timeout`.
    pub const RXDIST_TIMEOUT: &'static str = "RXDIST_TIMEOUT";
    /// `rxdist run --global-timeout`.
    pub const RXDIST_GLOBAL_TIMEOUT: &'static str = "RXDIST_GLOBAL_TIMEOUT";
    /// `rxdist run --maxfail`.
    pub const RXDIST_MAXFAIL: &'static str = "RXDIST_MAXFAIL";
    /// `rxdist run --retries`.
    pub const RXDIST_RETRIES: &'static str = "RXDIST_RETRIES";
    /// `rxdist run --flaky-result`.
    pub const RXDIST_FLAKY_RESULT: &'static str = "RXDIST_FLAKY_RESULT";
    /// `rxdist run --serial-marker`.
    pub const RXDIST_SERIAL_MARKER: &'static str = "RXDIST_SERIAL_MARKER";
    /// `rxdist run --max-worker-restarts`.
    pub const RXDIST_MAX_WORKER_RESTARTS: &'static str = "RXDIST_MAX_WORKER_RESTARTS";
    /// `rxdist run --runner`.
    pub const RXDIST_RUNNER: &'static str = "RXDIST_RUNNER";
    /// `rxdist run --cov-out`.
    pub const RXDIST_COV_OUT: &'static str = "RXDIST_COV_OUT";
    /// pytest-xdist's override of what `-n auto` and `-n logical` mean; rxdist honours it.
    pub const PYTEST_XDIST_AUTO_NUM_WORKERS: &'static str = "PYTEST_XDIST_AUTO_NUM_WORKERS";

    /// CircleCI: 0-based node index.
    pub const CIRCLE_NODE_INDEX: &'static str = "CIRCLE_NODE_INDEX";
    /// CircleCI: node count.
    pub const CIRCLE_NODE_TOTAL: &'static str = "CIRCLE_NODE_TOTAL";
    /// GitLab: set to `true` inside GitLab CI.
    pub const GITLAB_CI: &'static str = "GITLAB_CI";
    /// GitLab: 1-based job index of a `parallel:` job.
    pub const CI_NODE_INDEX: &'static str = "CI_NODE_INDEX";
    /// GitLab: job count of a `parallel:` job.
    pub const CI_NODE_TOTAL: &'static str = "CI_NODE_TOTAL";
    /// Buildkite: 0-based parallel job index.
    pub const BUILDKITE_PARALLEL_JOB: &'static str = "BUILDKITE_PARALLEL_JOB";
    /// Buildkite: parallel job count.
    pub const BUILDKITE_PARALLEL_JOB_COUNT: &'static str = "BUILDKITE_PARALLEL_JOB_COUNT";
    /// Azure Pipelines: 1-based position of the job in its phase.
    pub const SYSTEM_JOBPOSITIONINPHASE: &'static str = "SYSTEM_JOBPOSITIONINPHASE";
    /// Azure Pipelines: number of jobs in the phase.
    pub const SYSTEM_TOTALJOBSINPHASE: &'static str = "SYSTEM_TOTALJOBSINPHASE";
    /// Semaphore: 1-based job index.
    pub const SEMAPHORE_JOB_INDEX: &'static str = "SEMAPHORE_JOB_INDEX";
    /// Semaphore: job count.
    pub const SEMAPHORE_JOB_COUNT: &'static str = "SEMAPHORE_JOB_COUNT";
    /// Bitbucket Pipelines: 0-based parallel step index.
    pub const BITBUCKET_PARALLEL_STEP: &'static str = "BITBUCKET_PARALLEL_STEP";
    /// Bitbucket Pipelines: parallel step count.
    pub const BITBUCKET_PARALLEL_STEP_COUNT: &'static str = "BITBUCKET_PARALLEL_STEP_COUNT";
    /// Bazel: 0-based shard index.
    pub const TEST_SHARD_INDEX: &'static str = "TEST_SHARD_INDEX";
    /// Bazel: shard count.
    pub const TEST_TOTAL_SHARDS: &'static str = "TEST_TOTAL_SHARDS";
    /// Bazel: a file the test runner touches to say it honours sharding.
    pub const TEST_SHARD_STATUS_FILE: &'static str = "TEST_SHARD_STATUS_FILE";
    /// Set by nearly every CI system: no progress bar even when a terminal is attached.
    pub const CI: &'static str = "CI";
    /// GitHub Actions: set to `true` inside a workflow run.
    pub const GITHUB_ACTIONS: &'static str = "GITHUB_ACTIONS";
    /// GitHub Actions: the file a step appends its Markdown job summary to.
    pub const GITHUB_STEP_SUMMARY: &'static str = "GITHUB_STEP_SUMMARY";
    /// GitHub Actions: the file a step appends its outputs to.
    pub const GITHUB_OUTPUT: &'static str = "GITHUB_OUTPUT";
    /// GitHub Actions: the REST API's base URL (GitHub Enterprise Server has its own).
    pub const GITHUB_API_URL: &'static str = "GITHUB_API_URL";
    /// GitHub Actions: `owner/name` of the repository the workflow runs in.
    pub const GITHUB_REPOSITORY: &'static str = "GITHUB_REPOSITORY";
    /// GitHub Actions: the file holding the payload of the event that started the run.
    pub const GITHUB_EVENT_PATH: &'static str = "GITHUB_EVENT_PATH";
    /// A GitHub token (Actions' `${{ github.token }}` is usually passed in as this). Secret.
    pub const GITHUB_TOKEN: &'static str = "GITHUB_TOKEN";
    /// A GitHub token, as the `gh` CLI names it. Secret.
    pub const GH_TOKEN: &'static str = "GH_TOKEN";

    /// Variables whose values are secrets: [`Env`]'s `Debug` never shows them.
    pub const SECRETS: &'static [&'static str] = &[Self::GITHUB_TOKEN, Self::GH_TOKEN];

    /// Every variable [`Env::capture`] takes from the process environment.
    pub const ALL: &'static [&'static str] = &[
        Self::RXDIST_CONFIG,
        Self::RXDIST_COLLECT_ARGS,
        Self::PYTEST_XDIST_AUTO_NUM_WORKERS,
        Self::CIRCLE_NODE_INDEX,
        Self::CIRCLE_NODE_TOTAL,
        Self::GITLAB_CI,
        Self::CI_NODE_INDEX,
        Self::CI_NODE_TOTAL,
        Self::BUILDKITE_PARALLEL_JOB,
        Self::BUILDKITE_PARALLEL_JOB_COUNT,
        Self::SYSTEM_JOBPOSITIONINPHASE,
        Self::SYSTEM_TOTALJOBSINPHASE,
        Self::SEMAPHORE_JOB_INDEX,
        Self::SEMAPHORE_JOB_COUNT,
        Self::BITBUCKET_PARALLEL_STEP,
        Self::BITBUCKET_PARALLEL_STEP_COUNT,
        Self::TEST_SHARD_INDEX,
        Self::TEST_TOTAL_SHARDS,
        Self::TEST_SHARD_STATUS_FILE,
        Self::GITHUB_ACTIONS,
        Self::GITHUB_STEP_SUMMARY,
        Self::GITHUB_OUTPUT,
        Self::GITHUB_API_URL,
        Self::GITHUB_REPOSITORY,
        Self::GITHUB_EVENT_PATH,
        Self::GITHUB_TOKEN,
        Self::GH_TOKEN,
        Self::CI,
    ];
}

/// A snapshot of the environment variables rxdist cares about. Its `Debug` shows secrets
/// ([`EnvVars::SECRETS`]) as `<redacted>`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Env {
    vars: BTreeMap<&'static str, String>,
}

impl Env {
    /// Reads every variable in [`EnvVars::ALL`] from the process environment. Empty values
    /// count as unset, as CI systems often export empty variables.
    pub fn capture() -> Self {
        EnvVars::ALL
            .iter()
            .filter_map(|&name| {
                let value = std::env::var(name).ok()?;
                Some((name, value))
            })
            .collect()
    }

    /// The value of `name`, if set and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }
}

impl std::fmt::Debug for Env {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = self.vars.iter().map(|(&name, value)| {
            let value = if EnvVars::SECRETS.contains(&name) {
                "<redacted>"
            } else {
                value.as_str()
            };
            (name, value)
        });
        formatter
            .debug_struct("Env")
            .field("vars", &shown.collect::<BTreeMap<_, _>>())
            .finish()
    }
}

impl FromIterator<(&'static str, String)> for Env {
    fn from_iter<I: IntoIterator<Item = (&'static str, String)>>(iter: I) -> Self {
        Env {
            vars: iter.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_tokens() {
        let env: Env = [
            (EnvVars::GITHUB_TOKEN, "ghs_secret1".to_owned()),
            (EnvVars::GH_TOKEN, "gho_secret2".to_owned()),
            (EnvVars::GITHUB_REPOSITORY, "octo/docs".to_owned()),
        ]
        .into_iter()
        .collect();
        let shown = format!("{env:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("octo/docs"), "{shown}");
        assert_eq!(env.get(EnvVars::GITHUB_TOKEN), Some("ghs_secret1"));
    }
}
