//! Which CI system this is, and which shard its own parallelism variables say this job is.
//!
//! Each CI names its parallel jobs differently and some count from 1; this module turns them
//! into one 0-based [`ShardSlot`]. It reads only the [`Env`] snapshot it is handed.

pub mod github;

use crate::env::{Env, EnvVars};

/// A CI system that can run one job as several parallel shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CiSystem {
    /// Bazel's test sharding (`TEST_SHARD_INDEX`, `TEST_TOTAL_SHARDS`).
    Bazel,
    /// CircleCI `parallelism`.
    CircleCi,
    /// GitLab CI `parallel:`.
    GitLab,
    /// Buildkite `parallelism`.
    Buildkite,
    /// Azure Pipelines `parallel` strategy.
    AzurePipelines,
    /// Semaphore `parallelism`.
    Semaphore,
    /// Bitbucket Pipelines parallel steps.
    Bitbucket,
}

impl CiSystem {
    /// Human-readable name.
    pub fn name(self) -> &'static str {
        match self {
            CiSystem::Bazel => "Bazel",
            CiSystem::CircleCi => "CircleCI",
            CiSystem::GitLab => "GitLab CI",
            CiSystem::Buildkite => "Buildkite",
            CiSystem::AzurePipelines => "Azure Pipelines",
            CiSystem::Semaphore => "Semaphore",
            CiSystem::Bitbucket => "Bitbucket Pipelines",
        }
    }

    /// The variables holding the index and the total, and whether the index counts from 1.
    fn variables(self) -> (&'static str, &'static str, bool) {
        match self {
            CiSystem::Bazel => (EnvVars::TEST_SHARD_INDEX, EnvVars::TEST_TOTAL_SHARDS, false),
            CiSystem::CircleCi => (
                EnvVars::CIRCLE_NODE_INDEX,
                EnvVars::CIRCLE_NODE_TOTAL,
                false,
            ),
            CiSystem::GitLab => (EnvVars::CI_NODE_INDEX, EnvVars::CI_NODE_TOTAL, true),
            CiSystem::Buildkite => (
                EnvVars::BUILDKITE_PARALLEL_JOB,
                EnvVars::BUILDKITE_PARALLEL_JOB_COUNT,
                false,
            ),
            CiSystem::AzurePipelines => (
                EnvVars::SYSTEM_JOBPOSITIONINPHASE,
                EnvVars::SYSTEM_TOTALJOBSINPHASE,
                true,
            ),
            CiSystem::Semaphore => (
                EnvVars::SEMAPHORE_JOB_INDEX,
                EnvVars::SEMAPHORE_JOB_COUNT,
                true,
            ),
            CiSystem::Bitbucket => (
                EnvVars::BITBUCKET_PARALLEL_STEP,
                EnvVars::BITBUCKET_PARALLEL_STEP_COUNT,
                false,
            ),
        }
    }

    /// Checked in this order: Bazel first because its variables are set for the test process
    /// itself, even when Bazel runs inside another CI.
    const ALL: [CiSystem; 7] = [
        CiSystem::Bazel,
        CiSystem::CircleCi,
        CiSystem::GitLab,
        CiSystem::Buildkite,
        CiSystem::AzurePipelines,
        CiSystem::Semaphore,
        CiSystem::Bitbucket,
    ];
}

/// This job's place among the CI's parallel jobs, 0-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardSlot {
    /// Who said so.
    pub system: CiSystem,
    /// 0-based index.
    pub index: usize,
    /// Number of parallel jobs.
    pub total: usize,
}

/// A CI variable that is set but makes no sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CiError {
    /// Not a number.
    #[error("{variable}={value:?} is not a whole number")]
    NotANumber {
        /// The variable.
        variable: &'static str,
        /// Its value.
        value: String,
    },
    /// Index outside `0..total` (after converting a 1-based index).
    #[error(
        "{system} says this is job {index_variable}={index} of {total_variable}={total}, which is out of range"
    )]
    OutOfRange {
        /// The CI's name.
        system: &'static str,
        /// Index variable.
        index_variable: &'static str,
        /// Its raw value.
        index: usize,
        /// Total variable.
        total_variable: &'static str,
        /// Its raw value.
        total: usize,
    },
    /// Only one of the pair is set.
    #[error("{present} is set but {missing} is not; set both or pass --index and --total")]
    HalfSet {
        /// The variable that is set.
        present: &'static str,
        /// The one that is missing.
        missing: &'static str,
    },
}

/// Finds this job's shard from the first CI system whose variables are set.
pub fn detect_shard(env: &Env) -> Result<Option<ShardSlot>, CiError> {
    for system in CiSystem::ALL {
        // GitLab's CI_NODE_INDEX is also used, 0-based, by other tools' generic conventions;
        // only trust it inside GitLab.
        if system == CiSystem::GitLab && env.get(EnvVars::GITLAB_CI) != Some("true") {
            continue;
        }
        let (index_variable, total_variable, one_based) = system.variables();
        let (index, total) = match (env.get(index_variable), env.get(total_variable)) {
            (None, None) => continue,
            (Some(index), Some(total)) => {
                (parse(index_variable, index)?, parse(total_variable, total)?)
            }
            (Some(_), None) => {
                return Err(CiError::HalfSet {
                    present: index_variable,
                    missing: total_variable,
                });
            }
            (None, Some(_)) => {
                return Err(CiError::HalfSet {
                    present: total_variable,
                    missing: index_variable,
                });
            }
        };
        let zero_based = if one_based {
            index.checked_sub(1)
        } else {
            Some(index)
        };
        return match zero_based {
            Some(slot) if total > 0 && slot < total => Ok(Some(ShardSlot {
                system,
                index: slot,
                total,
            })),
            _ => Err(CiError::OutOfRange {
                system: system.name(),
                index_variable,
                index,
                total_variable,
                total,
            }),
        };
    }
    Ok(None)
}

/// The file Bazel asks a sharding-aware test runner to touch, if any.
pub fn bazel_shard_status_file(env: &Env) -> Option<&str> {
    env.get(EnvVars::TEST_SHARD_STATUS_FILE)
}

/// Whether this process runs inside a GitHub Actions job.
pub fn is_github_actions(env: &Env) -> bool {
    env.get(EnvVars::GITHUB_ACTIONS) == Some("true")
}

fn parse(variable: &'static str, value: &str) -> Result<usize, CiError> {
    value.trim().parse().map_err(|_| CiError::NotANumber {
        variable,
        value: value.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&'static str, &str)]) -> Env {
        pairs
            .iter()
            .map(|&(name, value)| (name, value.to_owned()))
            .collect()
    }

    fn slot(pairs: &[(&'static str, &str)]) -> Option<(CiSystem, usize, usize)> {
        detect_shard(&env(pairs))
            .unwrap()
            .map(|slot| (slot.system, slot.index, slot.total))
    }

    #[test]
    fn nothing_set_means_no_ci_shard() {
        assert_eq!(slot(&[]), None);
    }

    #[test]
    fn zero_based_systems_pass_through() {
        use EnvVars as V;
        let cases = [
            (
                V::CIRCLE_NODE_INDEX,
                V::CIRCLE_NODE_TOTAL,
                CiSystem::CircleCi,
            ),
            (
                V::BUILDKITE_PARALLEL_JOB,
                V::BUILDKITE_PARALLEL_JOB_COUNT,
                CiSystem::Buildkite,
            ),
            (
                V::BITBUCKET_PARALLEL_STEP,
                V::BITBUCKET_PARALLEL_STEP_COUNT,
                CiSystem::Bitbucket,
            ),
            (V::TEST_SHARD_INDEX, V::TEST_TOTAL_SHARDS, CiSystem::Bazel),
        ];
        for (index, total, system) in cases {
            assert_eq!(
                slot(&[(index, "0"), (total, "3")]),
                Some((system, 0, 3)),
                "{system:?}"
            );
            assert_eq!(
                slot(&[(index, "2"), (total, "3")]),
                Some((system, 2, 3)),
                "{system:?}"
            );
        }
    }

    #[test]
    fn one_based_systems_are_shifted() {
        use EnvVars as V;
        assert_eq!(
            slot(&[
                (V::GITLAB_CI, "true"),
                (V::CI_NODE_INDEX, "1"),
                (V::CI_NODE_TOTAL, "4")
            ]),
            Some((CiSystem::GitLab, 0, 4))
        );
        assert_eq!(
            slot(&[
                (V::SYSTEM_JOBPOSITIONINPHASE, "4"),
                (V::SYSTEM_TOTALJOBSINPHASE, "4")
            ]),
            Some((CiSystem::AzurePipelines, 3, 4))
        );
        assert_eq!(
            slot(&[(V::SEMAPHORE_JOB_INDEX, "2"), (V::SEMAPHORE_JOB_COUNT, "5")]),
            Some((CiSystem::Semaphore, 1, 5))
        );
    }

    #[test]
    fn gitlab_variables_outside_gitlab_are_ignored() {
        use EnvVars as V;
        assert_eq!(
            slot(&[(V::CI_NODE_INDEX, "1"), (V::CI_NODE_TOTAL, "4")]),
            None
        );
    }

    #[test]
    fn bazel_wins_over_the_surrounding_ci() {
        use EnvVars as V;
        assert_eq!(
            slot(&[
                (V::CIRCLE_NODE_INDEX, "1"),
                (V::CIRCLE_NODE_TOTAL, "2"),
                (V::TEST_SHARD_INDEX, "3"),
                (V::TEST_TOTAL_SHARDS, "8"),
            ]),
            Some((CiSystem::Bazel, 3, 8))
        );
    }

    #[test]
    fn empty_values_count_as_unset() {
        use EnvVars as V;
        assert_eq!(
            slot(&[(V::CIRCLE_NODE_INDEX, ""), (V::CIRCLE_NODE_TOTAL, "")]),
            None
        );
    }

    #[test]
    fn bad_values_are_errors_naming_the_variable() {
        use EnvVars as V;
        let error = detect_shard(&env(&[
            (V::CIRCLE_NODE_INDEX, "x"),
            (V::CIRCLE_NODE_TOTAL, "2"),
        ]))
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "CIRCLE_NODE_INDEX=\"x\" is not a whole number"
        );

        let error = detect_shard(&env(&[
            (V::GITLAB_CI, "true"),
            (V::CI_NODE_INDEX, "0"),
            (V::CI_NODE_TOTAL, "2"),
        ]))
        .unwrap_err();
        assert!(
            matches!(error, CiError::OutOfRange { index: 0, .. }),
            "{error}"
        );

        let error = detect_shard(&env(&[
            (V::CIRCLE_NODE_INDEX, "2"),
            (V::CIRCLE_NODE_TOTAL, "2"),
        ]))
        .unwrap_err();
        assert!(error.to_string().contains("out of range"), "{error}");

        let error = detect_shard(&env(&[(V::BUILDKITE_PARALLEL_JOB, "1")])).unwrap_err();
        assert_eq!(
            error,
            CiError::HalfSet {
                present: V::BUILDKITE_PARALLEL_JOB,
                missing: V::BUILDKITE_PARALLEL_JOB_COUNT
            }
        );
    }
}
