#!/usr/bin/env bash
# nextest-ids.sh OUT: builds rxdist's test binaries and writes every test's id, one per line,
# to OUT, and the test binaries' ids to OUT.binaries. An id is BINARY::TEST (rxdist::cli_plan::
# some_test), which is also what `rxdist timings record` makes of nextest's JUnit (classname
# BINARY, name TEST), so the timings CI records match the ids it plans. Used by ci.yml's
# sharded jobs, with .ci/nextest-batch.sh running each batch.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

out=${1:?usage: nextest-ids.sh OUT}
listing=$(cargo nextest list --locked --message-format oneline)
printf '%s\n' "$listing" | awk 'NF == 2 { print $1 "::" $2 }' | LC_ALL=C sort >"$out"
printf '%s\n' "$listing" | awk 'NF == 2 { print $1 }' | LC_ALL=C sort -u >"$out.binaries"
echo "$(wc -l <"$out" | tr -d ' ') tests in $(wc -l <"$out.binaries" | tr -d ' ') binaries" >&2
