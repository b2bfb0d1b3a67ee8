"""W9 measurements (see `run`): writes the workload JSON (bench/README.md) and prints it."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import tempfile
import time

TODAY = "2026-12-01"


def run(cmd: list[str], stdin: str | None = None, stdout=subprocess.DEVNULL) -> dict:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MB) of one process."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                         stdout=stdout, stderr=subprocess.DEVNULL)
    if stdin is not None:
        p.stdin.write(stdin.encode())
        p.stdin.close()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"w9: {' '.join(cmd)} exited with {code}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}


def digest(cmd: list[str]) -> str:
    with tempfile.TemporaryFile() as f:
        run(cmd, stdout=f)
        f.seek(0)
        return hashlib.sha256(f.read()).hexdigest()


def load() -> str:
    return "%.2f" % os.getloadavg()[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kensa", required=True)
    ap.add_argument("--floor", required=True)
    ap.add_argument("--mix", required=True)
    ap.add_argument("--dedup", required=True)
    ap.add_argument("--registry", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reference", default="")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    with open(a.mix, encoding="utf-8") as f:
        lines = f.readlines()
    n = len(lines)
    k = a.kensa
    cases = {
        "floor: JSONL → serde_json::Value → one line (1 thread)": [a.floor, a.mix],
        "kensa eval --jobs 1": [k, "eval", "--jobs", "1", "--today", TODAY, a.mix],
        "kensa eval --jobs 2": [k, "eval", "--jobs", "2", "--today", TODAY, a.mix],
        "kensa eval --jobs 1 --registry (2,206 records)": [k, "eval", "--jobs", "1", "--today", TODAY, "--registry", a.registry, a.mix],
    }
    samples: dict[str, list[dict]] = {name: [] for name in cases}
    loads = [load()]
    for _ in range(a.rounds):  # interleaved: each round runs every case once
        for name, cmd in cases.items():
            samples[name].append(run(cmd))
        loads.append(load())
    med = {name: {key: statistics.median(s[key] for s in runs) for key in ("wall", "cpu", "rss_mb")}
           for name, runs in samples.items()}
    floor_cpu = med[next(iter(cases))]["cpu"]
    rows = []
    for name, m in med.items():
        rows.append([name, f"{n / m['wall']:,.0f}", f"{m['wall']:.3f}", f"{m['cpu']:.3f}",
                     f"{m['cpu'] / floor_cpu:.2f}×", f"{m['rss_mb']:.0f}"])

    one = lines[0]
    singles = [run([k, "eval", "--today", TODAY], stdin=one) for _ in range(11)]
    one_wall = statistics.median(s["wall"] for s in singles) * 1000
    one_cpu = statistics.median(s["cpu"] for s in singles) * 1000
    one_rss = statistics.median(s["rss_mb"] for s in singles)

    dedup = run([k, "dedup", a.dedup])
    with open(a.dedup, encoding="utf-8") as f:
        m_records = sum(1 for line in f if line.strip())

    identical = None
    if a.reference:
        same = []
        for extra in ([], ["--registry", a.registry]):
            mine = digest([k, "eval", "--today", TODAY, *extra, a.mix])
            theirs = digest([a.reference, "eval", "--today", TODAY, *extra, a.mix])
            same.append(mine == theirs)
        identical = all(same)

    one_thread = n / med["kensa eval --jobs 1"]["wall"]
    two = n / med["kensa eval --jobs 2"]["wall"]
    reg = n / med["kensa eval --jobs 1 --registry (2,206 records)"]["wall"]
    ratio = med["kensa eval --jobs 1"]["cpu"] / floor_cpu
    targets = [
        {"target": "eval ≥ 300k records/s on one thread", "met": one_thread >= 300_000, "detail": f"{one_thread:,.0f}/s"},
        {"target": "eval on two threads ≥ 1.8× one thread", "met": two >= 1.8 * one_thread, "detail": f"{two / one_thread:.2f}×"},
        {"target": "eval with the example registry ≥ 200k records/s on one thread", "met": reg >= 200_000, "detail": f"{reg:,.0f}/s"},
        {"target": "eval ≤ 2× the CPU time of the serde_json floor", "met": ratio <= 2.0, "detail": f"{ratio:.2f}×"},
        {"target": "eval of one record < 10 ms wall, < 15 MB RSS", "met": one_wall < 10 and one_rss < 15,
         "detail": f"{one_wall:.1f} ms, {one_rss:.1f} MB"},
        {"target": f"dedup of {m_records:,} generated records < 30 s, < 400 MB peak RSS",
         "met": dedup["wall"] < 30 and dedup["rss_mb"] < 400, "detail": f"{dedup['wall']:.1f} s, {dedup['rss_mb']:.0f} MB"},
    ]
    if identical is not None:
        targets.append({"target": "output byte-identical to the reference binary (mix, with and without registry)",
                        "met": identical, "detail": "identical" if identical else "DIFFERENT"})
    result = {
        "workload": "W9",
        "title": "kensa eval against the JSON-parse floor",
        "command": "bench/run w9",
        "tables": [
            {"caption": f"The realistic mix: {n:,} records (every case of examples/enrollment.jsonl, fresh ids); "
                        f"medians of {a.rounds} interleaved rounds",
             "columns": ["run", "records/s", "wall s", "CPU s", "CPU vs floor", "peak RSS MB"], "rows": rows},
            {"caption": "One record, start-up included (median of 11)",
             "columns": ["run", "wall ms", "CPU ms", "peak RSS MB"],
             "rows": [["echo one record | kensa eval", f"{one_wall:.1f}", f"{one_cpu:.1f}", f"{one_rss:.1f}"]]},
            {"caption": f"kensa dedup of {m_records:,} generated records (10% duplicates), all cores",
             "columns": ["run", "wall s", "CPU s", "peak RSS MB"],
             "rows": [["kensa dedup", f"{dedup['wall']:.1f}", f"{dedup['cpu']:.1f}", f"{dedup['rss_mb']:.0f}"]]},
        ],
        "targets": targets,
        "notes": [f"Load average (1 min) during the rounds: {', '.join(loads)}."],
    }
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, indent=2)
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
