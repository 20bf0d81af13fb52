#!/usr/bin/env bash
# The Online Retail example end to end: build, convert the UCI data set to canonical events,
# replay the example rules over it, print a summary of the emissions.
#
#   examples/online_retail/run.sh [DATA.csv.gz] [WORK_DIR]      (or: make online-retail)
#
# DATA defaults to ../shared/data/online_retail/online_retail.csv.gz beside the repository,
# WORK_DIR to build/online_retail (emptied first). BUILD_DIR (default build/release) is the
# CMake build folder used.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
data=${1:-$root/../shared/data/online_retail/online_retail.csv.gz}
work=${2:-$root/build/online_retail}
build=${BUILD_DIR:-$root/build/release}

if [[ ! -f $data ]]; then
  echo "run.sh: no data set at $data (pass the path of online_retail.csv.gz)" >&2
  exit 1
fi
"$root/scripts/install-deps.sh"
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
[[ -f $build/build.ninja ]] ||
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}"
cmake --build "$build" -j "${JOBS:-2}" --target aisle online_retail_convert

rm -rf "$work"
mkdir -p "$work"
echo "== converting $data"
"$build/online_retail_convert" "$data" "$work/events" 2> "$work/bad_rows.txt"
if [[ -s $work/bad_rows.txt ]]; then
  echo "   $(wc -l < "$work/bad_rows.txt") bad rows, listed in $work/bad_rows.txt"
fi
echo "== replaying $here/rules"
"$build/aisle" replay --rules "$here/rules" --tables "$work/events" \
  --events "$work/events/events.ndjson" --data "$work/state" --out "$work/emissions.jsonl" \
  --final --quiet
echo "== emissions by rule ($work/emissions.jsonl)"
grep -o '"rule":"[^"]*"' "$work/emissions.jsonl" | cut -d'"' -f4 | sort | uniq -c
echo "== the last emission of each rule"
for rule in $(grep -o '"rule":"[^"]*"' "$work/emissions.jsonl" | cut -d'"' -f4 | sort -u); do
  grep "\"rule\":\"$rule\"" "$work/emissions.jsonl" | tail -1 |
    grep -o '"message":"\([^"\\]\|\\.\)*"' | cut -d'"' -f4- | sed 's/"$//; s/^/  /'
done
