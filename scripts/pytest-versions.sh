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
  stamp="$venv/.requirements"
  if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv" >&2
  fi
  if ! cmp -s "$requirements" "$stamp"; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2
    cp "$requirements" "$stamp"
  fi
  venvs+=("$venv")
done
(IFS=:; echo "${venvs[*]}")
