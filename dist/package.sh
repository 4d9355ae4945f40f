#!/usr/bin/env bash
# package.sh VERSION TARGET BINARY OUT_DIR: packs one built binary into the release asset
# dist/install.sh expects, rxdist-VERSION-TARGET.tar.gz (or .zip for Windows) holding only the
# binary, at the archive's root, and writes ASSET.sha256 beside it. Used by release.yml.
set -euo pipefail

die() {
  printf 'package: error: %s\n' "$*" >&2
  exit 1
}

[[ $# -eq 4 ]] || die "usage: package.sh VERSION TARGET BINARY OUT_DIR"
version=${1#v}
target=$2
binary=$3
out=$4
[[ -f $binary ]] || die "no binary at $binary"
[[ $target =~ ^[a-z0-9_]+(-[a-z0-9_]+)+$ ]] || die "'$target' is not a target triple"
mkdir -p "$out"
out=$(cd "$out" && pwd)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
case $target in
  *-windows-*)
    name=rxdist.exe
    asset="rxdist-$version-$target.zip"
    ;;
  *)
    name=rxdist
    asset="rxdist-$version-$target.tar.gz"
    ;;
esac
cp "$binary" "$stage/$name"
chmod 755 "$stage/$name"
rm -f "$out/$asset"
case $asset in
  *.zip)
    if command -v 7z >/dev/null 2>&1; then
      (cd "$stage" && 7z a -tzip -bd "$out/$asset" "$name" >/dev/null)
    else
      (cd "$stage" && zip -q "$out/$asset" "$name")
    fi
    ;;
  *) tar -czf "$out/$asset" -C "$stage" "$name" ;;
esac

if command -v sha256sum >/dev/null 2>&1; then
  sum=$(sha256sum "$out/$asset" | cut -d ' ' -f 1)
else
  sum=$(shasum -a 256 "$out/$asset" | cut -d ' ' -f 1)
fi
printf '%s  %s\n' "$sum" "$asset" >"$out/$asset.sha256"
echo "$out/$asset"
