"""The ``Biểu đồ`` tab's data: three tables computed from the summary tabs, which the
charts plot. Pure: grids in, an :class:`~sync.backends.base.OutputTab` out. The charts
themselves are drawn per backend (:mod:`sync.backends.local_views`,
:mod:`sync.backends.google_views`).
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd

from .backends.base import Grid, OutputTab
from .config import Rules
from .layout import Tab, master_layout, vocab
from .summarize import STATUS_NOT_DUE, STATUS_OK
from .units import month_start
from .values import map_distinct


def charts_layout() -> Tab:
    """The ``Biểu đồ`` tab of ``templates/master.toml``."""
    return master_layout()["charts"]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _year(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None


def _rating_rows(grid: Grid | None) -> list[list[Any]]:
    """The latest year's commune rows of ``Thống kê xếp loại`` (not the total rows, which
    have no commune code)."""
    codes = [r.code for r in vocab().ratings]
    keys = ["commune_code", "commune_name", "year", *codes]
    columns = _column_values(grid, master_layout()["rating_stats"], keys)
    if columns is None:
        return []
    rows = zip(*columns.values(), strict=True)
    records = [
        r
        for r in (dict(zip(keys, values, strict=True)) for values in rows)
        if r["commune_code"] not in (None, "")
    ]
    years = [y for y in (_year(r.get("year")) for r in records) if y is not None]
    if not years:
        return []
    latest = max(years)
    return [
        [r.get("commune_name"), latest, *(int(_number(r.get(c)) or 0) for c in codes)]
        for r in records
        if _year(r.get("year")) == latest
    ]


def _column_values(grid: Grid | None, tab: Tab, keys: list[str]) -> dict[str, list[Any]] | None:
    """Whole columns of a written tab (header on row 1), by key; None when the grid is
    empty. A missing column, and the end of a short row, read as empty cells."""
    if not grid:
        return None
    header = [str(h) if h is not None else None for h in grid[0]]
    rows = grid[1:]
    out = {}
    for key in keys:
        title = tab.column(key).header
        if title not in header:
            out[key] = [None] * len(rows)
            continue
        i = header.index(title)
        try:
            out[key] = list(map(itemgetter(i), rows))
        except IndexError:
            out[key] = [row[i] if len(row) > i else None for row in rows]
    return out


def _numbers(values: list[Any]) -> np.ndarray:
    """:func:`_number` of each value as floats (NaN for none), a column at a time when
    the column holds only numbers and blanks."""
    if set(map(type, values)) <= {float, int, type(None)}:
        return np.array(values, dtype=float)  # None becomes NaN
    return np.array([np.nan if (n := _number(v)) is None else n for v in values], dtype=float)


def _attendance_rows(grid: Grid | None, threshold: float) -> list[list[Any]]:
    """District-wide mean attendance of the meetings held, per month."""
    columns = _column_values(grid, master_layout()["meetings"], ["month", "attendance"])
    if columns is None:
        return []
    # A month cell holds the month's first day (a date, or "2018-03" before rendering).
    months = map_distinct(pd.Series(columns["month"], dtype=object), month_start)
    named = pd.notna(months)
    shares = _numbers(columns["attendance"])
    keep = named & ~np.isnan(shares)
    by_month = (
        pd.DataFrame({"month": months[keep], "share": shares[keep]})
        .groupby("month", sort=True)["share"]
        .agg(["sum", "count"])
    )
    return [
        [m, total / n, threshold]
        for m, total, n in zip(by_month.index, by_month["sum"], by_month["count"], strict=True)
    ]


def _progress_rows(grid: Grid | None) -> list[list[Any]]:
    """Per commune, over the months already due: share of expected reports received,
    and share of months reported in full and on time."""
    keys = ["commune_name", "expected", "reported", "status"]
    columns = _column_values(grid, master_layout()["progress"], keys)
    if columns is None:
        return []
    frame = pd.DataFrame(
        {
            "name": [str(n) if n else "" for n in columns["commune_name"]],
            "expected": np.nan_to_num(_numbers(columns["expected"])),
            "reported": np.nan_to_num(_numbers(columns["reported"])),
            "ok": [s == STATUS_OK for s in columns["status"]],
            "due": [s != STATUS_NOT_DUE for s in columns["status"]],
        }
    )
    frame = frame[frame["due"] & (frame["name"] != "")]
    totals = frame.groupby("name", sort=False).agg(
        expected=("expected", "sum"),
        reported=("reported", "sum"),
        months=("ok", "size"),
        ok=("ok", "sum"),
    )
    return [
        [name, min(reported / expected, 1.0) if expected else None, ok / months]
        for name, expected, reported, months, ok in zip(
            totals.index,
            totals["expected"].tolist(),
            totals["reported"].tolist(),
            totals["months"].tolist(),
            totals["ok"].tolist(),
            strict=True,
        )
    ]


def chart_tab(grids: Mapping[str, Grid], rules: Rules) -> OutputTab:
    """The ``Biểu đồ`` tab: three side-by-side tables the charts plot, computed from the
    summary tabs' grids (by title, header on row 1) — ``Thống kê xếp loại``, ``TH Sinh
    hoạt`` and ``Tiến độ báo cáo``. A missing tab gives an empty table."""
    layout = master_layout()
    tab = charts_layout()
    keys = tab.keys
    blocks = [
        (keys.index("rating_commune"), _rating_rows(grids.get(layout["rating_stats"].title))),
        (
            keys.index("month"),
            _attendance_rows(grids.get(layout["meetings"].title), rules.attendance_threshold),
        ),
        (keys.index("progress_commune"), _progress_rows(grids.get(layout["progress"].title))),
    ]
    height = max(len(rows) for _, rows in blocks)
    grid: list[list[Any]] = [[None] * len(keys) for _ in range(height)]
    for start, rows in blocks:
        for r, values in enumerate(rows):
            grid[r][start : start + len(values)] = values
    return OutputTab(tab.title, tab.specs(), grid)
