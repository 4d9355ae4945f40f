#!/usr/bin/env bash
# Installs rxdist for this machine and puts it on PATH. Used by the GitHub Action (action.yml)
# on every runner (Linux, macOS, and Windows under Git Bash); works anywhere else too.
#
# What it installs, from RXDIST_INSTALL_VERSION:
#   ''          the version dist/manifest.json describes: its release asset for this runner,
#               downloaded and checked against the manifest's sha256 (a mismatch fails and
#               installs nothing); built from source when the manifest describes no release yet
#               or has no asset for this runner
#   X.Y.Z       that version: as above when it is the manifest's version, else built from the
#               release repository's tag vX.Y.Z with cargo (no sum to check a download against)
#   source      built from source, from the checkout this script belongs to
#   installed   the rxdist already on PATH (a build step of your own); nothing is installed
#
# Downloads are cached in the runner's tool cache, RUNNER_TOOL_CACHE/rxdist/VERSION/ARCH, and
# reused when the cached copy came from the same sum. Source builds go to
# RUNNER_TOOL_CACHE/rxdist/VERSION-source/ARCH and are rebuilt every time: the same version
# number says nothing about the commit being built.
#
# Environment: RXDIST_INSTALL_VERSION (above); RXDIST_INSTALL_MANIFEST (default: manifest.json
# beside this script); RXDIST_INSTALL_BASE_URL (download ASSET from BASE/ASSET instead of the
# manifest's URL: a mirror, or a local server in tests); RXDIST_INSTALL_SOURCE (the source
# checkout, default: this script's repository); RUNNER_OS, RUNNER_ARCH (else uname);
# RUNNER_TOOL_CACHE (else ~/.cache/rxdist-tool-cache); GITHUB_PATH and GITHUB_OUTPUT (written
# when set: the directory to add to PATH; outputs `path` and `version`).
#
# Portable to macOS's bash 3.2: no associative arrays, no ${var,,}, no mapfile.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
manifest=${RXDIST_INSTALL_MANIFEST:-$here/manifest.json}
requested=${RXDIST_INSTALL_VERSION:-}
requested=${requested#v}
source_root=${RXDIST_INSTALL_SOURCE:-$here/..}

say() { printf 'rxdist install: %s\n' "$*" >&2; }
die() {
  say "error: $*"
  if [[ -n ${GITHUB_ACTIONS:-} ]]; then printf '::error title=rxdist install::%s\n' "$*"; fi
  exit 1
}

# A top-level string field of the manifest. The manifest is written by dist/update-manifest.sh
# in a fixed layout (tests/action.rs checks it), which is what lets this script read it
# without jq: one top-level field per line, one target per line.
manifest_field() {
  sed -n "s/^  \"$1\": \"\\([^\"]*\\)\",\\{0,1\\}\$/\\1/p" "$manifest"
}

# Field $2 of target $1's line, or nothing.
target_field() {
  local line
  line=$(grep -F "    \"$1\": {" "$manifest" || true)
  [[ -n $line ]] || return 0
  printf '%s\n' "$line" | sed -n "s/.*\"$2\": \"\\([^\"]*\\)\".*/\\1/p"
}

runner_os() {
  if [[ -n ${RUNNER_OS:-} ]]; then
    printf '%s\n' "$RUNNER_OS"
    return
  fi
  case $(uname -s) in
    Linux) echo Linux ;;
    Darwin) echo macOS ;;
    MINGW* | MSYS* | CYGWIN*) echo Windows ;;
    *) uname -s ;;
  esac
}

runner_arch() {
  if [[ -n ${RUNNER_ARCH:-} ]]; then
    printf '%s\n' "$RUNNER_ARCH"
    return
  fi
  case $(uname -m) in
    x86_64 | amd64) echo X64 ;;
    aarch64 | arm64) echo ARM64 ;;
    *) uname -m ;;
  esac
}

# The Rust target whose release asset runs here, or nothing.
target_for() {
  case "$1/$2" in
    Linux/X64) echo x86_64-unknown-linux-musl ;;
    Linux/ARM64) echo aarch64-unknown-linux-musl ;;
    macOS/ARM64) echo aarch64-apple-darwin ;;
    macOS/X64) echo x86_64-apple-darwin ;;
    Windows/X64) echo x86_64-pc-windows-msvc ;;
    *) ;;
  esac
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  else
    die "neither sha256sum nor shasum is available to verify the download"
  fi
}

# A path as the runner and Windows programs want it (C:\...), unchanged elsewhere.
native_path() {
  if [[ $os == Windows ]] && command -v cygpath >/dev/null 2>&1; then
    cygpath -w "$1"
  else
    printf '%s\n' "$1"
  fi
}

# Announces the installed binary: PATH for later steps, outputs, a line for people.
publish() {
  local dir=$1 binary=$2 version
  version=$("$dir/$binary" --version) || die "the installed $dir/$binary does not run on this machine"
  if [[ -n ${GITHUB_PATH:-} ]]; then
    native_path "$dir" >>"$GITHUB_PATH"
  fi
  if [[ -n ${GITHUB_OUTPUT:-} ]]; then
    printf 'path=%s\nversion=%s\n' "$(native_path "$dir/$binary")" "$version" >>"$GITHUB_OUTPUT"
  fi
  say "$version in $dir"
  if [[ -z ${GITHUB_PATH:-} && $requested != installed ]]; then
    say "add $dir to PATH to use it"
  fi
}


build_from_source() {
  local version=$1
  shift
  command -v cargo >/dev/null 2>&1 ||
    die "building rxdist from source needs cargo, which is not on PATH: install Rust first (e.g. the dtolnay/rust-toolchain action), or use a released version"
  local root="$cache/rxdist/$version-source/$arch_dir"
  mkdir -p "$root"
  say "building rxdist $version from source into $root ($*)"
  cargo install --locked --force --root "$(native_path "$root")" "$@" >&2
  [[ -f $root/bin/$binary ]] || die "cargo install finished but $root/bin/$binary is missing"
  publish "$root/bin" "$binary"
}

# Builds the source checkout this script belongs to (or RXDIST_INSTALL_SOURCE).
build_from_checkout() {
  local checkout
  checkout=$(cd "$source_root" 2>/dev/null && pwd) || die "no source checkout at $source_root"
  build_from_source "$1" --path "$(native_path "$checkout")"
}

os=$(runner_os)
arch=$(runner_arch)
target=$(target_for "$os" "$arch")
arch_dir=$(printf '%s' "$arch" | tr '[:upper:]' '[:lower:]')
binary=rxdist
if [[ $os == Windows ]]; then binary=rxdist.exe; fi
cache=${RUNNER_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rxdist-tool-cache}
# Git Bash takes C:\ paths, but its own tools are surest with /c/ ones.
if [[ $os == Windows ]] && command -v cygpath >/dev/null 2>&1; then cache=$(cygpath -u "$cache"); fi

if [[ $requested == installed ]]; then
  found=$(command -v "$binary" || command -v rxdist || true)
  [[ -n $found ]] || die "version 'installed' needs rxdist on PATH, and there is none"
  publish "$(dirname "$found")" "$(basename "$found")"
  exit 0
fi

[[ -f $manifest ]] || die "no manifest at $manifest"
manifest_version=$(manifest_field version)
[[ -n $manifest_version ]] || die "$manifest has no version"

if [[ $requested == source ]]; then
  build_from_checkout "$manifest_version"
  exit 0
fi

if [[ -n $requested && $requested != "$manifest_version" ]]; then
  # No sum is known for another version's assets, and a sum fetched from the same place as the
  # asset proves nothing: build that version's tag instead.
  repository=$(manifest_field repository)
  [[ -n $repository ]] ||
    die "rxdist $requested is not the version this action describes ($manifest_version), and no release repository is known to build it from: use version '' or 'source'"
  [[ $requested =~ ^[0-9A-Za-z.+-]+$ ]] || die "'$requested' is not a version"
  build_from_source "$requested" --git "$repository" --tag "v$requested"
  exit 0
fi

if ! grep -q '^  "released": true,\{0,1\}$' "$manifest"; then
  say "no release of rxdist $manifest_version exists yet (the manifest holds placeholders): building it from source"
  build_from_checkout "$manifest_version"
  exit 0
fi

if [[ -z $target || -z $(target_field "$target" asset) ]]; then
  say "no release asset of rxdist $manifest_version for $os $arch: building it from source"
  build_from_checkout "$manifest_version"
  exit 0
fi

asset=$(target_field "$target" asset)
url=$(target_field "$target" url)
expected=$(target_field "$target" sha256)
[[ $asset =~ ^[A-Za-z0-9._+-]+$ ]] || die "the manifest's asset name for $target is not a plain file name: '$asset'"
[[ $expected =~ ^[0-9a-f]{64}$ ]] || die "the manifest's sha256 for $target is not a sha256: '$expected'"
if [[ -n ${RXDIST_INSTALL_BASE_URL:-} ]]; then
  url="${RXDIST_INSTALL_BASE_URL%/}/$asset"
fi
[[ -n $url ]] || die "the manifest has no URL for $target"

dest="$cache/rxdist/$manifest_version/$arch_dir"
marker="$dest.complete"
if [[ -f $marker && -f $dest/$binary && $(cat "$marker") == "$expected" ]]; then
  say "using the cached rxdist $manifest_version"
  publish "$dest" "$binary"
  exit 0
fi

# Everything happens in a scratch directory beside the destination, so the final step is one
# rename, and a failure anywhere (download, sum, extraction) leaves nothing behind.
mkdir -p "$cache/rxdist/$manifest_version"
scratch=$(mktemp -d "$cache/rxdist/$manifest_version/.install.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

say "downloading $url"
curl --fail --silent --show-error --location --retry 4 --retry-delay 2 --retry-connrefused \
  --connect-timeout 30 --max-time 600 --max-filesize 268435456 \
  --output "$scratch/$asset" "$url" || die "could not download $url"

actual=$(sha256_of "$scratch/$asset")
if [[ $actual != "$expected" ]]; then
  die "sha256 mismatch for $asset: expected $expected, got $actual; nothing was installed"
fi

# Only the binary is extracted, by name: no other member of the archive, and no path in it,
# ever reaches the disk.
mkdir "$scratch/tool"
case $asset in
  *.tar.gz | *.tgz)
    tar -xzf "$scratch/$asset" -C "$scratch/tool" --no-same-owner "$binary" ||
      die "$asset holds no $binary"
    ;;
  *.zip)
    if command -v unzip >/dev/null 2>&1; then
      unzip -q "$scratch/$asset" "$binary" -d "$scratch/tool" || die "$asset holds no $binary"
    elif [[ $os == Windows && -x ${SYSTEMROOT:-C:/Windows}/System32/tar.exe ]]; then
      "${SYSTEMROOT:-C:/Windows}/System32/tar.exe" -xf "$(native_path "$scratch/$asset")" \
        -C "$(native_path "$scratch/tool")" "$binary" || die "$asset holds no $binary"
    else
      die "unzip is needed to unpack $asset"
    fi
    ;;
  *) die "unknown archive type: $asset" ;;
esac
if [[ ! -f $scratch/tool/$binary || -L $scratch/tool/$binary ]]; then
  die "$asset holds no regular file named $binary"
fi
chmod +x "$scratch/tool/$binary"
"$scratch/tool/$binary" --version >/dev/null ||
  die "the $binary in $asset does not run on this machine; nothing was installed"

rm -rf "$dest" "$marker"
mv "$scratch/tool" "$dest"
printf '%s\n' "$expected" >"$marker"
publish "$dest" "$binary"
