#!/usr/bin/env bash
# Runs node's test runner (through tsx) on the *.test.ts files of one kind: `unit` (everything
# outside test/e2e) or `e2e` (test/e2e, one file at a time: each starts its own mesh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
case "${1:-}" in
  unit) mapfile -t files < <(find packages services scripts test -path '*/node_modules' -prune -o -name '*.test.ts' -print | grep -v '^test/e2e/' | sort) ;;
  e2e) mapfile -t files < <(find test/e2e -name '*.test.ts' | sort) ;;
  *) echo "usage: $0 unit|e2e" >&2; exit 2 ;;
esac
(( ${#files[@]} )) || { echo "no $1 tests found" >&2; exit 1; }
extra=()
[[ $1 == e2e ]] && extra=(--test-concurrency=1)
exec node --import tsx --test --test-reporter=spec "${extra[@]}" "${files[@]}"
