"""Japanese text normalization, as the rules apply it before comparing.

Each function takes one text and returns its normalized form; ``many(kind, texts)`` does a
list at once (on all cores, ``None`` where a text has no normalized form). The kinds are those
of ``kensa normalize KIND``.

>>> from kensa import normalize
>>> normalize.kana_key("ﾔﾏﾀﾞ ﾀﾛｳ")
'ヤマダ タロウ'
>>> normalize.zengin("やまだ　たろう")
'ﾔﾏﾀﾞ ﾀﾛｳ'
>>> normalize.date("昭和55年4月1日")
'1980-04-01'
"""

from __future__ import annotations

from typing import Iterable, List, Optional

from . import _kensa

__all__ = [
    "kana_key",
    "zengin",
    "name_key",
    "variant_key",
    "digits",
    "date",
    "address_key",
    "postal_code",
    "many",
]


def kana_key(text: str) -> str:
    """Kana for comparison: full-width katakana, half-width dakuten joined, one space between words."""
    return _kensa.normalize("kana", text)


def zengin(text: str) -> str:
    """Bank-transfer (全銀) kana: half-width katakana, small kana made large, as banks store holder names."""
    return _kensa.normalize("zengin", text)


def name_key(text: str) -> str:
    """A name for comparison: NFKC, no spaces."""
    return _kensa.normalize("name", text)


def variant_key(text: str) -> str:
    """A name with variant kanji folded to one form (髙→高, 﨑→崎, …)."""
    return _kensa.normalize("variant", text)


def digits(text: str) -> str:
    """The digits of a text, full-width folded (``０３-１２３４`` → ``031234``)."""
    return _kensa.normalize("digits", text)


def date(text: str) -> str:
    """A date as ``YYYY-MM-DD``, from Western or Japanese-era (和暦) notation.

    Raises :class:`kensa.errors.NormalizeError` when the text is not a date.
    """
    return _kensa.normalize("date", text)


def address_key(text: str) -> str:
    """An address for comparison: 丁目/番地/号 and their numeric notations unified.

    Raises :class:`kensa.errors.NormalizeError` when the text cannot be read as an address.
    """
    return _kensa.normalize("address", text)


def postal_code(text: str) -> str:
    """A postal code as seven digits. Raises :class:`kensa.errors.NormalizeError` when it is not one."""
    return _kensa.normalize("postal", text)


def many(kind: str, texts: Iterable[str]) -> List[Optional[str]]:
    """Normalize many texts of one kind (``kana``, ``zengin``, ``name``, ``variant``,
    ``digits``, ``date``, ``address``, ``postal``) on all cores, without the GIL."""
    return _kensa.normalize_many(kind, list(texts))
