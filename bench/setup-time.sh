#!/usr/bin/env bash
# Measures `npm run setup` as a newcomer meets it: a fresh clone with every download and build
# cache empty (Go modules and build cache, Dapr binaries, npm cache, uv cache), then a second run.
# System packages (PostgreSQL, Redis) are whatever this machine has: apt time is not included
# unless they are missing. Takes several minutes; prints both figures at the end.
#   bash bench/setup-time.sh            # uses a temporary directory, removed afterwards
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/lsp-setup-bench.XXXXXX")"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
echo "[bench] fresh clone and empty caches in $work"
git clone -q "$repo" "$work/lsp"
export LSP_CACHE_DIR="$work/cache/lsp" GOMODCACHE="$work/cache/gomod" GOCACHE="$work/cache/gobuild" \
  npm_config_cache="$work/cache/npm" UV_CACHE_DIR="$work/cache/uv"
cd "$work/lsp"
t0=$SECONDS
npm run setup 2>&1 | sed 's/^/  /'
first=$((SECONDS - t0))
t1=$SECONDS
npm run setup >/dev/null 2>&1
second=$((SECONDS - t1))
echo "[bench] setup, first run (empty caches): ${first}s"
echo "[bench] setup, second run: ${second}s"
