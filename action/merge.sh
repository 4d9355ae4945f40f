#!/usr/bin/env bash
# Merge mode: from every shard's downloaded files (all attempts, side by side), take each
# shard's newest attempt, merge their JUnit reports and coverage into one of each, and record
# the run into the pinned timings, ready to be published. Says whether every shard of the plan
# was found (output `complete`): the timings are only published when it was.
#
# Shard files are named KIND-I-of-N-attempt-A.EXT by prepare.sh. The newest attempt present
# decides N (a full re-run may have planned anew); each shard I of N then contributes its
# newest attempt, so a re-run of failed shards replaces their first results.
#
# Inputs: RXA_BIN, RXA_ARGS, RXA_SHARDS_DIR, RXA_PINNED_DIR, RXA_MERGED_DIR, RXA_PUBLISH_DIR.
set -euo pipefail
# shellcheck source=action/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rxdist=$(rxdist_bin)
shards_dir=$(unix_path "${RXA_SHARDS_DIR:?}")
pinned=$(unix_path "${RXA_PINNED_DIR:?}")
merged=$(unix_path "${RXA_MERGED_DIR:?}")
publish=$(unix_path "${RXA_PUBLISH_DIR:?}")
split_words "${RXA_ARGS:-}"
args=(${WORDS[@]+"${WORDS[@]}"})

# "I N A" for every shard report, newest attempt first.
reports=$(
  if [[ -d $shards_dir ]]; then
    find "$shards_dir" -maxdepth 1 -type f -name 'junit-*-of-*-attempt-*.xml' -print |
      sed -n 's#.*/junit-\([0-9][0-9]*\)-of-\([0-9][0-9]*\)-attempt-\([0-9][0-9]*\)\.xml$#\1 \2 \3#p' |
      sort -k3,3nr -k1,1n
  fi
)
[[ -n $reports ]] || die "no shard reports were downloaded into $shards_dir: did the run jobs upload any?"
total=$(printf '%s\n' "$reports" | head -n 1 | cut -d ' ' -f 2)

junit=()
coverage=()
found=0
missing=""
index=0
while ((index < total)); do
  attempt=$(printf '%s\n' "$reports" | awk -v i="$index" -v n="$total" '$1 == i && $2 == n { print $3; exit }')
  if [[ -z $attempt ]]; then
    missing="$missing $index"
  else
    stem="$index-of-$total-attempt-$attempt"
    found=$((found + 1))
    junit+=("$shards_dir/junit-$stem.xml")
    if [[ -f $shards_dir/coverage-$stem.xml ]]; then
      coverage+=("$shards_dir/coverage-$stem.xml")
    fi
  fi
  index=$((index + 1))
done
complete=true
if [[ -n $missing ]]; then
  complete=false
  warn "no report from shard(s)${missing} of $total: merging the $found found; timings will not be published"
fi

merge=(merge --out-dir "$(native_path "$merged")")
for file in "${junit[@]}"; do merge+=(--junit "$(native_path "$file")"); done
for file in ${coverage[@]+"${coverage[@]}"}; do merge+=(--coverage "$(native_path "$file")"); done
rm -rf "$merged"
mkdir -p "$merged"
status=0
"$rxdist" "${merge[@]}" ${args[@]+"${args[@]}"} || status=$?

# The next timings: the pinned history (what this run was planned from) plus this run.
rm -rf "$publish"
mkdir -p "$publish"
if [[ -f $pinned/history.zst ]]; then
  cp "$pinned/history.zst" "$publish/history.zst"
fi
record=(timings record --history "$(native_path "$publish/history.zst")")
for file in "${junit[@]}"; do record+=(--input "$(native_path "$file")"); done
if ! "$rxdist" "${record[@]}"; then
  warn "could not record this run's timings; they will not be published"
  rm -f "$publish/history.zst"
  complete=false
fi

set_output complete "$complete"
set_output shards "$total"
set_output junit "$(native_path "$merged/junit.xml")"
if [[ -f $merged/coverage.xml ]]; then
  set_output coverage "$(native_path "$merged/coverage.xml")"
fi
exit "$status"
