"""Between Python cell values and the Sheets API's JSON: reading grids, building writes.

Pure functions, no I/O: what a tab looks like on the wire (``spreadsheets.get`` grid
data in, ``spreadsheets.batchUpdate`` requests out).
"""

from __future__ import annotations

import hashlib
import logging
import math
import numbers
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from ..units import NUMBER_FORMATS as PATTERNS
from ..units import SHEET_EPOCH
from .base import Grid, OutputTab
from .google_transport import encode_json

log = logging.getLogger("namcoso.google")

EPOCH = datetime.combine(SHEET_EPOCH, time())  # serial day 0, as a datetime
MAX_CELL_CHARS = 50_000  # Google rejects a longer cell, and with it the whole batch
#: Sheets' own advice is to keep one request body under about 2 MB.
MAX_BODY_BYTES = 2_000_000

#: Sheets' ``NumberFormat`` of each column format (patterns from :mod:`sync.units`).
NUMBER_FORMATS: dict[str, dict[str, str]] = {
    kind: {"type": sheets_type, "pattern": PATTERNS[kind]}
    for kind, sheets_type in {
        "date": "DATE",
        "month": "DATE",
        "datetime": "DATE_TIME",
        "percent": "PERCENT",
        "vnd": "NUMBER",
        "integer": "NUMBER",
    }.items()
}
HEADER_FORMAT = {
    "textFormat": {"bold": True},
    "backgroundColor": {"red": 0.867, "green": 0.922, "blue": 0.969},
    "wrapStrategy": "WRAP",
    "verticalAlignment": "MIDDLE",
}
HEADER_FIELDS = "userEnteredFormat(textFormat.bold,backgroundColor,wrapStrategy,verticalAlignment)"
GRID_FIELDS = "gridProperties(rowCount,columnCount,frozenRowCount)"
PIXELS_PER_CHARACTER = 7

ERROR_TEXT = {
    "NULL_VALUE": "#NULL!",
    "DIVIDE_BY_ZERO": "#DIV/0!",
    "VALUE": "#VALUE!",
    "REF": "#REF!",
    "NAME": "#NAME?",
    "NUM": "#NUM!",
    "N_A": "#N/A",
    "LOADING": "#LOADING",
    "ERROR": "#ERROR!",
}


#: The developer metadata key under which a sheet carries its commune code.
IDENTITY_KEY = "namcoso.commune"
TOKEN_PREFIX = "sheets-sha256:"


def content_token(grids: Mapping[str, Grid], titles: Iterable[str]) -> str:
    """A digest naming exactly these tabs' values (a tab absent from ``grids`` counts as
    absent, not as empty): what :meth:`GoogleBackend.read_commune` read, compared with
    what a feedback write sees."""
    digest = hashlib.sha256()
    for title in titles:
        digest.update(encode_json([title, grids.get(title)]))
        digest.update(b"\n")
    return TOKEN_PREFIX + digest.hexdigest()


def identity_of(spreadsheet: Mapping[str, Any]) -> str:
    """The commune code in a spreadsheet's developer metadata ("" when none). Several
    different codes come back joined by commas: never one of them guessed."""
    codes = {
        str(m.get("metadataValue", ""))
        for m in spreadsheet.get("developerMetadata") or []
        if m.get("metadataKey") == IDENTITY_KEY
    }
    return ",".join(sorted(codes))


def identity_request(code: str) -> dict[str, Any]:
    """The batchUpdate request that stamps ``code`` on a spreadsheet, where people do not
    see or edit it (spreadsheet-level developer metadata, visible to apps with access)."""
    return {
        "createDeveloperMetadata": {
            "developerMetadata": {
                "metadataKey": IDENTITY_KEY,
                "metadataValue": code,
                "location": {"spreadsheet": True},
                "visibility": "DOCUMENT",
            }
        }
    }


@dataclass
class SheetInfo:
    """What namcoso needs to know about one tab to rewrite it."""

    sheet_id: int
    title: str
    rows: int = 1000
    cols: int = 26
    frozen: int = 0


def sheet_info(properties: dict[str, Any]) -> SheetInfo:
    """A :class:`SheetInfo` from a ``SheetProperties`` JSON object."""
    grid = properties.get("gridProperties", {})
    return SheetInfo(
        sheet_id=int(properties.get("sheetId", 0)),
        title=str(properties.get("title", "")),
        rows=int(grid.get("rowCount", 0)),
        cols=int(grid.get("columnCount", 0)),
        frozen=int(grid.get("frozenRowCount", 0)),
    )


# -- reading ----------------------------------------------------------------------------


def read_value(cell: dict[str, Any]) -> Any:
    """A cell's ``effectiveValue`` as a Python value: what ``UNFORMATTED_VALUE`` with
    ``SERIAL_NUMBER`` dates gives (dates are serial numbers, formulas their results)."""
    value = cell.get("effectiveValue")
    if not value:
        return None
    if "stringValue" in value:
        return value["stringValue"]
    if "numberValue" in value:
        return value["numberValue"]
    if "boolValue" in value:
        return value["boolValue"]
    if "errorValue" in value:
        return ERROR_TEXT.get(value["errorValue"].get("type", ""), "#ERROR!")
    return None


def grid_of(sheet: dict[str, Any]) -> Grid:
    """One tab's grid data as rows of values, rectangular (padded with None), with
    trailing empty rows dropped — the shape the local backend's reader gives."""
    rows: Grid = []
    for block in sheet.get("data", []):
        start_row = int(block.get("startRow", 0))
        start_col = int(block.get("startColumn", 0))
        for r, row_data in enumerate(block.get("rowData", [])):
            values = [read_value(c) for c in row_data.get("values", [])]
            while len(rows) <= start_row + r:
                rows.append([])
            target = rows[start_row + r]
            while len(target) < start_col:
                target.append(None)
            target[start_col : start_col + len(values)] = values
    for row in rows:
        while row and row[-1] is None:
            row.pop()
    while rows and not rows[-1]:
        rows.pop()
    width = max((len(r) for r in rows), default=0)
    return [r + [None] * (width - len(r)) for r in rows]


# -- writing ----------------------------------------------------------------------------


def serial(value: date | datetime | time) -> float | int:
    """A date, datetime or time as a spreadsheet serial number (epoch 1899-12-30)."""
    if isinstance(value, datetime):
        naive = value.replace(tzinfo=None)
        return (naive - EPOCH).total_seconds() / 86400
    if isinstance(value, date):
        return (value - EPOCH.date()).days
    return (value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6) / 86400


def _missing(value: Any) -> bool:
    if value is None or (isinstance(value, str) and value == ""):
        return True
    try:
        return bool(value != value)  # NaN, NaT, pandas NA
    except (TypeError, ValueError):
        return False


def cell_data(value: Any) -> dict[str, Any]:
    """A ``CellData`` carrying only ``userEnteredValue``.

    Strings are always ``stringValue``: "=IMPORTXML(…)" stays text and never becomes a
    formula. Numbers are ``numberValue``, booleans ``boolValue``, dates serial numbers.
    """
    if _missing(value):
        return {}
    if isinstance(value, str):
        if len(value) > MAX_CELL_CHARS:
            log.warning("Ô dài hơn %d ký tự bị cắt bớt khi ghi lên Google Sheets", MAX_CELL_CHARS)
            value = value[:MAX_CELL_CHARS]
        return {"userEnteredValue": {"stringValue": value}}
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return {"userEnteredValue": {"boolValue": bool(value)}}
    if isinstance(value, date | time):
        return {"userEnteredValue": {"numberValue": serial(value)}}
    if isinstance(value, numbers.Integral):
        return {"userEnteredValue": {"numberValue": int(value)}}
    if isinstance(value, numbers.Real | Decimal):
        number = float(value)
        if math.isinf(number):
            return {}
        return {"userEnteredValue": {"numberValue": number}}
    return {"userEnteredValue": {"stringValue": str(value)}}


def grid_size(tab: OutputTab) -> tuple[int, int]:
    """Rows and columns the tab's grid is resized to: exactly what is written, except
    that Google refuses to freeze every row, so a header-only tab keeps one empty row."""
    grid = tab.grid()
    rows = max(len(grid), tab.frozen_rows + 1, 1)
    cols = max(len(tab.columns), *(len(r) for r in grid), 1)
    return rows, cols


def choose_sheet_id(title: str, taken: set[int]) -> int:
    """A stable sheetId for a new tab (from its title), not colliding with ``taken``."""
    sheet_id = (zlib.crc32(title.encode()) & 0x7FFFFFFF) or 1
    while sheet_id in taken:
        sheet_id = sheet_id % 0x7FFFFFFF + 1
    return sheet_id


def _column_format(tab: OutputTab, index: int) -> str | None:
    spec = tab.columns[index].format if index < len(tab.columns) else None
    if spec in NUMBER_FORMATS:
        return spec
    for row in tab.rows:  # a column of dates with no declared format still reads as dates
        value = row[index] if index < len(row) else None
        if isinstance(value, datetime):
            return "datetime"
        if isinstance(value, date):
            return "date"
        if not _missing(value):
            return None
    return None


def _grid_range(sheet_id: int, rows: tuple[int, int], cols: tuple[int, int]) -> dict[str, int]:
    return {
        "sheetId": sheet_id,
        "startRowIndex": rows[0],
        "endRowIndex": rows[1],
        "startColumnIndex": cols[0],
        "endColumnIndex": cols[1],
    }


def tab_requests(
    tab: OutputTab, existing: SheetInfo | None, taken: set[int]
) -> tuple[list[dict[str, Any]], SheetInfo]:
    """The batchUpdate requests that replace one tab whole, and the tab as it will be.

    ``addSheet`` (with a sheetId chosen here, so the next requests can name it) or
    ``updateSheetProperties`` to resize the grid to exactly what is written and freeze
    the header; ``updateCells`` over the whole grid with ``fields: userEnteredValue``,
    which also clears every cell the new rows do not cover; then number formats, the
    header style and column widths. The sheetId stays, so charts and protections do too.
    """
    rows, cols = grid_size(tab)
    if existing is None:
        sheet_id = choose_sheet_id(tab.title, taken)
        grid_props = {"rowCount": rows, "columnCount": cols, "frozenRowCount": tab.frozen_rows}
        first = {
            "addSheet": {
                "properties": {
                    "sheetId": sheet_id,
                    "title": tab.title,
                    "gridProperties": grid_props,
                }
            }
        }
    else:
        sheet_id = existing.sheet_id
        grid_props = {"rowCount": rows, "columnCount": cols, "frozenRowCount": tab.frozen_rows}
        first = {
            "updateSheetProperties": {
                "properties": {"sheetId": sheet_id, "gridProperties": grid_props},
                "fields": GRID_FIELDS,
            }
        }
    requests: list[dict[str, Any]] = [first]
    row_data = []
    for row in tab.grid():
        cells = [cell_data(v) for v in row]
        while cells and not cells[-1]:
            cells.pop()
        row_data.append({"values": cells} if cells else {})
    requests.append(
        {
            "updateCells": {
                "range": _grid_range(sheet_id, (0, rows), (0, cols)),
                "rows": row_data,
                "fields": "userEnteredValue",
            }
        }
    )
    if rows > 1:
        requests.append(
            {
                "repeatCell": {
                    "range": _grid_range(sheet_id, (1, rows), (0, cols)),
                    "cell": {},
                    "fields": "userEnteredFormat.numberFormat",
                }
            }
        )
        for c in range(len(tab.columns)):
            kind = _column_format(tab, c)
            if kind:
                requests.append(
                    {
                        "repeatCell": {
                            "range": _grid_range(sheet_id, (1, rows), (c, c + 1)),
                            "cell": {"userEnteredFormat": {"numberFormat": NUMBER_FORMATS[kind]}},
                            "fields": "userEnteredFormat.numberFormat",
                        }
                    }
                )
    if tab.frozen_rows:
        requests.append(
            {
                "repeatCell": {
                    "range": _grid_range(sheet_id, (0, tab.frozen_rows), (0, cols)),
                    "cell": {"userEnteredFormat": HEADER_FORMAT},
                    "fields": HEADER_FIELDS,
                }
            }
        )
    for c, spec in enumerate(tab.columns):
        requests.append(
            {
                "updateDimensionProperties": {
                    "range": {
                        "sheetId": sheet_id,
                        "dimension": "COLUMNS",
                        "startIndex": c,
                        "endIndex": c + 1,
                    },
                    "properties": {"pixelSize": round(spec.width * PIXELS_PER_CHARACTER)},
                    "fields": "pixelSize",
                }
            }
        )
    return requests, SheetInfo(sheet_id, tab.title, rows, cols, tab.frozen_rows)


def pack(
    groups: Iterable[list[dict[str, Any]]], max_bytes: int = MAX_BODY_BYTES
) -> list[list[dict[str, Any]]]:
    """Requests grouped into as few batchUpdate bodies as fit in ``max_bytes`` each.

    A group (all requests of one tab) is never split, so every tab stays atomic; a
    group larger than ``max_bytes`` alone goes in a body of its own.
    """
    budget = max_bytes - len(b'{"requests":[]}')
    batches: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    used = 0
    for group in groups:
        size = sum(len(encode_json(r)) + 1 for r in group)
        if current and used + size > budget:
            batches.append(current)
            current, used = [], 0
        if size > budget:
            log.warning(
                "Một trang cần %d byte, vượt ngưỡng %d byte của một lệnh ghi", size, max_bytes
            )
        current.extend(group)
        used += size
    if current:
        batches.append(current)
    return batches
