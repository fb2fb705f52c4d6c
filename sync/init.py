"""``namcoso init``: start a real project a district can run from.

Writes ``namcoso.toml`` (local backend, ``period_start`` the January of this year), an
empty ``communes/`` folder and a ``master.xlsx`` holding the four district tabs of
``templates/master.toml``: headers on row 1, frozen, dropdowns for ``Loại`` and ``Cấp``,
and a ``Hướng dẫn`` tab first. Given a GSO district code, ``Danh mục xã`` lists the
district's communes from the national unit list shipped in the package
(``sync/data/vn_admin_units_2020.csv``), each with the file name ``provision`` creates, so
the district only adds its hamlets and cadres before ``provision`` and ``sync``.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from .errors import ConfigError
from .layout import Tab, master_layout
from .units import NUMBER_FORMATS, vietnam_now

UNITS_CSV = Path(__file__).parent / "data" / "vn_admin_units_2020.csv"
HEADER_FILL = PatternFill("solid", start_color="FFDDEBF7", end_color="FFDDEBF7")
LAST_ROW = 1_048_576

#: How a district-level unit's Party committee is called ("Huyện Ba Tri" → "Huyện ủy Ba Tri").
COMMITTEES = {"huyện": "Huyện ủy", "quận": "Quận ủy", "thị xã": "Thị ủy", "thành phố": "Thành ủy"}
#: The unit list's commune types as ``Loại`` shows them.
KINDS = {"xã": "Xã", "thị trấn": "Thị trấn", "phường": "Phường"}

CONFIG_TEXT = """\
# Cấu hình namcoso (xem README). Sửa [rules] period_start nếu kỳ báo cáo bắt đầu tháng khác.
[project]
name = {name}
scope = "{scope}"
backend = "local"

[local]
master = "master.xlsx"
communes_dir = "communes"

[rules]
period_start = "{period_start}"
attendance_threshold = 0.85
cadre_attendance_threshold = 0.5
report_deadline_day = 5
max_drop_ratio = 0.5

[schedule]
every_minutes = 30
"""


@dataclass(frozen=True)
class Commune:
    code: str  # GSO, 5 digits
    name: str
    kind: str  # as Loại shows it

    @property
    def file_name(self) -> str:
        """The workbook ``provision`` creates for it in ``communes/``."""
        return f"{self.code}.xlsx"


@dataclass(frozen=True)
class District:
    code: str  # GSO, 3 digits
    name: str  # "Huyện Ba Tri"
    province: str  # "Tỉnh Bến Tre"
    communes: tuple[Commune, ...]

    @property
    def scope(self) -> str:
        """What its master covers (``[project] scope``): huyện, quận, thị xã, thành phố."""
        lowered = self.name.lower()
        return next((p for p in COMMITTEES if lowered.startswith(p + " ")), "huyện")

    @property
    def committee(self) -> str:
        """The Party committee's name: ``Huyện ủy Ba Tri``."""
        lowered = self.name.lower()
        for prefix, committee in COMMITTEES.items():
            if lowered.startswith(prefix + " "):
                return f"{committee} {self.name[len(prefix) + 1 :]}"
        return self.name


@dataclass(frozen=True)
class InitResult:
    config: Path
    master: Path
    district: District | None


def find_district(code: str) -> District:
    """A district of the 2020 national unit list by its GSO code (``836`` or ``"836"``)."""
    text = str(code).strip()
    if not text.isdigit():
        raise ConfigError(
            f"Mã huyện phải là số (mã của Tổng cục Thống kê, ví dụ 836), đang là {text!r}"
        )
    wanted = int(text)
    communes: list[Commune] = []
    name = province = ""
    with UNITS_CSV.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if int(row["district_code"]) != wanted:
                continue
            name, province = row["district_name"], row["province_name"]
            kind = KINDS.get(row["commune_type"].strip().lower(), row["commune_type"])
            communes.append(Commune(f"{int(row['commune_code']):05d}", row["commune_name"], kind))
    if not communes:
        raise ConfigError(
            f"Không có huyện mã {text} trong danh mục đơn vị hành chính 2020 "
            "(mã 3 chữ số của Tổng cục Thống kê, ví dụ 836 là huyện Ba Tri)"
        )
    return District(f"{wanted:03d}", name, province, tuple(communes))


def init_project(
    root: Path, district: str | None = None, *, today: date | None = None
) -> InitResult:
    """Create a project in ``root`` (missing or empty); refuses a folder holding anything."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root} đã có và không phải thư mục")
    if root.is_dir() and any(root.iterdir()):
        raise ConfigError(
            f"Thư mục {root} không trống: namcoso init chỉ tạo dự án trong thư mục mới hoặc "
            "thư mục trống, để không ghi đè dự án đang có"
        )
    found = find_district(district) if district is not None else None
    today = today or vietnam_now().date()
    name = found.committee if found else "Huyện ủy"
    root.mkdir(parents=True, exist_ok=True)
    (root / "communes").mkdir()
    master = root / "master.xlsx"
    build_master(found.communes if found else ()).save(master)
    config = root / "namcoso.toml"
    quoted = json.dumps(name, ensure_ascii=False)  # a TOML basic string
    scope = found.scope if found else "huyện"
    text = CONFIG_TEXT.format(name=quoted, scope=scope, period_start=f"{today.year}-01")
    config.write_text(text, encoding="utf-8")
    return InitResult(config, master, found)


def build_master(communes: tuple[Commune, ...] = ()) -> openpyxl.Workbook:
    """A new master: the guide, then the four district tabs (``Danh mục xã`` filled)."""
    layout = master_layout()
    wb = openpyxl.Workbook()
    guide = wb.active
    guide.title = layout.extra["guide"]["title"]
    guide.column_dimensions["A"].width = 120
    for line in layout.extra["guide"]["lines"]:
        guide.append([line or None])
    guide["A1"].font = Font(bold=True)
    for row in guide.iter_rows(min_row=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    for tab in layout.by_role("registry"):
        rows = []
        if tab.key == "communes":
            rows = [[c.code, c.name, c.kind, c.file_name, None] for c in communes]
        _registry_sheet(wb, tab, rows)
    return wb


def _registry_sheet(wb: openpyxl.Workbook, tab: Tab, rows: list[list]) -> None:
    ws = wb.create_sheet(tab.title)
    for col, column in enumerate(tab.columns, start=1):
        cell = ws.cell(row=1, column=col, value=column.header)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = column.width
        if column.type == "date":
            ws.column_dimensions[letter].number_format = NUMBER_FORMATS["date"]
        if column.choices:
            dv = DataValidation(
                type="list",
                formula1='"' + ",".join(column.choices) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=column.header,
                error=f"Chọn một trong: {', '.join(column.choices)}",
                promptTitle=column.header,
                prompt=", ".join(column.choices),
                showInputMessage=True,
            )
            dv.add(f"{letter}2:{letter}{LAST_ROW}")
            ws.add_data_validation(dv)
    for row in rows:
        ws.append(row)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    ws.freeze_panes = "A2"


def check_demo_folder(root: Path) -> None:
    """Refuse to build the demo over anything but an empty folder or an earlier demo.

    An earlier demo is recognised by its ``namcoso.toml``, exactly as ``namcoso demo``
    writes it (any name, scope or year); a project whose configuration was edited is no
    longer a demo.
    """
    from .demo.generate import CONFIG_TEXT

    root = Path(root)
    if not root.exists():
        return
    if root.is_dir() and not any(root.iterdir()):
        return
    pattern = '[^"\\n]*'.join(re.escape(part) for part in re.split(r"\{\w+\}", CONFIG_TEXT))
    try:
        text = (root / "namcoso.toml").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = ""
    if re.fullmatch(pattern, text):
        return
    raise ConfigError(
        f"Thư mục {root} đã có dữ liệu và không phải dự án mẫu: namcoso demo không ghi đè. "
        "Chọn thư mục khác bằng --dir"
    )
