"""W4 peer: dedup one FEBRL file with recordlinkage (the Python Record Linkage Toolkit).

    python recordlinkage_dedup.py DATA.csv PAIRS.tsv META.json

The model (recordlinkage's documented workflow: index, compare, classify; unsupervised):
- index: the union of Block on soc_sec_id, given_name, surname, date_of_birth, postcode (the
  same keys as the Splink script);
- compare, each feature 0/1: Jaro-Winkler >= 0.85 on given_name, surname, address_1, address_2
  and suburb; Damerau-Levenshtein similarity >= 0.85 on date_of_birth and soc_sec_id (one edit
  in 8 or 7 characters); exact street_number, postcode, state; a missing value counts 0;
- classify: ECMClassifier (Fellegi-Sunter m/u/p by expectation-conditional maximisation, no
  labels, 'jaro' initialisation); a pair is a match when its ECM match probability is >= 0.5.

Timed from reading the CSV to having the pairs in Python; the pairs are written afterwards.
"""

import json
import resource
import sys
import time
from importlib.metadata import version

T_PROCESS = time.perf_counter()

import pandas as pd  # noqa: E402

import recordlinkage as rl  # noqa: E402
from recordlinkage.compare import Exact, String  # noqa: E402
from recordlinkage.index import Block  # noqa: E402

THRESHOLD = 0.5


def main():
    data, pairs_path, meta_path = sys.argv[1], sys.argv[2], sys.argv[3]
    t0 = time.perf_counter()
    # As recordlinkage.datasets.load_febrl* read the files: cells trimmed, all text.
    df = pd.read_csv(data, sep=",", skipinitialspace=True, dtype=str, encoding="utf-8")
    df.columns = [c.strip() for c in df.columns]
    df = df.set_index("rec_id")

    indexer = rl.Index()
    for key in ["soc_sec_id", "given_name", "surname", "date_of_birth", "postcode"]:
        indexer.add(Block(key))
    candidates = indexer.index(df)

    compare = rl.Compare()
    for col in ["given_name", "surname"]:
        compare.add(String(col, col, method="jarowinkler", threshold=0.85, label=col))
    for col in ["date_of_birth", "soc_sec_id"]:
        compare.add(String(col, col, method="damerau_levenshtein", threshold=0.85, label=col))
    compare.add(Exact("street_number", "street_number", label="street_number"))
    for col in ["address_1", "address_2", "suburb"]:
        compare.add(String(col, col, method="jarowinkler", threshold=0.85, label=col))
    compare.add(Exact("postcode", "postcode", label="postcode"))
    compare.add(Exact("state", "state", label="state"))
    features = compare.compute(candidates, df)

    ecm = rl.ECMClassifier()
    ecm.fit(features)
    prob = ecm.prob(features)
    kept = prob[prob >= THRESHOLD]
    pairs = [(a, b, float(p)) for (a, b), p in kept.items()]
    seconds = time.perf_counter() - t0
    process_seconds = time.perf_counter() - T_PROCESS

    with open(pairs_path, "w", encoding="utf-8") as f:
        for left, right, p in pairs:
            f.write(f"{left}\t{right}\t{p!r}\n")
    meta = {
        "tool": "recordlinkage",
        "versions": {p: version(p) for p in ("recordlinkage", "pandas", "jellyfish", "numpy")},
        "seconds": seconds,
        "process_seconds_in_script": process_seconds,
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "model": {"candidate_pairs": len(candidates), "p": float(ecm.p)},
    }
    with open(meta_path, "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)


if __name__ == "__main__":
    main()
