"""The issue's "Done when": a drifted sheet built from accepted rows, with real-style
headers and planted errors, gives back exactly the accepted rows and a finding at each
planted cell, through ``namcoso validate`` and through ``sync`` (local backend).

The drifted workbook is written cell by cell with openpyxl the way an office lays one
out (titles, a two-row header with merged cells, a numbering row, columns in another
order, extra columns, abbreviations, every value form), not by namcoso's own writer.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from conftest import NOW, build_small_project

from sync.backends.local import read_workbook
from sync.cli import main
from sync.config import load_config
from sync.findings import ERROR, WARNING
from sync.layout import commune_layout, master_layout
from sync.pipeline import run_sync

C = commune_layout()
M = master_layout()
DATA_TABS = ("meetings", "ratings", "support", "households")
KP1 = ("Khu phố 1", "KP1", "kp 1", "KHU PHỐ 1")
AN_THANH = ("Ấp An Thạnh", "An Thạnh", "ẤP AN THẠNH", unicodedata.normalize("NFD", "ấp an thạnh"))
MONTHS = (
    lambda m: f"T{m}/2018",
    lambda m: f"Tháng {m}/2018",
    lambda m: f"2018-{m:02d}",
    lambda m: datetime(2018, m, 1),
    lambda m: f"{m}/2018",
    lambda m: f"tháng {m} năm 2018",
)
DATES = (
    lambda m: f"5/{m}/2018",
    lambda m: f"05.{m:02d}.2018",
    lambda m: datetime(2018, m, 5),
    lambda m: f"ngày 5 tháng {m} năm 2018",
    lambda m: f"05-{m:02d}-2018",
)
YES = ("x", "X", "có", "✓", 1, "Có")


class Sheet:
    """One tab being laid out: rows appended in order; planted cells remembered."""

    def __init__(self, ws, planted: list[tuple[str, str, str, str]]) -> None:
        self.ws, self.planted = ws, planted

    def row(self, values: list) -> int:
        self.ws.append(values)
        return self.ws.max_row

    def plant(self, values: list, column: int, severity: str, code: str) -> None:
        r = self.row(values)
        self.planted.append(
            (self.ws.title, f"{openpyxl.utils.get_column_letter(column)}{r}", severity, code)
        )


def drifted_workbook(path: Path) -> list[tuple[str, str, str, str]]:
    """29110's sheet, drifted, holding the same good rows as conftest.commune_grids, plus
    planted errors. Returns the planted (tab, cell, severity, finding code)."""
    planted: list[tuple[str, str, str, str]] = []
    wb = openpyxl.Workbook()
    wb.remove(wb.active)

    # -- Sinh hoạt chi bộ: title, a two-row header with a merged group, numbering row.
    ws = wb.create_sheet(C["meetings"].title)
    s = Sheet(ws, planted)
    s.row(["BÁO CÁO TÌNH HÌNH SINH HOẠT CHI BỘ NĂM 2018"])
    ws.merge_cells("A1:J1")
    s.row(["Đảng ủy Thị trấn Ba Tri"])
    s.row([])
    cadre = "Cán bộ huyện phụ trách dự\n(đánh dấu x)"
    s.row(["STT", "Tên ấp, khu phố", "Kỳ báo cáo\n(tháng/năm)", "Ngày sinh hoạt", "Số đảng viên",
           None, cadre, "Chi ủy họp trước sinh hoạt", "Ghi chú", "Người lập"])  # fmt: skip
    s.row([None, None, None, None, "Tổng số", "Dự", None, None, None, None])
    for col in "ABCDGHIJ":
        ws.merge_cells(f"{col}4:{col}5")
    ws.merge_cells("E4:F4")
    s.row([f"({i})" for i in range(1, 11)])
    n = 0
    for m in range(1, 13):
        for h, names in enumerate((KP1, AN_THANH)):
            n += 1
            name = names[(m + h) % len(names)]
            values = [n, name, MONTHS[n % 6](m), DATES[n % 5](m), "20" if n % 3 else 20, 18,
                      YES[n % 6], YES[(n + 1) % 6], None, "Lan"]  # fmt: skip
            if (m, h) == (4, 1):  # typed without diacritics: read, with a warning
                values[1] = "an thanh"
                s.plant(values, 2, WARNING, "name_read_loosely")
            else:
                s.row(values)
        if m == 6:
            s.row([None] * 10)  # a blank row
    s.plant(
        [99, "Ấp Tân Hòa", "03/2018", "05/03/2018", 20, 18, "x", "x", None, "Lan"],
        2,
        ERROR,
        "foreign_hamlet",
    )
    s.plant(
        [99, "Ấp Xóm Mới", "03/2018", "05/03/2018", 20, 18, "x", "x", None, "Lan"],
        2,
        ERROR,
        "unknown_hamlet",
    )
    s.plant(
        [99, "Khu phố 1", "03/2008", "05/03/2008", 20, 18, "x", "x", None, "Lan"],
        3,
        ERROR,
        "period_before_start",
    )
    s.plant(
        [99, "Khu phố 1", "12/2030", "05/12/2030", 20, 18, "x", "x", None, "Lan"],
        3,
        ERROR,
        "future_period",
    )
    s.plant(
        [99, "Ấp An Thạnh", "05/2018", "05/06/2018", 20, 18, "x", "x", None, "Lan"],
        4,
        ERROR,
        "date_outside_month",
    )
    s.plant(
        [99, "Ấp An Thạnh", "07/2018", "05/07/2018", 20, 25, "x", "x", None, "Lan"],
        6,
        ERROR,
        "present_over_total",
    )
    s.row([None, "Tổng cộng", None, None, 480, 432, None, None, None, None])  # a totals row

    # -- Xếp loại chi bộ: columns in another order, numbering 1, 2, 3.
    ws = wb.create_sheet(C["ratings"].title)
    s = Sheet(ws, planted)
    s.row(["Năm", "Tên chi bộ", "Kết quả xếp loại\n(HTXSNV/HTTNV/HTNV/KHTNV)", "Ghi chú"])
    s.row([1, 2, 3, 4])
    s.row(["2018", "Chi bộ khu phố 1", "HT tốt", None])
    s.row([2018, "An Thạnh", "hoàn thành tốt nhiệm vụ", None])
    s.plant([2018, "Khu phố 1", "Khá", None], 3, ERROR, "bad_value")
    s.plant([2008, "Ấp An Thạnh", "Tốt", None], 1, ERROR, "period_before_start")

    # -- Hỗ trợ, vận động: abbreviations, units in parentheses, an extra column.
    ws = wb.create_sheet(C["support"].title)
    s = Sheet(ws, planted)
    s.row(
        [
            "TT",
            "Ấp/KP",
            "Ngày hỗ trợ",
            "Lĩnh vực\n(ASXH/NTM/Khác)",
            "Nội dung hỗ trợ",
            "GT (đồng)",
            "Người vận động",
            "Ký nhận",
        ]
    )
    s.row([1, "KP 1", "10.03.2018", "ASXH", "Tặng quà", "5 triệu", "Ô. An", "đã ký"])
    s.plant(
        [2, "Ấp An Thạnh", "12/03/2018", "NTM", "Xi măng", "50 bao", "Ô. An", None],
        6,
        ERROR,
        "bad_value",
    )

    # -- Phân công hộ: upper case, two-row header.
    ws = wb.create_sheet(C["households"].title)
    s = Sheet(ws, planted)
    s.row(["ẤP/KHU PHỐ", "CÁN BỘ XÃ PHỤ TRÁCH", None, "SỐ HỘ\nPHỤ TRÁCH", "TỔ NDTQ"])
    s.row([None, "HỌ TÊN", "CHỨC VỤ", None, None])
    ws.merge_cells("B1:C1")
    for col in "ADE":
        ws.merge_cells(f"{col}1:{col}2")
    s.row(["Khu phố 1", "Võ Văn Hộ", "Bí thư chi bộ", "100", "Tổ 1"])
    s.row(["Ấp An Thạnh", "Võ Văn Hộ", "Bí thư chi bộ", 100, "Tổ 1"])
    s.plant(["Ấp An Thạnh", "Lê Văn Tư", "Ủy viên", -3, "Tổ 2"], 4, ERROR, "negative_count")
    wb.save(path)
    return planted


def _rows(master: dict, tab_key: str, commune: str) -> list[tuple]:
    """A sync-owned tab's rows of one commune, without ``Nguồn`` (the cell differs)."""
    grid = master[M[tab_key].title]
    header = grid[0]
    source = header.index("Nguồn")
    return sorted(
        (
            tuple(v for i, v in enumerate(row) if i != source)
            for row in grid[1:]
            if row and row[0] == commune
        ),
        key=repr,
    )


@pytest.fixture
def project(tmp_path: Path):
    config = load_config(build_small_project(tmp_path / "p"))
    run_sync(config, now=NOW)
    clean = read_workbook(config.master)
    accepted = {key: _rows(clean, key, "29110") for key in DATA_TABS}
    assert all(accepted.values())
    planted = drifted_workbook(config.communes_dir / "29110.xlsx")
    return config, accepted, planted


def test_drifted_sheet_gives_back_the_accepted_rows_and_a_finding_at_each_planted_cell_through_sync(
    project,
):
    config, accepted, planted = project
    result = run_sync(config, now=NOW)
    master = read_workbook(config.master)
    for key in DATA_TABS:
        assert _rows(master, key, "29110") == accepted[key], key
    listed = {
        (r[3], r[4], r[2])
        for r in master[M["findings"].title][1:]
        if r and r[0] == "29110" and r[2] in (ERROR, WARNING)
    }
    assert listed == {(tab, cell, severity) for tab, cell, severity, _ in planted}
    codes = {(f.tab, f.cell): f.code for f in result.findings if f.commune == "29110"}
    assert all(codes.get((tab, cell)) == code for tab, cell, _, code in planted), codes


def test_drifted_sheet_gives_a_finding_at_each_planted_cell_through_validate(
    project, capsys, monkeypatch
):
    config, _, planted = project
    monkeypatch.chdir(config.root)
    code = main(["validate", str(config.communes_dir / "29110.xlsx"), "--commune", "29110"])
    out = capsys.readouterr().out
    assert code == 1
    shown = {
        line.split("] ", 1)[1].split(" — ")[0]
        for line in out.splitlines()
        if line.startswith(("[Lỗi]", "[Cảnh báo]"))
    }
    assert shown == {f"{tab}!{cell}" for tab, cell, _, _ in planted}
