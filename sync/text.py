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


def _slow_unaccent(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "d").replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def _latin_table() -> dict[int, str]:
    """Each accented Latin letter (and each combining mark) → what :func:`_slow_unaccent`
    makes of it, where that is plain ASCII."""
    table: dict[int, str] = {}
    for start, end in ((0x00C0, 0x0250), (0x0300, 0x0370), (0x1E00, 0x1F00)):
        for code in range(start, end):
            plain = _slow_unaccent(chr(code))
            if plain.isascii():
                table[code] = plain
    return table


_LATIN = _latin_table()


def unaccent(text: str) -> str:
    """Lower case without diacritics ("đ" as "d"), punctuation kept.

    Vietnamese letters go through one translation table; text with other letters
    outside ASCII is decomposed letter by letter.
    """
    plain = text.translate(_LATIN)
    return plain.lower() if plain.isascii() else _slow_unaccent(text)


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Lower case, no diacritics, words separated by single spaces: the key for matching."""
    return _NON_WORD.sub(" ", unaccent(text)).strip()


def strip_prefixes(folded: str, prefixes: tuple[str, ...]) -> str:
    """Drop one leading word group such as "ap", "khu pho" or "chi bo ap" from a folded name.

    Prefixes are tried in the order given (longest first) and only once, so "Ấp Tô Châu"
    keeps "to chau".
    """
    match = _prefix_pattern(prefixes).match(folded)
    return folded[match.end() :] if match else folded


@lru_cache(maxsize=8)
def _prefix_pattern(prefixes: tuple[str, ...]) -> re.Pattern[str]:
    # Alternatives are tried left to right, exactly like a loop over ``prefixes``.
    return re.compile("(?:" + "|".join(re.escape(p) + " " for p in prefixes) + ")")


def closest(key: str, candidates: dict[str, str], n: int = 2) -> list[str]:
    """The display names whose folded keys are closest to ``key`` (best first)."""
    keys = difflib.get_close_matches(key, list(candidates), n=n, cutoff=0.5)
    return [candidates[k] for k in keys]
