#!/usr/bin/env bash
# Fails when a tracked file (its text or its name) speaks of the circumstances in which
# the work was done instead of naming machines by what they are (docs/machines.md) and
# measurements by their date and command. The words are spelled in pieces below, so
# this file passes its own check.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "check_wording: not a git checkout, skipped" >&2
  exit 0
fi
words="sess""ions?|lea""ses?|lea""sed"
bad_names=$(git ls-files | grep -i -w -E "$words" || true)
if [ -n "$bad_names" ] || git grep -n -I -i -w -E "$words"; then
  [ -z "$bad_names" ] || printf '%s\n' "$bad_names"
  echo "check_wording: the lines above name the circumstances of the work; name the machine (docs/machines.md) and the date instead" >&2
  exit 1
fi
echo "check_wording: ok"
