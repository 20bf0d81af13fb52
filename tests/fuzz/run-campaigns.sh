#!/usr/bin/env bash
# Runs each libFuzzer target for SECONDS, growing its corpus in a scratch copy; new inputs that
# found coverage are merged back into tests/fuzz/corpus/NAME (kept small by -merge=1). A run
# that finds a crash stops there (libFuzzer writes crash-* into the current folder).
#   tests/fuzz/run-campaigns.sh BUILD_DIR SECONDS [NAME ...]   (NAME: csv, webhook_shopify, ...;
#                                                              none: every target)
set -euo pipefail
build=${1:?build dir}
seconds=${2:-600}
shift 2 || shift $#
here=$(cd "$(dirname "$0")" && pwd)
names=("$@")
if [[ ${#names[@]} == 0 ]]; then
  for bin in "$build"/tests/fuzz/fuzz_*; do names+=("$(basename "$bin" | sed 's/^fuzz_//')"); done
fi
for name in "${names[@]}"; do
  bin="$build/tests/fuzz/fuzz_$name"
  [[ -x "$bin" ]] || { echo "no fuzz target $bin" >&2; exit 2; }
  corpus="$here/corpus/$name"
  work=$(mktemp -d)
  cp -r "$corpus/." "$work/"
  echo "== fuzz_$name for ${seconds}s"
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 "$work"
  "$bin" -merge=1 "$corpus" "$work" >/dev/null 2>&1
  rm -rf "$work"
done
