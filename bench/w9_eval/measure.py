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


TIME = "/usr/bin/time"


def run(cmd: list[str], stdin: str | None = None, stdout=subprocess.DEVNULL, rss: bool = True) -> dict:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MB) of one process. The peak RSS
    comes from GNU time when it is installed: a child's own ru_maxrss starts at the size of the
    process it was forked from (this one)."""
    rss_file = tempfile.NamedTemporaryFile(delete=False) if rss and os.path.exists(TIME) else None
    full = [TIME, "-f", "%M", "-o", rss_file.name, *cmd] if rss_file else cmd
    start = time.perf_counter()
    p = subprocess.Popen(full, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                         stdout=stdout, stderr=subprocess.DEVNULL)
    if stdin is not None:
        p.stdin.write(stdin.encode())
        p.stdin.close()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"w9: {' '.join(cmd)} exited with {code}")
    rss_mb = usage.ru_maxrss / 1024
    if rss_file:
        with open(rss_file.name, encoding="utf-8") as f:
            rss_mb = int(f.read().split()[-1]) / 1024
        os.unlink(rss_file.name)
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": rss_mb}


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
    ap.add_argument("--reference-label", default="")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    # Only the first record and the count are kept: every process is forked from this one.
    n, one = 0, ""
    with open(a.mix, encoding="utf-8") as f:
        for line in f:
            one = one or line
            n += 1
    k = a.kensa
    cases = {
        "floor: JSONL → serde_json::Value → one line (1 thread)": [a.floor, a.mix],
        "kensa eval --jobs 1": [k, "eval", "--jobs", "1", "--today", TODAY, a.mix],
        "kensa eval --jobs 2": [k, "eval", "--jobs", "2", "--today", TODAY, a.mix],
        "kensa eval --jobs 1 --registry (2,206 records)": [k, "eval", "--jobs", "1", "--today", TODAY, "--registry", a.registry, a.mix],
    }
    if a.reference:
        # The same runs of the reference binary (an earlier commit), interleaved with these.
        for name, cmd in list(cases.items())[1:]:
            cases[f"reference: {name}"] = [a.reference, *cmd[1:]]
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

    def single(kensa: str) -> tuple[float, float, float]:
        """Wall and CPU ms of one record (no wrapper process: its start would count), peak RSS MB."""
        times = [run([kensa, "eval", "--today", TODAY], stdin=one, rss=False) for _ in range(11)]
        sizes = [run([kensa, "eval", "--today", TODAY], stdin=one)["rss_mb"] for _ in range(3)]
        return (statistics.median(t["wall"] for t in times) * 1000, statistics.median(t["cpu"] for t in times) * 1000,
                statistics.median(sizes))

    one_wall, one_cpu, one_rss = single(k)

    dedup = run([k, "dedup", a.dedup])
    dedup_rows = [["kensa dedup", f"{dedup['wall']:.1f}", f"{dedup['cpu']:.1f}", f"{dedup['rss_mb']:.0f}"]]
    single_rows = [["one record on standard input", f"{one_wall:.1f}", f"{one_cpu:.1f}", f"{one_rss:.1f}"]]
    if a.reference:
        ref = run([a.reference, "dedup", a.dedup])
        dedup_rows.append(["reference: kensa dedup", f"{ref['wall']:.1f}", f"{ref['cpu']:.1f}", f"{ref['rss_mb']:.0f}"])
        w, c, r = single(a.reference)
        single_rows.append(["reference: one record on standard input", f"{w:.1f}", f"{c:.1f}", f"{r:.1f}"])
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
             "rows": single_rows},
            {"caption": f"kensa dedup of {m_records:,} generated records (10% duplicates), all cores",
             "columns": ["run", "wall s", "CPU s", "peak RSS MB"],
             "rows": dedup_rows},
        ],
        "targets": targets,
        "notes": [f"Load average (1 min) during the rounds: {', '.join(loads)}.",
                  *([f"`reference` rows: {a.reference_label or a.reference}, run in the same rounds."] if a.reference else [])],
    }
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, indent=2)
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
