#!/usr/bin/env bash
# build.sh TARGET: builds the release binary for TARGET and prints its path. Linux targets are
# built with cargo-zigbuild (static musl binaries from one Ubuntu runner, both architectures);
# the others natively with cargo on a runner of that system. Used by release.yml.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

target=${1:?usage: build.sh TARGET}
case $target in
  *-linux-musl) cargo zigbuild --locked --release --target "$target" >&2 ;;
  *) cargo build --locked --release --target "$target" >&2 ;;
esac
binary="target/$target/release/rxdist"
case $target in *-windows-*) binary="$binary.exe" ;; *) ;; esac
[[ -f $binary ]] || { echo "build: no binary at $binary" >&2; exit 1; }
echo "$binary"
