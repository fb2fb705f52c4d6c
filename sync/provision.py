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
from dataclasses import dataclass
from datetime import date
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

from .backends.base import OutputTab
from .backends.local import (
    READ_ERRORS,
    file_fingerprint,
    fill_sheet,
    lock_files,
    read_workbook,
    save_atomically,
)
from .config import Config
from .errors import MasterBusy, MasterUnavailable
from .findings import Finding, finding
from .layout import Tab, commune_layout, master_layout, vocab
from .lock import run_lock
from .normalize import find_header, find_tab, normalize_tab
from .registry import Registry, commune_code, load_registry
from .render import assignments_tab, guide_tab

log = logging.getLogger("namcoso")

LAST_ROW = 1_048_576  # validations reach the last row of the sheet
EXCEL_EPOCH = date(1899, 12, 30)
FIRST_DATE, LAST_DATE = date(2000, 1, 1), date(2100, 12, 31)
MAX_LIST_CHARS = 255  # Excel's limit for a list typed into a validation
#: A custom document property that marks a workbook made (or repaired) by provisioning;
#: only such workbooks are checked for removed controls. Excel and LibreOffice keep it.
MARKER = "namcoso"


@dataclass(frozen=True)
class Control:
    """The check on one kind of input column: a dropdown (``list``), a ``date`` or a
    ``whole`` number; ``strict`` refuses other values, else Excel only warns."""

    kind: str
    title: str
    message: str
    values: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    strict: bool = True

    def formula(self) -> str:
        return '"' + ",".join(self.values) + '"'


def _serial(day: date) -> int:
    return (day - EXCEL_EPOCH).days


def column_controls(hamlets: Iterable[str]) -> dict[str, Control]:
    """The control of each commune column type (``type`` in ``templates/commune.toml``).

    A hamlet list that does not fit in a validation (255 characters, no commas) gets
    no dropdown; sync still checks every name against the registry.
    """
    v = vocab()
    names = tuple(hamlets)
    controls = {
        "yesno": Control(
            "list",
            "Chỉ chọn trong danh sách",
            f'Đánh dấu x (hoặc chọn "{v.yes_label}") nếu có; để trống nếu không.',
            ("x", v.yes_label, v.no_label),
        ),
        "rating": Control(
            "list",
            "Xếp loại không đúng",
            "Chọn một trong bốn mức xếp loại trong danh sách.",
            tuple(r.label for r in v.ratings),
        ),
        "field": Control(
            "list", "Lĩnh vực không đúng", "Chọn lĩnh vực trong danh sách.", v.field_labels
        ),
        "date": Control(
            "date",
            "Ngày chưa đúng",
            "Ghi ngày theo dạng ngày/tháng/năm, ví dụ 05/03/2018.",
            minimum=_serial(FIRST_DATE),
            maximum=_serial(LAST_DATE),
            strict=False,
        ),
        "year": Control(
            "whole",
            "Năm chưa đúng",
            "Ghi năm bằng 4 chữ số, ví dụ 2018.",
            minimum=2000,
            maximum=2100,
        ),
        "count": Control("whole", "Số chưa đúng", "Ghi số nguyên không âm, ví dụ 25.", minimum=0),
        "positive_count": Control(
            "whole", "Số chưa đúng", "Ghi số nguyên từ 1 trở lên, ví dụ 25.", minimum=1
        ),
        "amount": Control(
            "whole",
            "Giá trị chưa đúng",
            "Ghi số tiền bằng đồng, ví dụ 5.000.000.",
            minimum=0,
            strict=False,
        ),
    }
    listed = ",".join(names)
    plain = not any(c in name for name in names for c in '",')
    if names and plain and len(listed) + 2 <= MAX_LIST_CHARS:
        controls["hamlet"] = Control(
            "list",
            "Ấp/khu phố không có trong danh mục",
            "Chọn ấp/khu phố trong danh sách (danh mục do Huyện ủy quản lý).",
            names,
        )
    return controls


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


def _protect_whole(ws: Worksheet) -> None:
    ws.protection = SheetProtection(sheet=True)


def build_commune_workbook(code: str, registry: Registry) -> Workbook:
    """A new commune sheet from the template, for commune ``code`` of ``registry``."""
    layout = commune_layout()
    hamlets = [name for _, name in registry.hamlets_of(code)]
    wb = Workbook()
    wb.remove(wb.active)
    guide = guide_tab()
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
                ws.column_dimensions[letter].number_format = "dd/mm/yyyy"
            elif column.type in ("month", "hamlet", "text"):
                ws.column_dimensions[letter].number_format = "@"  # "03/2018" stays text
            elif column.type == "amount":
                ws.column_dimensions[letter].number_format = "#,##0"
        apply_controls(ws, tab, 1, {c.key: i for i, c in enumerate(tab.columns, start=1)}, hamlets)
    assignments = assignments_tab(code, registry)
    ws = wb.create_sheet(assignments.title)
    fill_sheet(ws, assignments)
    _protect_whole(ws)
    feedback = layout["feedback"]
    ws = wb.create_sheet(feedback.title)
    fill_sheet(ws, OutputTab(feedback.title, feedback.specs(), []))
    _protect_whole(ws)
    wb.active = 0
    _mark(wb, code)
    return wb


def _mark(wb: Workbook, code: str) -> None:
    if not any(p.name == MARKER for p in wb.custom_doc_props.props):
        wb.custom_doc_props.append(StringProperty(name=MARKER, value=f"provisioned {code}"))


def is_provisioned(wb: Workbook) -> bool:
    """Whether ``wb`` was made or repaired by ``namcoso provision``."""
    return any(p.name == MARKER for p in wb.custom_doc_props.props)


# -- checking and repairing -------------------------------------------------------------


def _input_tabs(wb: Workbook) -> list[tuple[Tab, Worksheet, int, dict[str, int]]]:
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


def _missing(
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
            for tab, ws, header, columns in _input_tabs(wb)
            if _missing(ws, tab, header, columns, names)
        ]
    finally:
        wb.close()


def protection_findings(commune: str, titles: Iterable[str]) -> list[Finding]:
    """``validation_removed`` findings (Cảnh báo) for the tabs :func:`check_protections`
    listed."""
    return [finding("validation_removed", commune=commune, tab=t) for t in titles]


def repair_workbook(path: Path, hamlets: list[str], code: str = "") -> list[str]:
    """Put back the dropdowns, checks and header lock of every input tab that lost them
    (or whose hamlet list is out of date); returns the titles repaired. The file is
    replaced atomically, only when something was repaired; values are not touched.
    From then on the workbook is checked by :func:`check_protections`."""
    wb = openpyxl.load_workbook(path)
    repaired = []
    for tab, ws, header, columns in _input_tabs(wb):
        if _missing(ws, tab, header, columns, hamlets, compare_lists=True):
            apply_controls(ws, tab, header, columns, hamlets)
            repaired.append(ws.title)
    if repaired:
        _mark(wb, code)
        save_atomically(wb, path)
    return repaired


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
        save_atomically(build_commune_workbook(c.code, registry), path)
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
    from .views import charts_layout, master_decorator

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
