#!/usr/bin/env bash
# Prints the path of a Python interpreter that has the pinned test requirements, creating a
# virtual environment under target/python the first time. Used by the example and the tests so
# neither touches the user's own Python packages.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/venv.sh" "$root/target/python" "$root/tests/requirements.txt"
