"""Prints the table of `make bench` from the result lines scripts/bench.sh collected, checks that
the peers computed what Aisle computed, and says which of the issue's targets hold in this run.
Figures are reported, never asserted: the exit code is 0 whatever they are.

    python3 report.py --results build/bench/results-full.tsv --work build/bench/work
"""
import argparse
import calendar
import csv
import json
import os
import time

TARGET_INMEM = 2_000_000  # events/s per core, in-memory
TARGET_P99_US = 2_000     # ingest to emission at 50,000 events/s
LABEL = 56                # width of the row label column


def read_results(path):
    meta, rows, failed = {}, {}, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            fields = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
            if parts[0] == "meta":
                meta.update(fields)
            elif parts[0] == "result":
                if fields.get("name") == "failed":
                    failed.append(fields)
                else:
                    rows[(fields.get("set", ""), fields["name"])] = fields
    return meta, rows, failed


def num(row, key, default=None):
    if row is None or key not in row or row[key] == "":
        return default
    return float(row[key])


def rate(row):
    """events/s of a row: `aisle replay`'s own figure for replays, events / seconds otherwise."""
    if row is None:
        return None
    if "reported_rate" in row:
        return num(row, "reported_rate")
    seconds = num(row, "seconds")
    return num(row, "events") / seconds if seconds else None


def seconds_of(row):
    if row is None:
        return None
    if "reported_rate" in row:  # the replay's seconds are printed to 2 decimals; its rate is exact
        r = rate(row)
        return num(row, "events") / r if r else None
    return num(row, "seconds")


def mb_per_s(row):
    s = seconds_of(row)
    b = num(row, "bytes")
    return b / 1e6 / s if (s and b is not None) else None


def fmt_int(v):
    return "-" if v is None else f"{v:,.0f}"


def fmt_f(v, digits=2):
    return "-" if v is None else f"{v:,.{digits}f}"


def ratio(a, b):
    return a / b if (a is not None and b) else None


def cpu_note(events, cpu_seconds, wall_seconds):
    """Events per CPU-second (every thread of the process): less sensitive than wall time to
    other work on the machine, and the parallelism actually used."""
    if not events or not cpu_seconds or not wall_seconds:
        return ""
    return f"; {events / cpu_seconds:,.0f} per CPU-s, {cpu_seconds / wall_seconds:.2f} CPU-s per s"


def throughput_line(label, row, note=""):
    if row is None:
        return f"{label:<{LABEL}} {'(not measured)':>12}"
    b = num(row, "bytes")
    return (f"{label:<{LABEL}} {fmt_int(num(row, 'events')):>12} {fmt_int(b / 1e6) if b else '-':>7} "
            f"{fmt_f(seconds_of(row)):>8} {fmt_int(rate(row)):>12} {fmt_int(mb_per_s(row)):>7}  {note}")


def throughput_header(ratio_title):
    return (f"{'':<{LABEL}} {'events':>12} {'MB':>7} {'seconds':>8} {'events/s':>12} {'MB/s':>7}  "
            f"{ratio_title}")


def hour_of(rfc3339):
    return calendar.timegm(time.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ")) // 3600


def aisle_groups(path):
    """(store, hour) -> revenue from the emissions of hourly_takings: the last one of each window
    (a correction replaces what fired before)."""
    groups = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            if e.get("rule") != "hourly_takings" or not e.get("window"):
                continue
            amount = e["values"]["revenue"]
            groups[(e["store"], hour_of(e["window"]["start"]))] = float(str(amount).split()[0])
    return groups


def peer_groups(path):
    groups = {}
    with open(path, encoding="utf-8") as f:
        for r in csv.DictReader(f):
            groups[(r["store"], int(r["hour"]))] = (float(r["revenue"]), int(float(r["lines"])))
    return groups


def compare(aisle, peer):
    """Groups that agree within Aisle's rounding: each line's price * qty to 1/10,000 and the
    emitted sum to the cent, so |diff| <= 0.005 + 0.00005 per line (plus float noise)."""
    agree, worst = 0, 0.0
    for key, (revenue, lines) in peer.items():
        if key not in aisle:
            continue
        diff = abs(aisle[key] - revenue)
        worst = max(worst, diff)
        if diff <= 0.005 + 0.00005 * lines + 1e-9 * abs(revenue):
            agree += 1
    return agree, worst


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    meta, rows, failed = read_results(args.results)
    get = lambda s, n: rows.get((s, n))  # noqa: E731
    out = []
    p = out.append
    rule = "-" * 120

    p(f"Aisle benchmarks (make bench, scale {meta.get('scale', '?')}), commit {meta.get('commit', '?')}, "
      f"{meta.get('started', '')}")
    p(f"machine: {meta.get('cpu', '?')}, {meta.get('cores', '?')} cores; load average (1/5/15 min) at start "
      f"{meta.get('load_start', '?')}, at end {meta.get('load_end', '?')}")
    p("Figures are reported, never asserted; other work on the machine during the run lowers them.")
    try:
        busy = max(float(meta["load_start"].split()[0]), float(meta["load_end"].split()[0]))
        if busy > float(meta["cores"]) / 2:
            p(f"NOTE: the machine was busy (load average up to {busy:.1f} on {meta['cores']} cores): wall-time "
              "figures are lower than on an idle machine; the per-CPU-second figures are less affected.")
    except (KeyError, ValueError):
        pass

    # A. Throughput
    t = "throughput"
    inmem1, inmem2, make = get(t, "inmem-s1"), get(t, "inmem-s2"), get(t, "inmem-make")
    replay1, replay2 = get(t, "replay-s1"), get(t, "replay-s2")
    native = get(t, "ref-simdjson-native")
    simd = get(t, "ref-simdjson")
    # The raw JSON parse rate: the faster simdjson pass (both kernels run about as fast on short
    # lines, so a slower one was slowed by something else).
    json_ref = max((r for r in (native, simd) if r), key=rate, default=None)
    json_ref_name = f"simdjson ({(json_ref or {}).get('kernel', '?')})"
    p("")
    p(rule)
    p("A. Throughput: parse -> hourly tumbling sum(price * qty) keyed by store -> rule on every hour "
      "(tests/bench/hourly_revenue.aisle)")
    p(throughput_header("ratio"))

    def inmem_note(row, shards):
        if row is None:
            return ""
        return (f"{ratio(rate(row) / shards, TARGET_INMEM):.2f} of 2M/s per core"
                f"{cpu_note(num(row, 'events'), num(row, 'cpu_seconds'), num(row, 'seconds'))}")

    p(throughput_line("in-memory events -> Engine::Push, 1 shard", inmem1, inmem_note(inmem1, 1)))
    p(throughput_line("in-memory events -> Engine::Push, 2 shards", inmem2, inmem_note(inmem2, 2)))
    p(throughput_line("  (making those events alone)", make, ""))
    rj = rate(json_ref)

    def replay_note(row):
        if row is None:
            return ""
        return (f"{fmt_f(ratio(rate(row), rj))} of {json_ref_name}"
                f"{cpu_note(num(row, 'events'), num(row, 'process_cpu_seconds'), num(row, 'wall_seconds'))}")

    p(throughput_line("NDJSON file -> aisle replay, 1 shard", replay1, replay_note(replay1)))
    p(throughput_line("NDJSON file -> aisle replay, 2 shards", replay2, replay_note(replay2)))
    if replay1:
        p(f"  file: {fmt_int(num(replay1, 'events'))} events ({replay1.get('duplicates')} repeated ids), "
          f"{fmt_int(num(replay1, 'bytes') / 1e6)} MB from `aisle gen`; the in-memory rows push "
          f"{fmt_int(num(inmem1, 'events') if inmem1 else None)} synthetic line items")
    p("e. The physical reference on the same file (aisle replay, 1 shard, as a fraction of each):")
    for name, label in (("ref-read", "read only (4 MiB blocks, count newlines)"),
                        ("ref-simdjson", f"simdjson On-Demand, all fields ({(simd or {}).get('kernel', '?')}: as built)"),
                        ("ref-simdjson-native", f"simdjson On-Demand, all fields ({(native or {}).get('kernel', '?')}: "
                                                "this CPU)"),
                        ("ref-eventparser", "EventParser::Parse into an Event")):
        row = get(t, name)
        if row is None and name == "ref-simdjson-native":
            continue
        p(throughput_line("  " + label, row, f"replay = {fmt_f(ratio(rate(replay1), rate(row)))}" if row else ""))

    # B. Latency
    p("")
    p(rule)
    run1 = get("latency", "latency-run-s1")
    offered = num(run1, "offered", 50000)
    p(f"B. Latency at {fmt_int(offered)} events/s offered, paced on the steady clock "
      "(tests/bench/latency.aisle; microseconds)")
    p(f"{'':<{LABEL}} {'samples':>9} {'p50':>9} {'p99':>9} {'p99.9':>9} {'max':>9}")
    for shards in (1, 2):
        run = get("latency", f"latency-run-s{shards}")
        if run is None:
            continue
        for name, label in ((f"latency-stream-s{shards}", "stream rule big_qty: Push -> sink"),
                            (f"latency-stream-sched-s{shards}", "  same, from the scheduled push time"),
                            (f"latency-window-s{shards}", "window rule hour_closed: closing Push -> sink")):
            row = get("latency", name)
            if row:
                p(f"{(f'{shards} shard' + ('s' if shards > 1 else '') + ': ' + label):<{LABEL}} "
                  f"{fmt_int(num(row, 'samples')):>9} {fmt_f(num(row, 'p50_us'), 1):>9} "
                  f"{fmt_f(num(row, 'p99_us'), 1):>9} {fmt_f(num(row, 'p999_us'), 1):>9} "
                  f"{fmt_f(num(row, 'max_us'), 1):>9}")
        p(f"  achieved {fmt_int(num(run, 'achieved'))} events/s over {fmt_int(num(run, 'events'))} events; "
          f"{fmt_int(num(run, 'behind_1ms'))} pushes started over 1 ms behind schedule")

    # C. Recovery
    p("")
    p(rule)
    rec = get("recovery", "recovery")
    p("C. Recovery after SIGKILL: a child builds store x SKU x hour windows (1,000 stores x 5,000 SKUs, "
      "30 days' lateness), checkpoints, is killed")
    if rec:
        size = num(rec, "state_bytes")
        p(f"{'':<{LABEL}} {'state MB':>12} {'groups':>12} {'seconds':>8} {'MB/s':>7}")
        p(f"{'Engine::Open on the killed folder (warm page cache)':<{LABEL}} {fmt_int(size / 1e6):>12} "
          f"{fmt_int(num(rec, 'groups')):>12} {fmt_f(num(rec, 'seconds')):>8} "
          f"{fmt_int(size / 1e6 / num(rec, 'seconds')):>7}")
        p(f"  state: {fmt_int(size / 1e6)} MB by du ({fmt_int(num(rec, 'apparent_bytes') / 1e6)} MB of file "
          f"contents), {fmt_int(num(rec, 'groups'))} groups in {fmt_int(num(rec, 'windows'))} store-hour windows; "
          f"built in {fmt_f(num(rec, 'builder_push_seconds'), 1)} s of pushes and a "
          f"{fmt_f(num(rec, 'builder_checkpoint_seconds'), 1)} s checkpoint")
        p(f"  peak memory of the builder, holding every open window in memory: "
          f"{fmt_int(num(rec, 'builder_peak_rss_bytes', 0) / 2**20)} MiB")
    else:
        p("  (not measured)")

    # D. Peers
    p("")
    p(rule)
    s = "peers"
    a1, a2 = get(s, "replay-s1"), get(s, "replay-s2")
    d1, dd, pd_ = get(s, "duckdb-t1"), get(s, "duckdb-default"), get(s, "pandas")
    peer_file_mb = num(a1 or d1 or {}, "bytes", 0) / 1e6
    p(f"D. Peers on one file ({fmt_int(num(a1 or d1 or {}, 'events'))} line items, {fmt_int(peer_file_mb)} MB, "
      "each id once): revenue = sum(price * qty) per store and UTC hour")
    p(throughput_header("Aisle / peer"))
    p(throughput_line("aisle replay, 1 shard", a1, ""))
    p(throughput_line("aisle replay, 2 shards", a2, ""))
    if d1:
        p(throughput_line(f"DuckDB {d1.get('version')}, threads=1", d1,
                          f"{fmt_f(ratio(rate(a1), rate(d1)))} (Aisle 1 shard)"))
    if dd:
        p(throughput_line(f"DuckDB, default threads ({dd.get('threads')})", dd,
                          f"{fmt_f(ratio(rate(a2), rate(dd)))} (Aisle 2 shards)"))
    if pd_:
        p(throughput_line(f"pandas {pd_.get('version')}, read_json chunks of 100,000", pd_,
                          f"{fmt_f(ratio(rate(a1), rate(pd_)))} (Aisle 1 shard)"))
    for name, label in (("ref-read", "read only"), ("ref-simdjson", "simdjson On-Demand (as built)"),
                        ("ref-simdjson-native", "simdjson On-Demand (this CPU)"),
                        ("ref-eventparser", "EventParser::Parse")):
        row = get(s, name)
        if row:
            p(throughput_line("  reference: " + label, row, f"{fmt_f(ratio(rate(a1), rate(row)))} (Aisle 1 shard)"))

    checks_ok = None
    p("Agreement (per store and hour; Aisle's sums are exact decimals shown to the cent, the peers' doubles):")
    path1 = (a1 or {}).get("emissions_file")
    if path1 and os.path.exists(path1):
        g1 = aisle_groups(path1)
        checks_ok = True
        p(f"  Aisle 1 shard: {fmt_int(len(g1))} groups, total {sum(g1.values()):,.2f}")
        path2 = (a2 or {}).get("emissions_file")
        if path2 and os.path.exists(path2):
            g2 = aisle_groups(path2)
            same = g1 == g2
            checks_ok &= same
            p(f"  Aisle 2 shards: {fmt_int(len(g2))} groups, "
              f"{'identical to 1 shard' if same else 'DIFFERENT from 1 shard'}")
        for file, label in (("duckdb-t1.csv", "DuckDB threads=1"), ("duckdb-default.csv", "DuckDB default"),
                            ("pandas.csv", "pandas")):
            path = os.path.join(args.work, file)
            if not os.path.exists(path):
                p(f"  {label}: no result")
                checks_ok = False
                continue
            g = peer_groups(path)
            agree, worst = compare(g1, g)
            ok = agree == len(g) == len(g1)
            checks_ok &= ok
            p(f"  {label}: {fmt_int(len(g))} groups, total {sum(v for v, _ in g.values()):,.2f}; "
              f"{fmt_int(agree)} agree within rounding (largest difference {worst:.4f})  "
              f"{'OK' if ok else 'MISMATCH'}")
    else:
        p("  (no Aisle emissions to compare)")

    # Targets
    p("")
    p(rule)
    p("Targets (issue 4)")
    verdict = lambda ok: "-" if ok is None else ("holds" if ok else "does NOT hold")  # noqa: E731
    targets = []
    r1 = rate(inmem1)
    targets.append((">= 2M events/s per core, in-memory",
                    f"{fmt_int(r1)}/s on 1 shard" if r1 else "not measured",
                    None if r1 is None else r1 >= TARGET_INMEM))
    rr = ratio(rate(replay1), rj)
    targets.append(("NDJSON replay >= 1/2 the raw JSON parse rate",
                    f"{fmt_f(rr)} of {json_ref_name}, same file" if rr else "not measured",
                    None if rr is None else rr >= 0.5))
    duck = [x for x in (ratio(rate(a1), rate(d1)), ratio(rate(a2), rate(dd))) if x is not None]
    targets.append(("Aisle >= DuckDB on the same aggregation",
                    f"{fmt_f(ratio(rate(a1), rate(d1)))}x of 1 thread (1 shard), "
                    f"{fmt_f(ratio(rate(a2), rate(dd)))}x of default threads (2 shards)" if duck else "not measured",
                    None if not duck else all(x >= 1 for x in duck)))
    lat = [get("latency", f"latency-{k}-s1") for k in ("stream", "window")]
    lat_ok = None if None in lat else all(num(r, "p99_us") < TARGET_P99_US for r in lat)
    targets.append((f"p99 ingest -> emission < 2 ms at {fmt_int(offered)} events/s",
                    (f"stream {fmt_f(num(lat[0], 'p99_us') / 1000, 3)} ms, window "
                     f"{fmt_f(num(lat[1], 'p99_us') / 1000, 3)} ms (1 shard)") if lat_ok is not None else "not measured",
                    lat_ok))
    targets.append(("recovery time after a kill",
                    f"{fmt_f(num(rec, 'seconds'))} s for {fmt_int(num(rec, 'state_bytes') / 1e6)} MB" if rec else
                    "not measured", None))
    if rec:
        rss = num(rec, "builder_peak_rss_bytes", 0)
        groups = num(rec, "groups")
        targets.append(("peak memory < 1 GiB, 1,000 stores x 5,000 SKUs hourly",
                        f"{fmt_int(rss / 2**20)} MiB for {fmt_int(groups)} groups "
                        f"({fmt_int(rss / max(groups, 1))} bytes a group)",
                        rss < 2**30 if groups >= 5_000_000 else None))
    targets.append(("peers agree with Aisle", "see Agreement above", checks_ok))
    for name, figure, ok in targets:
        shown = verdict(ok) if ok is not None else ("reported (no number set)" if "recovery" in name else
                                                   "reported (below full scale)" if "memory" in name else "-")
        p(f"  {name:<50} {figure:<64} {shown}")
    if failed:
        p("")
        p("Failed:")
        for f in failed:
            p(f"  {f.get('command')} (exit {f.get('status')})")
    print("\n".join(out))


if __name__ == "__main__":
    main()
