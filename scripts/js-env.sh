#!/usr/bin/env bash
# Prints the node_modules directory that holds the pinned JavaScript test runner (vitest) the
# template-runner tests drive, installing it under target/js the first time (and again only when
# the pinned lock file changes, so later runs need no network).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pinned="$root/tests/fixtures/template/js"
dir="$root/target/js"
stamp="$dir/.package-lock.json"

if [[ ! -x "$dir/node_modules/.bin/vitest" ]] || ! cmp -s "$pinned/package-lock.json" "$stamp"; then
  mkdir -p "$dir"
  cp "$pinned/package.json" "$pinned/package-lock.json" "$dir/"
  # `npm install` rather than `npm ci`: npm leaves some platforms' optional packages out of the
  # lock file and `npm ci` then refuses it; `install` still takes every version from the lock.
  (cd "$dir" && npm install --no-audit --no-fund --no-save --loglevel=error >&2)
  cp "$pinned/package-lock.json" "$stamp"
fi
echo "$dir/node_modules"
