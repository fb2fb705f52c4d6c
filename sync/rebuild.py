"""A lost state store, rebuilt from the master: each commune's last good rows come back
from the ``TH`` tabs (the rows that carry a ``Nguồn``, by ``Mã xã``), so the drop guard
and "keeps its last good rows" hold after the store is lost.

Values are read back with the same parsers as a commune's sheet (the master shows
``Có``/``Không``, rating labels, dates as dates), so the rebuilt rows are the rows the
store held. First-seen times are rebuilt from ``Tiến độ báo cáo``: a month shown on time
counts as seen by its due date, any other month as seen now.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

import pandas as pd

from .backends.base import Grid
from .config import Rules
from .layout import commune_layout, master_layout
from .registry import commune_code
from .state import tables_from_json
from .summarize import due_date
from .values import PARSERS, BadValue, is_blank

_ROW = re.compile(r"(\d+)\s*$")


def tab_titles() -> list[str]:
    """The master tabs a rebuild reads: the four ``TH`` tabs and ``Tiến độ báo cáo``."""
    layout = master_layout()
    return [layout[k].title for k in (*_input_keys(), "progress")]


def _input_keys() -> list[str]:
    return [t.key for t in commune_layout().by_role("input")]


def _value(kind: str, value: Any) -> Any:
    """A master cell back as the accepted value it was rendered from (None if blank)."""
    if is_blank(value):
        return None
    try:
        parsed = PARSERS[kind](value)
    except BadValue:
        return None
    return parsed.isoformat() if isinstance(parsed, date | datetime) else parsed


def _rows(grid: Grid) -> list[dict[str, Any]]:
    if not grid:
        return []
    header = [str(h).strip() if h is not None else "" for h in grid[0]]
    return [dict(zip(header, row, strict=False)) for row in grid[1:]]


def rebuild_tables(grids: dict[str, Grid]) -> dict[str, dict[str, pd.DataFrame]]:
    """Each commune's accepted tables from the master's ``TH`` tabs (``grids`` by title)."""
    master, commune = master_layout(), commune_layout()
    payload: dict[str, dict[str, dict]] = {}
    for key in _input_keys():
        tab, out_tab = commune[key], master[key]
        header_of = {c.key: c.header for c in out_tab.columns}
        columns = ["hamlet_code", *[c.key for c in tab.columns if c.key != "hamlet"]]
        for row in _rows(grids.get(out_tab.title, [])):
            source = row.get(header_of["source"])
            code = commune_code(row.get(header_of["commune_code"]))
            if is_blank(source) or not code:
                continue
            values = [str(row.get(header_of["hamlet_code"]) or "").strip()]
            for column in tab.columns:
                if column.key != "hamlet":
                    values.append(_value(column.type, row.get(header_of.get(column.key, ""))))
            found = _ROW.search(str(source))
            values += [int(found[1]) if found else 0, str(source)]
            tables = payload.setdefault(code, {})
            tables.setdefault(key, {"columns": [*columns, "_row", "source"], "rows": []})
            tables[key]["rows"].append(values)
    return {
        code: tables_from_json(json.dumps(tables, ensure_ascii=False))
        for code, tables in payload.items()
    }


def rebuild_first_seen(grids: dict[str, Grid], rules: Rules, now: datetime) -> pd.DataFrame:
    """(commune_code, hamlet_code, period, seen) for the meetings of the ``TH Sinh hoạt``
    tab: seen by the month's due date where ``Tiến độ báo cáo`` showed the month on time,
    else now."""
    master = master_layout()
    progress = master["progress"]
    header = {c.key: c.header for c in progress.columns}
    on_time = set()
    for row in _rows(grids.get(progress.title, [])):
        month = _value("month", row.get(header["month"]))
        if month and str(row.get(header["on_time"]) or "").strip() == "Có":
            on_time.add((commune_code(row.get(header["commune_code"])), month))
    meetings = master["meetings"]
    mh = {c.key: c.header for c in meetings.columns}
    out = []
    for row in _rows(grids.get(meetings.title, [])):
        commune, month = (
            commune_code(row.get(mh["commune_code"])),
            _value("month", row.get(mh["month"])),
        )
        hamlet = str(row.get(mh["hamlet_code"]) or "").strip()
        if is_blank(row.get(mh["source"])) or not (commune and month and hamlet):
            continue
        seen = (
            due_date(month, rules).isoformat() if (commune, month) in on_time else now.isoformat()
        )
        out.append((commune, hamlet, month, seen))
    return pd.DataFrame(out, columns=["commune_code", "hamlet_code", "period", "seen"])
