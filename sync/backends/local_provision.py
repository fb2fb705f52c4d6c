"""``namcoso provision``'s I/O on the local backend: a new commune workbook built from the
template tabs, ``--repair`` putting back the controls a commune removed
(:mod:`.xlsx_controls`), and the new file names written into ``Danh mục xã``. The flow itself
is :func:`sync.provision.provision`."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.protection import SheetProtection
from openpyxl.worksheet.worksheet import Worksheet

from ..charts import charts_layout
from ..config import Config
from ..controls import control_targets
from ..errors import MasterBusy, MasterUnavailable, SourceUnavailable
from ..layout import master_layout
from ..units import NUMBER_FORMATS
from .base import ControlledTab, Grid, NewCommuneSheet, OutputTab
from .local import (
    READ_ERRORS,
    LocalBackend,
    file_fingerprint,
    fill_sheet,
    lock_files,
    save_atomically,
)
from .local_views import master_decorator
from .xlsx_controls import (
    apply_controls,
    check_protections,
    controls_missing,
    mark_provisioned,
    sheet_grids,
)


def _protect_whole(ws: Worksheet) -> None:
    ws.protection = SheetProtection(sheet=True)


def _fill_locked(wb: Workbook, tab: OutputTab) -> Worksheet:
    ws = wb.create_sheet(tab.title)
    fill_sheet(ws, tab)
    _protect_whole(ws)
    return ws


def build_commune_workbook(sheet: NewCommuneSheet) -> Workbook:
    """``sheet`` as a workbook: the guide, the input tabs with their controls and column
    formats, the assignments and the feedback tab; every tab but the inputs locked, and
    the mark that says provisioning made it."""
    wb = Workbook()
    wb.remove(wb.active)
    _fill_locked(wb, sheet.guide).freeze_panes = None
    for tab, controlled in sheet.inputs:
        ws = wb.create_sheet(tab.title)
        fill_sheet(ws, tab)
        for i, spec in enumerate(tab.columns, start=1):
            pattern = NUMBER_FORMATS.get(spec.format or "")
            if pattern:
                ws.column_dimensions[get_column_letter(i)].number_format = pattern
        apply_controls(ws, controlled)
    _fill_locked(wb, sheet.assignments)
    _fill_locked(wb, sheet.feedback)
    wb.active = 0
    mark_provisioned(wb, sheet.code)
    return wb


def _repair(wb: Workbook, code: str, tabs: list[ControlledTab]) -> list[str]:
    repaired = []
    for target in tabs:
        ws = wb[target.title] if target.title in wb.sheetnames else None
        if ws is not None and controls_missing(ws, target, compare_lists=True):
            apply_controls(ws, target)
            repaired.append(target.title)
    if repaired:
        mark_provisioned(wb, code)
    return repaired


def repair_workbook(path: Path, hamlets: list[str], code: str = "") -> list[str]:
    """Put back the dropdowns, checks and header lock of every input tab that lost them
    (or whose hamlet list is out of date); returns the titles repaired. The file is
    replaced atomically, only when something was repaired; values are not touched.
    From then on the workbook is checked by :func:`check_protections`."""
    wb = openpyxl.load_workbook(path)
    repaired = _repair(wb, code, control_targets(sheet_grids(wb), hamlets))
    if repaired:
        save_atomically(wb, path)
    return repaired


class LocalProvisioning(LocalBackend):
    """The local backend with what provisioning needs (see
    :class:`~sync.backends.base.ProvisioningBackend`): commune workbooks in
    ``communes_dir``, named in the registry by file name."""

    source_kind = "tệp .xlsx"

    @classmethod
    def for_config(cls, config: Config) -> LocalProvisioning:
        titles = [t.title for t in master_layout().by_role("registry")]
        return cls(
            config.master, config.communes_dir, titles, decorate=master_decorator(config.rules)
        )

    def read_registry(self) -> dict[str, Grid]:
        """As for sync, but refused while the master is open (provisioning writes it)."""
        self._check_master_closed()
        return super().read_registry()

    def is_source(self, source: str) -> bool:
        return source.lower().endswith(".xlsx")

    def find_sheet(self, code: str, source: str) -> str | None:
        name = source or f"{code}.xlsx"
        return name if self.path_of(name).exists() else None

    def create_commune_sheet(self, sheet: NewCommuneSheet, source: str) -> str:
        name = source or f"{sheet.code}.xlsx"
        path = self.path_of(name)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            save_atomically(build_commune_workbook(sheet), path)
        except OSError as e:
            raise SourceUnavailable(f"không tạo được {path.name}", detail=str(e)) from e
        return name

    def share(self, source: str, emails: list[str]) -> None:
        """Local files are shared by the folder they sit in, not by namcoso."""
        return None

    def missing_controls(self, source: str, hamlets: list[str]) -> list[str]:
        """As for sync, but a workbook that is open or unreadable says so."""
        path = self._closed(source)
        try:
            return check_protections(path, hamlets)
        except READ_ERRORS as e:
            raise SourceUnavailable("hỏng hoặc không phải .xlsx", detail=path.name) from e

    def repair_controls(self, source: str, code: str, tabs: list[ControlledTab]) -> list[str]:
        path = self._closed(source)
        try:
            wb = openpyxl.load_workbook(path)
        except READ_ERRORS as e:
            raise SourceUnavailable(
                "hỏng hoặc không phải .xlsx, không sửa được", detail=path.name
            ) from e
        repaired = _repair(wb, code, tabs)
        if repaired:
            save_atomically(wb, path)
        return repaired

    def write_registry_cells(self, title: str, cells: dict[str, str]) -> None:
        """The cells written as text into ``master.xlsx``, the charts openpyxl drops on
        loading rebuilt; the file is replaced only if nobody saved or opened it since
        :meth:`read_registry`."""
        try:
            wb = openpyxl.load_workbook(self.master)
        except READ_ERRORS as e:
            raise MasterUnavailable(
                f"Không đọc được tệp master {self.master}", detail=str(e)
            ) from e
        ws = wb[title]
        for a1, text in cells.items():
            cell = ws[a1]
            cell.value = text
            cell.data_type = "s"
        if charts_layout().title in wb.sheetnames and self.decorate is not None:
            self.decorate(wb, [])
        save_atomically(wb, self.master, before_replace=self._check_master_unchanged)

    def _closed(self, source: str) -> Path:
        path = self.path_of(source)
        if lock_files(path):
            raise SourceUnavailable("đang được mở, bỏ qua", detail=path.name)
        return path

    def _check_master_closed(self) -> None:
        if lock_files(self.master):
            raise MasterBusy(
                f"{self.master.name} đang được mở trong Excel/LibreOffice; đóng tệp rồi chạy lại"
            )

    def _check_master_unchanged(self) -> None:
        self._check_master_closed()
        if file_fingerprint(self.master) != self._master_fingerprint:
            raise MasterBusy(
                f"{self.master.name} vừa được sửa trong lúc tạo bảng tính; chạy lại lệnh"
            )
