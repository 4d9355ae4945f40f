#!/usr/bin/env bash
# Prints the path of the unpacked source distribution pinned in tests/oracle-requirements.txt
# (its sources and its tests), downloading and unpacking it under target/oracle the first time
# and again only when the pin changes. The coverage oracle test copies it into three checkouts.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
requirements="$root/tests/oracle-requirements.txt"
dir="$root/target/oracle"
stamp="$dir/.requirements"
python=$("$root/scripts/python-env.sh")

if ! cmp -s "$requirements" "$stamp" || ! compgen -G "$dir/src/*/" >/dev/null; then
  rm -rf "$dir"
  mkdir -p "$dir/download" "$dir/src"
  "$python" -m pip download --quiet --disable-pip-version-check --no-binary :all: --no-deps \
    -r "$requirements" -d "$dir/download" >&2
  for archive in "$dir"/download/*.tar.gz; do
    tar -xzf "$archive" -C "$dir/src"
  done
  cp "$requirements" "$stamp"
fi
compgen -G "$dir/src/*/" | head -n 1 | sed 's:/$::'
