"""kensa.spark in local mode: the same verdicts as the CLI on 20,000 generated records, and the
same FEBRL dataset3 duplicate pairs as `kensa dedup`."""

from __future__ import annotations

import json
import os
import random
import sys

import pandas as pd
import pytest

import kensa
from conftest import TODAY, run_cli
from test_engine import febrl_frame

pyspark = pytest.importorskip("pyspark", reason="pyspark is installed by .ci/run; pip install pyspark")
from pyspark.sql import SparkSession  # noqa: E402

import kensa.spark as ks  # noqa: E402


@pytest.fixture(scope="module")
def spark():
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("kensa-tests")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def generated_records(root, n: int, seed: int = 1) -> list:
    """`n` records made from the shipped examples: new ids, and the changes clerks' data has
    (half-width kana, a family member's bank holder, a missing field, 和暦 dates, another
    number), chosen by a seeded generator."""
    base = [json.loads(l) for name in ("examples/registry.jsonl", "examples/enrollment.jsonl")
            for l in (root / name).read_text(encoding="utf-8").splitlines() if l.strip()]
    rng = random.Random(seed)
    out = []
    for i in range(n):
        r = json.loads(json.dumps(rng.choice(base)))
        r["id"] = f"G{i:06d}"
        roll = rng.random()
        if roll < 0.15 and "given_name_kana" in r:
            r["given_name_kana"] = kensa.normalize.zengin(r["given_name_kana"])
        elif roll < 0.25 and isinstance(r.get("bank"), dict):
            r["bank"]["holder_kana"] = kensa.normalize.zengin(r.get("family_name_kana", "") + " ハナコ")
        elif roll < 0.32:
            r.pop("sex", None)
        elif roll < 0.40 and str(r.get("birth_date", "")).startswith("198"):
            y, m, d = r["birth_date"].split("-")
            r["birth_date"] = f"昭和{int(y) - 1925}年{int(m)}月{int(d)}日"
        elif roll < 0.45 and "my_number" in r:
            r["my_number"] = "".join(rng.choice("0123456789") for _ in range(12))
        out.append(r)
    return out


def test_evaluate_gives_the_cli_verdicts_on_20000_records(spark, kensa_bin, root, tmp_path):
    records = generated_records(root, 20_000)
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    cli = {}
    for line in run_cli(kensa_bin, "eval", "--today", TODAY, str(path)):
        v = json.loads(line)
        cli[v["id"]] = v
    assert len(cli) == len(records)

    df = spark.createDataFrame(pd.DataFrame(records).astype(object).where(lambda f: f.notna(), None))
    judged = ks.evaluate(df, today=TODAY).select("id", "decision", "score", "findings", "error").toPandas()
    assert len(judged) == len(records)
    assert judged["error"].isna().all(), judged["error"].dropna().head()
    for row in judged.itertuples():
        want = cli[row.id]
        assert (row.decision, row.score) == (want["decision"], want["score"]), row.id
        assert json.loads(row.findings) == want["findings"], row.id
    decisions = judged["decision"].value_counts().to_dict()
    assert len(decisions) >= 2, decisions


def test_febrl_dataset3_dedup_gives_the_pairs_of_kensa_dedup(spark, kensa_bin, root):
    rules = str(root / "examples/febrl/febrl.kensa")
    csv = "examples/febrl/dataset3.csv"
    cli = [json.loads(l) for l in run_cli(kensa_bin, "dedup", "--rules", rules, csv)]
    frame = febrl_frame(root / csv)
    df = spark.createDataFrame(frame.astype(object).where(frame.notna(), None), schema=", ".join(f"{c} string" for c in frame.columns))
    pairs = ks.dedup(df, rules=rules).toPandas()
    assert len(cli) > 1000
    assert list(zip(pairs["left"], pairs["right"])) == [(p["left"], p["right"]) for p in cli]
    assert [round(x, 6) for x in pairs["probability"]] == [p["probability"] for p in cli]
    assert [json.loads(w) for w in pairs["weights"]] == [p["weights"] for p in cli]


def test_link_agrees_with_the_engine(spark, root):
    rules = str(root / "examples/febrl/febrl.kensa")
    frame = febrl_frame(root / "examples/febrl/dataset1.csv")
    half = len(frame) // 2
    a, b = frame.iloc[:half], frame.iloc[half:]
    schema = ", ".join(f"{c} string" for c in frame.columns)
    to_df = lambda f: spark.createDataFrame(f.astype(object).where(f.notna(), None), schema=schema)  # noqa: E731
    got = ks.link(to_df(a), to_df(b), rules=rules, best=True).toPandas()
    want = kensa.Engine.from_path(rules).link(a, b, best=True)
    assert sorted(zip(got["left"], got["right"])) == sorted(zip(want["left"], want["right"]))
    assert len(got) > 0


def test_a_crowded_key_is_capped_as_the_cli_caps_it(spark, kensa_bin, root, tmp_path):
    """620 records share one blocking key (their birth date) and nothing else: each is compared
    with the next 500 only. Threshold 0 keeps every compared pair, so the pairs are exactly the
    comparisons made."""
    rules = str(root / "examples/febrl/febrl.kensa")
    rng = random.Random(7)
    word = lambda: "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(12))  # noqa: E731
    rows = [
        {"rec_id": f"rec-{i:04d}", "given_name": word(), "surname": word(), "street_number": str(i),
         "address_1": word(), "suburb": word(), "postcode": f"{i:04d}", "date_of_birth": "19700101",
         "soc_sec_id": f"{1000000 + i}"}
        for i in range(620)
    ]
    path = tmp_path / "crowded.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cli = [json.loads(l) for l in run_cli(kensa_bin, "dedup", "--rules", rules, "--threshold", "0", str(path))]
    assert len(cli) == 120 * 500 + sum(range(500))
    df = spark.createDataFrame(pd.DataFrame(rows))
    got = ks.dedup(df, rules=rules, threshold=0.0).select("left", "right").toPandas()
    assert sorted(zip(got["left"], got["right"])) == sorted((p["left"], p["right"]) for p in cli)
