#!/usr/bin/env bash
# Runs each libFuzzer target for SECONDS, growing its corpus in a scratch copy; new inputs that
# found coverage are merged back into tests/fuzz/corpus/NAME (kept small by -merge=1).
#   tests/fuzz/run-campaigns.sh BUILD_DIR SECONDS
set -euo pipefail
build=${1:?build dir}
seconds=${2:-600}
here=$(cd "$(dirname "$0")" && pwd)
for bin in "$build"/tests/fuzz/fuzz_*; do
  name=$(basename "$bin"); name=${name#fuzz_}
  corpus="$here/corpus/$name"
  work=$(mktemp -d)
  cp -r "$corpus/." "$work/"
  echo "== fuzz_$name for ${seconds}s"
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 "$work"
  "$bin" -merge=1 "$corpus" "$work" >/dev/null 2>&1
  rm -rf "$work"
done
