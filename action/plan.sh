#!/usr/bin/env bash
# Plan mode: fetch the timings of earlier runs once, keep them in the pinned directory (the
# next step uploads it, so every shard and the merge job of this workflow run plan from the
# same bytes even if new timings are published meanwhile), plan the shards, and give the
# matrix and its predicted imbalance as outputs.
#
# Inputs: RXA_BIN, RXA_GITHUB_TOKEN, RXA_HISTORY_ARTIFACT, RXA_HISTORY_BRANCH,
# RXA_REQUIRE_TIMINGS, RXA_SHARDS, RXA_TESTS, RXA_ARGS, RXA_PINNED_DIR, RXA_PINNED_NAME.
# From the runner: GITHUB_REPOSITORY, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_STEP_SUMMARY.
set -euo pipefail
# shellcheck source=action/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rxdist=$(rxdist_bin)
pinned=$(unix_path "${RXA_PINNED_DIR:?}")
pinned_name=${RXA_PINNED_NAME:?}
artifact=${RXA_HISTORY_ARTIFACT:-rxdist-timings}
shards=${RXA_SHARDS:-4}
history="$pinned/history.zst"
# The token goes to `timings fetch` alone, never to the test collection.
token=${RXA_GITHUB_TOKEN:-}
unset RXA_GITHUB_TOKEN

rm -rf "$pinned"
mkdir -p "$pinned"

fetch=(timings fetch --history "$(native_path "$history")" --artifact "$artifact")
if [[ -n ${GITHUB_REPOSITORY:-} ]]; then fetch+=(--repo "$GITHUB_REPOSITORY"); fi
if [[ -n ${RXA_HISTORY_BRANCH:-} ]]; then fetch+=(--branch "$RXA_HISTORY_BRANCH"); fi
case ${RXA_REQUIRE_TIMINGS:-false} in
  true) fetch+=(--require-timings) ;;
  false) ;;
  *) die "require-timings must be 'true' or 'false', not '$RXA_REQUIRE_TIMINGS'" ;;
esac
status=0
if [[ -n $token ]]; then
  GITHUB_TOKEN=$token "$rxdist" "${fetch[@]}" || status=$?
else
  "$rxdist" "${fetch[@]}" || status=$?
fi
if [[ $status -ne 0 ]]; then
  if [[ ${RXA_REQUIRE_TIMINGS:-false} == true ]]; then
    die "no usable timings (rxdist timings fetch exited with $status) and require-timings is set"
  fi
  # Missing timings never make a red build: the plan splits by test count instead.
  warn "rxdist timings fetch exited with $status: planning without timings"
  rm -f "$history"
fi
if [[ -f $history ]]; then
  found=true
  origin="history.zst holds the timings that workflow run ${GITHUB_RUN_ID:-?} (attempt ${GITHUB_RUN_ATTEMPT:-1}) fetched from the newest '$artifact' artifact."
else
  found=false
  origin="No timings were found: workflow run ${GITHUB_RUN_ID:-?} (attempt ${GITHUB_RUN_ATTEMPT:-1}) was planned without them."
fi
# The artifact always holds a file, so the shards' download finds it either way.
printf '%s\n' "$origin" >"$pinned/README.txt"

plan=(plan --history "$(native_path "$history")" --total "$shards" --format github-matrix)
if [[ -n ${RXA_TESTS:-} ]]; then
  plan+=(--tests "$RXA_TESTS")
else
  plan+=(--collect pytest)
fi
split_words "${RXA_ARGS:-}"
plan+=(${WORDS[@]+"${WORDS[@]}"})
matrix_file="$(dirname "$pinned")/matrix.json"
"$rxdist" "${plan[@]}" --output "$(native_path "$matrix_file")"
matrix=$(cat "$matrix_file")

# Every shard learns the pinned artifact's name from its matrix entry (matrix.history), which
# stays right when only failed jobs are re-run and this job's outputs are reused.
entries=$(printf '%s' "$matrix" | grep -o '"index":' | wc -l | tr -d ' ')
# (pinned_name is letters, digits, '.', '_' and '-' only: prepare.sh checks the name.)
matrix=$(printf '%s' "$matrix" | sed "s/{\"index\":/{\"history\":\"$pinned_name\",\"index\":/g")
tagged=$(printf '%s' "$matrix" | grep -o '"history":' | wc -l | tr -d ' ')
[[ $entries -gt 0 && $entries == "$tagged" ]] ||
  die "rxdist plan printed a matrix this action does not understand: $matrix"

# One line per shard: "tests predicted_seconds", in index order.
shard_lines=$(printf '%s' "$matrix" | tr '{' '\n' | awk '
  function field(line, name,    start) {
    if (!match(line, "\"" name "\":[0-9.eE+-]+")) return ""
    start = RSTART + length(name) + 3
    return substr(line, start, RSTART + RLENGTH - start)
  }
  /"index":/ { print field($0, "tests"), field($0, "predicted_seconds") }')
stats=$(printf '%s\n' "$shard_lines" | awk '
  { n += 1; sum += $2; if ($2 > max) max = $2 }
  END {
    mean = n ? sum / n : 0
    printf "%.3f %.3f\n", (mean > 0 ? max / mean : 1), max
  }')
imbalance=${stats% *}
makespan=${stats#* }

set_output matrix "$matrix"
set_output total "$entries"
set_output predicted-imbalance "$imbalance"
set_output predicted-seconds "$makespan"
set_output history "$pinned_name"
set_output timings "$found"
printf 'rxdist action: %s shards, predicted slowest shard %ss, imbalance %s (slowest / mean); timings found: %s\n' \
  "$entries" "$makespan" "$imbalance" "$found" >&2

if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then
  {
    printf '### rxdist plan: %s shards\n\n' "$entries"
    printf 'Predicted slowest shard %ss, imbalance %s (slowest / mean). %s\n\n' \
      "$makespan" "$imbalance" "$origin"
    printf '| shard | tests | predicted seconds |\n|---:|---:|---:|\n'
    printf '%s\n' "$shard_lines" | awk '{ printf "| %d | %s | %s |\n", NR - 1, $1, $2 }'
  } >>"$GITHUB_STEP_SUMMARY"
fi
