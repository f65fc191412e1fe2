#!/usr/bin/env bash
# `npm test`: static checks, unit tests (TypeScript and Python), then the end-to-end tests, which
# start the real mesh (daprd, placement, scheduler, PostgreSQL, Redis) on their own ports, run and
# tear it down. Prints one summary line: "N passed, N failed".
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
uv_bin=$(command -v uv || echo "$HOME/.local/bin/uv")
passed=0 failed=0 failures=()
start=$SECONDS

# Runs one suite; adds its test counts (parsed from the runner's own summary) to the totals.
run() {
  local name=$1; shift
  local log=".lsp/test-logs/${name// /-}.log"
  mkdir -p .lsp/test-logs
  printf '\n[test] %s …\n' "$name"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local p f
  # node --test: "ℹ pass N" / "ℹ fail N"; pytest: "N passed", "N failed"
  p=$(grep -oE '^ℹ pass [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')
  f=$(grep -oE '^ℹ fail [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')
  if grep -qE '[0-9]+ passed' "$log" && [[ $p -eq 0 ]]; then
    p=$(grep -oE '[0-9]+ passed' "$log" | tail -1 | awk '{print $1}')
    f=$(grep -oE '[0-9]+ failed' "$log" | tail -1 | awk '{print $1}'); f=${f:-0}
  fi
  # A check without test counts (lint, types) counts as one test.
  if [[ $p -eq 0 && $f -eq 0 ]]; then if [[ $rc -eq 0 ]]; then p=1; else f=1; fi; fi
  if [[ $rc -ne 0 && $f -eq 0 ]]; then f=1; fi
  passed=$((passed + p)); failed=$((failed + f))
  [[ $rc -eq 0 ]] || failures+=("$name (log: $log)")
}

run "contracts are generated" bash -c 'npx --no tsx packages/contracts/scripts/generate-json-schemas.ts >/dev/null && git diff --exit-code --stat -- packages/contracts/schemas'
run "typecheck" npm run --silent typecheck
# What the end-to-end tests run: the compiled apps (the launcher rebuilds incrementally too).
run "build" npm run --silent build
run "lint" npm run --silent lint
run "ai lint" bash -c "cd services/ai && '$uv_bin' run --frozen ruff check && '$uv_bin' run --frozen ruff format --check"
run "ai types" bash -c "cd services/ai && '$uv_bin' run --frozen mypy"
run "unit (TypeScript)" npm run --silent test:unit
run "k8s static" node --import tsx --test --test-reporter=spec scripts/validate-k8s.ts
run "unit (Python)" bash -c "cd services/ai && '$uv_bin' run --frozen pytest -q"
run "end-to-end (real mesh)" npm run --silent test:e2e

printf '\n[test] finished in %ss\n' "$((SECONDS - start))"
for f in "${failures[@]}"; do printf '[test] FAILED: %s\n' "$f"; done
echo "${passed} passed, ${failed} failed"
[[ $failed -eq 0 && ${#failures[@]} -eq 0 ]]
