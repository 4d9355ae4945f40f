#!/usr/bin/env bash
# update-manifest.sh VERSION                      a manifest for a version not released yet
# update-manifest.sh VERSION REPOSITORY ASSETS    the manifest of release vVERSION, whose
#                                                 archives are in the directory ASSETS and
#                                                 published under REPOSITORY/releases/download
#
# Writes dist/manifest.json (or RXDIST_INSTALL_MANIFEST) atomically, in the fixed layout
# dist/install.sh reads without jq: one top-level field per line, one target per line. The
# release workflow runs it after building every target; tests/action.rs checks the committed
# file against it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${RXDIST_INSTALL_MANIFEST:-$here/manifest.json}
targets=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl aarch64-apple-darwin x86_64-apple-darwin
  x86_64-pc-windows-msvc)

die() {
  printf 'update-manifest: error: %s\n' "$*" >&2
  exit 1
}

[[ $# -eq 1 || $# -eq 3 ]] || die "usage: update-manifest.sh VERSION [REPOSITORY ASSETS]"
version=${1#v}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] || die "'$1' is not a version"
repository=${2:-}
assets=${3:-}
if [[ -n $repository ]]; then
  [[ $repository =~ ^https?://[A-Za-z0-9._/-]+$ ]] || die "'$repository' is not a repository URL"
  repository=${repository%/}
  [[ -d $assets ]] || die "no asset directory $assets"
fi

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  else
    shasum -a 256 "$1" | cut -d ' ' -f 1
  fi
}

asset_name() {
  case $1 in
    *-windows-*) printf 'rxdist-%s-%s.zip\n' "$version" "$1" ;;
    *) printf 'rxdist-%s-%s.tar.gz\n' "$version" "$1" ;;
  esac
}

tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f "$tmp"' EXIT
{
  printf '{\n'
  printf '  "version": "%s",\n' "$version"
  if [[ -n $repository ]]; then
    printf '  "released": true,\n'
    printf '  "repository": "%s",\n' "$repository"
    printf '  "note": "Release v%s. dist/install.sh downloads the asset for the runner and installs it only if its sha256 matches the one here.",\n' "$version"
  else
    printf '  "released": false,\n'
    printf '  "repository": "",\n'
    printf '  "note": "No release of this version exists yet: url and sha256 are empty placeholders, and dist/install.sh builds rxdist from source (cargo install --locked --path) instead of downloading anything. The release workflow rewrites this file with the real URLs and sums.",\n'
  fi
  printf '  "targets": {\n'
  count=0
  for target in "${targets[@]}"; do
    count=$((count + 1))
    asset=$(asset_name "$target")
    url=""
    sum=""
    if [[ -n $repository ]]; then
      [[ -f $assets/$asset ]] || die "the release has no $asset"
      url="$repository/releases/download/v$version/$asset"
      sum=$(sha256_of "$assets/$asset")
    fi
    separator=","
    if [[ $count -eq ${#targets[@]} ]]; then separator=""; fi
    printf '    "%s": {"asset": "%s", "url": "%s", "sha256": "%s"}%s\n' \
      "$target" "$asset" "$url" "$sum" "$separator"
  done
  printf '  }\n'
  printf '}\n'
} >"$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "wrote $out"
