"""How the master looks: flags, filters and charts, on Excel and on Google Sheets.

One description, two renderings:

- :func:`flags` — which cells are coloured and why (thresholds from ``[rules]``);
- :func:`chart_tab` — the values of the ``Biểu đồ`` tab, computed from the summary
  tabs (pure), and the three charts drawn from it;
- :func:`master_decorator` / :func:`decorate_master` — the local backend calls it
  after rebuilding the written tabs and before saving ``master.xlsx``;
- :func:`google_format_requests` — the same look as ``spreadsheets.batchUpdate``
  requests, sent once per tab by the Google backend.

Header styles, widths, number formats and the frozen header row come with every
written tab already (``fill_sheet`` locally, ``tab_requests`` on Google).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from .backends.base import Grid, OutputTab
from .backends.local import Decorator, replace_tabs
from .config import Rules
from .findings import ERROR, WARNING
from .layout import Column, Tab, master_layout, vocab
from .summarize import (
    DISTRICT,
    STATUS_LATE,
    STATUS_NONE,
    STATUS_NOT_DUE,
    STATUS_OK,
    STATUS_PARTIAL,
    STATUS_STALE,
    STATUS_UNREADABLE,
)
from .values import map_distinct

#: Bump when :func:`google_format_requests` changes what it sends, so the Google backend
#: knows to clear a tab's old rules and charts and send the new ones.
FORMAT_VERSION = 1

# (fill, text colour), RRGGBB
BAD = ("FFC7CE", "9C0006")
WARN = ("FFEB9C", "9C5700")
GOOD = ("C6EFCE", "006100")
STATUS_COLOURS = {
    STATUS_LATE: WARN,
    STATUS_PARTIAL: ("F8CBAD", "843C0C"),
    STATUS_NONE: BAD,
    STATUS_UNREADABLE: ("D9D2E9", "3F3151"),
    STATUS_STALE: ("D9D9D9", "404040"),
}
RATING_COLOURS = {"HTXSNV": "1B5E20", "HTTNV": "66BB6A", "HTNV": "FFB300", "KHTNV": "C62828"}

# The `Biểu đồ` tab, until templates/master.toml describes it (same format as there).


def charts_layout() -> Tab:
    """The ``Biểu đồ`` tab of ``templates/master.toml``."""
    return master_layout()["charts"]


# -- flags ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    """One conditional format: in tab ``tab`` (master key), colour the cells of column
    ``column`` (or the whole row) when its value is ``below`` a number, ``is`` a text, or
    is ``filled`` (not blank)."""

    tab: str
    column: str
    when: str  # "below" | "is" | "filled"
    value: float | str | None
    colours: tuple[str, str]
    whole_row: bool = False


def flags(rules: Rules) -> list[Flag]:
    """Every conditional format of the master, with the thresholds of ``rules``."""
    out = [
        Flag("meetings", "attendance", "below", rules.attendance_threshold, BAD),
        Flag("meeting_stats", "avg_attendance", "below", rules.attendance_threshold, BAD),
        Flag("cadre_stats", "attendance", "below", rules.cadre_attendance_threshold, BAD),
    ]
    for status, colours in STATUS_COLOURS.items():
        out.append(Flag("progress", "status", "is", status, colours, whole_row=True))
    out.append(Flag("progress", "status", "is", STATUS_OK, GOOD))
    out.append(Flag("findings", "severity", "is", ERROR, BAD, whole_row=True))
    out.append(Flag("findings", "severity", "is", WARNING, WARN, whole_row=True))
    for key in ("meeting_stats", "cadre_stats", "household_stats"):
        out.append(Flag(key, "warning", "filled", None, WARN))
    return out


def _excel_condition(flag: Flag, letter: str) -> str:
    """The flag as an Excel formula for the first data row (row 2), relative below it."""
    ref = f"${letter}2" if flag.whole_row else f"{letter}2"
    if flag.when == "below":
        return f"AND(ISNUMBER({ref}),{ref}<{flag.value})"
    if flag.when == "is":
        return f'{ref}="{flag.value}"'
    return f"LEN(TRIM({ref}))>0"


def _header_index(ws: Worksheet) -> dict[str, int]:
    """Header text → 1-based column, from row 1."""
    row = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
    return {str(v): i for i, v in enumerate(row, start=1) if v not in (None, "")}


def _add_flags(ws: Worksheet, tab: Tab, rules: Rules) -> None:
    columns = _header_index(ws)
    last_row = max(ws.max_row, 2)
    last_col = get_column_letter(max(ws.max_column, len(tab.columns)))
    for flag in flags(rules):
        if flag.tab != tab.key:
            continue
        index = columns.get(tab.column(flag.column).header)
        if index is None:
            continue
        letter = get_column_letter(index)
        cells = f"A2:{last_col}{last_row}" if flag.whole_row else f"{letter}2:{letter}{last_row}"
        fill, text = flag.colours
        rule = FormulaRule(
            formula=[_excel_condition(flag, letter)],
            fill=PatternFill("solid", start_color=fill, end_color=fill),
            font=Font(color=text),
        )
        ws.conditional_formatting.add(cells, rule)


# -- the chart tab ----------------------------------------------------------------------


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


def _shown_month(month: str) -> str:
    """``2018-03`` → ``03/2018``."""
    return f"{month[5:7]}/{month[:4]}" if len(month) == 7 and month[4] == "-" else month


def _rating_rows(grid: Grid | None) -> list[list[Any]]:
    """The latest year's commune rows of ``Thống kê xếp loại`` (not ``Toàn huyện``)."""
    codes = [r.code for r in vocab().ratings]
    keys = ["commune_code", "commune_name", "year", *codes]
    columns = _column_values(grid, master_layout()["rating_stats"], keys)
    if columns is None:
        return []
    rows = zip(*columns.values(), strict=True)
    records = [
        r
        for r in (dict(zip(keys, values, strict=True)) for values in rows)
        if r["commune_code"] not in (None, "") and r["commune_name"] != DISTRICT
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
    months = pd.Series(columns["month"], dtype=object)
    named = map_distinct(months, lambda m: isinstance(m, str) and m != "", False, bool)
    shares = _numbers(columns["attendance"])
    keep = named & ~np.isnan(shares)
    by_month = (
        pd.DataFrame({"month": months[keep], "share": shares[keep]})
        .groupby("month", sort=True)["share"]
        .agg(["sum", "count"])
    )
    return [
        [_shown_month(m), total / n, threshold]
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


def _sheet_grid(ws: Worksheet) -> Grid:
    return [list(row) for row in ws.iter_rows(values_only=True)]


def _block_height(ws: Worksheet, column: int) -> int:
    """Data rows of the table starting at ``column`` (1-based), below the header."""
    rows = 0
    for (value,) in ws.iter_rows(min_row=2, min_col=column, max_col=column, values_only=True):
        if value in (None, ""):
            break
        rows += 1
    return rows


def _plot(
    chart: BarChart | LineChart, ws: Worksheet, first: int, last: int, labels: int, rows: int
) -> None:
    """Series from columns ``first``..``last`` (titles on row 1, ``rows`` data rows), with
    the categories of column ``labels`` read as text (``set_categories`` would declare
    them numbers)."""
    end = max(rows, 1) + 1
    chart.add_data(
        Reference(ws, min_col=first, max_col=last, min_row=1, max_row=end), titles_from_data=True
    )
    categories = Reference(ws, min_col=labels, min_row=2, max_row=end)
    for series in chart.series:
        series.cat = AxDataSource(strRef=StrRef(f=str(categories)))


def _show_axes(chart: BarChart | LineChart) -> None:
    # openpyxl ≥ 3.1 marks axes deleted by default; Excel then draws none.
    chart.x_axis.delete = False
    chart.y_axis.delete = False


def _add_charts(ws: Worksheet, rules: Rules) -> None:
    """The three charts of the ``Biểu đồ`` tab, to the right of its tables."""
    keys = charts_layout().keys
    col = {k: i + 1 for i, k in enumerate(keys)}
    anchor = get_column_letter(len(keys) + 2)

    n = _block_height(ws, col["rating_commune"])
    year = ws.cell(row=2, column=col["rating_year"]).value
    ratings = BarChart()
    ratings.type, ratings.grouping, ratings.overlap = "bar", "stacked", 100
    ratings.title = f"Xếp loại chi bộ năm {year} theo xã" if year else "Xếp loại chi bộ theo xã"
    _plot(ratings, ws, col["HTXSNV"], col["KHTNV"], col["rating_commune"], n)
    for series, code in zip(ratings.series, RATING_COLOURS, strict=False):
        series.graphicalProperties.solidFill = RATING_COLOURS[code]
        series.graphicalProperties.line.solidFill = RATING_COLOURS[code]
    ratings.x_axis.scaling.orientation = "maxMin"  # first commune on top
    ratings.y_axis.crosses = "max"  # ... and the counts below, not above
    ratings.y_axis.title = "Số chi bộ"
    ratings.y_axis.majorGridlines = None
    ratings.legend.position = "b"
    ratings.width, ratings.height = 18, max(8.0, 0.55 * n + 3)
    _show_axes(ratings)
    ws.add_chart(ratings, f"{anchor}2")

    months = _block_height(ws, col["month"])
    attendance = LineChart()
    attendance.title = "Tỷ lệ đảng viên dự sinh hoạt bình quân toàn huyện, theo tháng"
    _plot(attendance, ws, col["avg_attendance"], col["threshold"], col["month"], months)
    values = [
        v
        for (v,) in ws.iter_rows(
            min_row=2,
            max_row=months + 1,
            min_col=col["avg_attendance"],
            max_col=col["avg_attendance"],
            values_only=True,
        )
        if isinstance(v, int | float)
    ]
    low = min([*values, rules.attendance_threshold])
    attendance.y_axis.scaling.min = max(0.0, int(low * 10 - 1) / 10)
    attendance.y_axis.scaling.max = 1.0
    attendance.y_axis.number_format = "0%"
    attendance.y_axis.title = "Tỷ lệ dự"
    line, limit = attendance.series[0], attendance.series[1]
    line.graphicalProperties.line.solidFill = "1F4E79"
    line.graphicalProperties.line.width = 28575
    line.smooth = False
    limit.graphicalProperties.line.solidFill = "C00000"
    limit.graphicalProperties.line.dashStyle = "dash"
    limit.smooth = False
    attendance.legend.position = "b"
    attendance.width, attendance.height = 18, 8
    _show_axes(attendance)
    below = 2 + int(ratings.height / 0.5) + 2
    ws.add_chart(attendance, f"{anchor}{below}")

    m = _block_height(ws, col["progress_commune"])
    progress = BarChart()
    progress.type, progress.grouping = "col", "clustered"
    progress.title = "Tiến độ báo cáo theo xã (các tháng đã đến hạn)"
    _plot(progress, ws, col["completeness"], col["on_time"], col["progress_commune"], m)
    progress.series[0].graphicalProperties.solidFill = "2E75B6"
    progress.series[1].graphicalProperties.solidFill = "A9D18E"
    progress.y_axis.scaling.min, progress.y_axis.scaling.max = 0.0, 1.0
    progress.y_axis.number_format = "0%"
    progress.legend.position = "b"
    progress.width, progress.height = 24, 9
    _show_axes(progress)
    ws.add_chart(progress, f"{anchor}{below + 18}")


# -- the local master -------------------------------------------------------------------


def _fit_header(ws: Worksheet, columns: Iterable[Column]) -> None:
    """Make row 1 tall enough for its wrapped headers (LibreOffice does not do it)."""
    lines = 1
    for column in columns:
        width = max(int(column.width) - 1, 1)
        words, line, count = str(column.header or "").split(), 0, 1
        for word in words:
            if line and line + 1 + len(word) > width:
                count, line = count + 1, len(word)
            else:
                line += len(word) + (1 if line else 0)
        lines = max(lines, count)
    ws.row_dimensions[1].height = 15 * min(lines, 4) + 3


def _place_after_registry(wb: Workbook, ws: Worksheet) -> None:
    registry = [t.title for t in master_layout().by_role("registry")]
    positions = [wb.sheetnames.index(t) for t in registry if t in wb.sheetnames]
    target = max(positions) + 1 if positions else 0
    wb.move_sheet(ws, offset=target - wb.sheetnames.index(ws.title))


def decorate_master(wb: Workbook, tabs: list[OutputTab], rules: Rules | None = None) -> None:
    """Filters and conditional formats on the tabs just written, then the ``Biểu đồ`` tab
    rebuilt with its charts (openpyxl drops the charts of a workbook it loads), right
    after the district's tabs.

    Tabs not written this run keep the filters and formats they were saved with. The
    chart data comes from ``wb`` itself, which holds every tab (written or not); the
    chart tab is taken as written when it is among ``tabs``.
    """
    rules = rules or Rules()
    charts = charts_layout()
    outputs = {t.title: t for t in master_layout().by_role("output")}
    written = {t.title for t in tabs}
    for title in written:
        if title == charts.title or title not in wb.sheetnames:
            continue
        ws = wb[title]
        ws.auto_filter.ref = f"A1:{get_column_letter(max(ws.max_column, 1))}{max(ws.max_row, 2)}"
        if title in outputs:
            _add_flags(ws, outputs[title], rules)
            _fit_header(ws, outputs[title].columns)
    if charts.title not in written:
        layout = master_layout()
        sources = [layout[k].title for k in ("rating_stats", "meetings", "progress")]
        grids = {t: _sheet_grid(wb[t]) for t in sources if t in wb.sheetnames}
        replace_tabs(wb, [chart_tab(grids, rules)])
    ws = wb[charts.title]
    _place_after_registry(wb, ws)
    _fit_header(ws, charts.columns)
    _add_charts(ws, rules)


def master_decorator(rules: Rules) -> Decorator:
    """The local backend's ``decorate`` hook, with the project's thresholds."""
    return partial(decorate_master, rules=rules)
