"""The normalized text searches match: lower case, accents and punctuation runs folded.

Written by the app next to the row (proposals' `search_text`, listings' `*_key`) and applied
to the needle the same way, so SQLite and PostgreSQL share one query (`LIKE '%word%'` per
word) and agree on what matches: `citroen` finds `Citroën`, `DUBOIS` finds `Dubois`. On
PostgreSQL a trigram index (pg_trgm, migration 0007) makes those LIKEs indexed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, String, bindparam

# Letters NFKD does not split into base + accent, spelled as French readers type them.
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "đ": "d", "ł": "l", "ß": "ss"})
_SEPARATORS = " -./"


def normalize(text: str | None) -> str:
    """`text` lower-cased, without accents, whitespace collapsed to single spaces."""
    if not text:
        return ""
    folded = unicodedata.normalize("NFKD", text.casefold().translate(_LIGATURES))
    bare = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(bare.split())


def compact(text: str | None) -> str:
    """Normalized, without separators: "AB-123-CD" and "ab 123cd" are both "ab123cd"."""
    value = normalize(text)
    for separator in _SEPARATORS:
        value = value.replace(separator, "")
    return value


def national_mobile(mobile: str | None) -> str:
    """ "+33612345678" as a French reader types it: "0612345678"."""
    digits = compact(mobile)
    return "0" + digits[3:] if digits.startswith("+33") else digits


def joined(parts: Iterable[str | None]) -> str:
    """The parts normalized, one space between them (a word never spans two parts)."""
    return " ".join(p for p in (normalize(part) for part in parts) if p)


def needle_words(q: str) -> list[str]:
    """The words of a query, normalized; each must appear somewhere in the row's text."""
    return normalize(q).split()


# The escape character of the LIKE patterns the lists build (`contains(..., escape=LIKE_ESCAPE)`).
LIKE_ESCAPE = "/"


def like_escaped(text: str) -> str:
    """`text` as a LIKE pattern's literal part: its wildcards (and the escape) escaped, as
    SQLAlchemy's `autoescape` does; for patterns whose value is a bind parameter."""
    for special in (LIKE_ESCAPE, "%", "_"):
        text = text.replace(special, LIKE_ESCAPE + special)
    return text


def contains_param(column: Any, name: str) -> ColumnElement[bool]:
    """`column LIKE '%' || :name || '%'`, the parameter's value given `like_escaped`."""
    condition: ColumnElement[bool] = column.contains(bindparam(name, type_=String), escape=LIKE_ESCAPE)
    return condition
