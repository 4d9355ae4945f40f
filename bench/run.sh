#!/usr/bin/env bash
# Runs every benchmark and prints each figure beside its anchor. Not part of the test suite.
# Needs ../shared/bench-data beside the checkout for the drift replay.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
venv="$root/target/bench-python"
scripts/venv.sh "$venv" bench/requirements.txt >/dev/null
cargo build --release --quiet

echo "== drift replay (issue 2)"
"$venv/bin/python" bench/drift_replay.py || true
echo
echo "== planning 1,000,000 tests (issue 2)"
"$venv/bin/python" bench/plan_scale.py || true
echo
echo "== JUnit reading throughput (issue 2)"
cargo bench --quiet --bench junit_read
echo
echo "== rxdist run -n 2 against pytest -n 2 and serial pytest (about 25 minutes)"
"$venv/bin/python" bench/run_compare.py || true
echo
echo "== rxdist merge against junit-report-merger, junitparser and cobertura-merge (issue 4, about an hour)"
"$venv/bin/python" bench/merge_compare.py || true
