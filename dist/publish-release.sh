#!/usr/bin/env bash
# publish-release.sh ASSETS: publishes the GitHub release for the pushed tag (TAG, vX.Y.Z) with
# every archive in ASSETS and a SHA256SUMS file, then proposes the matching dist/manifest.json
# in a pull request against the default branch (DEFAULT_BRANCH), which is what lets the action
# download release binaries instead of building from source. Used by release.yml; needs the
# `gh` CLI with GH_TOKEN (contents: write, pull-requests: write), GITHUB_REPOSITORY and
# GITHUB_SERVER_URL.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() {
  printf 'publish-release: error: %s\n' "$*" >&2
  exit 1
}

assets=${1:?usage: publish-release.sh ASSETS}
tag=${TAG:?TAG is the pushed tag}
default_branch=${DEFAULT_BRANCH:?DEFAULT_BRANCH is the repository default branch}
version=${tag#v}
cargo_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
[[ $version == "$cargo_version" ]] || die "tag $tag does not match Cargo.toml's version $cargo_version"

shopt -s nullglob
archives=("$assets"/*.tar.gz "$assets"/*.zip)
[[ ${#archives[@]} -eq 5 ]] || die "expected 5 archives in $assets, found ${#archives[@]}"
(cd "$assets" && cat ./*.sha256 | LC_ALL=C sort -k 2 >SHA256SUMS)

gh release create "$tag" "${archives[@]}" "$assets/SHA256SUMS" --title "rxdist $version" --generate-notes

bash dist/update-manifest.sh "$version" "$GITHUB_SERVER_URL/$GITHUB_REPOSITORY" "$assets"
branch="release/manifest-$tag"
git config user.name "github-actions[bot]"
git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
git switch -c "$branch"
git add dist/manifest.json
git commit -m "dist: manifest of release $tag, so the action downloads its binaries (sha256 checked)"
git push origin "$branch"
gh pr create --base "$default_branch" --head "$branch" --title "dist: manifest of release $tag" \
  --body "Written by the release workflow from the archives of $tag. Once merged, the action installs release binaries (checked against these sums) instead of building rxdist from source."
