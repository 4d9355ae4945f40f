#!/usr/bin/env bash
# Prepares what the end-to-end tests run against (as tests/run.sh does: the pinned Python
# environment, every supported pytest, vitest) and hands it to the following steps of a
# GitHub Actions job through GITHUB_PATH and GITHUB_ENV. Used by ci.yml's sharded jobs, whose
# batches run cargo nextest directly instead of tests/run.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

python=$(scripts/python-env.sh)
venvs=$(scripts/pytest-versions.sh)
scripts/js-env.sh >/dev/null
dirname "$python" >>"${GITHUB_PATH:?this script runs in GitHub Actions}"
printf 'RXDIST_TEST_PYTEST_VENVS=%s\n' "$venvs" >>"${GITHUB_ENV:?}"
