"""Provisioning's I/O on the local backend: a new commune workbook built from the template
tabs, and ``--repair`` putting back the controls a commune removed (:mod:`.xlsx_controls`)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.protection import SheetProtection
from openpyxl.worksheet.worksheet import Worksheet

from ..layout import commune_layout
from ..units import NUMBER_FORMATS, TEXT_FORMAT
from .base import OutputTab
from .local import fill_sheet, save_atomically
from .xlsx_controls import apply_controls, controls_missing, input_tabs, mark_provisioned


def _protect_whole(ws: Worksheet) -> None:
    ws.protection = SheetProtection(sheet=True)


def build_commune_workbook(
    code: str, hamlets: list[str], guide: OutputTab, assignments: OutputTab
) -> Workbook:
    """A new commune sheet from the template for commune ``code``: the ``guide`` tab, the
    input tabs with their controls (``hamlets`` in the hamlet dropdown), the
    ``assignments`` tab and an empty feedback tab; every tab but the inputs locked."""
    layout = commune_layout()
    wb = Workbook()
    wb.remove(wb.active)
    ws = wb.create_sheet(guide.title)
    fill_sheet(ws, guide)
    ws.freeze_panes = None
    _protect_whole(ws)
    for tab in layout.by_role("input"):
        ws = wb.create_sheet(tab.title)
        fill_sheet(ws, OutputTab(tab.title, tab.specs(), []))
        for i, column in enumerate(tab.columns, start=1):
            letter = get_column_letter(i)
            if column.type == "date":
                ws.column_dimensions[letter].number_format = NUMBER_FORMATS["date"]
            elif column.type in ("month", "hamlet", "text"):
                ws.column_dimensions[letter].number_format = TEXT_FORMAT
            elif column.type == "amount":
                ws.column_dimensions[letter].number_format = NUMBER_FORMATS["vnd"]
        apply_controls(ws, tab, 1, {c.key: i for i, c in enumerate(tab.columns, start=1)}, hamlets)
    ws = wb.create_sheet(assignments.title)
    fill_sheet(ws, assignments)
    _protect_whole(ws)
    feedback = layout["feedback"]
    ws = wb.create_sheet(feedback.title)
    fill_sheet(ws, OutputTab(feedback.title, feedback.specs(), []))
    _protect_whole(ws)
    wb.active = 0
    mark_provisioned(wb, code)
    return wb


def repair_workbook(path: Path, hamlets: list[str], code: str = "") -> list[str]:
    """Put back the dropdowns, checks and header lock of every input tab that lost them
    (or whose hamlet list is out of date); returns the titles repaired. The file is
    replaced atomically, only when something was repaired; values are not touched.
    From then on the workbook is checked by :func:`check_protections`."""
    wb = openpyxl.load_workbook(path)
    repaired = []
    for tab, ws, header, columns in input_tabs(wb):
        if controls_missing(ws, tab, header, columns, hamlets, compare_lists=True):
            apply_controls(ws, tab, header, columns, hamlets)
            repaired.append(ws.title)
    if repaired:
        mark_provisioned(wb, code)
        save_atomically(wb, path)
    return repaired
