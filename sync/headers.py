"""Columns by meaning: which column of a tab a header cell names, and a header row mapped
as a whole.

What each column means is data (``mappings/headers.toml``): the names offices give it,
abbreviations, and the phrases that mean another column. A cell is scored against every
column of its tab by the words it shares with the column's names; a row is then mapped
one cell per column, best scores first. Everything here works on header texts only and
is remembered per distinct text, so it costs nothing per data cell.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import pairwise
from typing import Any

from .layout import commune_layout, master_layout
from .legacy import repair
from .resources import MAPPINGS_DIR
from .text import fold

#: A cell scoring below this names no column.
THRESHOLD = 0.5
_PARENTHESES = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_NUMBERING = re.compile(r"^\s*[\(\[]?\s*(\d{1,2}|[a-zA-Z]|[ivxIVX]{1,4})\s*[\)\]\.]?\s*$")


@dataclass(frozen=True)
class ColumnMeaning:
    """One column's names and the phrases that mean another column, as word sets."""

    key: str
    names: tuple[frozenset[str], ...]
    unless: tuple[frozenset[str], ...]


@dataclass(frozen=True)
class HeaderVocabulary:
    """``mappings/headers.toml``, read: per tab key, what each of its columns means."""

    tabs: dict[str, tuple[ColumnMeaning, ...]]
    abbreviations: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]  # longest first
    ignored: frozenset[str]

    def words(self, text: str) -> tuple[str, ...]:
        """Folded words of a header text with abbreviations expanded, numbers dropped."""
        words = fold(text).split()
        out: list[str] = []
        i = 0
        while i < len(words):
            for short, long in self.abbreviations:
                if tuple(words[i : i + len(short)]) == short:
                    out.extend(long)
                    i += len(short)
                    break
            else:
                out.append(words[i])
                i += 1
        return tuple(w for w in out if not w.isdigit())


@cache
def header_vocabulary() -> HeaderVocabulary:
    """The header vocabulary, read once."""
    with (MAPPINGS_DIR / "headers.toml").open("rb") as f:
        data = tomllib.load(f)
    short = {
        tuple(fold(k).split()): tuple(fold(v).split()) for k, v in data["abbreviations"].items()
    }
    abbreviations = tuple(sorted(short.items(), key=lambda kv: len(kv[0]), reverse=True))
    bare = HeaderVocabulary({}, abbreviations, frozenset())
    ignored = {fold(h) for h in data["ignore"]["headers"]}
    ignored |= {" ".join(bare.words(h)) for h in data["ignore"]["headers"]}
    tabs: dict[str, tuple[ColumnMeaning, ...]] = {}
    for layout in (commune_layout(), master_layout()):
        for tab in layout.tabs.values():
            if tab.role == "output":
                continue
            meanings = []
            for column in tab.columns:
                entry = data.get(tab.key, {}).get(column.key, {})
                names = [column.header, *entry.get("names", [])]
                meanings.append(
                    ColumnMeaning(
                        column.key,
                        tuple(dict.fromkeys(frozenset(bare.words(n)) for n in names if n)),
                        tuple(frozenset(bare.words(u)) for u in entry.get("unless", [])),
                    )
                )
            tabs[tab.key] = tuple(meanings)
    return HeaderVocabulary(tabs, abbreviations, frozenset(ignored))


def _score(words: frozenset[str], meaning: ColumnMeaning) -> float:
    """How well a cell's words name one column: its best name's share of the name found
    (squared: half a name is a weak hint) times how much of the cell that name explains."""
    if not words or any(u <= words for u in meaning.unless):
        return 0.0
    best = 0.0
    for name in meaning.names:
        shared = len(name & words)
        if shared:
            score = (shared / len(name)) ** 2 * (0.5 + 0.5 * shared / len(words))
            best = max(best, score)
    return best


@lru_cache(maxsize=50_000)
def cell_scores(text: str, tab_key: str) -> tuple[tuple[float, str], ...]:
    """(score, column key) of each column this header text may name, best first."""
    vocabulary = header_vocabulary()
    repaired = repair(text)[0]
    variants = {frozenset(vocabulary.words(repaired))}
    without = _PARENTHESES.sub(" ", repaired)
    if without != repaired:
        variants.add(frozenset(vocabulary.words(without)))
    scores = []
    for meaning in vocabulary.tabs[tab_key]:
        score = max(_score(words, meaning) for words in variants)
        if score >= THRESHOLD:
            scores.append((round(score, 6), meaning.key))
    return tuple(sorted(scores, key=lambda s: -s[0]))


def is_ignored(text: str) -> bool:
    """A running-number header ("STT", "Số TT"): not a column, and not worth reporting."""
    vocabulary = header_vocabulary()
    return fold(text) in vocabulary.ignored or " ".join(vocabulary.words(text)) in (
        vocabulary.ignored
    )


def column_for(text: Any, tab_key: str) -> str | None:
    """The column a header text names on its own (its best score), or None."""
    if not isinstance(text, str) or not text.strip():
        return None
    scores = cell_scores(text, tab_key)
    return scores[0][1] if scores else None


@dataclass(frozen=True)
class RowMapping:
    """A candidate header row mapped as a whole: column index → key, and its score."""

    columns: dict[int, str]
    total: float

    def rank(self, required: set[str]) -> tuple[int, int, float]:
        """How header-like the row is: required columns found, columns found, scores."""
        keys = set(self.columns.values())
        return (len(required & keys), len(keys), self.total)


@lru_cache(maxsize=4096)
def map_row(cells: tuple[Any, ...], tab_key: str) -> RowMapping:
    """Each column of ``tab_key`` to at most one cell of the row and each cell to at most
    one column, taking the best-scoring pairs first (ties: the leftmost cell, then the
    column first in the template)."""
    order = {m.key: i for i, m in enumerate(header_vocabulary().tabs[tab_key])}
    pairs = []
    for index, text in enumerate(cells):
        if isinstance(text, str) and text.strip():
            for score, key in cell_scores(text, tab_key):
                pairs.append((-score, index, order[key], key))
    pairs.sort()
    columns: dict[int, str] = {}
    taken: set[str] = set()
    total = 0.0
    for negative, index, _, key in pairs:
        if index in columns or key in taken:
            continue
        columns[index] = key
        taken.add(key)
        total -= negative
    return RowMapping(dict(sorted(columns.items())), round(total, 6))


def is_numbering_row(cells: list[Any], header_columns: int) -> bool:
    """A row numbering the columns under a header: (1), (2)… or 1, 2, 3… or A, B, C…

    At least two cells and half the header's columns are such marks, every other cell is
    blank, and the numbers and letters rise from left to right ("x", "x" is not one)."""
    marks: list[Any] = []
    for value in cells:
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, bool):
            return False
        if isinstance(value, int | float):
            if not 0 <= value <= 99 or value != int(value):  # NaN and infinity fail here
                return False
            marks.append(int(value))
        elif isinstance(value, str) and _NUMBERING.match(value):
            inner = value.strip().strip("()[].").strip()
            marks.append(int(inner) if inner.isdigit() else inner)
        else:
            return False
    if len(marks) < max(2, header_columns // 2):
        return False
    numbers = [m for m in marks if isinstance(m, int)]
    letters = [m.lower() for m in marks if isinstance(m, str)]
    return all(a < b for a, b in pairwise(numbers)) and all(a < b for a, b in pairwise(letters))
