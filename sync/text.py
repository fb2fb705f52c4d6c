"""Vietnamese text: Unicode normalization and the folding used to match names.

Stored text is NFC. Matching folds further: lower case, no diacritics (so old and new
tone placement, "hoà"/"hòa", compare equal), "đ" as "d", punctuation and line breaks as
single spaces.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from functools import lru_cache

_NON_WORD = re.compile(r"[^0-9a-z]+")


def nfc(text: str) -> str:
    """Text in composed Unicode (NFC), the form namcoso stores."""
    return unicodedata.normalize("NFC", text)


def unaccent(text: str) -> str:
    """Lower case without diacritics ("đ" as "d"), punctuation kept."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "d").replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Lower case, no diacritics, words separated by single spaces: the key for matching."""
    return _NON_WORD.sub(" ", unaccent(text)).strip()


def strip_prefixes(folded: str, prefixes: tuple[str, ...]) -> str:
    """Drop one leading word group such as "ap", "khu pho" or "chi bo ap" from a folded name.

    Prefixes are tried longest first and only once, so "Ấp Tô Châu" keeps "to chau".
    """
    for prefix in prefixes:
        if folded.startswith(prefix + " "):
            return folded[len(prefix) + 1 :]
    return folded


def closest(key: str, candidates: dict[str, str], n: int = 2) -> list[str]:
    """The display names whose folded keys are closest to ``key`` (best first)."""
    keys = difflib.get_close_matches(key, list(candidates), n=n, cutoff=0.5)
    return [candidates[k] for k in keys]
