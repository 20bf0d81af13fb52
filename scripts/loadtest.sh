#!/usr/bin/env bash
# make loadtest: wrk posts distinct signed Shopify orders/create deliveries (3-9 KB, each with its
# own webhook id, generated and signed up front) to a running `aisle serve` on 127.0.0.1, at
# rising concurrency for a bounded time per step. It prints deliveries/s and latency per step,
# then stops the server (SIGTERM: drain, checkpoint) and checks that the distinct deliveries
# durable in its inbox equal those acknowledged with 200: nothing lost, nothing doubled.
#
#   LOADTEST_STEPS="8 32 64 128"  connections per step (wrk -c), rising
#   LOADTEST_SECONDS=8          seconds per step
#   LOADTEST_PER_STEP=100000    deliveries generated per step (a step that runs out says so)
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
STEPS=${LOADTEST_STEPS:-"8 32 64 128"}
SECONDS_PER_STEP=${LOADTEST_SECONDS:-8}
PER_STEP=${LOADTEST_PER_STEP:-100000}
WRK_THREADS=2

scripts/install-deps.sh wrk curl
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
cmake --build build/release -j "$JOBS" --target aisle loadtest_gen

work=build/loadtest
rm -rf "$work"
mkdir -p "$work"
echo "generating $PER_STEP signed deliveries per step ..."
step=0
for c in $STEPS; do
  build/release/tests/loadtest/loadtest_gen tests/fixtures/pos/shopify/orders_create.json \
    "$work/step$step" "$PER_STEP" "$WRK_THREADS" "$((step + 1))" | sed "s/^/  step $step: /"
  step=$((step + 1))
done

# The generated files are gigabytes of dirty pages: write them out now, or their writeback would
# hold up the server's fsyncs during the first steps (ext4 commits its journal for all of them).
sync
printf 'test-shopify-client-secret-DO-NOT-USE\n' > "$work/shopify.secret"
cat > "$work/config.json" <<JSON
{
  "limits": {"max_pending": 50000, "max_body_bytes": 1048576},
  "platforms": {"shopify": {"secrets": [{"file": "shopify.secret"}]}},
  "sinks": []
}
JSON
build/release/aisle serve --rules tests/loadtest/loadtest.aisle --data "$work/data" \
  --listen 127.0.0.1:0 --port-file "$work/port" --config "$work/config.json" 2> "$work/serve.log" &
server=$!
trap 'kill -9 $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do [[ -s "$work/port" ]] && break; sleep 0.1; done
port=$(cat "$work/port")
echo "aisle serve (pid $server) on 127.0.0.1:$port; $(nproc) cores; wrk -t$WRK_THREADS"

report="$work/report.txt"
{
  echo "make loadtest: signed Shopify orders/create deliveries -> aisle serve on 127.0.0.1, $(nproc) cores, $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  printf '%-12s %10s %10s %10s %10s %12s %9s %9s %9s\n' connections seconds sent accepted rejected "deliveries/s" p50_ms p99_ms p99.9_ms
} > "$report"
ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }
accepted_total=0
step=0
for c in $STEPS; do
  out="$work/wrk.step$step.txt"
  wrk -t"$WRK_THREADS" -c"$c" -d"${SECONDS_PER_STEP}s" --timeout 10s --latency \
    -s tests/loadtest/shopify.lua "http://127.0.0.1:$port" -- "$work/step$step" > "$out"
  line=$(grep '^LOADTEST' "$out")
  get() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$line"; }
  sent=$(get sent); accepted=$(get accepted); rejected=$(get rejected)
  p50=$(get p50_us); p99=$(get p99_us); p999=$(get p999_us)
  rate=$(awk -v a="$accepted" -v s="$SECONDS_PER_STEP" 'BEGIN { printf "%.0f", a / s }')
  note=""
  [[ "$sent" -ge "$PER_STEP" ]] && note="  (ran out of deliveries: rate is a lower bound)"
  printf '%-12s %10s %10s %10s %10s %12s %9.2f %9.2f %9.2f%s\n' "$c" "$SECONDS_PER_STEP" "$sent" "$accepted" \
    "$rejected" "$rate" "$(ms "$p50")" "$(ms "$p99")" "$(ms "$p999")" "$note" >> "$report"
  accepted_total=$((accepted_total + accepted))
  step=$((step + 1))
done

# The server's own count of deliveries it answered 200 "accepted": wrk drops the answers still in
# flight when a step's time is up, so its count may be lower by at most the connections.
server_accepted=$(curl -s "http://127.0.0.1:$port/metrics" |
  sed -n 's/^aisle_deliveries_total{platform="shopify",outcome="accepted"} //p')
kill -TERM "$server"
wait "$server" || { echo "aisle serve did not stop cleanly:"; cat "$work/serve.log"; exit 1; }
trap - EXIT
durable=$(build/release/aisle deadletter stats --data "$work/data" | sed -n 's/^deliveries acknowledged: //p')
in_flight=0
for c in $STEPS; do in_flight=$((in_flight + c)); done
ok=1
{
  echo "answered 200 accepted: $server_accepted by the server, $accepted_total seen by wrk (answers in flight at a step's end are not seen: at most $in_flight)"
  echo "distinct deliveries durable in the inbox after SIGTERM: $durable"
  if [[ "$durable" == "$server_accepted" && $accepted_total -le $durable && $((durable - accepted_total)) -le $in_flight ]]; then
    echo "OK: every delivery acknowledged is durable, none twice"
  else
    echo "MISMATCH: acknowledged and durable differ"
    ok=0
  fi
  met=$(awk 'NR > 2 && $6 >= 10000 && $8 < 20 { printf "%s%s connections (%s/s, p99 %s ms)", sep, $1, $6, $8; sep = ", " }' "$report")
  if [[ -n "$met" ]]; then
    echo "target: >= 10,000 deliveries/s on 2 cores with p99 < 20 ms: met at $met"
  else
    echo "target: >= 10,000 deliveries/s on 2 cores with p99 < 20 ms: not met at any step"
  fi
} >> "$report"
cat "$report"
[[ $ok == 1 ]]
