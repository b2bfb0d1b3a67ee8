"""kensa on Spark: judge, dedup and link DataFrames of records on a cluster.

Every executor compiles the rules once (per Python worker process) and works on Arrow
batches (``mapInArrow``): the rows of a batch go to Rust as JSON lines written by pandas' C
writer, and the results come back as columns, so no Python code runs per record.

``dedup`` and ``link`` give the pairs ``kensa dedup`` / ``kensa link`` give on one machine:

1. kensa computes each record's blocking keys (as 64-bit hashes, the ones its own index uses)
   and the values its ``frequency`` comparisons count;
2. Spark counts those values over the whole population (the counts are small: one row per
   distinct surname, say) and hands them to every executor;
3. Spark forms the candidate pairs with a join on the keys, with the same per-key cap as the
   CLI: within a key shared by more than ``MAX_PER_KEY`` (500) records, a record is compared
   with the next 500 of them in input order only (link: with the first 500 registry records);
4. kensa scores the pairs, weighed by the counts, and keeps those at or above the threshold.

Input order is the DataFrame's partition order (``monotonically_increasing_id``); it matters
only within crowded keys. The rules must be readable at the same path on every executor (or
be the built-in set, ``rules=None``).
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Tuple

import pyarrow as pa
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from . import Engine, Registry, _frame_to_jsonl

__all__ = ["evaluate", "dedup", "link"]

# Compiled engines of this worker process, by (rules, today, strict).
_ENGINES: Dict[Tuple[Optional[str], Optional[str], bool], Engine] = {}
_REGISTRIES: Dict[Tuple[str, str], Registry] = {}

_POS = "_kensa_pos"
PAIR_SCHEMA = T.StructType(
    [
        T.StructField("left", T.StringType()),
        T.StructField("right", T.StringType()),
        T.StructField("probability", T.DoubleType()),
        T.StructField("weights", T.StringType()),
    ]
)
_PROFILE_SCHEMA = T.StructType(
    [
        T.StructField(_POS, T.LongType()),
        T.StructField("id", T.StringType()),
        T.StructField("error", T.StringType()),
        T.StructField("keys", T.ArrayType(T.LongType())),
        T.StructField(
            "terms",
            T.ArrayType(T.StructType([T.StructField("c", T.IntegerType()), T.StructField("v", T.StringType())])),
        ),
        T.StructField("json", T.StringType()),
    ]
)


def _engine(rules: Optional[str], today: Optional[str], strict: bool = False) -> Engine:
    key = (rules, today, strict)
    engine = _ENGINES.get(key)
    if engine is None:
        engine = Engine.from_path(rules, today=today, strict=strict) if rules else Engine.builtin(today=today, strict=strict)
        _ENGINES[key] = engine
    return engine


def _registry(location: str, engine: Engine) -> Registry:
    key = (location, engine.fingerprint)
    reg = _REGISTRIES.get(key)
    if reg is None:
        reg = Registry.open(location, engine=engine, read_only=True)
        _REGISTRIES[key] = reg
    return reg


def _jsonl(batch: pa.RecordBatch, columns: List[str]) -> bytes:
    """The records of an Arrow batch (only `columns`) as JSON lines, one per row."""
    return _frame_to_jsonl(batch.select(columns).to_pandas())


def evaluate(
    df: DataFrame,
    *,
    rules: Optional[str] = None,
    today: Optional[str] = None,
    strict: bool = False,
    registry: Optional[str] = None,
) -> DataFrame:
    """``df`` with four columns added: ``decision``, ``score``, ``findings`` (JSON text, as
    ``kensa eval`` writes them) and ``error`` (why a row could not be judged, else null).

    ``registry``: a SQLite file or ``postgres://`` URL every executor can reach, opened for
    lookups.
    """
    columns = list(df.columns)
    schema = T.StructType(
        list(df.schema.fields)
        + [
            T.StructField("decision", T.StringType()),
            T.StructField("score", T.IntegerType()),
            T.StructField("findings", T.StringType()),
            T.StructField("error", T.StringType()),
        ]
    )

    def judge(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        engine = _engine(rules, today, strict)
        reg = _registry(registry, engine) if registry else None
        for batch in batches:
            decision, score, findings, error, _ = engine._native.evaluate_jsonl(_jsonl(batch, columns), reg and reg._native)
            yield pa.RecordBatch.from_arrays(
                list(batch.columns)
                + [
                    pa.array(decision, pa.string()),
                    pa.array(score, pa.int32()),
                    pa.array(findings, pa.string()),
                    pa.array(error, pa.string()),
                ],
                names=columns + ["decision", "score", "findings", "error"],
            )

    return df.mapInArrow(judge, schema)


def _profiles(df: DataFrame, rules: Optional[str], today: Optional[str]) -> DataFrame:
    """Per record: its position, id (null when left out, with `error`), blocking key hashes,
    counted values and JSON line."""
    columns = list(df.columns)
    indexed = df.withColumn(_POS, F.monotonically_increasing_id())

    def profile(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        engine = _engine(rules, today)
        for batch in batches:
            data = _jsonl(batch, columns)
            ids, errors, keys, terms = engine._native.profile_jsonl(data)
            n = batch.num_rows
            per_keys: List[List[int]] = [[] for _ in range(n)]
            for row, h in keys:
                per_keys[row].append(h)
            per_terms: List[List[Dict[str, Any]]] = [[] for _ in range(n)]
            for row, c, v in terms:
                per_terms[row].append({"c": c, "v": v})
            lines = data.decode("utf-8").split("\n")[:n]
            yield pa.RecordBatch.from_arrays(
                [
                    batch.column(_POS),
                    pa.array(ids, pa.string()),
                    pa.array(errors, pa.string()),
                    pa.array(per_keys, pa.list_(pa.int64())),
                    pa.array(per_terms, pa.list_(pa.struct([("c", pa.int32()), ("v", pa.string())]))),
                    pa.array(lines, pa.string()),
                ],
                names=[_POS, "id", "error", "keys", "terms", "json"],
            )

    return indexed.mapInArrow(profile, _PROFILE_SCHEMA)


def _term_counts(kept: DataFrame) -> List[Tuple[int, str, int]]:
    counted = kept.select(F.explode("terms").alias("t")).groupBy(F.col("t.c").alias("c"), F.col("t.v").alias("v")).count()
    return [(int(r["c"]), str(r["v"]), int(r["count"])) for r in counted.collect()]


def _ranked_keys(kept: DataFrame) -> DataFrame:
    keys = kept.select(_POS, F.explode("keys").alias("k"))
    return keys.withColumn("rank", F.row_number().over(Window.partitionBy("k").orderBy(_POS)))


def _score(
    pairs: DataFrame, rules: Optional[str], today: Optional[str], counts: List[Tuple[int, str, int]], threshold: float, dedup: bool
) -> DataFrame:
    """Score pairs given as `l_json`, `r_json` columns."""

    def score(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        engine = _engine(rules, today)
        for batch in batches:
            if batch.num_rows == 0:
                continue
            left = ("\n".join(batch.column("l_json").to_pylist()) + "\n").encode("utf-8")
            right = ("\n".join(batch.column("r_json").to_pylist()) + "\n").encode("utf-8")
            l, r, p, w = engine._native.score_pairs_jsonl(left, right, counts, float(threshold), dedup)
            yield pa.RecordBatch.from_arrays(
                [pa.array(l, pa.string()), pa.array(r, pa.string()), pa.array(p, pa.float64()), pa.array(w, pa.string())],
                names=["left", "right", "probability", "weights"],
            )

    return pairs.select("l_json", "r_json").mapInArrow(score, PAIR_SCHEMA)


def dedup(
    df: DataFrame, *, rules: Optional[str] = None, today: Optional[str] = None, threshold: float = 0.5
) -> DataFrame:
    """Duplicate pairs within ``df``, as ``kensa dedup`` gives them: ``left``, ``right`` (ids,
    left < right), ``probability``, ``weights`` (JSON text), sorted by ids. Records without an
    id or that cannot be read are left out (``profiles_left_out(df)`` lists them)."""
    _engine(rules, today)  # the rules compile on the driver first: errors surface here
    profiled = _profiles(df, rules, today).cache()
    kept = profiled.where(F.col("id").isNotNull())
    counts = _term_counts(kept)
    cap = Engine.builtin()._native.max_per_key()
    # Within a key, record `a` meets the next `cap` records after it. The ranks are cut into
    # buckets of `cap`, so the join is on (key, bucket): a bucket meets itself and the next
    # one, and a key shared by s records costs about 2·s·cap rows, never s².
    ranked = _ranked_keys(kept).withColumn("bucket", F.floor((F.col("rank") - 1) / cap))
    a = ranked.withColumn("jb", F.explode(F.array(F.col("bucket"), F.col("bucket") + 1))).alias("a")
    b = ranked.alias("b")
    candidates = (
        a.join(b, (F.col("a.k") == F.col("b.k")) & (F.col("a.jb") == F.col("b.bucket")))
        .where((F.col("b.rank") > F.col("a.rank")) & (F.col("b.rank") <= F.col("a.rank") + cap))
        .select(F.col(f"a.{_POS}").alias("l"), F.col(f"b.{_POS}").alias("r"))
        .distinct()
    )
    records = kept.select(_POS, "id", "json")
    lr, rr = records.alias("lr"), records.alias("rr")
    pairs = (
        candidates.join(lr, F.col("l") == F.col(f"lr.{_POS}"))
        .join(rr, F.col("r") == F.col(f"rr.{_POS}"))
        .where(F.col("lr.id") != F.col("rr.id"))
        .select(F.col("lr.json").alias("l_json"), F.col("rr.json").alias("r_json"))
    )
    return _score(pairs, rules, today, counts, threshold, dedup=True).orderBy("left", "right")


def link(
    df: DataFrame,
    registry: DataFrame,
    *,
    rules: Optional[str] = None,
    today: Optional[str] = None,
    threshold: float = 0.5,
    best: bool = False,
) -> DataFrame:
    """Links from each record of ``df`` to the records of ``registry``, as ``kensa link``:
    per record, its pairs most probable first (ties: the smaller registry id); with ``best``,
    only the most probable. Agreement on common values weighs less, counted over ``registry``."""
    _engine(rules, today)
    records = _profiles(df, rules, today).where(F.col("id").isNotNull()).cache()
    enrolled = _profiles(registry, rules, today).where(F.col("id").isNotNull()).cache()
    counts = _term_counts(enrolled)
    cap = Engine.builtin()._native.max_per_key()
    first = _ranked_keys(enrolled).where(F.col("rank") <= cap).alias("g")
    keys = records.select(_POS, F.explode("keys").alias("k")).alias("q")
    candidates = (
        keys.join(first, F.col("q.k") == F.col("g.k"))
        .select(F.col(f"q.{_POS}").alias("l"), F.col(f"g.{_POS}").alias("r"))
        .distinct()
    )
    lr = records.select(_POS, "json").alias("lr")
    rr = enrolled.select(_POS, "json").alias("rr")
    pairs = (
        candidates.join(lr, F.col("l") == F.col(f"lr.{_POS}"))
        .join(rr, F.col("r") == F.col(f"rr.{_POS}"))
        .select(F.col("l").alias("l_pos"), F.col("lr.json").alias("l_json"), F.col("rr.json").alias("r_json"))
    )
    scored = _score(pairs, rules, today, counts, threshold, dedup=False)
    order = Window.partitionBy("left").orderBy(F.col("probability").desc(), F.col("right"))
    ranked = scored.withColumn("_n", F.row_number().over(order))
    if best:
        ranked = ranked.where(F.col("_n") == 1)
    return ranked.orderBy("left", "_n").drop("_n")


def profiles_left_out(df: DataFrame, *, rules: Optional[str] = None, today: Optional[str] = None) -> DataFrame:
    """The records ``dedup`` and ``link`` leave out (no id, or unreadable) with why."""
    return _profiles(df, rules, today).where(F.col("id").isNull()).select(_POS, "error")
