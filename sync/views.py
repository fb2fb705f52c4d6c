"""How the local master looks: styles and charts added to ``master.xlsx`` on each write."""

from __future__ import annotations

from openpyxl.workbook import Workbook

from .backends.base import OutputTab


def decorate_master(wb: Workbook, tabs: list[OutputTab]) -> None:
    """Filters on every written tab (header styles and widths come with the tab)."""
    for tab in tabs:
        ws = wb[tab.title]
        if ws.max_row > 1:
            ws.auto_filter.ref = ws.dimensions
