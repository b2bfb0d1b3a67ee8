"""The Python package against the CLI: same verdicts byte for byte, same pairs; errors as
exceptions with the diagnostic text; bad records reported without losing the good ones."""

from __future__ import annotations

import json
import threading

import pandas as pd
import pyarrow as pa
import pytest

import kensa
from conftest import TODAY, run_cli

README_RECORD = {
    "id": "E1", "my_number": "5287 3169 4022",
    "family_name": "山田", "given_name": "花子",
    "family_name_kana": "やまだ", "given_name_kana": "ﾊﾅｺ",
    "birth_date": "昭和55年4月1日", "sex": "female",
    "postal_code": "1000014", "address": "東京都千代田区永田町１－７－１",
    "bank": {"bank_code": "0001", "branch_code": "001", "account_type": "ordinary",
             "account_number": "1234567", "holder_kana": "ﾔﾏﾀﾞ ﾀﾛｳ"},
}


@pytest.fixture(scope="module")
def engine() -> kensa.Engine:
    return kensa.Engine.builtin(today=TODAY)


def lines_of(path) -> list:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_readme_record_is_sent_to_review_for_its_bank_holder(engine):
    v = engine.evaluate(README_RECORD)
    assert v.decision == "review"
    assert v.score == 50
    f = v.findings[0]
    assert f.rule == "bank.holder_is_registrant"
    assert f.severity == "review"
    assert f.fields == ["bank.holder_kana"]
    assert "ﾔﾏﾀﾞﾀﾛｳ" in f.evidence.values()
    assert "5287 3169 4022" not in v.to_json()


@pytest.mark.parametrize("records", ["examples/enrollment.jsonl", "examples/enrollment-cases.jsonl"])
def test_verdicts_are_byte_identical_to_the_cli(engine, kensa_bin, root, records):
    cli = run_cli(kensa_bin, "eval", "--today", TODAY, "--registry", "examples/registry.jsonl", records)
    registry = kensa.Registry.open(root / "examples/registry.jsonl", engine=engine)
    lines = lines_of(root / records)
    one_by_one = [engine.evaluate(json.loads(line), registry=registry).to_json() for line in lines]
    assert one_by_one == cli
    assert engine.evaluate_jsonl("\n".join(lines).encode(), registry=registry) == cli
    # From a DataFrame: the same decision, score and findings per row.
    frame = pd.DataFrame([json.loads(line) for line in lines], index=[f"r{i}" for i in range(len(lines))])
    out = engine.evaluate_many(frame, registry=registry)
    assert list(out.index) == list(frame.index)
    expected = [json.loads(line) for line in cli]
    assert list(out["decision"]) == [e["decision"] for e in expected]
    assert list(out["score"]) == [e["score"] for e in expected]
    assert [json.loads(f) for f in out["findings"]] == [e["findings"] for e in expected]
    assert out["error"].isna().all()


def test_an_overlay_folder_judges_as_the_cli_does(kensa_bin, root):
    folder = "examples/overlay-foreign-residents"
    engine = kensa.Engine.from_path(root / folder, today=TODAY)
    cli = run_cli(kensa_bin, "eval", "--today", TODAY, "--rules", folder, f"{folder}/records.jsonl")
    assert engine.evaluate_jsonl((root / folder / "records.jsonl").read_bytes()) == cli
    assert "kana.family_is_katakana" in engine.rule_ids


def test_a_pyarrow_table_gives_a_table(engine):
    table = pa.Table.from_pylist([README_RECORD, {"id": "E2", "family_name": "佐藤"}])
    out = engine.evaluate_many(table)
    assert isinstance(out, pa.Table)
    assert out.column_names == ["decision", "score", "findings", "error"]
    assert out.column("decision").to_pylist() == ["review", "reject"]


def test_bad_records_are_reported_and_the_good_ones_still_judged(engine):
    records = [README_RECORD, ["not", "an", "object"], {"id": "E3", "bank": {"holder_kana": b"\x00"}}, README_RECORD]
    out = engine.evaluate_many(records)
    assert len(out) == len(records)
    assert [type(x).__name__ for x in out] == ["Verdict", "RecordError", "RecordError", "Verdict"]
    assert "bank.holder_kana" in str(out[2])
    with pytest.raises(kensa.RecordError, match="must be a JSON object"):
        engine.evaluate([1, 2])
    # A DataFrame row that cannot be judged gets decision `error` and its reason.
    frame = pd.DataFrame({"id": ["E1", "E2"], "birth_date": ["1980-04-01", float("inf")]})
    out = engine.evaluate_many(frame)
    assert len(out) == 2


def test_a_dataframe_with_missing_cells_and_dates(engine):
    frame = pd.DataFrame(
        [
            {"id": "E1", "family_name": "山田", "given_name": "花子", "birth_date": pd.Timestamp("1980-04-01")},
            {"id": "E2", "family_name": "山田", "given_name": None, "birth_date": pd.NaT},
        ]
    )
    out = engine.evaluate_many(frame)
    direct = [
        engine.evaluate({"id": "E1", "family_name": "山田", "given_name": "花子", "birth_date": "1980-04-01"}),
        engine.evaluate({"id": "E2", "family_name": "山田"}),
    ]
    assert list(out["decision"]) == [v.decision for v in direct]
    assert [json.loads(f) for f in out["findings"]] == [json.loads(v.to_json())["findings"] for v in direct]


def test_broken_rules_raise_compile_error_with_the_diagnostics():
    with pytest.raises(kensa.CompileError) as err:
        kensa.Engine.from_source('rule r "x" {\n  when present(nosuch)\n  require true\n  review -1 "m"\n}\n', name="local.kensa")
    text = str(err.value)
    assert "local.kensa" in text
    assert err.value.errors, err.value.diagnostics
    d = err.value.errors[0]
    assert d["code"].startswith("kensa::") and d["file"] == "local.kensa" and d["line"] >= 1


def test_today_must_be_a_date():
    with pytest.raises(kensa.KensaError, match="2026-11-27"):
        kensa.Engine.builtin(today="yesterday")


def test_normalization_functions():
    assert kensa.normalize.kana_key("ﾔﾏﾀﾞ ﾀﾛｳ") == "ヤマダ タロウ"
    assert kensa.normalize.zengin("やまだ　たろう") == "ﾔﾏﾀﾞ ﾀﾛｳ"
    assert kensa.normalize.date("昭和55年4月1日") == "1980-04-01"
    assert kensa.normalize.digits("０３-１２３４") == "031234"
    assert kensa.normalize.many("kana", ["ﾊﾅｺ", "はなこ"]) == ["ハナコ", "ハナコ"]
    assert kensa.normalize.many("date", ["1980-04-01", "not a date"]) == ["1980-04-01", None]
    with pytest.raises(kensa.NormalizeError):
        kensa.normalize.date("not a date")
    with pytest.raises(ValueError):
        kensa.normalize.many("nosuch", ["x"])


def test_enrollment_is_atomic_and_refuses_a_second_copy(engine, tmp_path):
    registry = kensa.Registry.open(tmp_path / "registry.db", engine=engine)
    assert registry.writable and len(registry) == 0
    person = {
        "id": "P1", "my_number": "5287 3169 4022", "family_name": "山田", "given_name": "花子",
        "family_name_kana": "ヤマダ", "given_name_kana": "ハナコ", "birth_date": "1980-04-01",
        "sex": "female", "postal_code": "1000014", "address": "東京都千代田区永田町1-7-1",
    }
    first = engine.enroll(person, registry)
    assert first.verdict.decision == "accept", first.verdict.to_json()
    assert first.enrolled and not first.already_stored
    again = engine.enroll(dict(person, id="P2"), registry)
    assert not again.enrolled
    assert again.verdict.decision != "accept"
    assert len(registry) == 1
    # The verdict against the registry names the enrolled record.
    v = engine.evaluate(dict(person, id="P3"), registry=registry)
    assert any("P1" in f.related for f in v.findings)
    # Another rule set computes other keys: the registry says so instead of answering.
    other = kensa.Engine.from_path(kensa_root() / "examples/febrl/febrl.kensa")
    with pytest.raises(kensa.RegistryError, match="other rules"):
        other.evaluate({"rec_id": "x"}, registry=registry)
    memory = kensa.Registry.open(kensa_root() / "examples/registry.jsonl", engine=engine)
    with pytest.raises(kensa.RegistryError, match="enroll into a database"):
        engine.enroll(person, memory)


def kensa_root():
    from conftest import ROOT

    return ROOT


def test_a_missing_registry_file_is_a_clear_error(engine, tmp_path):
    with pytest.raises(kensa.RegistryError, match="no such registry file"):
        kensa.Registry.open(tmp_path / "missing.db", engine=engine, read_only=True)


def febrl_frame(path):
    """A FEBRL CSV as `kensa dedup` reads it: all text, trimmed, empty cells absent."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    frame.columns = [c.strip() for c in frame.columns]
    return frame.apply(lambda s: s.str.strip()).replace("", None)


def test_dedup_and_link_give_the_pairs_of_the_cli(kensa_bin, root):
    rules = "examples/febrl/febrl.kensa"
    engine = kensa.Engine.from_path(root / rules)
    cli = [json.loads(line) for line in run_cli(kensa_bin, "dedup", "--rules", rules, "examples/febrl/dataset1.csv")]
    pairs = engine.dedup(febrl_frame(root / "examples/febrl/dataset1.csv"))
    assert len(pairs) == len(cli) > 100
    assert list(zip(pairs["left"], pairs["right"])) == [(p["left"], p["right"]) for p in cli]
    assert [round(x, 6) for x in pairs["probability"]] == [p["probability"] for p in cli]
    assert [json.loads(w) for w in pairs["weights"]] == [p["weights"] for p in cli]
    assert pairs.attrs["left_out"] == []
    frame = febrl_frame(root / "examples/febrl/dataset1.csv")
    half = len(frame) // 2
    links = engine.link(frame.iloc[:half], frame.iloc[half:], best=True)
    assert links["left"].is_unique
    assert set(links["left"]) <= set(frame["rec_id"].iloc[:half])


def test_the_gil_is_released_while_rust_judges(engine):
    data = ("\n".join([json.dumps(README_RECORD, ensure_ascii=False)] * 60_000)).encode()
    done = threading.Event()
    ticks = 0

    def judge() -> None:
        engine.evaluate_jsonl(data)
        done.set()

    worker = threading.Thread(target=judge)
    worker.start()
    while not done.is_set():
        ticks += 1
    worker.join()
    # With the GIL held for the whole call, this loop could not run while it lasted.
    assert ticks > 1000


def test_a_number_is_never_printed_in_full(engine):
    v = engine.evaluate(dict(README_RECORD, my_number="528731694023"))
    assert "528731694023" not in v.to_json()
    assert "528731694023" not in repr(v)
