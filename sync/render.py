"""Render: typed DataFrames → the tabs users read (labels, not codes), and their hashes.

Yes/no becomes ``Có``/``Không``, rating codes their full labels, NA an empty cell. The
hash of a tab's content decides whether it needs writing at all.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from .backends.base import OutputTab
from .findings import Finding, sort_key
from .layout import Tab, commune_layout, master_layout, vocab
from .registry import Registry
from .units import month_start

YESNO_KEYS = {"cadre_attended", "committee_met"}


def cell(value: Any) -> Any:
    """A value as written to a sheet: plain Python, None for missing."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, datetime | date):
        return value.item()
    return value


#: Cell values written as they are; any other kind goes through :func:`cell`.
_PLAIN = frozenset({str, int, bool, date, datetime, type(None)})


def _all_text(values: np.ndarray) -> bool:
    """Whether every value is text (checked in C, a much quicker test than by type)."""
    return pd.api.types.infer_dtype(values, skipna=False) == "string"


def _column_cells(series: pd.Series) -> np.ndarray:
    """One column as plain Python cell values (an object array), converted a column at a
    time: only a column holding other kinds of values is converted cell by cell."""
    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        values = [cell(v) for v in series]
    elif pd.api.types.is_float_dtype(dtype):
        numbers = series.to_numpy(dtype=float, na_value=np.nan)
        values = numbers.astype(object)
        values[~np.isfinite(numbers)] = None
        return values
    elif (
        isinstance(dtype, pd.StringDtype)
        or pd.api.types.is_bool_dtype(dtype)
        or (pd.api.types.is_integer_dtype(dtype) and pd.api.types.is_extension_array_dtype(dtype))
    ):
        # Text, or nullable integers and booleans: Python str, int or bool, and None.
        return series.to_numpy(dtype=object, na_value=None)
    else:
        values = series.to_numpy(dtype=object, copy=True)
        if _all_text(values) or set(map(type, values)) <= _PLAIN:
            return values  # no NaN, NA or NaT among them: nothing to convert
        missing = pd.isna(values)
        if missing.any():
            values[missing] = None
        if set(map(type, values)) <= _PLAIN:
            return values
        values = [cell(v) for v in values.tolist()]
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _month_cells(series: pd.Series) -> np.ndarray:
    """Cells of a month column: ``2018-03`` → the date 2018-03-01 (shown ``03/2018`` by the
    column's format); anything else as it is, None where missing. Worked out once per
    distinct month (a million rows hold a few dozen)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes, uniques = series.cat.codes.to_numpy(), series.cat.categories
    else:
        codes, uniques = pd.factorize(series)
    shown = [month_start(m) or cell(m) for m in uniques]
    return np.array([*shown, None], dtype=object)[codes]  # code -1 (missing) → None


def frame_tab(tab: Tab, frame: pd.DataFrame) -> OutputTab:
    """An output tab from a frame holding (at least) the tab's column keys."""
    yes, no = vocab().yes_label, vocab().no_label
    grid = np.empty((len(frame), len(tab.columns)), dtype=object)
    for j, column in enumerate(tab.columns):
        if column.key not in frame:
            continue
        series = frame[column.key]
        if column.key in YESNO_KEYS:
            series = series.map({True: yes, False: no}).where(series.notna(), series)
        elif column.key == "rating" and tab.key == "ratings":
            labels = {r.code: r.label for r in vocab().ratings}
            series = series.map(labels).where(series.isin(list(labels)), series)
        elif column.format == "month":
            grid[:, j] = _month_cells(series)
            continue
        grid[:, j] = _column_cells(series)
    return OutputTab(tab.title, tab.specs(), grid.tolist())


def findings_tab(findings: list[Finding], registry: Registry) -> OutputTab:
    tab = master_layout()["findings"]
    names = registry.commune_names.to_dict()
    rows = [
        [f.commune, names.get(f.commune, ""), f.severity, f.tab, f.cell, f.value, f.message, f.fix]
        for f in sorted(findings, key=sort_key)
    ]
    return OutputTab(tab.title, tab.specs(), rows)


ALL_WELL = "Không có lỗi: đã nhận {rows} dòng số liệu của xã trong lần đồng bộ gần nhất."
NO_FINDINGS = "Không có lỗi trong lần đồng bộ gần nhất."
NOTHING_SENT = (
    "Chưa nhận được dòng số liệu nào: các trang nhập liệu của xã còn trống trong lần đồng bộ "
    "gần nhất."
)
NOTHING_SENT_FIX = "Điền số liệu vào các trang {tabs} (xem trang Hướng dẫn)."


def feedback_tab(findings: list[Finding], rows_received: int | None = None) -> OutputTab:
    """A commune's ``Kiểm tra dữ liệu``: its findings by tab and row; or, with none, one line
    saying how many rows were received — or that none were, never "all is well" then."""
    tab = commune_layout()["feedback"]
    ordered = sorted(findings, key=lambda f: (f.tab, f.row, f.cell))
    rows = [[f.severity, f.tab, f.cell, f.value, f.message, f.fix] for f in ordered]
    if not rows and rows_received == 0:
        inputs = ", ".join(f"'{t.title}'" for t in commune_layout().by_role("input"))
        rows = [["", "", "", "", NOTHING_SENT, NOTHING_SENT_FIX.format(tabs=inputs)]]
    elif not rows and rows_received is None:
        rows = [["", "", "", "", NO_FINDINGS, ""]]
    elif not rows:
        received = f"{rows_received:,}".replace(",", ".")  # Vietnamese thousands: 1.234
        rows = [["", "", "", "", ALL_WELL.format(rows=received), ""]]
    return OutputTab(tab.title, tab.specs(), rows)


def assignments_tab(commune: str, registry: Registry) -> OutputTab:
    """A commune's ``Phân công``: each hamlet's district cadre, then the provincial ones."""
    tab = commune_layout()["assignments"]
    followers, cadres = registry.followers, registry.cadre_details
    rows: list[list[Any]] = []
    for code, name in registry.hamlets_of(commune):
        for cadre in followers.get(code) or [None]:
            c = cadres.get(cadre)
            rows.append(
                [
                    code,
                    name,
                    "Huyện" if cadre else "",
                    cadre or "",
                    c[0] if c else "(chưa phân công)",
                    c[1] if c else "",
                    c[2] if c else "",
                ]
            )
    for cadre in followers.get(commune, []):
        c = cadres.get(cadre)
        rows.append(
            [
                "",
                registry.commune_name(commune),
                "Tỉnh",
                cadre,
                c[0] if c else "",
                c[1] if c else "",
                c[2] if c else "",
            ]
        )
    return OutputTab(tab.title, tab.specs(), rows)


def guide_tab() -> OutputTab:
    tab = commune_layout()["guide"]
    return OutputTab(
        tab.title, tab.specs(), [[line] for line in commune_layout().extra["guide"]["lines"]]
    )


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def content_hash(tabs: list[OutputTab]) -> str:
    """A stable hash of what these tabs show (titles, headers, values)."""
    payload = [[t.title, t.headers, [[_jsonable(v) for v in r] for r in t.rows]] for t in tabs]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, default=str).encode()).hexdigest()
