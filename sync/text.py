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


#: The five Vietnamese tone marks (as combining characters). Where a tone sits in a
#: syllable ("hoà" or "hòa", "thuỷ" or "thủy") is a habit of the typist, not a
#: different name; which tone it is ("Phú", "Phủ") is.
_TONES = {"\u0300": "2", "\u0301": "1", "\u0303": "4", "\u0309": "3", "\u0323": "5"}
_WORD = re.compile(r"[^\W_]+")
_LETTERS_THEN_DIGITS = re.compile(r"(?<=[^\W\d_])(?=\d)")


@lru_cache(maxsize=50_000)
def _exact_word(word: str) -> str:
    """One lower-case word with its tone moved to the end: "hoà" and "hòa" → "hoa|2"."""
    if word.isascii():
        return word
    tone = ""
    kept = []
    for ch in unicodedata.normalize("NFD", word):
        if ch in _TONES:
            tone = _TONES[ch]
        else:
            kept.append(ch)
    base = unicodedata.normalize("NFC", "".join(kept))
    return f"{base}|{tone}" if tone else base


def loose_word(word: str) -> str:
    """A word of :func:`name_words` without any diacritic: "hoa|2" → "hoa", "đông" → "dong"."""
    return unaccent(word.partition("|")[0])


def name_words(name: str) -> tuple[str, ...]:
    """The words of a typed name, compared exactly: NFC, lower case, punctuation and
    spacing dropped, a number parted from the word before it ("KP1" → "kp", "1"), each
    tone mark wherever it was placed. Every diacritic still counts: "Bình Phủ" and
    "Bình Phú", "Tân Thành" and "Tân Thạnh" stay apart."""
    text = _LETTERS_THEN_DIGITS.sub(" ", nfc(name).lower())
    return tuple(_exact_word(w) for w in _WORD.findall(text))
