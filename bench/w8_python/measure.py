"""W8 measurements (see `run`): prints one Markdown table per workload, with the load."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

TODAY = "2026-11-27"


def timed(f):
    start = time.perf_counter()
    out = f()
    return time.perf_counter() - start, out


def load() -> str:
    return "%.2f" % os.getloadavg()[0]


def cli(kensa: str, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([kensa, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kensa", required=True)
    ap.add_argument("--records", required=True)
    ap.add_argument("--dedup", required=True)
    args = ap.parse_args()

    import json

    import jaconv
    import pandas as pd

    import kensa

    engine = kensa.Engine.builtin(today=TODAY)
    with open(args.records, "rb") as f:
        raw = f.read()
    n = raw.count(b"\n")
    rows = []
    t = cli(args.kensa, "eval", "--today", TODAY, args.records)
    rows.append(("`kensa eval` (CLI, JSONL file → JSONL)", t, load()))
    t, _ = timed(lambda: engine.evaluate_jsonl(raw))
    rows.append(("`Engine.evaluate_jsonl` (bytes → verdict lines)", t, load()))
    frame = pd.read_json(args.records, lines=True, dtype=False)
    t, out = timed(lambda: engine.evaluate_many(frame))
    assert len(out) == n
    rows.append(("`Engine.evaluate_many` (pandas DataFrame → DataFrame)", t, load()))
    records = [json.loads(line) for line in raw.splitlines()]
    t, _ = timed(lambda: engine.evaluate_many(records))
    rows.append(("`Engine.evaluate_many` (list of dicts → list of Verdict)", t, load()))

    def jaconv_loop():
        for r in records:
            jaconv.hira2kata(jaconv.h2z(r.get("family_name_kana") or ""))
            jaconv.hira2kata(jaconv.h2z(r.get("given_name_kana") or ""))

    t, _ = timed(jaconv_loop)
    rows.append(("pure Python: jaconv over the 2 kana fields only (no rules)", t, load()))
    print(f"*evaluate: {n:,} generated records, standard rules, no registry, 2 cores*\n")
    print("| how | seconds | records/s | load (1 min) |")
    print("|---|---|---|---|")
    for name, t, l in rows:
        print(f"| {name} | {t:.2f} | {n / t:,.0f} | {l} |")
    sys.stdout.flush()

    with open(args.dedup, "rb") as f:
        m = f.read().count(b"\n")
    rows = []
    t = cli(args.kensa, "dedup", args.dedup)
    rows.append(("`kensa dedup` (CLI, 2 cores)", t, load()))
    dframe = pd.read_json(args.dedup, lines=True, dtype=False)
    t, pairs = timed(lambda: engine.dedup(dframe))
    rows.append((f"`Engine.dedup` (pandas; {len(pairs):,} pairs)", t, load()))
    try:
        from pyspark.sql import SparkSession

        import kensa.spark as ks

        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        spark = (
            SparkSession.builder.master("local[2]")
            .config("spark.sql.shuffle.partitions", "16")
            .config("spark.driver.memory", "6g")
            .config("spark.ui.enabled", "false")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        df = spark.read.json(args.dedup)
        t, count = timed(lambda: ks.dedup(df).count())
        rows.append((f"`kensa.spark.dedup` (local[2]; {count:,} pairs)", t, load()))
        spark.stop()
    except Exception as e:  # noqa: BLE001
        rows.append((f"`kensa.spark.dedup` failed: {type(e).__name__}: {str(e)[:120]}", float("nan"), load()))
    print(f"\n*dedup: {m:,} generated records with duplicates, standard rules, 2 cores*\n")
    print("| how | seconds | records/s | load (1 min) |")
    print("|---|---|---|---|")
    for name, t, l in rows:
        print(f"| {name} | {t:.2f} | {m / t:,.0f} | {l} |")


if __name__ == "__main__":
    main()
