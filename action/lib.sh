#!/usr/bin/env bash
# Shared by the action's scripts (sourced, never run). Every input reaches a script as an
# environment variable set in action.yml's `env:`, never pasted into shell code, so a branch
# name or an input cannot inject commands; these helpers read, check and split such values
# without ever evaluating them. Portable to macOS's bash 3.2.

# Prints an error for people and an annotation for GitHub, then stops the step.
die() {
  printf 'rxdist action: error: %s\n' "$*" >&2
  if [[ -n ${GITHUB_ACTIONS:-} ]]; then printf '::error title=rxdist::%s\n' "$*"; fi
  exit 1
}

# A warning for people and an annotation for GitHub; the step goes on.
warn() {
  printf 'rxdist action: warning: %s\n' "$*" >&2
  if [[ -n ${GITHUB_ACTIONS:-} ]]; then printf '::warning title=rxdist::%s\n' "$*"; fi
}

# set_output NAME VALUE: a step output (one line; every output of the action is one line).
set_output() {
  case $2 in
    *$'\n'* | *$'\r'*) die "output $1 would span lines" ;;
    *) ;;
  esac
  if [[ -n ${GITHUB_OUTPUT:-} ]]; then
    printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  else
    printf '%s=%s\n' "$1" "$2"
  fi
}

# split_words VALUE: the array WORDS holds VALUE's words, split on whitespace (newlines too).
# No quotes, globs, variables or substitutions are interpreted: a word is exactly what was
# written. Anything that needs shell syntax belongs in a script the input names.
split_words() {
  WORDS=()
  # `read -d ''` reads across newlines and returns 1 at the end of its input, as expected here.
  # shellcheck disable=SC2034 # WORDS is read by the scripts that source this file
  IFS=$' \t\n' read -r -d '' -a WORDS <<<"$1" || true
}

# require_count NAME VALUE: VALUE is a non-negative whole number.
require_count() {
  [[ $2 =~ ^[0-9]+$ ]] || die "$1 must be a whole number, not '$2'"
}

# The rxdist binary the install step put in place.
rxdist_bin() {
  [[ -n ${RXA_BIN:-} ]] || die "rxdist is not installed (the install step gave no path)"
  printf '%s\n' "$RXA_BIN"
}

# A runner-given path (C:\a\_temp on Windows) as bash wants it; unchanged elsewhere.
unix_path() {
  if command -v cygpath >/dev/null 2>&1; then cygpath -u "$1"; else printf '%s\n' "$1"; fi
}

# A path as the runner, other actions and Windows programs want it; unchanged elsewhere.
native_path() {
  if command -v cygpath >/dev/null 2>&1; then cygpath -w "$1"; else printf '%s\n' "$1"; fi
}
