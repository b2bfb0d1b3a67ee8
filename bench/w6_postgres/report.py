"""W6 results (the lines bench/w6_postgres/run collected) as a workload of docs/PERFORMANCE.md."""
import json
import sys

rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
imp = next(r["import"] for r in rows if "import" in r)
runs = [r for r in rows if "clients" in r]


def f(x, d=2):
    return f"{x:.{d}f}"


import_table = {
    "caption": "import of the registry (`kensa registry import --db postgres://…`, 50,000 records per transaction)",
    "columns": ["residents", "seconds", "records/s", "tables + indexes MB"],
    "rows": [[f"{imp['records']:,}", f(imp["seconds"], 1), f"{imp['records'] / imp['seconds']:,.0f}",
              f(imp["table_bytes"] / 1e6, 0)]],
}
enroll_table = {
    "caption": "concurrent enrollment of the stream (`Engine::enroll`: lock keys, look up, judge, insert, commit; one pooled connection per client)",
    "columns": ["clients", "records", "records/s", "p50 ms", "p99 ms", "max ms", "distinct people",
                "enrolled", "stored per person > 1", "accepted = distinct people"],
    "rows": [[r["clients"], f"{r['records']:,}", f"{r['records_per_s']:,.0f}", f(r["p50_ms"]), f(r["p99_ms"]),
              f(r["max_ms"], 1), f"{r['distinct_people']:,}", f"{r['enrolled']:,}", r["people_stored_twice"],
              "yes" if r["accepted_equals_distinct_people"] else "**no**"] for r in runs],
}
targets = [{
    "target": "accepted records = distinct people, under concurrency",
    "met": bool(runs) and all(r["accepted_equals_distinct_people"] for r in runs),
    "detail": ", ".join(f"{r['clients']} client{'s' if r['clients'] > 1 else ''}: {r['enrolled']:,} of {r['distinct_people']:,}" for r in runs),
}]
notes = [
    "A throwaway PostgreSQL 15 cluster on 127.0.0.1 (scripts/pg-server with PG_DURABLE=1: fsync, synchronous_commit "
    "and full_page_writes on; shared_buffers 512MB), on the same 2 cores as the clients: the server's work, the rules and "
    "the clients' threads share them.",
    "The stream's people come from another seed and are checked once before the clock starts (accepted against the "
    "registry and against the people before them), so each must be enrolled exactly once; each duplicate is one of them "
    "again under another id, with a spaced or full-width My Number and hiragana kana, a few records from the original.",
    "Clients take records from one queue in stream order, so a person and their duplicate are often enrolled at the "
    "same moment by two clients. After each run the stored stream records are counted per person on the server, then "
    "deleted, so every run starts from the same registry.",
    "Latency is one `Engine::enroll` call: BEGIN, the advisory locks, the uid and key-version check, the candidate "
    "lookup, the rules, the insert and COMMIT (a durable commit, one WAL flush).",
]
json.dump({"workload": "W6", "title": "Registry on PostgreSQL: import and concurrent enrollment",
           "command": "bench/run w6", "tables": [import_table, enroll_table], "targets": targets, "notes": notes},
          open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False, indent=2)
