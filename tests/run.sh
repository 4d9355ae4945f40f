#!/usr/bin/env bash
# Runs the whole test suite: unit, property, snapshot and end-to-end tests of the real binary
# against real pytest (installed into target/python by scripts/python-env.sh), rxdist's pytest
# plugin against every supported pytest version (target/pytest-versions,
# scripts/pytest-versions.sh), and --runner template against cargo-nextest and vitest (installed
# into target/js by scripts/js-env.sh).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
python=$(scripts/python-env.sh)
RXDIST_TEST_PYTEST_VENVS=$(scripts/pytest-versions.sh)
export RXDIST_TEST_PYTEST_VENVS
PATH="$(dirname "$python"):$PATH"
export PATH
scripts/js-env.sh >/dev/null
# The real project whose suite the coverage oracle test shards (tests/oracle-requirements.txt).
scripts/oracle-sdist.sh >/dev/null
# Keep the machine's CI variables out of the tests: rxdist reads them on purpose.
unset GITHUB_ACTIONS GITHUB_STEP_SUMMARY GITHUB_OUTPUT GITHUB_API_URL GITHUB_REPOSITORY \
  GITHUB_EVENT_PATH GITHUB_TOKEN GH_TOKEN CIRCLE_NODE_INDEX CIRCLE_NODE_TOTAL GITLAB_CI CI_NODE_INDEX CI_NODE_TOTAL \
  BUILDKITE_PARALLEL_JOB BUILDKITE_PARALLEL_JOB_COUNT SYSTEM_JOBPOSITIONINPHASE \
  SYSTEM_TOTALJOBSINPHASE SEMAPHORE_JOB_INDEX SEMAPHORE_JOB_COUNT BITBUCKET_PARALLEL_STEP \
  BITBUCKET_PARALLEL_STEP_COUNT TEST_SHARD_INDEX TEST_TOTAL_SHARDS TEST_SHARD_STATUS_FILE
cargo test --locked --no-fail-fast --lib --bins --tests "$@"
