#!/usr/bin/env bash
# Prints the path of a Python interpreter that has the pinned test requirements, creating a
# virtual environment under target/python the first time. Used by the example and the tests so
# neither touches the user's own Python packages.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/target/python"
requirements="$root/tests/requirements.txt"
stamp="$venv/.requirements"

if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv" >&2
fi
if ! cmp -s "$requirements" "$stamp"; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2
  cp "$requirements" "$stamp"
fi
echo "$venv/bin/python"
