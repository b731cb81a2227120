#!/usr/bin/env bash
# Fails when a tracked file speaks of the circumstances in which the work was done
# ("session", "lease" as words) instead of naming machines by what they are
# (docs/machines.md) and measurements by their date and command.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "check_wording: not a git checkout, skipped" >&2
  exit 0
fi
words='sessions?|leases?|leased'
# Names of tracked files, then their text (this script excepted: it holds the words).
bad_names=$(git ls-files | grep -i -w -E "$words" || true)
if [ -n "$bad_names" ] || git grep -n -I -i -w -E "$words" -- . ':!scripts/check_wording.sh'; then
  [ -z "$bad_names" ] || printf '%s\n' "$bad_names"
  echo "check_wording: the lines above name the circumstances of the work; name the machine (docs/machines.md) and the date instead" >&2
  exit 1
fi
echo "check_wording: ok"
