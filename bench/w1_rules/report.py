"""W1: turn the raw output of examples/bench_rules.rs (and the `perf report` listings) into
$KENSA_BENCH_OUT/w1_rules.json in the shape bench/README.md describes.

    python bench/w1_rules/report.py RAW.json DATA_DIR OUT.json

DATA_DIR holds the `perf report` listings w1_perf_{full,structural}_{self,children}.txt (optional).
"""

import json
import os
import re
import sys

TARGET_PER_CORE = 300_000
TOOLS = ["jsonschema iter_errors", "kensa structural", "jsonschema iter_errors (JSONL)", "kensa structural (JSONL)",
         "jsonschema is_valid", "kensa full"]


def rate(x):
    if x >= 1e6:
        return f"{x / 1e6:.2f}M"
    if x >= 1e3:
        return f"{x / 1e3:.0f}k"
    return f"{x:.0f}"


def pct(a, b):
    return f"{100 * a / b:.2f}%" if b else "–"


def perf_lines(path):
    """{symbol: percent} from `perf report --stdio -g none --sort symbol` (the first column: self
    time with --no-children, inclusive time with --children); a name listed more than once (copies
    of a function) is summed."""
    out = {}
    if not os.path.exists(path):
        return out
    pat = re.compile(r"^\s*([\d.]+)%\s+(?:[\d.]+%\s+)?\[[.k]\]\s+(.+?)(?:\s{2,}.*)?$")
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = pat.match(line.rstrip("\n"))
            if m:
                name = m.group(2).strip()
                out[name] = out.get(name, 0.0) + float(m.group(1))
    return out


def short(symbol):
    return symbol.replace("kensa::", "")


def hot_spots(data, rules):
    """One sentence on where `Engine::evaluate` spends its time with these rules, or None."""
    children = perf_lines(os.path.join(data, f"w1_perf_{rules}_children.txt"))
    evaluate = min(100.0, children.get("kensa::engine::Engine::evaluate", 0.0))
    if not evaluate:
        return None

    def share(p):
        return f"{min(100.0, 100 * p / evaluate):.0f}%"

    own = sorted(perf_lines(os.path.join(data, f"w1_perf_{rules}_self.txt")).items(), key=lambda x: -x[1])
    text = "self time (`perf report --no-children`): " + ", ".join(f"{short(s)} {share(p)}" for s, p in own[:10])
    if rules == "full":
        # Inclusive time of the builtins and normalizers (not the interpreter's own frames).
        incl = sorted(
            ((p, short(s)) for s, p in children.items()
             if s.startswith(("kensa::builtins::", "kensa::normalize::"))
             and not any(x in s for x in ("{{closure}}", "BUILTINS", "text_fn", "(inlined)"))),
            key=lambda x: -x[0],
        )
        text += "; inclusive (`--children`), builtins and normalizers: " + ", ".join(
            f"{n} {share(p)}" for p, n in incl[:8])
    return text


def main():
    raw_path, data, out_path = sys.argv[1:4]
    with open(raw_path, encoding="utf-8") as f:
        raw = json.load(f)
    tp = raw["throughput"]
    sizes = sorted({m["records"] for m in tp})
    threads = sorted({m["threads"] for m in tp})
    largest = sizes[-1]
    get = {(m["tool"], m["threads"], m["records"]): m for m in tp}

    def r(tool, t, n):
        m = get.get((tool, t, n))
        return m["records_per_s"] if m else None

    rows = []
    for tool in TOOLS:
        for t in threads:
            cells = [rate(r(tool, t, n)) if r(tool, t, n) else "–" for n in sizes]
            big = r(tool, t, largest)
            rows.append([tool, str(t), *cells, rate(big / t) if big else "–"])
    throughput = {
        "caption": f"records/s, records in memory as serde_json::Value (the `(JSONL)` rows: as JSONL text, parsed, "
        f"judged and written as one JSON line each, end to end but for file I/O); best of {raw['runs']} runs after a warm-up "
        "pass, the tools interleaved (a round runs each once), each run ≥ 0.5 s (small inputs are passed over several "
        "times); rayon pool of 1 or 2 threads",
        "columns": ["tool", "threads", *[f"{n:,} records" for n in sizes], f"per core at {largest:,}"],
        "rows": rows,
    }

    cost_rows = []
    for tool in TOOLS:
        us = [1e6 / r(tool, 1, n) if r(tool, 1, n) else None for n in sizes]
        growth = f"{us[-1] / us[0]:.2f}×" if len(sizes) > 1 and us[0] and us[-1] else "–"
        cost_rows.append([tool, *[f"{u:.2f}" if u else "–" for u in us], growth])
    scaling = {
        "caption": "cost per record (µs, 1 thread) as the input grows: a flat row means total cost linear in the size",
        "columns": ["tool", *[f"{n:,} records" for n in sizes], f"{sizes[-1]:,} ÷ {sizes[0]:,}"],
        "rows": cost_rows,
    }

    a = raw["agreement"]
    n = a["records"]
    agree = a["both_accept"] + a["both_reject"]
    agreement = {
        "caption": f"structural subset: jsonschema (valid = no error) vs kensa (accept), all {n:,} generated records",
        "columns": ["records", "both accept", "both reject", "only jsonschema valid", "only kensa accept",
                    "decisions agree", "as many errors as findings"],
        "rows": [[f"{n:,}", f"{a['both_accept']:,}", f"{a['both_reject']:,}", f"{a['schema_only_valid']:,}",
                  f"{a['kensa_only_accept']:,}", pct(agree, n), pct(a["same_error_count"], n)]],
    }
    defects = {
        "caption": "share of records flagged, by the defect the generator put in (jsonschema: invalid; kensa "
        "structural: reject; full rules: review or reject)",
        "columns": ["generated defect", "records", "subset, jsonschema", "subset, kensa", "full standard rules"],
        "rows": [[d["defect"], f"{d['records']:,}", pct(d["schema_invalid"], d["records"]),
                  pct(d["kensa_structural_reject"], d["records"]), pct(d["full_not_accept"], d["records"])]
                 for d in a["by_defect"]],
    }
    edges = {
        "caption": "hand-written edge cases (in parentheses: jsonschema errors, kensa rejecting findings)",
        "columns": ["record", "jsonschema", "kensa structural", "full standard rules", "agree"],
        "rows": [[e["case"], "valid" if e["schema_errors"] == 0 else f"invalid ({e['schema_errors']})",
                  f"{e['kensa_decision']} ({e['kensa_findings']})", e["full_decision"] or "error",
                  "yes" if e["agree"] else "**no**"] for e in raw["edge_cases"]],
    }

    targets = []
    full1 = r("kensa full", 1, largest)
    if full1:
        full2 = r("kensa full", 2, largest)
        extra = f"; 2 threads: {rate(full2)} ({rate(full2 / 2)} per core)" if full2 else ""
        targets.append({
            "target": "full standard rules ≥ 300,000 records/s per core",
            "met": full1 >= TARGET_PER_CORE,
            "detail": f"{rate(full1)} records/s on 1 thread at {largest:,} records, "
            f"{full1 / TARGET_PER_CORE:.2f}× the target{extra}",
        })
    for suffix, what in (("", "records in memory"), (" (JSONL)", "end to end from JSONL text")):
        ratios = []
        for t in threads:
            for n_ in sizes:
                k, s = r("kensa structural" + suffix, t, n_), r("jsonschema iter_errors" + suffix, t, n_)
                if k and s:
                    ratios.append((t, n_, k, s))
        if ratios:
            targets.append({
                "target": f"structural subset, {what}: kensa (full findings) ≥ jsonschema iter_errors (full error "
                "lists) at every size",
                "met": all(k >= s for _, _, k, s in ratios),
                "detail": "; ".join(f"{t} thread{'s' if t > 1 else ''} {n_:,}: {k / s:.2f}×"
                                    for t, n_, k, s in ratios) + f" (at {largest:,}, 1 thread: "
                + next((f"{rate(k)} vs {rate(s)}" for t, n_, k, s in ratios if t == 1 and n_ == largest), "–") + ")",
            })

    fd = a["full_decisions"]
    notes = [
        "Records: `benches/common/gen.rs` (seed 1; every size is a prefix of the same stream), about 10% with one "
        "defect; generated and converted to serde_json::Value before timing. Timed: each tool's work per record "
        "(jsonschema `iter_errors` collected into a Vec; `Engine::evaluate` returning a full `Verdict`), spread with "
        "rayon `par_iter` over a pool of exactly 1 or 2 threads; today = 2026-11-27. Source: "
        "examples/bench_rules.rs.",
        "The structural subset (bench/w1_rules/structural.schema.json = bench/w1_rules/structural.kensa, one kensa "
        "rule per JSON Schema keyword): required fields and JSON types; lengths in characters (names 1–30, kana ≤ 40, "
        "address ≤ 200, holder ≤ 40); anchored patterns on the raw string for id, My Number (12 digits, ASCII or "
        "full-width, optionally spaced 4-4-4), kana (katakana, hiragana, half-width kana, spaces), birth date (ISO or "
        "和暦 shape), postal code (〒 and hyphen optional, ASCII or full-width digits), address (starts with one of "
        "the 47 prefectures), bank/branch/account codes (4/3/7 ASCII digits) and holder (bank kana); enums for sex "
        "and account type. Nothing is normalized, parsed or cross-checked: no check digit, no calendar (birth_date is "
        "`text` in the kensa version), no postal data, no holder/name comparison; unknown fields are allowed (kensa "
        "only warns).",
        f"Full standard rules (Engine::builtin, no registry: the registry rules see no candidates) on the "
        f"{n:,} records: {fd['accept']:,} accept, {fd['review']:,} review, {fd['reject']:,} reject. The subset catches "
        "kanji in the kana and postal codes that are not 7 digits; wrong check digits, postal codes of another city "
        "and family members' accounts need the full rules (see the defect table).",
        "Agreement: on generated records the two subset versions decide alike and report as many problems. The "
        "edge cases show the one semantic difference: kensa's `text` accepts a whole JSON number "
        "(`\"bank_code\": 1234` is read as \"1234\", a code written without quotes) where JSON Schema's "
        "`\"type\": \"string\"` refuses it; a number that fails the pattern (`12`) or is a fraction (`12.5`) is "
        "refused by both. JSON Schema has no notion of kensa's dates, normalization or check digits, so those "
        "stay outside the subset by construction.",
        "Work per record is not identical: kensa renders each finding's message, fields and evidence and computes "
        "score and decision; jsonschema's ValidationError values hold the instance and schema paths and render "
        "messages only when displayed (not done here). `jsonschema is_valid` (decision only, stops at the first "
        "error) is shown for reference.",
        "Rule file note: `kensa check` refuses a full-width `－` inside a `/…/` pattern (the pre-scan for symbols "
        "typed with the Japanese input on does not skip regex literals), so structural.kensa writes it `\\x{FF0D}`.",
    ]
    spots = {rules: hot_spots(data, rules) for rules in ("full", "structural")}
    if any(spots.values()):
        notes.append(
            "Hot spots under perf (one thread, `perf record --call-graph dwarf` on `examples/bench_rules --profile`; "
            "shares of the time in `Engine::evaluate`). Full standard rules: "
            + (spots["full"] or "not recorded") + ". Structural subset: " + (spots["structural"] or "not recorded")
            + "."
        )
    else:
        notes.append("perf was not available: no hot spots recorded.")

    out = {
        "workload": "W1",
        "title": "Rule throughput: structural subset vs the jsonschema crate, full standard rules",
        "command": "bench/run w1",
        "tables": [throughput, scaling, agreement, defects, edges],
        "targets": targets,
        "notes": notes,
        "measurements": [{k: m[k] for k in ("tool", "threads", "records", "passes_per_run", "best_s", "median_s",
                                            "records_per_s")} for m in tp],
    }
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
