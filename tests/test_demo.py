"""The Ba Tri 2018 demo, end to end: the figures SPEC promises and every planted problem."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl.utils.cell import coordinate_to_tuple

from sync.backends.local import cell_values, read_workbook
from sync.cli import main
from sync.demo import planted_problems
from sync.layout import commune_layout, master_layout

M = master_layout()
C = commune_layout()


@pytest.fixture(scope="module")
def demo(demo_project) -> Path:
    return demo_project


@pytest.fixture(scope="module")
def master(demo):
    return {k: cell_values(v) for k, v in read_workbook(demo / "master.xlsx").items()}


def test_district_ratings_2018_are_34_91_4_0_of_129(master):
    rows = [r for r in master[M["rating_stats"].title] if r[1] == "Toàn huyện" and r[2] == 2018]
    assert len(rows) == 1
    assert rows[0][3:9] == [34, 91, 4, 0, 0, 129]


def test_every_2018_rating_comes_through(master):
    rows = [r for r in master[M["ratings"].title][1:] if r[4] == 2018]
    assert len(rows) == 129
    assert len({r[2] for r in rows}) == 129  # one per hamlet cell
    labels = Counter(r[5] for r in rows)
    assert labels["Hoàn thành xuất sắc nhiệm vụ"] == 34


def test_cadres_tab_lists_129_district_and_21_provincial_cadres(master):
    levels = Counter(r[2] for r in master[M["cadre_stats"].title][1:] if r[0])
    assert (levels["Huyện"], levels["Tỉnh"]) == (129, 21)


def _covered(cells: str, cell: str) -> bool:
    """Whether ``cell`` is ``cells`` or lies in the one-column range ``cells`` (A2:A97)."""
    if ":" not in cells:
        return cells == cell
    start, end = (coordinate_to_tuple(c) for c in cells.split(":"))
    row, col = coordinate_to_tuple(cell)
    return start[1] <= col <= end[1] and start[0] <= row <= end[0]


def test_every_planted_problem_is_listed_with_its_cell(master):
    findings = master[M["findings"].title][1:]
    tab_level = {(r[0], r[3]) for r in findings}
    for p in planted_problems():
        if p["cell"]:
            assert any(
                (r[0], r[3]) == (p["commune"], p["tab"]) and _covered(r[4], p["cell"])
                for r in findings
            ), p
        else:
            assert (p["commune"], p["tab"]) in tab_level, p


def test_every_kind_of_input_finding_appears(demo, master):
    messages = " ".join(r[6] for r in master[M["findings"].title][1:])
    for needle in [
        "không có ấp/khu phố",
        "là ấp/khu phố của",
        "không phải một tháng",
        "không phải một ngày",
        "không nằm trong tháng",
        "chưa tới",
        "lớn hơn tổng số",
        "là số âm",
        "phải là số nguyên",
        "không phải một mức xếp loại",
        "với nội dung khác nhau",
        "giống hệt nhau",
        "thiếu cột bắt buộc",
        "có thể bị hiểu là công thức",
        "bảng mã cũ TCVN3",
        "bảng mã cũ VNI-Windows",
    ]:
        assert needle.lower() in messages.lower(), needle


def test_every_commune_workbook_gets_feedback_and_assignments(demo):
    files = sorted((demo / "communes").glob("*.xlsx"))
    assert len(files) == 24
    for path in files:
        tabs = read_workbook(path)
        assert len(cell_values(tabs[C["feedback"].title])) >= 2, path.name
        assert len(cell_values(tabs[C["assignments"].title])) >= 2, path.name


def test_replayed_year_shows_on_time_late_and_missing_reports(master):
    rows = master[M["progress"].title][1:]
    statuses = Counter(r[8] for r in rows if r[2] <= datetime(2018, 12, 1))
    assert statuses["Đủ"] > len(master[M["communes"].title]) * 12 * 0.6
    assert statuses["Trễ hạn"] >= 5
    assert statuses["Chưa nộp"] + statuses["Thiếu"] >= 3


def test_each_replayed_sync_that_changed_the_master_is_logged(master):
    from sync.demo import sync_times

    assert len(master[M["runs"].title]) - 1 == len(sync_times())


def test_running_the_demo_again_in_the_same_folder_gives_the_same_figures(demo, capsys):
    assert main(["demo", "--dir", str(demo)]) == 0
    captured = capsys.readouterr()
    assert "năm 2018, toàn huyện: 34 · 91 · 4 · 0 · 0 · 129" in captured.out
    assert "giữ số liệu cũ" not in captured.out + captured.err
