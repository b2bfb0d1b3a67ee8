"""The exceptions kensa raises. Every message says what is wrong and what to do."""

from __future__ import annotations

from typing import Any, Dict, List, Optional


class KensaError(Exception):
    """Base class of every kensa error."""


class CompileError(KensaError):
    """The rule set does not compile.

    ``str(e)`` is the diagnostics rendered as ``kensa check`` prints them (file, line, the
    source line underlined, help); ``e.diagnostics`` is the same as dicts (``code``,
    ``level``, ``message``, ``file``, ``line``, ``column``, ``labels``, ``help``).
    """

    def __init__(self, message: str, diagnostics: Optional[List[Dict[str, Any]]] = None) -> None:
        super().__init__(message)
        self.diagnostics: List[Dict[str, Any]] = list(diagnostics or [])

    @property
    def errors(self) -> List[Dict[str, Any]]:
        """The diagnostics of level ``error``."""
        return [d for d in self.diagnostics if d.get("level") == "error"]


class RecordError(KensaError):
    """A record cannot be judged (not an object, a field of the wrong kind, over a limit).

    The message names the field and never quotes a My Number.
    """


class RegistryError(KensaError):
    """A registry cannot be opened or used (missing file, damaged, keys of other rules, …)."""


class NormalizeError(KensaError, ValueError):
    """A text has no normalized form of the kind asked for (e.g. a date that is not one)."""
