"""kensa (検査): judge registration records before they are linked to the wrong person.

>>> import kensa
>>> engine = kensa.Engine.builtin(today="2026-11-27")
>>> v = engine.evaluate({"id": "E1", "family_name": "山田", "given_name": "花子",
...                      "family_name_kana": "ヤマダ", "given_name_kana": "ハナコ",
...                      "birth_date": "1980-04-01", "sex": "female"})
>>> v.decision in ("accept", "review", "reject")
True

The rules are compiled once (``Engine.builtin()``, ``Engine.from_path("rules/")``); an engine
is immutable and safe to share between threads, and every call that judges records releases
the GIL. ``evaluate_many`` takes a pandas DataFrame or a pyarrow Table (one row per record)
and returns the same kind with the columns ``decision``, ``score``, ``findings`` (the findings
as JSON text, as ``kensa eval`` writes them) and ``error``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from os import PathLike
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from . import _kensa, normalize
from ._kensa import Enrollment, Finding, Verdict
from .errors import CompileError, KensaError, NormalizeError, RecordError, RegistryError

if TYPE_CHECKING:  # pragma: no cover
    import pandas
    import pyarrow

__all__ = [
    "Engine",
    "Registry",
    "Verdict",
    "Finding",
    "Enrollment",
    "Diagnostic",
    "KensaError",
    "CompileError",
    "RecordError",
    "RegistryError",
    "NormalizeError",
    "normalize",
    "__version__",
]

__version__: str = _kensa.version()


@dataclass(frozen=True)
class Diagnostic:
    """A problem found in a rule set (``kensa check --format json``, one entry)."""

    code: str
    level: str
    message: str
    file: Optional[str] = None
    line: int = 0
    column: int = 0
    help: Optional[str] = None
    labels: List[Dict[str, Any]] = field(default_factory=list)

    @classmethod
    def _of(cls, d: Mapping[str, Any]) -> "Diagnostic":
        return cls(
            code=d["code"],
            level=d["level"],
            message=d["message"],
            file=d.get("file"),
            line=d.get("line") or 0,
            column=d.get("column") or 0,
            help=d.get("help"),
            labels=list(d.get("labels") or []),
        )

    def __str__(self) -> str:
        at = f"{self.file}:{self.line}:{self.column}: " if self.file else ""
        return f"{at}{self.level}[{self.code}]: {self.message}"


def _frame_to_jsonl(frame: "pandas.DataFrame") -> bytes:
    """One JSON object per row (missing values as null, dates as YYYY-MM-DD), written by
    pandas' C writer: no Python code runs per row."""
    import pandas as pd

    converted = {}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            converted[name] = column.dt.strftime("%Y-%m-%d")
    if converted:
        frame = frame.assign(**{str(k): v for k, v in converted.items()})
    if len(frame) == 0:
        return b""
    text = frame.to_json(orient="records", lines=True, force_ascii=False, double_precision=15, default_handler=str)
    return text.encode("utf-8")


def _is_frame(x: Any) -> bool:
    return type(x).__module__.startswith("pandas") and hasattr(x, "to_json") and hasattr(x, "columns")


def _is_arrow(x: Any) -> bool:
    return type(x).__module__.startswith("pyarrow") and hasattr(x, "to_pandas") and hasattr(x, "schema")


def _records_to_jsonl(records: Any) -> bytes:
    """JSON lines of a DataFrame, an Arrow table or record batch, or an iterable of dicts."""
    if _is_frame(records):
        return _frame_to_jsonl(records)
    if _is_arrow(records):
        return _frame_to_jsonl(records.to_pandas())
    if isinstance(records, (bytes, bytearray)):
        return bytes(records)
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


class Engine:
    """A compiled rule set. Make one with :meth:`builtin`, :meth:`from_path` or :meth:`from_source`.

    ``today`` (``"2026-11-27"``) fixes the date that ages are computed from (default: today in
    Japan); ``strict`` makes fields the schema does not know an error.
    """

    __slots__ = ("_native",)

    def __init__(self, native: _kensa.Engine) -> None:
        self._native = native

    @classmethod
    def builtin(cls, *, today: Optional[str] = None, strict: bool = False) -> "Engine":
        """The standard (national) rule set compiled into kensa."""
        return cls(_kensa.Engine.builtin(today=today, strict=strict))

    @classmethod
    def from_path(
        cls, path: Union[str, "PathLike[str]"], *, today: Optional[str] = None, strict: bool = False
    ) -> "Engine":
        """A rule file or folder (an overlay folder too). Raises :class:`CompileError` with
        every diagnostic when the rules have errors."""
        return cls(_kensa.Engine.from_path(str(path), today=today, strict=strict))

    @classmethod
    def from_source(
        cls, text: str, *, name: str = "rules.kensa", today: Optional[str] = None, strict: bool = False
    ) -> "Engine":
        """Rules given as text (``name`` is what diagnostics call the file)."""
        return cls(_kensa.Engine.from_source(text, name=name, today=today, strict=strict))

    def check(self) -> List[Diagnostic]:
        """The warnings of the rule set (errors are raised when it is compiled)."""
        return [Diagnostic._of(d) for d in self._native.check()]

    @property
    def rule_ids(self) -> List[str]:
        """The ids of the rules in effect."""
        return self._native.rule_ids()

    @property
    def fingerprint(self) -> str:
        """What a registry's keys were built by: the rules and the normalization data."""
        return self._native.fingerprint

    @property
    def uses_registry(self) -> bool:
        """Whether the rules have a ``match`` block (and so consult a registry)."""
        return self._native.uses_registry

    def json_schema(self) -> Dict[str, Any]:
        """The JSON Schema of a record."""
        return json.loads(self._native.json_schema())

    def evaluate(
        self, record: Mapping[str, Any], *, registry: Optional["Registry"] = None, explain: bool = False
    ) -> Verdict:
        """Judge one record (a dict shaped like the schema).

        With ``registry``, rules about enrolled residents (duplicates, a number or account held
        by someone else, ambiguous matches) apply. ``explain`` adds ``verdict.trace``: what
        every rule did. Raises :class:`RecordError` when the record cannot be read.
        """
        return self._native.evaluate(record, _native_registry(registry), explain)

    def evaluate_many(
        self, records: Any, *, registry: Optional["Registry"] = None, explain: bool = False
    ) -> Any:
        """Judge many records on all cores.

        - a pandas DataFrame (one row per record; nested groups as dict columns) gives a
          DataFrame with the same index and the columns ``decision``, ``score``, ``findings``
          (JSON text), ``error`` (why a row could not be judged, else None);
        - a pyarrow Table gives a pyarrow Table with those columns;
        - any other iterable of dicts gives a list: a :class:`Verdict` per record, or a
          :class:`RecordError` (not raised) for a record that could not be read.
        """
        native_registry = _native_registry(registry)
        if _is_frame(records) or _is_arrow(records):
            import pandas as pd

            frame = records if _is_frame(records) else records.to_pandas()
            data = _frame_to_jsonl(frame)
            decision, score, findings, error, _ids = self._native.evaluate_jsonl(data, native_registry, explain)
            out = pd.DataFrame(
                {
                    "decision": pd.Series(decision, dtype="string"),
                    "score": pd.Series(score, dtype="Int64"),
                    "findings": pd.Series(findings, dtype="string"),
                    "error": pd.Series(error, dtype="object"),
                }
            )
            if _is_frame(records):
                out.index = records.index
                return out
            import pyarrow as pa

            return pa.Table.from_pandas(out, preserve_index=False)
        results = self._native.evaluate_records(records, native_registry, explain)
        return [RecordError(r) if isinstance(r, str) else r for r in results]

    def evaluate_jsonl(
        self, data: bytes, *, registry: Optional["Registry"] = None, explain: bool = False
    ) -> List[str]:
        """Judge JSON lines; each result is the line ``kensa eval`` writes for that record."""
        return self._native.evaluate_jsonl_lines(bytes(data), _native_registry(registry), explain)

    def enroll(self, record: Mapping[str, Any], registry: "Registry") -> Enrollment:
        """Check a record against a database registry and store it if it is accepted, as one
        atomic step (two windows enrolling the same person: the second sees the first)."""
        return self._native.enroll(record, registry._native)

    def dedup(self, records: Any, *, threshold: float = 0.5) -> "pandas.DataFrame":
        """Duplicate pairs within ``records`` (as ``kensa dedup``): a DataFrame with ``left``,
        ``right`` (ids, left < right), ``probability`` and ``weights`` (JSON text per
        comparison), sorted by ids. Records without an id, or unreadable, are left out and
        listed in ``frame.attrs["left_out"]``."""
        columns, left_out = self._native.dedup_jsonl(_records_to_jsonl(records), float(threshold))
        return _pairs_frame(columns, left_out)

    def link(
        self, records: Any, registry_records: Any, *, threshold: float = 0.5, best: bool = False
    ) -> "pandas.DataFrame":
        """Links from each of ``records`` to ``registry_records`` (as ``kensa link``): per
        record, its pairs most probable first; with ``best``, only the most probable."""
        columns, left_out = self._native.link_jsonl(
            _records_to_jsonl(records), _records_to_jsonl(registry_records), float(threshold), bool(best)
        )
        return _pairs_frame(columns, left_out)

    def __repr__(self) -> str:
        return f"Engine(rules={len(self.rule_ids)}, fingerprint={self.fingerprint[:12]!r})"


def _pairs_frame(columns: Sequence[List[Any]], left_out: List[str]) -> "pandas.DataFrame":
    import pandas as pd

    left, right, probability, weights = columns
    frame = pd.DataFrame(
        {
            "left": pd.Series(left, dtype="string"),
            "right": pd.Series(right, dtype="string"),
            "probability": pd.Series(probability, dtype="float64"),
            "weights": pd.Series(weights, dtype="string"),
        }
    )
    frame.attrs["left_out"] = left_out
    return frame


def _native_registry(registry: Optional["Registry"]) -> Optional[_kensa.Registry]:
    if registry is None:
        return None
    if not isinstance(registry, Registry):
        raise TypeError("registry must be a kensa.Registry (kensa.Registry.open(…))")
    return registry._native


class Registry:
    """Enrolled records: a SQLite file, a PostgreSQL server, or a JSONL/JSON file read into memory."""

    __slots__ = ("_native",)

    def __init__(self, native: _kensa.Registry) -> None:
        self._native = native

    @classmethod
    def open(
        cls,
        location: Union[str, "PathLike[str]"],
        *,
        engine: Optional[Engine] = None,
        read_only: bool = False,
    ) -> "Registry":
        """Open a registry for ``engine``'s rules (default: the built-in rules).

        ``location``: a SQLite file (created when missing; its keys rebuilt if the rules
        changed), ``postgres://user@host/db``, or a ``.jsonl``/``.json`` file of enrolled
        records read into memory (for lookups only). ``read_only`` opens a database for
        lookups only.
        """
        engine = engine or Engine.builtin()
        return cls(_kensa.Registry.open(str(location), engine._native, read_only))

    @property
    def location(self) -> str:
        """Where it is (a URL without its password)."""
        return self._native.location

    @property
    def writable(self) -> bool:
        """Whether records can be enrolled into it."""
        return self._native.writable

    def __len__(self) -> int:
        return len(self._native)

    def __repr__(self) -> str:
        return repr(self._native)
