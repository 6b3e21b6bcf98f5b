"""Name normalization for search and matching: case-, accent- and punctuation-insensitive."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalize(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.replace("ß", "ss").replace("æ", "ae").replace("ø", "o")
    return _NON_WORD.sub(" ", stripped).strip()


def tokens(text: str) -> list[str]:
    return normalize(text).split()


def containment(a: str, b: str) -> float:
    """Share of the shorter name's words found in the other name (0..1)."""
    ta, tb = set(tokens(a)), set(tokens(b))
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / min(len(ta), len(tb))
