#!/usr/bin/env bash
# The main job, end to end, on the bundled example project (examples/shop):
#   1. record two earlier CI runs' JUnit reports into a timing history;
#   2. plan 3 duration-balanced shards for today's test list (collected by pytest, including a
#      test file the history has never seen);
#   3. run the 3 shards in parallel, as 3 CI jobs would, each with `rxdist run` on 2 local
#      workers (one JUnit report per shard);
#   4. merge the shards' JUnit and coverage reports into one of each, as the final CI job
#      would, record the merged run into the history, and plan again.
# Everything it writes goes to target/example/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
python=$(scripts/python-env.sh)
PATH="$(dirname "$python"):$PATH"
export PATH

echo "== building rxdist"
cargo build --release --quiet
rxdist="$root/target/release/rxdist"
work="$root/target/example"
rm -rf "$work"
mkdir -p "$work"
history="$work/history.zst"

echo
echo "== 1. record two earlier runs"
for run in examples/reports/run-*.xml; do
  "$rxdist" timings record --history "$history" --input "$run" --rootdir examples/shop
done
"$rxdist" timings show --history "$history" --top 5

cd examples/shop
echo
echo "== 2. plan 3 shards (tests/test_returns.py is new: estimated from its directory)"
"$rxdist" plan --history "$history" --collect pytest --total 3

echo
echo "== 3. run the shards in parallel, as three CI jobs, each on 2 local workers"
pids=()
for index in 0 1 2; do
  (
    start=$SECONDS
    # --no-record: the three jobs share one history file here; the final job records them.
    "$rxdist" run --history "$history" --no-record --index "$index" --total 3 -n 2 \
      --junit-out "$work/reports/shard-$index/junit.xml" --cov-out "$work/reports/shard-$index/coverage.xml" \
      -- python -m pytest -q --cov=shop --cov-branch >"$work/shard-$index.log" 2>&1
    printf 'shard %s: about %ss wall (%s)\n' "$index" "$((SECONDS - start))" \
      "$(grep '^rxdist: [0-9]* tests' "$work/shard-$index.log")"
  ) &
  pids+=("$!")
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
if [[ $status -ne 0 ]]; then
  echo "a shard failed; see $work/shard-*.log" >&2
  exit 1
fi

echo
echo "== 4. merge the shards' reports, record the run, and plan again: every test is known now"
"$rxdist" merge --junit "$work/reports" --coverage "$work/reports" --out-dir "$work/merged" \
  --history "$history"
"$rxdist" plan --history "$history" --collect pytest --total 3
echo
echo "history, shard reports and merged reports ($work/merged) are in $work"
