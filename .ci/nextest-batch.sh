#!/usr/bin/env bash
# nextest-batch.sh JUNIT ID...: runs one batch of rxdist's own tests for `rxdist run --runner
# template` (ci.yml's sharded jobs): `bash .ci/nextest-batch.sh {junit} {tests}`. Each id is
# BINARY::TEST as .ci/nextest-ids.sh wrote it; the binaries' file (RXDIST_SELF_BINARIES) says
# where the binary id ends, since both halves contain `::`. nextest reads its JUnit path only
# from a configuration file, so the batch writes one beside JUNIT.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

junit=${1:?usage: nextest-batch.sh JUNIT ID...}
shift
binaries=${RXDIST_SELF_BINARIES:?RXDIST_SELF_BINARIES names the file of test binary ids}

filters=()
for id in "$@"; do
  binary=""
  # The longest binary id that prefixes the id: rxdist::cli_plan before rxdist.
  while IFS= read -r candidate; do
    case $id in
      "$candidate::"*) if ((${#candidate} > ${#binary})); then binary=$candidate; fi ;;
      *) ;;
    esac
  done <"$binaries"
  if [[ -z $binary ]]; then
    echo "nextest-batch: no test binary for $id" >&2
    exit 2
  fi
  filters+=(-E "binary_id(=$binary) and test(=${id#"$binary::"})")
done
[[ ${#filters[@]} -gt 0 ]] || exit 0

printf '[profile.rxdist]\nfail-fast = false\n[profile.rxdist.junit]\npath = "%s"\n' "$junit" >"$junit.toml"
# The tests read CI variables on purpose; keep the runner's own out of them (as tests/run.sh).
unset GITHUB_ACTIONS GITHUB_STEP_SUMMARY GITHUB_OUTPUT CIRCLE_NODE_INDEX CIRCLE_NODE_TOTAL \
  GITLAB_CI CI_NODE_INDEX CI_NODE_TOTAL BUILDKITE_PARALLEL_JOB BUILDKITE_PARALLEL_JOB_COUNT \
  SYSTEM_JOBPOSITIONINPHASE SYSTEM_TOTALJOBSINPHASE SEMAPHORE_JOB_INDEX SEMAPHORE_JOB_COUNT \
  BITBUCKET_PARALLEL_STEP BITBUCKET_PARALLEL_STEP_COUNT TEST_SHARD_INDEX TEST_TOTAL_SHARDS \
  TEST_SHARD_STATUS_FILE
exec cargo nextest run --locked --no-fail-fast --profile rxdist \
  --tool-config-file "rxdist:$junit.toml" "${filters[@]}"
