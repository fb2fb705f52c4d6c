"""The master's look in ``master.xlsx``: filters, the flags as conditional formats, and the
charts of the ``Biểu đồ`` tab, drawn with openpyxl.

What is flagged (:mod:`sync.flags`) and what the charts plot (:mod:`sync.charts`) are pure
models; this module only renders them. :func:`master_decorator` is the local backend's
``decorate`` hook: it runs after the written tabs are rebuilt and before the workbook is
saved. Header styles, widths, number formats and the frozen header row come with every
written tab already (``fill_sheet``).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ..charts import chart_tab, charts_layout
from ..config import Rules
from ..flags import RATING_COLOURS, Flag, flags
from ..layout import Column, Tab, master_layout
from .base import Grid, OutputTab
from .local import Decorator, replace_tabs

# -- flags ------------------------------------------------------------------------------


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
    best, *_, worst = RATING_COLOURS  # the rating columns, in vocab order
    _plot(ratings, ws, col[best], col[worst], col["rating_commune"], n)
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
