"""``namcoso provision``: a report sheet for every registered commune that has none.

Each sheet comes from ``templates/commune.toml``: the ``Hướng dẫn`` tab, the four input
tabs with their headers, dropdowns (the commune's hamlets, the four ratings, yes/no, the
fields of support), date and whole-number checks, the header row locked (data rows stay
editable), then the ``Phân công`` and ``Kiểm tra dữ liệu`` tabs. The new sheet is
recorded in the master's ``Danh mục xã`` — the only time namcoso writes a district-owned
tab, one cell per commune. ``--repair`` puts back the dropdowns and locks a commune
removed; :func:`check_protections` finds such sheets for sync to report.

On Google (:func:`provision_google`) the sheet is created in the Drive folder and shared
as writer with the commune's email and ``[google] district_emails`` only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import openpyxl

from .backends.local import (
    READ_ERRORS,
    file_fingerprint,
    lock_files,
    read_workbook,
    save_atomically,
)
from .backends.local_provision import build_commune_workbook, repair_workbook
from .backends.xlsx_controls import check_protections
from .config import Config
from .errors import MasterBusy, MasterUnavailable
from .findings import Finding, finding
from .layout import master_layout
from .lock import run_lock
from .normalize import normalize_tab
from .registry import commune_code, load_registry
from .render import assignments_tab, guide_tab

log = logging.getLogger("namcoso")

__all__ = ["check_protections", "protection_findings", "provision", "repair_workbook"]


# -- checking and repairing -------------------------------------------------------------


def protection_findings(commune: str, titles: Iterable[str]) -> list[Finding]:
    """``validation_removed`` findings (Cảnh báo) for the tabs :func:`check_protections`
    listed."""
    return [finding("validation_removed", commune=commune, tab=t) for t in titles]


# -- the local project ------------------------------------------------------------------


def provision(config: Config, repair: bool = False) -> list[str]:
    """Create the missing commune sheets (and with ``repair``, restore the dropdowns and
    locks of existing ones); returns the lines to print, one per commune."""
    if config.backend == "google":
        from .provision_google import provision_google

        return provision_google(config, repair=repair)
    with run_lock(config.lock_path):
        return _provision_local(config, repair)


def _path_of(config: Config, source: str) -> Path:
    candidate = Path(source)
    return candidate if candidate.is_absolute() else config.communes_dir / candidate


def _unchanged(master: Path, fingerprint: str) -> Callable[[], None]:
    def check() -> None:
        if lock_files(master):
            raise MasterBusy(
                f"{master.name} đang được mở trong Excel/LibreOffice; đóng tệp rồi chạy lại"
            )
        if file_fingerprint(master) != fingerprint:
            raise MasterBusy(f"{master.name} vừa được sửa trong lúc tạo bảng tính; chạy lại lệnh")

    return check


def _provision_local(config: Config, repair: bool) -> list[str]:
    master = config.master
    if not master.exists():
        raise MasterUnavailable(f"Không tìm thấy tệp master: {master}")
    fingerprint = file_fingerprint(master)
    _unchanged(master, fingerprint)()
    try:
        grids = read_workbook(master)
    except READ_ERRORS as e:
        raise MasterUnavailable(f"Không đọc được tệp master {master}", detail=str(e)) from e
    communes_tab = master_layout()["communes"]
    if not normalize_tab(grids, communes_tab).ok:
        raise MasterUnavailable(
            f"Trang '{communes_tab.title}' của {master.name} thiếu hoặc không có cột "
            f"'{communes_tab.column('source').header}'"
        )
    registry = load_registry(grids)
    lines: list[str] = []
    recorded: dict[str, str] = {}
    for c in registry.communes.itertuples(index=False):
        label = f"{c.name} ({c.code})"
        hamlets = [name for _, name in registry.hamlets_of(c.code)]
        source = str(c.source or "").strip()
        if source and not source.lower().endswith(".xlsx"):
            lines.append(
                f"{label}: ô '{communes_tab.column('source').header}' ghi \"{source}\", không phải "
                "tệp .xlsx; sửa hoặc xóa ô này rồi chạy lại"
            )
            continue
        path = _path_of(config, source or f"{c.code}.xlsx")
        if path.exists():
            if not source:
                recorded[c.code] = path.name
            lines.append(_existing(label, c.code, path, hamlets, repair, adopted=not source))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        hamlets = [name for _, name in registry.hamlets_of(c.code)]
        workbook = build_commune_workbook(
            c.code, hamlets, guide_tab(), assignments_tab(c.code, registry)
        )
        save_atomically(workbook, path)
        if not source:
            recorded[c.code] = path.name
        lines.append(f"{label}: đã tạo {path.name} từ mẫu")
    if recorded:
        _record_sources(config, grids, recorded, fingerprint)
        lines.append(
            f"Đã ghi {len(recorded)} tệp vào cột '{communes_tab.column('source').header}' "
            f"của trang '{communes_tab.title}'"
        )
    if not lines:
        lines.append("Danh mục xã chưa có xã nào")
    return lines


def _existing(
    label: str, code: str, path: Path, hamlets: list[str], repair: bool, adopted: bool
) -> str:
    note = " (đã có sẵn tệp, ghi vào danh mục)" if adopted else ""
    if lock_files(path):
        return f"{label}: {path.name} đang được mở, bỏ qua{note}"
    if not repair:
        try:
            missing = check_protections(path, hamlets)
        except READ_ERRORS:
            return f"{label}: {path.name} hỏng hoặc không phải .xlsx{note}"
        if missing:
            return (
                f"{label}: {path.name} đã có{note}; trang {', '.join(missing)} bị gỡ danh sách "
                "chọn hoặc khóa tiêu đề (chạy namcoso provision --repair)"
            )
        return f"{label}: {path.name} đã có{note}"
    try:
        repaired = repair_workbook(path, hamlets, code)
    except READ_ERRORS:
        return f"{label}: {path.name} hỏng hoặc không phải .xlsx, không sửa được{note}"
    if repaired:
        pages = ", ".join(repaired)
        return f"{label}: đã áp lại danh sách chọn và khóa tiêu đề cho trang {pages}{note}"
    return f"{label}: {path.name} không cần sửa{note}"


def _record_sources(
    config: Config, grids: dict[str, list[list[Any]]], recorded: dict[str, str], fingerprint: str
) -> None:
    """Write each new file name into its commune's ``Bảng tính báo cáo`` cell of the
    master, and nothing else; the charts openpyxl drops on loading are rebuilt."""
    from .backends.local_views import master_decorator
    from .charts import charts_layout

    tab = master_layout()["communes"]
    raw = normalize_tab(grids, tab)
    letter = raw.letters["source"]
    try:
        wb = openpyxl.load_workbook(config.master)
    except READ_ERRORS as e:
        raise MasterUnavailable(f"Không đọc được tệp master {config.master}", detail=str(e)) from e
    ws = wb[raw.title]
    for code, row in zip(raw.frame["code"], raw.frame["_row"], strict=True):
        name = recorded.get(commune_code(code))
        if name:
            cell = ws[f"{letter}{row}"]
            cell.value = name
            cell.data_type = "s"
    if charts_layout().title in wb.sheetnames:
        master_decorator(config.rules)(wb, [])
    save_atomically(wb, config.master, before_replace=_unchanged(config.master, fingerprint))
