#!/usr/bin/env bash
# Prints, colon-separated, one virtual environment per pinned pytest version in
# tests/pytest-versions/<version>.txt, creating each under target/pytest-versions/<version> the
# first time (and reinstalling when its requirements file changes). The end-to-end tests run
# rxdist's pytest plugin in every one of them (tests/cli_run_pytest_versions.rs).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venvs=()
for requirements in "$root"/tests/pytest-versions/*.txt; do
  version=$(basename "$requirements" .txt)
  venv="$root/target/pytest-versions/$version"
  "$root/scripts/venv.sh" "$venv" "$requirements" >/dev/null
  venvs+=("$venv")
done
(IFS=:; echo "${venvs[*]}")
