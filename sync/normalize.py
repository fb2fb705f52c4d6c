"""Normalize: a commune's raw grids → one DataFrame per input tab, in canonical columns.

Finds each tab (by title, forgiving case and diacritics), repairs legacy-encoded text,
finds the header row anywhere near the top (also a header split over two rows), maps
drifting header names to column keys through ``mappings/headers.toml``, and drops blank,
totals and repeated-header rows. Values stay raw here; :mod:`sync.validate` parses them.
Every row keeps its sheet row number and every column its letter, so findings can name
the exact cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd

from .backends.base import Grid
from .findings import Finding, column_letter, finding
from .headers import RowMapping, is_ignored, is_numbering_row, map_row
from .layout import Tab, commune_layout, vocab
from .legacy import repair, repair_column, suspect
from .text import fold, nfc

HEADER_SEARCH_ROWS = 15


@dataclass
class RawTable:
    """One input tab of one commune, after header mapping.

    ``rows`` hold the raw values (text in NFC) in the order of ``tab.keys`` and
    ``row_numbers`` their 1-based sheet rows; ``frame`` shows both as a DataFrame (with
    ``_row``). ``letters`` gives each key's column letter in the sheet.
    """

    tab: Tab
    title: str  # the title as found in the sheet
    rows: list[list[Any]]
    row_numbers: list[int]
    letters: dict[str, str]
    findings: list[Finding] = field(default_factory=list)
    ok: bool = True  # False when the tab is missing or its header could not be mapped

    @property
    def frame(self) -> pd.DataFrame:
        frame = object_frame(self.rows, self.tab.keys)
        frame["_row"] = self.row_numbers
        return frame

    def cell(self, key: str, row: int) -> str:
        return f"{self.letters.get(key, 'A')}{row}"


def object_frame(rows: list[list[Any]], keys: list[str]) -> pd.DataFrame:
    """Rows of ``len(keys)`` cells → a frame of object columns over one 2-D array (no
    copy). The cells are laid out one after another, never inspected: a cell holding a
    list stays one cell."""
    size = len(rows) * len(keys)
    if sum(map(len, rows)) != size:  # rows of other lengths: build it plainly
        return pd.DataFrame(rows, columns=keys, dtype=object)
    cells = np.fromiter(chain.from_iterable(rows), dtype=object, count=size)
    return pd.DataFrame(cells.reshape(len(rows), len(keys)), columns=keys, dtype=object, copy=False)


def _joined(upper: list[Any], lower: list[Any]) -> list[Any]:
    """A header split over two rows: a group title merged above its sub-titles ("Số đảng
    viên" over "Tổng số" and "Dự") is read into each sub-title; a title alone in its
    column (merged down over both rows) stands as it is."""
    width = max(len(upper), len(lower))
    upper = [*upper, *[None] * (width - len(upper))]
    lower = [*lower, *[None] * (width - len(lower))]
    joined, carry = [], None
    for top, bottom in zip(upper, lower, strict=True):
        if isinstance(top, str) and top.strip():
            carry = top
        if isinstance(bottom, str) and bottom.strip():
            joined.append(f"{carry or ''} {bottom}".strip())
        else:  # a title over both rows, or a gap: no group runs on past it
            joined.append(top)
            carry = None
    return joined


def _candidate(grid: Grid, r: int, height: int) -> list[Any]:
    return list(grid[r]) if height == 1 else _joined(grid[r], grid[r + 1])


def _best_header(grid: Grid, tab: Tab) -> tuple[int, int, RowMapping]:
    """(first header row, header rows, the mapping) of the most header-like candidate
    among the first rows, each alone and joined with the row below it.

    Candidates rank by required columns found, then columns found, then how well; one
    naming every column cannot be beaten, so the search stops there."""
    required = set(tab.required)
    perfect = len(tab.keys)
    best: tuple[tuple[int, int, float], int, int, RowMapping] = ((0, 0, 0.0), 0, 1, _NOTHING)
    for r in range(min(HEADER_SEARCH_ROWS, len(grid))):
        if not any(isinstance(v, str) and v.strip() for v in grid[r]):
            continue  # a blank row (or numbers only) heads nothing, alone or joined
        for height in (1, 2) if r + 1 < len(grid) else (1,):
            try:
                mapping = map_row(tuple(_candidate(grid, r, height)), tab.key)
            except TypeError:  # an unhashable cell
                mapping = map_row.__wrapped__(tuple(_candidate(grid, r, height)), tab.key)
            rank = mapping.rank(required)
            if rank > best[0]:
                best = (rank, r, height, mapping)
                if len(mapping.columns) == perfect:
                    return r, height, mapping
    return best[1], best[2], best[3]


_NOTHING = RowMapping({}, 0.0)


def _locate(grid: Grid, tab: Tab) -> tuple[int, int, bool, RowMapping]:
    """(first header row, header rows, whether a numbering row follows, the mapping)."""
    row, height, mapping = _best_header(grid, tab)
    numbered = bool(mapping.columns) and row + height < len(grid)
    numbered = numbered and is_numbering_row(list(grid[row + height]), len(mapping.columns))
    return row, height, numbered, mapping


def find_header(grid: Grid, tab: Tab) -> tuple[int, int, dict[int, str]]:
    """(first header row index, rows the header takes, column index → key), 0-based.

    The rows taken include a row numbering the columns under the header, so the data
    start at ``row + height``."""
    row, height, numbered, mapping = _locate(grid, tab)
    return row, height + numbered, dict(mapping.columns)


def find_tab(grids: dict[str, Grid], tab: Tab) -> str | None:
    """The sheet's title for ``tab``: exact, else equal once folded."""
    if tab.title in grids:
        return tab.title
    wanted = fold(tab.title)
    return next((t for t in grids if fold(repair(t)[0]) == wanted), None)


@lru_cache(maxsize=100_000)
def _repaired(value: str) -> tuple[str, str | None]:
    """(NFC text, legacy encoding or None) of one non-ASCII cell."""
    fixed, encoding = repair(value)
    return nfc(fixed), encoding


#: Cell values already known to need no repair (ASCII text, numbers, dates, NFC Unicode
#: text): a run sees the same hamlet names, months and marks in every commune's sheet.
_CLEAN: set[Any] = set()
_CLEAN_LIMIT = 200_000


def _any_to_repair(grid: Grid) -> bool:
    """Whether some text cell is not NFC or is legacy-encoded, looking at each distinct
    value once (a tab repeats its hamlet names, months and marks on every row)."""
    try:
        distinct = set().union(*grid) - _CLEAN
    except TypeError:  # an unhashable cell: look at every one
        return any(_needs_repair(v) for row in grid for v in row)
    if len(_CLEAN) > _CLEAN_LIMIT:
        _CLEAN.clear()
    for value in distinct:
        if _needs_repair(value):
            return True
        _CLEAN.add(value)
    return False


def _needs_repair(value: Any) -> bool:
    if not isinstance(value, str) or value.isascii():
        return False
    fixed, encoding = _repaired(value)
    return bool(encoding) or fixed != value or suspect(value) is not None


def _repair_grid(grid: Grid, commune: str, title: str) -> tuple[Grid, list[Finding]]:
    """NFC every text cell and convert legacy-encoded (TCVN3/VNI) text.

    One finding per column and encoding, naming the cell range and one example, so a
    sheet typed wholly in TCVN3 gives a few lines, not hundreds. ASCII text is already
    both, so only the other cells are looked at; rows nothing changed in are shared with
    ``grid``, which is never modified.
    """
    if not _any_to_repair(grid):
        return grid, []
    repaired: dict[tuple[int, str], list[tuple[int, str, str]]] = {}
    doubtful: dict[tuple[int, str], list[tuple[int, str]]] = {}  # kept as typed, reported
    out: Grid = grid
    for r, row in enumerate(grid):
        new_row = None
        for c, value in enumerate(row):
            if not isinstance(value, str) or value.isascii():
                continue
            fixed, encoding = _repaired(value)
            if fixed != value:
                if new_row is None:
                    if out is grid:
                        out = list(grid)
                    new_row = out[r] = list(row)
                new_row[c] = fixed
            if encoding:
                repaired.setdefault((c, encoding), []).append((r + 1, value, fixed))
            elif (suspected := suspect(value)) is not None:
                doubtful.setdefault((c, suspected), []).append((r + 1, value))
    if repaired:
        # The tab is evidence too: short or ambiguous cells ("Cã", "Ghi chó") that one cell
        # alone could not prove legacy are converted when the rest of the tab clearly is.
        out = [list(row) for row in out]
        texts = [
            (r, c, v) for r, row in enumerate(grid) for c, v in enumerate(row) if isinstance(v, str)
        ]
        for (r, c, original), (fixed, encoding) in zip(
            texts, repair_column([v for _, _, v in texts]), strict=True
        ):
            if encoding and out[r][c] == nfc(original) and nfc(fixed) != out[r][c]:
                out[r][c] = nfc(fixed)
                repaired.setdefault((c, encoding), []).append((r + 1, original, nfc(fixed)))
                for key, cells in doubtful.items():
                    if key[0] == c:
                        cells[:] = [cell for cell in cells if cell[0] != r + 1]
    findings = []
    for (c, encoding), cells in sorted(repaired.items()):
        cells.sort()
        first = cells[0][0]
        span = _column_span(c, first, cells[-1][0])
        findings.append(
            finding(
                "legacy_text",
                commune=commune,
                tab=title,
                cell=span,
                row=first,
                value=cells[0][1],
                encoding=encoding,
                fixed=cells[0][2],
                count=len(cells),
            )
        )
    for (c, encoding), cells in sorted(doubtful.items()):
        if not cells:
            continue
        first = cells[0][0]
        span = _column_span(c, first, cells[-1][0])
        findings.append(
            finding(
                "legacy_suspected",
                commune=commune,
                tab=title,
                cell=span,
                row=first,
                value=cells[0][1],
                encoding=encoding,
                count=len(cells),
            )
        )
    return out, findings


@lru_cache(maxsize=100_000)
def _is_totals_text(first: str) -> bool:
    """A row's first text marks a totals or sub-totals row ("Tổng cộng", "Cộng", "Toàn xã").

    Compared with diacritics: "Cống Bần" and "Cộng Hòa" are hamlets, not totals.
    """
    text = " ".join(nfc(first).lower().replace(":", " ").split())
    return text in vocab().total_exact or _totals_start().match(text) is not None


@lru_cache(maxsize=1)
def _totals_start() -> re.Pattern[str]:
    """A text that is one of the totals starts, alone or followed by more words."""
    starts = "|".join(re.escape(s) for s in vocab().total_starts)
    return re.compile(f"(?:{starts})(?: |$)")


def _plain_first(first: Any, header_keys: set[str], digits_plain: bool) -> bool:
    """Whether a row's first cell is a text that keeps the row without looking further:
    not blank, not a totals label, not a header name. ``digits_plain``: no label or
    header name starts with a digit (see :func:`_digit_led`)."""
    if first.__class__ is not str or not first or first.isspace():
        return False
    if digits_plain and "0" <= first[0] <= "9":
        return True  # a code or number ("29110-01", "1"), no need to fold it
    return not _is_totals_text(first) and fold(first) not in header_keys


def _digit_led(header_keys: set[str]) -> bool:
    """Whether a header name or totals label starts with a digit (none usually does)."""
    return _digit_led_label() or any("0" <= w[:1] <= "9" for w in header_keys)


@lru_cache(maxsize=1)
def _digit_led_label() -> bool:
    return any("0" <= w[:1] <= "9" for w in chain(vocab().total_exact, vocab().total_starts))


def _data_rows(
    grid: Grid, first_data: int, indices: list[int], header_keys: set[str]
) -> tuple[list[list[Any]], list[int]]:
    """The rows under the header, in key order: blank, totals and repeated-header rows
    dropped. A row is judged by its first text; what a text says is worked out once."""
    n = len(indices)
    in_order = n > 0 and indices == list(range(n))
    body = grid[first_data:]
    plain: dict[Any, bool] = {}  # first text → neither a totals label nor a header name
    digits_plain = not _digit_led(header_keys)
    if in_order and body and min(map(len, body)) >= n:
        # Most tabs are plain: every row starts with a text that is neither a totals
        # label nor a header name. Judge each distinct first text once and take them all.
        firsts = list(map(itemgetter(0), body))
        try:
            plain = {f: _plain_first(f, header_keys, digits_plain) for f in set(firsts)}
        except TypeError:  # an unhashable cell: judge row by row below
            pass
        else:
            if all(map(plain.__getitem__, firsts)):
                return [row[:n] for row in body], list(range(first_data + 1, len(grid) + 1))
    rows: list[list[Any]] = []
    numbers: list[int] = []
    for r in range(first_data, len(grid)):
        row = grid[r]
        if in_order and len(row) >= n:
            values = row[:n]
        else:
            width = len(row)
            values = [row[i] if 0 <= i < width else None for i in indices]
        first = values[0] if n else None
        if not (first.__class__ is str and first and not first.isspace()):
            first = None
            for v in values:
                if v is None:
                    continue
                if isinstance(v, str):
                    if v.strip():
                        first = v
                        break
                elif first is None:
                    first = False  # a non-text value: the row is not blank
            if first is None:
                continue  # blank
        if first is not False:
            ok = plain.get(first)
            if ok is None:
                ok = plain[first] = _plain_first(first, header_keys, digits_plain)
            if not ok:
                if _is_totals_text(first):
                    continue
                texts = {fold(v) for v in values if isinstance(v, str) and v.strip()}
                if texts <= header_keys and len(texts) >= 2:
                    continue  # the header repeated (a printed page break)
        rows.append(values)
        numbers.append(r + 1)
    return rows, numbers


@dataclass(frozen=True)
class _Header:
    """Where a tab's header is and what its columns hold."""

    tab: Tab
    row: int  # 0-based
    height: int
    missing: list[str]  # required keys without a column
    unmapped: list[str]  # header texts that name no column
    header_keys: set[str]  # the header's texts, folded
    indices: list[int]  # column index of each of tab.keys (-1: none)
    letters: dict[str, str]  # key → column letter
    cells: tuple[Any, ...] = ()  # the header's texts (two rows joined into one)


#: Headers that are the first row alone and name every column, by (tab key, that row):
#: every commune's sheet repeats the template's header, so it is worked out once.
_HEADERS: dict[tuple[str, tuple[Any, ...]], _Header] = {}
_HEADERS_LIMIT = 1_000


def _read_header(grid: Grid, tab: Tab) -> _Header:
    try:
        key = (tab.key, tuple(grid[0])) if grid else None
        known = _HEADERS.get(key) if key else None
    except TypeError:  # an unhashable cell
        key = known = None
    numbered_below = len(grid) > 1 and is_numbering_row(list(grid[1]), len(tab.keys))
    if known is not None and known.tab is tab and not numbered_below:
        return known
    row, height, numbered, mapping = _locate(grid, tab)
    mapped = mapping.columns
    found_keys = set(mapped.values())
    cells = _candidate(grid, row, height) if grid else []
    by_key = {k: i for i, k in mapped.items()}
    header = _Header(
        tab=tab,
        row=row,
        height=height + numbered,
        missing=[k for k in tab.required if k not in found_keys],
        unmapped=[
            str(v).strip()
            for i, v in enumerate(cells)
            if i not in mapped and isinstance(v, str) and v.strip() and not is_ignored(v)
        ],
        header_keys={
            fold(str(v)) for r in grid[row : row + height] for v in r if isinstance(v, str)
        },
        indices=[by_key.get(k, -1) for k in tab.keys],
        letters={k: column_letter(i) for i, k in mapped.items()},
        cells=tuple(cells),
    )
    if key is not None and row == 0 and height == 1 and len(found_keys) == len(tab.keys):
        # Row 0 named every column, so the search looked no further: any grid with this
        # first row (and no numbering row under it) has this header.
        if len(_HEADERS) >= _HEADERS_LIMIT:
            _HEADERS.clear()
        _HEADERS[key] = header
    return header


def _recognised(header: _Header) -> str:
    """What the header-like row said and which columns it was read as."""
    tab = header.tab
    by_index = {i: k for k, i in zip(tab.keys, header.indices, strict=True) if i >= 0}
    parts = [
        f'"{" ".join(str(header.cells[i]).split())}" ({tab.column(k).header})'
        for i, k in sorted(by_index.items())
    ]
    return ", ".join(parts) or "không nhận ra cột nào"


def _header_row_shown(grid: Grid, header: _Header) -> tuple[int, str]:
    """(0-based row, first non-blank column letter) to name as the header-like row: the
    header found, or when nothing was recognised, the first row with something in it."""
    rows = [header.row] if header.letters else range(min(HEADER_SEARCH_ROWS, len(grid)))
    for r in rows:
        for c, v in enumerate(grid[r] if r < len(grid) else []):
            if v is not None and not (isinstance(v, str) and not v.strip()):
                return r, column_letter(c)
    return header.row, "A"


def normalize_tab(grids: dict[str, Grid], tab: Tab, commune: str = "") -> RawTable:
    """Find and map one input tab of a commune sheet."""
    title = find_tab(grids, tab)
    if title is None:
        f = finding("missing_tab", commune=commune, tab=tab.title)
        return RawTable(tab, tab.title, [], [], {}, [f], ok=False)
    grid, findings = _repair_grid(grids[title], commune, title)
    header = _read_header(grid, tab)
    where = {"commune": commune, "tab": title, "cell": f"A{header.row + 1}", "row": header.row + 1}
    if header.missing:
        row, letter = _header_row_shown(grid, header)
        where |= {"cell": f"{letter}{row + 1}", "row": row + 1}
        findings.append(
            finding(
                "missing_columns",
                **where,
                missing=", ".join(tab.column(k).header for k in header.missing),
                header_row=row + 1,
                found=_recognised(header),
                expected=", ".join(c.header for c in tab.columns),
            )
        )
        return RawTable(tab, title, [], [], {}, findings, ok=False)
    if header.unmapped:
        columns = ", ".join(f'"{u}"' for u in header.unmapped)
        findings.append(finding("unmapped_columns", **where, columns=columns))
    first_data = header.row + header.height
    rows, row_numbers = _data_rows(grid, first_data, header.indices, header.header_keys)
    return RawTable(tab, title, rows, row_numbers, dict(header.letters), findings)


def normalize_commune(grids: dict[str, Grid], commune: str = "") -> dict[str, RawTable]:
    """Every input tab of one commune sheet, by tab key."""
    return {
        tab.key: normalize_tab(grids, tab, commune) for tab in commune_layout().by_role("input")
    }


def _column_span(column: int, first: int, last: int) -> str:
    """``C5`` for one row, ``C5:C9`` for several rows of one column."""
    letter = column_letter(column)
    return f"{letter}{first}" if first == last else f"{letter}{first}:{letter}{last}"
