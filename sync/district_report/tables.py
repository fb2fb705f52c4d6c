"""The master's tabs, as the report reads them back: grids → typed DataFrames.

The sync-owned tabs are namcoso's own output, so their header row is the first row and
their headers are the ones in ``templates/master.toml``; columns are found by header, so a
column district staff added or moved does not matter. Values come back as each backend
stores them (a month as ``"2018-03"`` text, a date or a Google serial; a share as a
fraction), and are made one type here. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..backends.base import Grid
from ..errors import MasterUnavailable
from ..layout import master_layout, vocab
from ..registry import Registry, commune_code
from ..values import BadValue, parse_date, parse_month

#: The sync-owned tabs the report reads, by layout key.
REPORT_TABS = (
    "meetings",
    "ratings",
    "rating_stats",
    "meeting_stats",
    "cadre_stats",
    "household_stats",
    "support_stats",
    "progress",
    "support",
    "households",
)
_NUMBERS = {
    "members",
    "present",
    "attendance",
    "year",
    *(r.code for r in vocab().ratings),
    "unrated",
    "cells",
    "excellent_share",
    "months_reported",
    "meetings",
    "avg_attendance",
    "months_below",
    "committee_share",
    "attended",
    "registry_households",
    "followed_households",
    "share",
    "cadres",
    "count",
    "total",
    "expected",
    "reported",
    "completeness",
    "amount",
    "households",
}
_CODES = {"commune_code"}


@dataclass(frozen=True)
class MasterTables:
    """What the report is made from: the registry and the sync-owned tabs, by layout key."""

    registry: Registry
    tabs: dict[str, pd.DataFrame]

    def __getitem__(self, key: str) -> pd.DataFrame:
        return self.tabs[key]

    def years(self) -> list[int]:
        """Years that hold data: a meeting month or a rating."""
        months = self.tabs["meetings"]["month"].dropna()
        found = {int(m[:4]) for m in months}
        found |= {int(y) for y in self.tabs["ratings"]["year"].dropna()}
        return sorted(found)


def report_titles() -> list[str]:
    """The titles of the master tabs the report reads."""
    layout = master_layout()
    return [layout[key].title for key in REPORT_TABS]


def master_tables(registry: Registry, grids: dict[str, Grid]) -> MasterTables:
    """Typed frames of the sync-owned tabs. A tab that is absent (the master was never
    synced) is empty; a tab whose header lacks a column the report needs cannot be read."""
    layout = master_layout()
    tabs = {}
    for key in REPORT_TABS:
        tab = layout[key]
        tabs[key] = _frame(tab.title, tab.keys, [c.header for c in tab.columns], grids)
    return MasterTables(registry, tabs)


def _frame(title: str, keys: list[str], headers: list[str], grids: dict[str, Grid]):
    grid = grids.get(title) or []
    if not grid:
        return _typed(pd.DataFrame({k: pd.Series(dtype=object) for k in keys}))
    found = {_header(cell): i for i, cell in reversed(list(enumerate(grid[0])))}
    missing = [h for h in headers if _header(h) not in found]
    if missing:
        raise MasterUnavailable(
            f"Trang {title!r} của master thiếu cột {', '.join(missing)}: "
            "chạy namcoso sync để ghi lại trang này"
        )
    columns = {
        key: [row[found[_header(h)]] if found[_header(h)] < len(row) else None for row in grid[1:]]
        for key, h in zip(keys, headers, strict=True)
    }
    frame = pd.DataFrame(columns, columns=keys)
    frame = frame[frame.notna().any(axis=1)].reset_index(drop=True)
    return _typed(frame)


def _header(cell: Any) -> str:
    return " ".join(str(cell).split()).casefold() if cell is not None else ""


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    for key in frame.columns:
        if key in _NUMBERS:
            frame[key] = pd.to_numeric(frame[key], errors="coerce")
        elif key == "month":
            frame[key] = frame[key].map(_month)
        elif key in ("meeting_date", "date"):
            frame[key] = frame[key].map(_date)
        elif key in _CODES:
            frame[key] = frame[key].map(lambda v: "" if _blank(v) else commune_code(v))
        else:
            frame[key] = frame[key].map(lambda v: "" if _blank(v) else str(v).strip())
    return frame


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


def _month(value: Any) -> str | None:
    if _blank(value):
        return None
    try:
        return parse_month(value)
    except (BadValue, TypeError, ValueError):
        return None


def _date(value: Any):
    if _blank(value) or value == "":
        return None
    try:
        return parse_date(value)
    except (BadValue, TypeError, ValueError):
        return None
