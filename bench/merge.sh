#!/usr/bin/env bash
# Builds rxdist (release) and runs bench/merge_compare.py with the given options: `rxdist merge`
# beside junit-report-merger, junitparser and cobertura-merge on generated inputs (about 2.5 GB
# under target/bench-merge/data at full scale). Not part of the test suite.
#   bench/merge.sh                      full scale, every scenario
#   bench/merge.sh --scale 0.01         a smoke run
#   bench/merge.sh --only cobertura --skip-anchors
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
python=$(scripts/venv.sh "$root/target/bench-python" bench/requirements.txt)
cargo build --release --quiet
exec "$python" bench/merge_compare.py "$@"
