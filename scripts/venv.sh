#!/usr/bin/env bash
# venv.sh VENV REQUIREMENTS: creates the virtual environment VENV if it is missing and installs
# REQUIREMENTS into it, again only when that file changed since the last install (a copy of it
# is kept in VENV as a stamp). Prints VENV's python. Shared by every script that needs Python.
set -euo pipefail

venv=$1
requirements=$2
stamp="$venv/.requirements"

if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv" >&2
fi
if ! cmp -s "$requirements" "$stamp"; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2
  cp "$requirements" "$stamp"
fi
echo "$venv/bin/python"
