"""The master's look on Google Sheets: filters, flags and charts as ``batchUpdate``
requests, sent once when the master's tabs are created (see :func:`google_format_requests`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from ..charts import charts_layout
from ..config import Rules
from ..findings import column_letter
from ..flags import RATING_COLOURS, Flag, flags
from ..layout import Tab, master_layout
from .base import OutputTab

#: Bump when :func:`google_format_requests` changes what it sends, so the Google backend
#: knows to clear a tab's old rules and charts and send the new ones.
FORMAT_VERSION = 1


def _rgb(hex_colour: str) -> dict[str, dict[str, float]]:
    red, green, blue = (int(hex_colour[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return {"rgbColor": {"red": round(red, 3), "green": round(green, 3), "blue": round(blue, 3)}}


def _typed_number(value: float) -> str:
    """A number as a formula free of decimal separators (``0.85`` → ``=17/20``): Google
    parses condition values in the spreadsheet's locale, where ``0.85`` may be text."""
    f = Fraction(str(value)).limit_denominator(10_000)
    return f"={f.numerator}/{f.denominator}"


def _google_rule(flag: Flag, tab: Tab, sheet_id: int, index: int) -> dict[str, Any]:
    c = tab.keys.index(flag.column)
    letter = column_letter(c)
    if flag.whole_row:
        cells = {
            "sheetId": sheet_id,
            "startRowIndex": 1,
            "startColumnIndex": 0,
            "endColumnIndex": len(tab.columns),
        }
        condition = {
            "type": "CUSTOM_FORMULA",
            "values": [{"userEnteredValue": f'=${letter}2="{flag.value}"'}],
        }
    else:
        cells = {
            "sheetId": sheet_id,
            "startRowIndex": 1,
            "startColumnIndex": c,
            "endColumnIndex": c + 1,
        }
        if flag.when == "below":
            condition = {
                "type": "NUMBER_LESS",
                "values": [{"userEnteredValue": _typed_number(float(flag.value or 0))}],
            }
        elif flag.when == "is":
            condition = {"type": "TEXT_EQ", "values": [{"userEnteredValue": str(flag.value)}]}
        else:
            condition = {"type": "NOT_BLANK"}
    fill, text = flag.colours
    style = {"backgroundColorStyle": _rgb(fill), "textFormat": {"foregroundColorStyle": _rgb(text)}}
    return {
        "addConditionalFormatRule": {
            "index": index,
            "rule": {"ranges": [cells], "booleanRule": {"condition": condition, "format": style}},
        }
    }


def _source(sheet_id: int, column: int, last: int | None = None) -> dict[str, Any]:
    """Column(s) ``column``..``last`` (0-based) from the header row down, open-ended."""
    return {
        "sourceRange": {
            "sources": [
                {
                    "sheetId": sheet_id,
                    "startRowIndex": 0,
                    "startColumnIndex": column,
                    "endColumnIndex": (last if last is not None else column) + 1,
                }
            ]
        }
    }


def _google_chart(
    sheet_id: int,
    title: str,
    kind: str,
    domain: int,
    series: list[tuple[int, str]],
    row: int,
    size: tuple[int, int],
    stacked: bool = False,
    percent: bool = False,
) -> dict[str, Any]:
    value_axis = "BOTTOM_AXIS" if kind == "BAR" else "LEFT_AXIS"
    axis: dict[str, Any] = {"position": value_axis}
    if percent:
        axis["viewWindowOptions"] = {"viewWindowMin": 0, "viewWindowMax": 1}
    spec: dict[str, Any] = {
        "chartType": kind,
        "legendPosition": "BOTTOM_LEGEND",
        "headerCount": 1,
        "axis": [axis],
        "domains": [{"domain": _source(sheet_id, domain)}],
        "series": [
            {"series": _source(sheet_id, c), "targetAxis": value_axis, "colorStyle": _rgb(colour)}
            for c, colour in series
        ],
    }
    if stacked:
        spec["stackedType"] = "STACKED"
    anchor = {"sheetId": sheet_id, "rowIndex": row, "columnIndex": len(charts_layout().keys) + 1}
    return {
        "addChart": {
            "chart": {
                "spec": {"title": title, "basicChart": spec},
                "position": {
                    "overlayPosition": {
                        "anchorCell": anchor,
                        "widthPixels": size[0],
                        "heightPixels": size[1],
                    }
                },
            }
        }
    }


def _google_charts(sheet_id: int) -> list[dict[str, Any]]:
    k = charts_layout().keys.index
    return [
        _google_chart(
            sheet_id,
            "Xếp loại chi bộ theo xã (năm gần nhất)",
            "BAR",
            k("rating_commune"),
            [(k(code), colour) for code, colour in RATING_COLOURS.items()],
            row=1,
            size=(720, 560),
            stacked=True,
        ),
        _google_chart(
            sheet_id,
            "Tỷ lệ đảng viên dự sinh hoạt bình quân toàn huyện, theo tháng",
            "LINE",
            k("month"),
            [(k("avg_attendance"), "1F4E79"), (k("threshold"), "C00000")],
            row=31,
            size=(720, 320),
            percent=True,
        ),
        _google_chart(
            sheet_id,
            "Tiến độ báo cáo theo xã (các tháng đã đến hạn)",
            "COLUMN",
            k("progress_commune"),
            [(k("completeness"), "2E75B6"), (k("on_time"), "A9D18E")],
            row=49,
            size=(900, 360),
            percent=True,
        ),
    ]


def google_format_requests(
    sheet_ids: Mapping[str, int], tabs: Iterable[OutputTab | str], rules: Rules
) -> list[dict[str, Any]]:
    """The master's look on Google Sheets, as ``spreadsheets.batchUpdate`` requests.

    Contract with the Google backend:

    - ``sheet_ids`` maps each existing tab title to its sheetId; ``tabs`` (output tabs or
      titles) are the master tabs to format: those just created, or whose format version
      (:data:`FORMAT_VERSION`, to be kept by the backend per tab) changed. Tabs that are
      not master output tabs (or the ``Biểu đồ`` tab) or are missing from ``sheet_ids``
      are skipped.
    - Send the requests **once**, in one batchUpdate after the tabs exist (right after
      the batch that creates them): they add conditional formats, a basic filter and
      charts, which would pile up if sent on every write. Every range is open-ended
      (to the last row), so later rewrites that resize a tab keep them; rewrite tabs
      in place (keep their sheetId).
    - When the version changes, first send :func:`google_unformat_requests` for each
      tab, built from ``spreadsheets.get`` with ``fields=sheets(properties(sheetId,
      title),conditionalFormats,charts(chartId),basicFilter)``.
    - The charts live on the ``Biểu đồ`` tab and plot its tables (written like any
      other output tab, from :func:`chart_tab`); their ranges are open-ended too.
    - Number formats, column widths and the frozen header are not here: the backend's
      own tab rewrite (:func:`sync.backends.google_cells.tab_requests`) sets them on
      every write.

    Thresholds come from ``rules``; they are baked into the rules, so a changed
    threshold needs a version bump or a re-send (unformat, then format).
    """
    outputs = {t.title: t for t in master_layout().by_role("output")}
    charts = charts_layout()
    outputs[charts.title] = charts
    titles = [t.title if isinstance(t, OutputTab) else t for t in tabs]
    requests: list[dict[str, Any]] = []
    for title in dict.fromkeys(titles):
        tab = outputs.get(title)
        sheet_id = sheet_ids.get(title)
        if tab is None or sheet_id is None:
            continue
        if tab is charts:
            requests.extend(_google_charts(sheet_id))
            continue
        requests.append({"setBasicFilter": {"filter": {"range": {"sheetId": sheet_id}}}})
        own = [f for f in flags(rules) if f.tab == tab.key]
        requests.extend(_google_rule(f, tab, sheet_id, i) for i, f in enumerate(own))
    return requests


def google_unformat_requests(sheet: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Requests that remove what :func:`google_format_requests` added to one tab: its
    conditional formats, charts and basic filter. ``sheet`` is one ``Sheet`` resource of
    ``spreadsheets.get`` (with ``conditionalFormats``, ``charts`` and ``basicFilter``)."""
    sheet_id = int(sheet.get("properties", {}).get("sheetId", 0))
    requests: list[dict[str, Any]] = [
        {"deleteConditionalFormatRule": {"sheetId": sheet_id, "index": 0}}
        for _ in sheet.get("conditionalFormats", [])
    ]
    requests += [
        {"deleteEmbeddedObject": {"objectId": int(chart["chartId"])}}
        for chart in sheet.get("charts", [])
        if "chartId" in chart
    ]
    if sheet.get("basicFilter"):
        requests.append({"clearBasicFilter": {"sheetId": sheet_id}})
    return requests
