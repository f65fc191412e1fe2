#!/usr/bin/env bash
# `npm run setup`: installs what this machine lacks to run and test LSP. Idempotent: a second run
# only checks and takes seconds. Steps: system packages (PostgreSQL, Redis, Java and Maven for the
# Kafka broker), the pinned Dapr runtime built from source (cached per machine), npm packages, the
# ai service's Python env, the pinned Kafka broker's jars (cached per machine), the
# tools that validate the Kubernetes chart and Dockerfiles offline (cached per machine), and the
# compiled apps (dist/, what `npm start`, the tests and the images run).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
start=$SECONDS
step() { printf '\n[setup] %s\n' "$*"; }
ok() { printf '[setup]   ✓ %s\n' "$*"; }
fail() { printf '[setup]   ✗ %s\n' "$*" >&2; exit 1; }

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || fail "not root and no sudo: install postgresql and redis-server yourself"
  sudo_cmd=(sudo)
fi

step "1/8 toolchains"
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
(( node_major >= 20 )) || fail "Node.js >= 20 is required (found $(node --version 2>/dev/null || echo none))"
ok "node $(node --version)"
command -v go >/dev/null || fail "Go is required to build the Dapr runtime (https://go.dev/dl)"
ok "$(go version)"
command -v python3.11 >/dev/null || command -v python3 >/dev/null || fail "Python 3.11 is required"
ok "python $(python3 --version 2>&1)"

step "2/8 PostgreSQL and Redis servers, Java and Maven for Kafka (Debian packages)"
missing=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[[ -x /usr/bin/redis-server ]] || missing+=(redis-server)
# Pub/sub on Kafka (LSP_PUBSUB=kafka, test/e2e/kafka-pubsub.test.ts): the broker is a Java program
# whose jars Maven resolves (step 6); the JDK's compiler runs tools/kafka/CreateTopics.java.
{ command -v java >/dev/null && command -v javac >/dev/null; } || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || missing+=(maven)
if (( ${#missing[@]} )); then
  echo "[setup]   installing ${missing[*]} (apt-get)…"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian packages start system-wide servers; LSP runs its own, so stop and disable those.
  for svc in postgresql redis-server; do
    "${sudo_cmd[@]}" systemctl disable --now "$svc" >/dev/null 2>&1 || "${sudo_cmd[@]}" service "$svc" stop >/dev/null 2>&1 || true
  done
fi
ok "postgres $(ls /usr/lib/postgresql | sort -n | tail -1), $(/usr/bin/redis-server --version | cut -d' ' -f3), $(java -version 2>&1 | head -1), $(mvn -v 2>/dev/null | head -1 | sed 's/\x1b\[[0-9;]*m//g')"

step "3/8 Dapr runtime (daprd, placement, scheduler, sentry) from source"
dapr_bin=$(bash tools/dapr/build.sh | tail -1)
ok "$("$dapr_bin/daprd" --version) in $dapr_bin"

step "4/8 npm packages"
if [[ -f node_modules/.package-lock.json && node_modules/.package-lock.json -nt package-lock.json ]]; then
  ok "node_modules up to date"
else
  npm ci --no-audit --no-fund --loglevel=error
  ok "npm ci done"
fi

step "5/8 Python environment of services/ai"
if ! command -v uv >/dev/null && [[ ! -x "$HOME/.local/bin/uv" ]]; then
  echo "[setup]   installing uv (pip --user)…"
  python3 -m pip install --user --quiet uv
fi
uv_bin=$(command -v uv || echo "$HOME/.local/bin/uv")
(cd services/ai && "$uv_bin" sync --frozen --quiet --compile-bytecode) # .pyc up front: the ai app starts in seconds, not a minute
ok "services/ai/.venv ($("$repo/services/ai/.venv/bin/python" -c 'import dapr.version as v; print("dapr", v.__version__)' 2>/dev/null || echo ready))"

step "6/8 Kafka broker for LSP_PUBSUB=kafka (jars from Maven Central, cached per machine)"
kafka_lib=$(bash tools/kafka/build.sh | tail -1)
ok "Kafka $(grep -oE '<kafka.version>[^<]+' tools/kafka/pom.xml | cut -d'>' -f2) in $kafka_lib"

step "7/8 Kubernetes validation tools (helm, kubeconform, hadolint, schemas; no cluster needed)"
k8s_tools=$(bash tools/k8s/build.sh | tail -1)
ok "helm, kubeconform, hadolint and the schemas in $k8s_tools"

step "8/8 compile the TypeScript packages and services (tsc -b tsconfig.build.json → dist/)"
npm run --silent build
ok "every app builds to dist/ (npm start and the tests run the compiled apps)"

printf '\n[setup] done in %ss. Next: npm start (the mesh) or npm test.\n' "$((SECONDS - start))"
