#!/usr/bin/env bash
# `make bench`: installs what the benchmarks need, builds build/release, runs every measurement and
# prints one table (tests/bench/report.py). Figures are reported, never asserted.
#
#   scripts/bench.sh            full scale: 10M line items, peers on 2M, ~1 GB of state (~10 min)
#   BENCH_SCALE=small scripts/bench.sh   the same at a tenth or less, for development (~2 min)
#
# Generated files are kept in build/bench/data-SCALE (same arguments, same bytes) and reused; the
# results of the last run are in build/bench/results-SCALE.tsv and the table in report-SCALE.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scale=${BENCH_SCALE:-full}
jobs=${JOBS:-$(nproc)}
case "$scale" in
  full)
    inmem_events=10000000 file_line_items=10000000 peer_line_items=2000000
    latency_seconds=10 state_mb=1024 ;;
  small)
    inmem_events=1000000 file_line_items=1000000 peer_line_items=200000
    latency_seconds=3 state_mb=64 ;;
  *) echo "bench: BENCH_SCALE is 'full' or 'small', not '$scale'" >&2; exit 2 ;;
esac
rate=${BENCH_RATE:-50000}
stores=200
duckdb_package='@duckdb/node-api@1.5.6-r.1'  # DuckDB 1.5.6; the registry has no plain 1.5.6

# Packages: the build's (install-deps.sh) plus the peers'. Node may come from a non-Debian
# package that bundles npm; install Debian's only when a command is missing.
extra=(python3-pandas)
command -v node >/dev/null 2>&1 || extra+=(nodejs)
command -v npm >/dev/null 2>&1 || extra+=(npm)
[[ -x /usr/bin/time ]] || extra+=(time)
scripts/install-deps.sh "${extra[@]}"
python=/usr/bin/python3  # Debian's, which has python3-pandas (another python3 may come first)

launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
[[ -f build/release/build.ninja ]] ||
  cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}"
cmake --build build/release -j "$jobs" --target aisle aisle_bench $(grep -q '^build aisle_bench_simd:' build/release/build.ninja && echo aisle_bench_simd)

bench=build/bench
data=$bench/data-$scale
work=$bench/work
results=$bench/results-$scale.tsv
mkdir -p "$data" "$work"
: > "$results"
aisle=build/release/aisle

if [[ ! -f $bench/node_modules/@duckdb/node-api/package.json ]] ||
   ! grep -q '"version": "1.5.6-r.1"' $bench/node_modules/@duckdb/node-api/package.json; then
  echo "bench: installing $duckdb_package into $bench/node_modules"
  npm install --prefix "$bench" --no-audit --no-fund --loglevel=error "$duckdb_package" >&2
fi

# Runs a command and keeps its result lines, tagged with the file set they ran on. A command that
# fails is recorded as such and the run goes on: the table shows what it could measure.
record() {
  local set=$1; shift
  local status=0
  "$@" > "$work/stdout" || status=$?
  grep '^result' "$work/stdout" | sed "s/^result\t/result\tset=$set\t/" >> "$results" || true
  if [[ $status -ne 0 ]]; then
    echo "bench: FAILED (exit $status): $*" >&2
    echo -e "result\tset=$set\tname=failed\tstatus=$status\tcommand=$*" >> "$results"
  fi
}
# `aisle gen` output, made once per arguments.
generate() {
  local dir=$1 line_items=$2
  local args="--stores $stores --days 3000 --seed 1 --line-items $line_items"
  if [[ ! -f $dir/events.ndjson || "$(cat "$dir/args" 2>/dev/null)" != "$args" ]]; then
    echo "bench: aisle gen $args --out $dir"
    rm -rf "$dir"
    $aisle gen $args --out "$dir" >&2
    echo "$args" > "$dir/args"
  fi
}

# `aisle replay` as a user runs it; its summary line becomes a result line.
replay() {
  local set=$1 file=$2 shards=$3 out=${4:-}
  local log=$work/replay.log extra=() status=0
  [[ -n $out ]] && { rm -f "$out"; extra=(--out "$out"); }
  local started ended
  started=$(date +%s.%N)
  /usr/bin/time -f '%U %S' -o "$work/replay.cpu" \
    $aisle replay --rules tests/bench/hourly_revenue.aisle --events "$file" --quiet --final \
    --shards "$shards" --rejects "$work/rejects.jsonl" --late "$work/late.jsonl" "${extra[@]}" 2> "$log" || status=$?
  ended=$(date +%s.%N)
  cat "$log" >&2
  number() { sed -nE "s|$1|\\1|p" "$log" | head -1; }
  local accepted duplicates late seconds rate
  accepted=$(number '.* ([0-9]+) events accepted.*')
  duplicates=$(number '.* ([0-9]+) duplicates.*')
  late=$(number '.* ([0-9]+) late[,;].*')
  seconds=$(number '^([0-9.]+) s, [0-9]+ events/s.*')
  rate=$(number '^[0-9.]+ s, ([0-9]+) events/s.*')
  if [[ $status -ne 0 || -z $rate ]]; then
    echo "bench: FAILED (exit $status): aisle replay --shards $shards $file" >&2
    echo -e "result\tset=$set\tname=failed\tstatus=$status\tcommand=aisle replay --shards $shards $file" >> "$results"
    return
  fi
  echo -e "result\tset=$set\tname=replay-s$shards\tshards=$shards\tevents=$((accepted + duplicates))\taccepted=$accepted\tduplicates=$duplicates\tlate=$late\tbytes=$(stat -c %s "$file")\tseconds=$seconds\treported_rate=$rate\twall_seconds=$(awk -v a="$started" -v b="$ended" 'BEGIN { print b - a }')\tprocess_cpu_seconds=$(awk '{ print $1 + $2 }' "$work/replay.cpu")${out:+\temissions_file=$out}" >> "$results"
}

load() { cut -d' ' -f1-3 /proc/loadavg; }
{
  echo -e "meta\tscale=$scale\tcores=$(nproc)\tcpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
  echo -e "meta\tload_start=$(load)\tstarted=$(date -u +%FT%TZ)\tcommit=$(git rev-parse --short HEAD 2>/dev/null || echo '?')"
} >> "$results"

echo "bench ($scale): generating data"
generate "$data/throughput" "$file_line_items"
generate "$data/peers" "$peer_line_items"
# The peers' file: the line items of the generated chain, each id once (Aisle drops a repeated id
# as a duplicate delivery; the peers do not deduplicate, so the file has none).
peer_file=$data/peers/line_items.ndjson
if [[ ! -f $peer_file || $peer_file -ot $data/peers/events.ndjson ]]; then
  grep -F '"type":"line_item"' "$data/peers/events.ndjson" |
    awk -F'"id":"' '{ split($2, a, "\""); if (!seen[a[1]]++) print }' > "$peer_file.tmp"
  mv "$peer_file.tmp" "$peer_file"
fi
throughput_file=$data/throughput/events.ndjson

echo "bench ($scale): a. in-memory throughput"
for shards in 1 2; do
  record throughput build/release/aisle_bench throughput --events "$inmem_events" --shards "$shards" --work "$work"
done

echo "bench ($scale): a. NDJSON replay and e. the physical reference on $(du -h "$throughput_file" | cut -f1) of events"
record throughput build/release/aisle_bench parse --file "$throughput_file"
if [[ -x build/release/aisle_bench_simd ]] && grep -qw avx2 /proc/cpuinfo; then
  record throughput build/release/aisle_bench_simd --file "$throughput_file"
fi
for shards in 1 2; do replay throughput "$throughput_file" "$shards"; done

echo "bench ($scale): b. latency at $rate events/s"
for shards in 1 2; do
  record latency build/release/aisle_bench latency --rate "$rate" --seconds "$latency_seconds" --shards "$shards" --work "$work"
done

echo "bench ($scale): c. recovery of ~$state_mb MB of state"
record recovery build/release/aisle_bench recovery --state-mb "$state_mb" --work "$work"

echo "bench ($scale): d. peers on $(du -h "$peer_file" | cut -f1) of line items"
record peers build/release/aisle_bench parse --file "$peer_file" --repeat 3
if [[ -x build/release/aisle_bench_simd ]] && grep -qw avx2 /proc/cpuinfo; then
  record peers build/release/aisle_bench_simd --file "$peer_file" --repeat 3
fi
for shards in 1 2; do replay peers "$peer_file" "$shards" "$work/aisle-peers-s$shards.jsonl"; done
record peers node tests/bench/duckdb_peer.js --modules "$bench/node_modules" --file "$peer_file" --threads 1 --out "$work/duckdb-t1.csv"
record peers node tests/bench/duckdb_peer.js --modules "$bench/node_modules" --file "$peer_file" --threads 0 --out "$work/duckdb-default.csv"
record peers "$python" tests/bench/pandas_peer.py --file "$peer_file" --out "$work/pandas.csv"

echo -e "meta\tload_end=$(load)\tfinished=$(date -u +%FT%TZ)" >> "$results"
"$python" tests/bench/report.py --results "$results" --work "$work" | tee "$bench/report-$scale.txt"
