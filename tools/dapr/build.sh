#!/usr/bin/env bash
# Builds daprd, placement, scheduler and sentry from the pinned Dapr release in this module and caches
# them per machine under ${LSP_CACHE_DIR:-~/.cache/lsp}/dapr/<version>-<pin hash>/. A second run
# with the same pin only prints the path. Prints the bin directory on its last line.
# --check: print the path if built, else fail without building.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="$(grep -oE 'github.com/dapr/dapr v[0-9]+\.[0-9]+\.[0-9]+' "$here/go.mod" | head -1 | cut -d' ' -f2)"
[[ -n $version ]] || { echo "[dapr] cannot read the pinned Dapr version from go.mod" >&2; exit 1; }
pin_hash="$(cat "$here/go.mod" "$here/go.sum" "$here"/cmd/*/*.go | sha256sum | cut -c1-12)"
cache_root="${LSP_CACHE_DIR:-$HOME/.cache/lsp}/dapr"
out="$cache_root/${version}-${pin_hash}"
say() { printf '[dapr] %s\n' "$*" >&2; }

if [[ -x "$out/bin/daprd" && -x "$out/bin/placement" && -x "$out/bin/scheduler" && -x "$out/bin/sentry" ]]; then
  say "Dapr $version binaries cached in $out/bin"
  echo "$out/bin"
  exit 0
fi
if [[ ${1:-} == --check ]]; then say "Dapr $version binaries are not built yet (expected in $out/bin)"; exit 1; fi
command -v go >/dev/null || { say "Go is not installed; install Go >= 1.26 to build the Dapr runtime"; exit 1; }
mkdir -p "$out/bin"
cd "$here"
# go.sum is committed, so module content is verified against it; the checksum database is not
# needed (and some of these module versions are not in it).
export GOSUMDB=off GOFLAGS=-mod=mod CGO_ENABLED=0
ldflags="-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=${version#v}"
start=$SECONDS
say "fetching Go modules for Dapr $version (first build on a machine: several minutes, ~1-2 GB)…"
go mod download 2>&1 | sed 's/^/[dapr]   /' >&2
# daprd: only the component types LSP uses (cmd/daprd/components.go registers them), not
# upstream's component sets: its binary shrinks from 129 to 81 MB, and each sidecar's resident
# share of it with it. Upstream's cmd/daprd/components package panics at init when built without
# a set tag (zz_notag.go, a reminder for its own builds), and Go does not let a build overlay
# files of the module cache, so daprd is built in a scratch copy of this module whose go.mod
# points github.com/dapr/dapr at a copy of the pinned release with that one file emptied; the
# rest of upstream's code builds as released.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r "$here/go.mod" "$here/go.sum" "$here/cmd" "$scratch/"
dapr_src="$(go env GOMODCACHE)/github.com/dapr/dapr@${version}"
[[ -d $dapr_src ]] || { say "expected the Dapr $version module in $dapr_src"; exit 1; }
cp -r "$dapr_src" "$scratch/dapr" && chmod -R u+w "$scratch/dapr"
printf 'package components\n' >"$scratch/dapr/cmd/daprd/components/zz_notag.go"
(cd "$scratch" && go mod edit -replace "github.com/dapr/dapr=./dapr")
n=0
for cmd in placement scheduler sentry daprd; do
  n=$((n + 1))
  dir="$here"
  [[ $cmd == daprd ]] && dir="$scratch"
  say "[$n/4] building $cmd $version (elapsed $((SECONDS - start))s)…"
  ( while sleep 30; do say "      … still building $cmd ($((SECONDS - start))s)"; done ) &
  ticker=$!
  if ! (cd "$dir" && go build -trimpath -ldflags "$ldflags" -o "$out/bin/$cmd.tmp" "./cmd/$cmd"); then
    kill "$ticker" 2>/dev/null; say "building $cmd failed"; exit 1
  fi
  kill "$ticker" 2>/dev/null || true
  mv "$out/bin/$cmd.tmp" "$out/bin/$cmd"
done
say "built in $((SECONDS - start))s → $out/bin"
echo "$out/bin"
