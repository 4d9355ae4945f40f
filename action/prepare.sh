#!/usr/bin/env bash
# The action's first step in every mode: checks the inputs that decide what runs, and names
# every file and artifact the later steps use, so one place owns the names (merge.sh parses
# the shard file names this script gives: NAME-I-of-N-attempt-A).
#
# Inputs (action.yml passes them as environment variables): RXA_MODE, RXA_NAME, RXA_INDEX and
# RXA_TOTAL (the run's shard; the plan's matrix by default), RXA_JOB_INDEX and RXA_JOB_TOTAL
# (strategy.job-index and job-total, used when the matrix has no index), RXA_COVERAGE.
# From the runner: RUNNER_TEMP, GITHUB_JOB, GITHUB_RUN_ATTEMPT.
set -euo pipefail
# shellcheck source=action/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mode=${RXA_MODE:-}
case $mode in
  plan | run | merge | install) ;;
  shard) mode=run ;;
  '') die "the mode input is required: plan, run (or shard), merge or install" ;;
  *) die "unknown mode '$mode': use plan, run (or shard), merge or install" ;;
esac

name=${RXA_NAME:-rxdist}
[[ $name =~ ^[A-Za-z0-9_.-]+$ ]] ||
  die "name must be letters, digits, '.', '_' or '-' (it names artifacts), not '$name'"
case ${RXA_COVERAGE:-false} in
  true | false) ;;
  *) die "coverage must be 'true' or 'false', not '$RXA_COVERAGE'" ;;
esac
[[ -n ${RUNNER_TEMP:-} ]] || die "RUNNER_TEMP is not set: the action runs inside GitHub Actions"
attempt=${GITHUB_RUN_ATTEMPT:-1}
require_count GITHUB_RUN_ATTEMPT "$attempt"
job=${GITHUB_JOB:-job}
[[ $job =~ ^[A-Za-z0-9_-]+$ ]] || job=job

# One directory per name, so two sharded suites in one job do not share files.
dir="$(unix_path "$RUNNER_TEMP")/rxdist-$name"
mkdir -p "$dir"

set_output mode "$mode"
set_output dir "$(native_path "$dir")"
# The plan job's pinned timings: the job id keeps two plan jobs of one workflow apart, the
# attempt keeps a re-run's plan from colliding with the first one's artifact.
set_output pinned-name "$name-history-$job-attempt-$attempt"
set_output pinned-dir "$(native_path "$dir/pinned")"
set_output shard-dir "$(native_path "$dir/shard")"
set_output shards-dir "$(native_path "$dir/shards")"
set_output shard-pattern "$name-shard-*"
set_output merged-dir "$(native_path "$dir/merged")"
set_output merged-name "$name-merged-attempt-$attempt"
set_output publish-dir "$(native_path "$dir/publish")"

if [[ $mode == run ]]; then
  index=${RXA_INDEX:-${RXA_JOB_INDEX:-}}
  total=${RXA_TOTAL:-${RXA_JOB_TOTAL:-}}
  [[ -n $index && -n $total ]] ||
    die "run mode needs the shard: run it in the plan's matrix, or pass index and total"
  require_count index "$index"
  require_count total "$total"
  ((10#$index < 10#$total)) || die "index $index is not below total $total"
  # Names unique per shard and per attempt: a re-run uploads beside the first attempt's
  # artifacts instead of colliding with them, and merge.sh picks the newest attempt per shard.
  stem="$index-of-$total-attempt-$attempt"
  set_output index "$index"
  set_output total "$total"
  set_output shard-name "$name-shard-$stem"
  set_output junit "$(native_path "$dir/shard/junit-$stem.xml")"
  if [[ ${RXA_COVERAGE:-false} == true ]]; then
    set_output coverage "$(native_path "$dir/shard/coverage-$stem.xml")"
  fi
  set_output timings "$(native_path "$dir/shard/timings-$stem.zst")"
fi
