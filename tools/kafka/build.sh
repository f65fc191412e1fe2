#!/usr/bin/env bash
# Resolves the pinned Kafka broker (pom.xml) from Maven Central and caches its jars per machine
# under ${LSP_CACHE_DIR:-~/.cache/lsp}/kafka/<version>-<pin hash>/lib. A second run with the same
# pin only prints the path. Prints the lib directory on its last line.
# --check: print the path if resolved, else fail without resolving.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="$(grep -oE '<kafka.version>[^<]+' "$here/pom.xml" | head -1 | cut -d'>' -f2)"
[[ -n $version ]] || { echo "[kafka] cannot read the pinned Kafka version from pom.xml" >&2; exit 1; }
pin_hash="$(sha256sum "$here/pom.xml" | cut -c1-12)"
cache_root="${LSP_CACHE_DIR:-$HOME/.cache/lsp}/kafka"
out="$cache_root/${version}-${pin_hash}"
say() { printf '[kafka] %s\n' "$*" >&2; }

# The marker is written last, so a resolution cut short is never taken for a complete one.
if [[ -f "$out/complete" ]]; then
  say "Kafka $version broker cached in $out/lib"
  echo "$out/lib"
  exit 0
fi
if [[ ${1:-} == --check ]]; then say "Kafka $version broker is not resolved yet (expected in $out/lib)"; exit 1; fi
command -v java >/dev/null || { say "Java is not installed; install a JRE >= 17 (apt-get install openjdk-17-jre-headless)"; exit 1; }
command -v mvn >/dev/null || { say "Maven is not installed; install it (apt-get install maven)"; exit 1; }
rm -rf "$out" && mkdir -p "$out"
start=$SECONDS
say "resolving Kafka $version from Maven Central (first run on a machine: 1-3 minutes, ~45 MB of jars)…"
# Progress: one line per artifact downloaded (Maven's own plugins included on a fresh ~/.m2).
downloads=0
mvn_exit=1
while IFS= read -r line; do
  case $line in
    *"Downloaded from"*)
      downloads=$((downloads + 1))
      ((downloads % 10 == 0)) && say "  … $downloads files downloaded ($((SECONDS - start))s)"
      ;;
    mvn-exit=*) mvn_exit=${line#mvn-exit=} ;;
    *ERROR*) printf '[kafka]   %s\n' "$line" >&2 ;;
  esac
done < <(
  mvn -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$out/lib.tmp" 2>&1
  rc=$?
  # Maven's last line may lack its newline: the exit status goes on a line of its own.
  printf '\nmvn-exit=%s\n' "$rc"
)
[[ $mvn_exit == 0 && -f "$out/lib.tmp/kafka_2.13-$version.jar" ]] || { say "resolution failed (see the errors above)"; exit 1; }
mv "$out/lib.tmp" "$out/lib"
touch "$out/complete"
say "resolved in $((SECONDS - start))s ($downloads downloads) → $out/lib"
echo "$out/lib"
