#!/usr/bin/env bash
# `make eval`: builds build/release, runs every evaluation program (build/release/eval/eval_*)
# and prints one table: each analytics operator's figures beside an independent reference.
# Programs that need extra packages (R for forecast::ets) install them through install-deps.sh.
# Figures are reported, never asserted; the table is kept in build/eval/report.md.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-$(nproc)}
# r-base-core and r-cran-forecast: eval_forecast runs forecast::ets (tests/eval/m4_ets.R) beside ours.
scripts/install-deps.sh r-base-core r-cran-forecast ${EVAL_PACKAGES:-}

launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# Configure every time: a new evaluation program must be in build.ninja before it is listed.
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
targets=$(sed -n 's/^build \(eval_[A-Za-z0-9_]*\): phony.*/\1/p' build/release/build.ninja | sort -u)
# shellcheck disable=SC2086
[[ -z $targets ]] || cmake --build build/release -j "$jobs" --target $targets

mkdir -p build/eval
report=build/eval/report.md
{
  echo "| operator | figure | Aisle | reference | reference source |"
  echo "|---|---|---|---|---|"
} > "$report"
status=0
for program in build/release/eval/eval_*; do
  [[ -x $program ]] || continue
  echo "eval: running $(basename "$program")" >&2
  if ! "$program" >> "$report"; then
    echo "| $(basename "$program") | failed to run | | | |" >> "$report"
    status=1
  fi
done
cat "$report"
exit $status
