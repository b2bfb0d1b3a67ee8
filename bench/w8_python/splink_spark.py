"""W8 peer: Splink 5 on Spark (local[2]) deduplicating the generated records kensa dedups.

    python splink_spark.py RECORDS.jsonl

Splink has no model for these records, so this one is written for the benchmark, in the
spirit of Splink's own demos: predictions blocked on birth date and on My Number;
Jaro-Winkler (0.92 / 0.8) on the two kana names, exact birth date, postal code, sex and My
Number; the prior from My Number agreement at recall 0.8; u by random sampling (1e6 pairs);
m by EM blocked on birth date; threshold 0.5. It compares raw text (no kana, width or 和暦
normalization), so its pairs are not kensa's; the row is about time on the same machine and
data. Prints one JSON line: seconds (Spark session up to the pairs counted) and pairs.
"""

import json
import os
import sys
import time

from pyspark.sql import SparkSession

import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.backends.spark import SparkAPI, similarity_jar_location


def main() -> None:
    path = sys.argv[1]
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.jars", similarity_jar_location())
        .config("spark.sql.shuffle.partitions", "16")
        .config("spark.driver.memory", "6g")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.setCheckpointDir("/tmp/splink-checkpoints")
    t0 = time.perf_counter()
    df = spark.read.json(path).select("id", "family_name_kana", "given_name_kana", "birth_date", "postal_code", "sex", "my_number")
    settings = SettingsCreator(
        unique_id_column_name="id",
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[block_on("birth_date"), block_on("my_number")],
        comparisons=[
            cl.JaroWinklerAtThresholds("family_name_kana", [0.92, 0.8]),
            cl.JaroWinklerAtThresholds("given_name_kana", [0.92, 0.8]),
            cl.ExactMatch("birth_date"),
            cl.ExactMatch("postal_code"),
            cl.ExactMatch("sex"),
            cl.ExactMatch("my_number"),
        ],
    )
    db_api = SparkAPI(spark_session=spark)
    linker = Linker(db_api.register(df), settings)
    linker.training.estimate_probability_two_random_records_match([block_on("my_number")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))
    pairs = linker.inference.predict(threshold_match_probability=0.5)
    n = pairs.as_spark_dataframe().count()
    print(json.dumps({"seconds": time.perf_counter() - t0, "pairs": n}))
    spark.stop()


if __name__ == "__main__":
    main()
