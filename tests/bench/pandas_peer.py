"""Peer for `make bench`: pandas computes the benchmark's aggregation, revenue = sum(price * qty)
per store and UTC hour, reading the same NDJSON file as `aisle replay` in chunks. Prints one
result line (scripts/bench.sh, report.py) and writes the groups to --out for the agreement check.

    python3 pandas_peer.py --file F --out groups.csv [--chunksize N]
"""
import argparse
import os
import sys
import time

import pandas as pd


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--chunksize", type=int, default=100_000)
    args = parser.parse_args()

    started = time.perf_counter()
    parts = []
    events = 0
    # dtype=False keeps every value as read: prices stay the strings they are ("0.99") and are
    # cast to float here, times are parsed as RFC 3339 and floored to the UTC hour.
    with pd.read_json(args.file, lines=True, chunksize=args.chunksize, dtype=False,
                      convert_dates=False) as reader:
        for chunk in reader:
            chunk = chunk[chunk["type"] == "line_item"]
            events += len(chunk)
            ts = pd.to_datetime(chunk["ts"], utc=True)
            frame = pd.DataFrame({
                "store": chunk["store"],
                "hour": ts.astype("int64") // 3_600_000_000_000,
                "revenue": chunk["price"].astype(float) * chunk["qty"].astype(float),
            })
            parts.append(frame.groupby(["store", "hour"]).agg(revenue=("revenue", "sum"),
                                                              lines=("revenue", "size")))
    groups = pd.concat(parts).groupby(level=["store", "hour"]).sum()
    seconds = time.perf_counter() - started

    groups.to_csv(args.out)
    total = float(groups["revenue"].sum())
    print(f"result\tname=pandas\tversion={pd.__version__}\tthreads=1\tevents={events}"
          f"\tbytes={os.path.getsize(args.file)}\tseconds={seconds}\tgroups={len(groups)}"
          f"\ttotal_revenue={total:.4f}", flush=True)
    print(f"pandas: {events} line items in {seconds:.3f} s, {len(groups)} groups", file=sys.stderr)


if __name__ == "__main__":
    main()
