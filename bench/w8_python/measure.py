"""W8 measurements (see `run`): writes $KENSA_BENCH_OUT/w8_python.json (bench/README.md) and
prints the tables as Markdown."""

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


def table(caption: str, rows, n: int) -> dict:
    fmt = lambda t: "n/a" if t != t else f"{t:.2f}"  # noqa: E731  (NaN: did not finish)
    rate = lambda t: "n/a" if t != t else f"{n / t:,.0f}"  # noqa: E731
    return {
        "caption": caption,
        "columns": ["how", "seconds", "records/s", "load (1 min)"],
        "rows": [[name, fmt(t), rate(t), l] for name, t, l in rows],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kensa", required=True)
    ap.add_argument("--records", required=True)
    ap.add_argument("--dedup", required=True)
    ap.add_argument("--splink-timeout", type=int, default=1800)
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
    tables = [table(f"evaluate: {n:,} generated records, standard rules, no registry, 2 cores", rows, n)]
    rates = {name: n / t for name, t, _ in rows}

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
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        done = subprocess.run(
            [sys.executable, os.path.join(here, "splink_spark.py"), args.dedup],
            capture_output=True, text=True, timeout=args.splink_timeout,
        )
        last = (done.stdout.strip().splitlines() or [""])[-1]
        if done.returncode == 0 and last.startswith("{"):
            r = json.loads(last)
            rows.append((f"Splink 5 on Spark (local[2]; its own model, raw text; {r['pairs']:,} pairs)", r["seconds"], load()))
        else:
            why = (done.stderr.strip().splitlines() or ["no output"])[-1][:160]
            rows.append((f"Splink 5 on Spark did not finish: {why}", float("nan"), load()))
    except subprocess.TimeoutExpired:
        rows.append((f"Splink 5 on Spark: stopped after {args.splink_timeout} s", float("nan"), load()))
    tables.append(table(f"dedup: {m:,} generated records with 10% duplicates, standard rules, 2 cores", rows, m))
    cli_rate = rates["`kensa eval` (CLI, JSONL file → JSONL)"]
    frame_rate = rates["`Engine.evaluate_many` (pandas DataFrame → DataFrame)"]
    result = {
        "workload": "W8",
        "title": "Python and Spark: evaluate_many from pandas, Spark dedup, against the CLI",
        "command": "bench/run w8",
        "tables": tables,
        "targets": [],
        "notes": [
            f"evaluate_many from a pandas DataFrame: {frame_rate:,.0f} records/s, {frame_rate / cli_rate:.2f}× the CLI's "
            f"{cli_rate:,.0f} on the same records. The DataFrame is written as JSON lines by pandas' C writer "
            "(one pass, the GIL held), then judged in Rust on all cores with the GIL released; the verdicts "
            "come back as columns.",
            "Records: `examples/generate.rs` (seed 1 for evaluate; seed 2 with `--duplicates 0.1` for dedup); "
            "the CLI and the wheel are release builds; `kensa.spark` runs in local[2] in the same process tree.",
            "The pure-Python row is not a peer doing the same work: it is the cost of touching two fields of "
            "every record with jaconv (bench/w3's peer), a floor for any per-record Python loop.",
            "Splink on Spark uses a model written for these records (bench/w8_python/splink_spark.py) over "
            "raw text; its pair count is not comparable with kensa's.",
        ],
    }
    out = os.environ.get("KENSA_BENCH_OUT", "target/bench-results")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "w8_python.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, indent=2)
    for t in tables:
        print(f"*{t['caption']}*\n")
        print("| " + " | ".join(t["columns"]) + " |")
        print("|" + "|".join("---" for _ in t["columns"]) + "|")
        for row in t["rows"]:
            print("| " + " | ".join(row) + " |")
        print()


if __name__ == "__main__":
    main()
