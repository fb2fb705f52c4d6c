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

from ..controls import control_targets
from .base import Control, ControlledTab, Grid

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


def apply_controls(ws: Worksheet, target: ControlledTab) -> None:
    """Dropdowns and checks on an input tab's data rows, and the sheet protected so that
    only its ``header_rows`` are locked. Validations already on those columns (ours from
    before, or the commune's) are replaced."""
    first = target.header_rows + 1
    cells = {}
    for index, control in target.controls.items():
        letter = get_column_letter(index + 1)
        cells[f"{letter}{first}"] = (control, f"{letter}{first}:{letter}{LAST_ROW}")
    kept = [
        dv for dv in ws.data_validations.dataValidation if not any(_covers(dv, c) for c in cells)
    ]
    ws.data_validations.dataValidation = kept
    for control, cell_range in cells.values():
        dv = _validation(control)
        dv.add(cell_range)
        ws.add_data_validation(dv)
    width = max(ws.max_column, max(target.controls, default=0) + 1)
    for c in range(1, width + 1):
        ws.column_dimensions[get_column_letter(c)].protection = Protection(locked=False)
        for r in range(1, target.header_rows + 1):
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


def sheet_grids(wb: Workbook) -> dict[str, Grid]:
    """Every tab's values, by title."""
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb}


def controls_missing(ws: Worksheet, target: ControlledTab, compare_lists: bool = False) -> bool:
    """Whether the sheet lost its protection or one of ``target``'s validations; with
    ``compare_lists``, also whether a dropdown lists other values than it should."""
    if not ws.protection.sheet:
        return True
    for index, control in target.controls.items():
        cell = f"{get_column_letter(index + 1)}{target.header_rows + 1}"
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
    wb = openpyxl.load_workbook(path)
    try:
        if not is_provisioned(wb):
            return []
        targets = control_targets(sheet_grids(wb), list(hamlets or []))
        return [t.title for t in targets if controls_missing(wb[t.title], t)]
    finally:
        wb.close()
