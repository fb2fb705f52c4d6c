"""The checks of :mod:`sync.controls` in an .xlsx workbook: data validations on the input
tabs' data rows and the header rows locked; the mark that says provisioning made a workbook;
and which tabs lost their controls since."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.protection import SheetProtection
from openpyxl.worksheet.worksheet import Worksheet

from ..controls import Control, column_controls
from ..layout import Tab, commune_layout
from ..normalize import find_header, find_tab

LAST_ROW = 1_048_576  # validations reach the last row of the sheet
#: A custom document property that marks a workbook made (or repaired) by provisioning;
#: only such workbooks are checked for removed controls. Excel and LibreOffice keep it.
MARKER = "namcoso"


def _validation(control: Control) -> DataValidation:
    common: dict[str, Any] = {
        "allow_blank": True,
        "showErrorMessage": True,
        "showInputMessage": True,
        "errorStyle": "stop" if control.strict else "warning",
        "errorTitle": control.title,
        "error": control.message,
        "promptTitle": control.title if control.kind != "list" else "Chọn trong danh sách",
        "prompt": control.message,
    }
    if control.kind == "list":
        return DataValidation(type="list", formula1=control.formula(), **common)
    if control.maximum is not None:
        return DataValidation(
            type=control.kind,
            operator="between",
            formula1=str(control.minimum),
            formula2=str(control.maximum),
            **common,
        )
    return DataValidation(
        type=control.kind, operator="greaterThanOrEqual", formula1=str(control.minimum), **common
    )


#: What a commune may still do on a protected input tab (True = forbidden, openpyxl's sense).
INPUT_PROTECTION = {
    "sheet": True,
    "formatCells": False,
    "formatColumns": False,
    "formatRows": False,
    "insertRows": False,
    "deleteRows": False,
    "sort": False,
    "autoFilter": False,
    "insertHyperlinks": False,
}


def _covers(dv: DataValidation, cell: str) -> bool:
    return any(cell in rng for rng in dv.sqref.ranges)


def apply_controls(
    ws: Worksheet, tab: Tab, header_row: int, columns: dict[str, int], hamlets: Iterable[str]
) -> None:
    """Dropdowns and checks on an input tab's data rows, and the sheet protected so that
    only the rows from 1 to ``header_row`` (1-based) are locked.

    ``columns`` gives each column key's 1-based position. Validations already on those
    columns (ours from before, or the commune's) are replaced.
    """
    controls = column_controls(hamlets)
    first = header_row + 1
    targets = {}
    for column in tab.columns:
        if column.key in columns and column.type in controls:
            letter = get_column_letter(columns[column.key])
            targets[f"{letter}{first}"] = (
                controls[column.type],
                f"{letter}{first}:{letter}{LAST_ROW}",
            )
    kept = [
        dv for dv in ws.data_validations.dataValidation if not any(_covers(dv, c) for c in targets)
    ]
    ws.data_validations.dataValidation = kept
    for control, cells in targets.values():
        dv = _validation(control)
        dv.add(cells)
        ws.add_data_validation(dv)
    width = max(ws.max_column, max(columns.values(), default=1))
    for c in range(1, width + 1):
        ws.column_dimensions[get_column_letter(c)].protection = Protection(locked=False)
        for r in range(1, header_row + 1):
            ws.cell(row=r, column=c).protection = Protection(locked=True)
    for row in ws.iter_rows(min_row=first, max_col=width):
        for cell in row:
            cell.protection = Protection(locked=False)
    ws.protection = SheetProtection(**INPUT_PROTECTION)


def mark_provisioned(wb: Workbook, code: str) -> None:
    if not any(p.name == MARKER for p in wb.custom_doc_props.props):
        wb.custom_doc_props.append(StringProperty(name=MARKER, value=f"provisioned {code}"))


def is_provisioned(wb: Workbook) -> bool:
    """Whether ``wb`` was made or repaired by ``namcoso provision``."""
    return any(p.name == MARKER for p in wb.custom_doc_props.props)


def input_tabs(wb: Workbook) -> list[tuple[Tab, Worksheet, int, dict[str, int]]]:
    """Each input tab found in ``wb``: its sheet, header row (1-based) and column positions."""
    grids = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb}
    found = []
    for tab in commune_layout().by_role("input"):
        title = find_tab(grids, tab)
        if title is None:
            continue
        header, height, mapped = find_header(grids[title], tab)
        if not mapped:
            continue
        columns = {key: index + 1 for index, key in mapped.items()}
        found.append((tab, wb[title], header + height, columns))
    return found


def controls_missing(
    ws: Worksheet,
    tab: Tab,
    header_row: int,
    columns: dict[str, int],
    hamlets: list[str] | None,
    compare_lists: bool = False,
) -> bool:
    """Whether the sheet lost its protection or a validation. The hamlet dropdown is
    looked for only when ``hamlets`` is given (and fits a validation); with
    ``compare_lists`` it must also list exactly those hamlets."""
    if not ws.protection.sheet:
        return True
    controls = column_controls(hamlets or [])
    for column in tab.columns:
        control = controls.get(column.type)
        if column.key not in columns or control is None:
            continue
        cell = f"{get_column_letter(columns[column.key])}{header_row + 1}"
        dvs = [dv for dv in ws.data_validations.dataValidation if _covers(dv, cell)]
        if not any(dv.type == control.kind for dv in dvs):
            return True
        listed = any(dv.formula1 == control.formula() for dv in dvs)
        if compare_lists and control.kind == "list" and not listed:
            return True
    return False


def check_protections(path: Path, hamlets: Iterable[str] | None = None) -> list[str]:
    """The input tabs of a local commune workbook (titles as found) whose dropdowns,
    checks or header lock were removed. Pass the commune's ``hamlets`` (registry names)
    to check the hamlet dropdown too. A missing tab is not listed (sync reports it), and
    a workbook that provisioning never made or repaired has nothing to lose: ``[]``."""
    names = list(hamlets) if hamlets is not None else None
    wb = openpyxl.load_workbook(path)
    try:
        if not is_provisioned(wb):
            return []
        return [
            ws.title
            for tab, ws, header, columns in input_tabs(wb)
            if controls_missing(ws, tab, header, columns, names)
        ]
    finally:
        wb.close()
