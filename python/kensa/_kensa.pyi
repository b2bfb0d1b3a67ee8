"""Type stubs of the native module (``python/src/lib.rs``). Use the API of ``kensa``."""

from typing import Any, Dict, Iterable, List, Optional, Tuple

PairColumns = Tuple[List[str], List[str], List[float], List[str]]

class Finding:
    """One problem found in a record."""

    @property
    def rule(self) -> str:
        """The rule's id (``bank.holder_is_registrant``), or ``schema.…`` for reading problems."""
    @property
    def severity(self) -> str:
        """``warn``, ``review`` or ``reject``."""
    @property
    def penalty(self) -> int:
        """The score penalty this finding carried."""
    @property
    def message(self) -> str:
        """The rule's message with its ``{…}`` filled in (My Numbers masked)."""
    @property
    def params(self) -> Dict[str, Any]:
        """The values that filled the message's ``{…}``, masked as the message masks them."""
    @property
    def fields(self) -> List[str]:
        """Dotted paths of the fields concerned (for a form to highlight)."""
    @property
    def evidence(self) -> Dict[str, Any]:
        """The values compared, labelled with the expression as written in the rule."""
    @property
    def related(self) -> List[str]:
        """Ids of related registry records."""

class Verdict:
    """The judgement on one record."""

    @property
    def id(self) -> Optional[str]:
        """The record's id field, when it has one."""
    @property
    def decision(self) -> str:
        """``accept``, ``review`` or ``reject``."""
    @property
    def score(self) -> int:
        """100 minus the penalties of all findings, at least 0."""
    @property
    def findings(self) -> List[Finding]: ...
    @property
    def trace(self) -> Optional[List[Dict[str, Any]]]:
        """With ``explain=True``: what every rule did."""
    def to_json(self) -> str:
        """The verdict as ``kensa eval`` writes it: one JSON line, byte for byte."""

class Enrollment:
    """What enrolling one record did."""

    @property
    def verdict(self) -> Verdict: ...
    @property
    def enrolled(self) -> bool:
        """Whether the record was stored (only an ``accept`` is)."""
    @property
    def already_stored(self) -> bool:
        """Whether a record with the same id was stored already."""

class Registry:
    @staticmethod
    def open(location: str, engine: Engine, read_only: bool = False) -> Registry: ...
    @property
    def location(self) -> str: ...
    @property
    def writable(self) -> bool: ...
    def __len__(self) -> int: ...

class Engine:
    @staticmethod
    def builtin(*, today: Optional[str] = None, strict: bool = False) -> Engine: ...
    @staticmethod
    def from_path(path: str, *, today: Optional[str] = None, strict: bool = False) -> Engine: ...
    @staticmethod
    def from_source(
        text: str, *, name: str = "rules.kensa", today: Optional[str] = None, strict: bool = False
    ) -> Engine: ...
    def check(self) -> List[Dict[str, Any]]: ...
    def render_warnings(self) -> str: ...
    def evaluate(self, record: Any, registry: Optional[Registry] = None, explain: bool = False) -> Verdict: ...
    def evaluate_records(
        self, records: Iterable[Any], registry: Optional[Registry] = None, explain: bool = False
    ) -> List[Any]: ...
    def evaluate_jsonl(
        self, data: bytes, registry: Optional[Registry] = None, explain: bool = False
    ) -> Tuple[List[str], List[Optional[int]], List[str], List[Optional[str]], List[Optional[str]]]: ...
    def evaluate_jsonl_lines(
        self, data: bytes, registry: Optional[Registry] = None, explain: bool = False
    ) -> List[str]: ...
    def enroll(self, record: Any, registry: Registry) -> Enrollment: ...
    def dedup_jsonl(self, data: bytes, threshold: float) -> Tuple[PairColumns, List[str]]: ...
    def link_jsonl(self, records: bytes, registry: bytes, threshold: float, best: bool) -> Tuple[PairColumns, List[str]]: ...
    def profile_jsonl(
        self, data: bytes
    ) -> Tuple[List[Optional[str]], List[Optional[str]], List[Tuple[int, int]], List[Tuple[int, int, str]]]: ...
    def score_pairs_jsonl(
        self, left: bytes, right: bytes, counts: List[Tuple[int, str, int]], threshold: float, dedup: bool = True
    ) -> PairColumns: ...
    @property
    def uses_registry(self) -> bool: ...
    @property
    def fingerprint(self) -> str: ...
    def rule_ids(self) -> List[str]: ...
    def json_schema(self) -> str: ...
    @staticmethod
    def max_per_key() -> int: ...

def normalize(kind: str, text: str) -> str: ...
def normalize_many(kind: str, texts: List[str]) -> List[Optional[str]]: ...
def version() -> str: ...
