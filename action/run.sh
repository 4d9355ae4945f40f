#!/usr/bin/env bash
# Run mode: run this shard's tests on local workers with the timings the plan job pinned, and
# leave the shard's JUnit report, coverage and recorded timings in the shard directory under
# the names prepare.sh gave them (the next step uploads that directory, even when tests fail).
#
# Inputs: RXA_BIN, RXA_INDEX, RXA_TOTAL, RXA_WORKERS, RXA_COMMAND, RXA_ARGS, RXA_COVERAGE,
# RXA_PINNED_DIR, RXA_SHARD_DIR, RXA_JUNIT, RXA_COVERAGE_OUT, RXA_TIMINGS (the last six from
# prepare.sh).
set -euo pipefail
# shellcheck source=action/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rxdist=$(rxdist_bin)
pinned=$(unix_path "${RXA_PINNED_DIR:?}")
shard_dir=$(unix_path "${RXA_SHARD_DIR:?}")
timings=$(unix_path "${RXA_TIMINGS:?}")
workers=${RXA_WORKERS:-auto}
[[ $workers =~ ^(auto|logical|[0-9]+)$ ]] || die "workers must be auto, logical or a number, not '$workers'"

split_words "${RXA_COMMAND:-}"
[[ ${#WORDS[@]} -gt 0 ]] || die "run mode needs the test command (the command input)"
command=("${WORDS[@]}")
split_words "${RXA_ARGS:-}"
args=(${WORDS[@]+"${WORDS[@]}"})

mkdir -p "$shard_dir"
# rxdist records this shard's run into its own copy of the pinned timings, uploaded with the
# shard; the merge job records the whole run into the pinned timings once.
if [[ -f $pinned/history.zst ]]; then
  cp "$pinned/history.zst" "$timings"
else
  warn "no pinned timings: the shards split by path hash instead of by duration"
  rm -f "$timings"
fi

run=(run --index "${RXA_INDEX:?}" --total "${RXA_TOTAL:?}" -n "$workers"
  --history "$(native_path "$timings")" --junit-out "${RXA_JUNIT:?}")
if [[ ${RXA_COVERAGE:-false} == true ]]; then
  run+=(--cov --cov-out "${RXA_COVERAGE_OUT:?}")
fi
exec "$rxdist" "${run[@]}" ${args[@]+"${args[@]}"} -- "${command[@]}"
