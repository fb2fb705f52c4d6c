"""Writing namcoso's tabs into a workbook changes those tabs and nothing else.

The workbooks are built at the file-format level as Excel saves them (tests/ooxml_build.py):
formulas with cached values, a picture, a comment, a data validation, defined names, an
.xlsm's macros. After a sync writes feedback (or the master's tabs), the package is compared
part by part with the one before: only namcoso's sheets, the parts listing sheets, the styles
it appended to and the identity stamp may differ. Also: a save landing between the read and
the replace is never overwritten; an open, read-only or immutable file, or a full disk, leaves
the file as it was with one clear reason.
"""

from __future__ import annotations

import contextlib
import errno
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import commune_grids
from ooxml_build import (
    XLSM_MAIN_CT,
    add_picture,
    commune_book,
    read_parts,
    with_picture_comment_validation,
    zip_parts,
)
from test_file_safety import _register
from test_reliability import Master, set_attendance

from sync.backends import local, ooxml, safe_read
from sync.backends.base import ColumnSpec, OutputTab
from sync.backends.local import LocalBackend, read_workbook
from sync.errors import SourceChanged, SourceUnavailable
from sync.layout import commune_layout, master_layout
from sync.pipeline import run_sync

C = commune_layout()
M = master_layout()
OWN = {C["assignments"].title, C["feedback"].title}
ALLOWED = {*ooxml.LISTING_PARTS, "xl/styles.xml", "docProps/custom.xml", "_rels/.rels"}


def rich_commune(macros: bool = False) -> bytes:
    """29113's workbook as its staff keep it: attendance as formulas with saved values, a
    stamp picture, a comment and a dropdown on the meetings tab, a defined name, last
    run's feedback tabs, (for .xlsm) macros."""
    grids = commune_grids(["Ấp Tân Hòa"])
    for r, row in enumerate(grids[C["meetings"].title][1:], start=2):
        row[4] = (f"=D{r}-2", 18)  # Số đảng viên dự = Tổng số − 2, saved value 18
    grids[C["assignments"].title] = [["Cán bộ phụ trách"], ["cũ"]]
    grids[C["feedback"].title] = [["Kết quả kiểm tra"], ["cũ"]]
    book = commune_book(grids, macros=macros)
    with_picture_comment_validation(book, 1)
    book.defined_names.append(
        "<definedName name=\"DanhSachAp\">'Sinh hoạt chi bộ'!$A$2:$A$13</definedName>"
    )
    book.defined_names.append(
        '<definedName name="_xlnm.Print_Area" localSheetId="0">'
        "'Sinh hoạt chi bộ'!$A$1:$H$13</definedName>"
    )
    return book.bytes()


def _sheet_parts(data: bytes) -> dict[str, str]:
    """Sheet title → part name."""
    parts = read_parts(data)
    rels = ooxml.parse_rels(parts["xl/_rels/workbook.xml.rels"].decode())
    return {s.name: s.part for s in ooxml.list_sheets(parts["xl/workbook.xml"].decode(), rels)}


def assert_only_own_sheets_changed(before: bytes, after: bytes, own: set[str]) -> None:
    old, new = read_parts(before), read_parts(after)
    own_parts = set()
    for data in (before, after):
        sheets = _sheet_parts(data)
        parts = read_parts(data)
        for title in own & set(sheets):
            own_parts.add(sheets[title])
            own_parts.add(ooxml.rels_path(sheets[title]))
            own_parts.update(ooxml._reachable(parts, sheets[title]))
    for name, data in old.items():
        if name in own_parts or name in ALLOWED:
            continue
        assert new.get(name) == data, f"{name} changed"
    assert set(new) - set(old) <= own_parts | ALLOWED, set(new) - set(old) - own_parts


@pytest.mark.parametrize("suffix", [".xlsx", ".xlsm"])
def test_feedback_write_changes_only_namcoso_tabs(small_project, suffix):
    config = small_project
    name = f"29113{suffix}"
    before = rich_commune(macros=suffix == ".xlsm")
    _register(config, name)
    (config.communes_dir / "29113.xlsx").unlink()
    path = config.communes_dir / name
    path.write_bytes(before)

    result = run_sync(config)

    assert "29113" in result.communes_written
    after = path.read_bytes()
    assert_only_own_sheets_changed(before, after, OWN)
    parts = read_parts(after)
    # the formulas' saved values, the picture, the macros: the same bytes
    assert b"<f>D2-2</f><v>18</v>" in parts["xl/worksheets/sheet1.xml"]
    assert parts["xl/media/image1.png"] == read_parts(before)["xl/media/image1.png"]
    if suffix == ".xlsm":
        assert parts["xl/vbaProject.bin"] == read_parts(before)["xl/vbaProject.bin"]
        assert XLSM_MAIN_CT.encode() in parts["[Content_Types].xml"]
    # the commune's identity, where users do not edit it
    assert safe_read.read_identity(parts["docProps/custom.xml"]) == ("29113", False)
    # namcoso's tabs hold this run's feedback, readable by openpyxl and calamine
    grids = read_workbook(path)
    assert grids[C["feedback"].title][0] == [c.header for c in C["feedback"].columns]
    assert "cũ" not in [row[0] for row in grids[C["assignments"].title]]
    import openpyxl

    wb = openpyxl.load_workbook(path, keep_vba=suffix == ".xlsm")
    assert wb.sheetnames[:4] == list(commune_grids(["x"]))
    assert wb[C["meetings"].title]["E2"].value == "=D2-2"
    assert wb.defined_names["DanhSachAp"].attr_text == "'Sinh hoạt chi bộ'!$A$2:$A$13"
    # and the next sync reads the saved values of the formulas (18), not empty cells
    set_attendance(config, "29110", ["Khu phố 1", "Ấp An Thạnh"], 17)
    run_sync(config)
    assert Master(config).attendance()["29113"] == {18}


def test_a_second_write_with_the_same_look_leaves_styles_as_they_were(small_project):
    config = small_project
    path = config.communes_dir / "29113.xlsx"
    path.write_bytes(rich_commune())
    backend = LocalBackend(config.master, config.communes_dir)
    tab = OutputTab("Kiểm tra dữ liệu", [ColumnSpec("Nội dung", 40, None)], [["lần 1"]])
    backend.write_commune("29113.xlsx", [tab], identity="29113")
    first = read_parts(path.read_bytes())
    tab.rows = [["lần 2"], ["thêm một dòng"]]
    backend.write_commune("29113.xlsx", [tab], identity="29113")
    second = read_parts(path.read_bytes())
    assert second["xl/styles.xml"] == first["xl/styles.xml"]
    assert second["docProps/custom.xml"] == first["docProps/custom.xml"]
    assert second["xl/workbook.xml"] == first["xl/workbook.xml"]
    assert read_workbook(path)["Kiểm tra dữ liệu"][1:] == [["lần 2"], ["thêm một dòng"]]


def test_a_picture_staff_put_on_a_district_tab_of_the_master_stays(small_project):
    config = small_project
    run_sync(config)
    parts = read_parts(config.master.read_bytes())
    sheets = _sheet_parts(config.master.read_bytes())
    add_picture(parts, sheets[M["communes"].title])
    config.master.write_bytes(zip_parts(parts))
    before = config.master.read_bytes()

    set_attendance(config, "29110", ["Khu phố 1", "Ấp An Thạnh"], 17)
    result = run_sync(config)

    assert result.master_tabs_written
    after = config.master.read_bytes()
    registry = {t.title for t in M.by_role("registry")}
    own = set(_sheet_parts(after)) - registry
    assert_only_own_sheets_changed(before, after, own)
    new = read_parts(after)
    assert new["xl/media/stamp99.png"] == parts["xl/media/stamp99.png"]
    assert new[sheets[M["communes"].title]] == parts[sheets[M["communes"].title]]
    assert Master(config).attendance()["29110"] == {17}
    # the chart tab, rebuilt each write, keeps its charts and takes no stale parts along
    charts = [n for n in new if n.startswith("xl/charts/")]
    assert charts and len(charts) == len(
        [n for n in read_parts(before) if n.startswith("xl/charts/")]
    )


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_a_written_workbook(small_project, tmp_path):
    config = small_project
    path = config.communes_dir / "29113.xlsx"
    path.write_bytes(rich_commune())
    run_sync(config)
    out = tmp_path / "pdf"
    done = subprocess.run(
        # the commune's workbook, and the master with its tabs and charts transplanted
        [
            "soffice",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(path),
            str(config.master),
        ],
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == 0 and (out / "29113.pdf").stat().st_size > 1000
    assert (out / "master.pdf").stat().st_size > 1000


# -- no lost saves -----------------------------------------------------------------------------
def test_a_save_between_read_and_replace_is_kept_and_read_next_run(small_project, monkeypatch):
    config = small_project
    run_sync(config)
    path = config.communes_dir / "29113.xlsx"
    saved = commune_book(commune_grids(["Ấp Tân Hòa"])).parts()
    set_attendance(config, "29113", ["Ấp Tân Hòa"], 16)
    landed = []

    def commune_saves(p: Path) -> None:
        if p == path and not landed:
            grids = commune_grids(["Ấp Tân Hòa"])
            for row in grids[C["meetings"].title][1:]:
                row[4] = 15
            p.write_bytes(commune_book(grids).bytes())  # their save lands now
            landed.append(p.read_bytes())

    monkeypatch.setattr(local, "before_replace_hook", commune_saves)
    result = run_sync(config)
    assert landed and path.read_bytes() == landed[0]  # not overwritten
    assert "29113" not in result.communes_written
    assert Master(config).attendance()["29113"] == {16}  # what was read this run

    monkeypatch.setattr(local, "before_replace_hook", None)
    again = run_sync(config)
    assert Master(config).attendance()["29113"] == {15}  # their save, read next run
    assert "29113" in again.communes_written
    assert saved  # (built as Excel writes it)


def test_a_save_between_read_and_write_raises_source_changed(small_project):
    config = small_project
    backend = LocalBackend(config.master, config.communes_dir)
    sheet = backend.read_commune("29113.xlsx")
    path = config.communes_dir / "29113.xlsx"
    set_attendance(config, "29113", ["Ấp Tân Hòa"], 16)
    saved = path.read_bytes()
    tab = OutputTab("Kiểm tra dữ liệu", [ColumnSpec("Nội dung")], [["x"]])
    with pytest.raises(SourceChanged):
        backend.write_commune("29113.xlsx", [tab], expected=sheet.token, identity="29113")
    assert path.read_bytes() == saved


# -- unwritable ----------------------------------------------------------------------------------
def _feedback(backend: LocalBackend) -> None:
    tab = OutputTab("Kiểm tra dữ liệu", [ColumnSpec("Nội dung")], [["x"]])
    backend.write_commune("29113.xlsx", [tab], identity="29113")


@pytest.mark.parametrize("lock", ["~$29113.xlsx", ".~lock.29113.xlsx#"])
def test_an_open_workbook_gets_its_feedback_later(small_project, lock):
    config = small_project
    run_sync(config)
    (config.communes_dir / lock).write_text("x")
    set_attendance(config, "29113", ["Ấp Tân Hòa"], 16)
    before = (config.communes_dir / "29113.xlsx").read_bytes()
    result = run_sync(config)
    assert "29113" not in result.communes_written
    assert (config.communes_dir / "29113.xlsx").read_bytes() == before
    assert Master(config).attendance()["29113"] == {16}  # read all the same
    (config.communes_dir / lock).unlink()
    _feedback(LocalBackend(config.master, config.communes_dir))  # written once closed
    assert (config.communes_dir / "29113.xlsx").read_bytes() != before


def test_a_read_only_file_is_left_alone_with_a_reason(small_project):
    config = small_project
    path = config.communes_dir / "29113.xlsx"
    before = path.read_bytes()
    path.chmod(0o444)
    try:
        with pytest.raises(SourceUnavailable) as caught:
            _feedback(LocalBackend(config.master, config.communes_dir))
        assert "chỉ đọc" in caught.value.message
        assert path.read_bytes() == before
    finally:
        path.chmod(0o644)


def test_an_immutable_file_is_left_alone_with_a_reason(small_project):
    config = small_project
    path = config.communes_dir / "29113.xlsx"
    before = path.read_bytes()
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        with pytest.raises(SourceUnavailable) as caught:
            _feedback(LocalBackend(config.master, config.communes_dir))
        assert "không được phép ghi" in caught.value.message or "quyền" in caught.value.message
        assert path.read_bytes() == before
        assert not list(config.communes_dir.glob(".29113-*"))  # no temporary file left
    finally:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)


@pytest.mark.parametrize("code", [errno.EACCES, errno.EROFS])
def test_a_folder_that_refuses_writes_is_one_reason(small_project, monkeypatch, code):
    config = small_project
    path = config.communes_dir / "29113.xlsx"
    before = path.read_bytes()

    def refuse(*args, **kwargs):
        raise OSError(code, "refused")

    monkeypatch.setattr(local.tempfile, "mkstemp", refuse)
    with pytest.raises(SourceUnavailable) as caught:
        _feedback(LocalBackend(config.master, config.communes_dir))
    assert "29113.xlsx" in str(caught.value) and (
        "quyền" in str(caught.value) or "chỉ đọc" in str(caught.value)
    )
    assert path.read_bytes() == before


def test_disk_full_leaves_nothing_half_written(small_project, tmp_path):
    """A real 1 MB tmpfs when the test may mount one, else an injected ENOSPC."""
    config = small_project
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True
        ).returncode
        == 0
    )
    if not mounted:
        pytest.skip("cannot mount a tmpfs here (see test_disk_full_injected)")
    try:
        communes = disk / "communes"
        communes.mkdir()
        path = communes / "29113.xlsx"
        path.write_bytes(rich_commune())
        before = path.read_bytes()
        filler = disk / "filler"
        with filler.open("wb") as f, contextlib.suppress(OSError):
            f.write(b"\0" * (1 << 20))  # leave less room than the new file needs
        backend = LocalBackend(config.master, communes)
        with pytest.raises(SourceUnavailable) as caught:
            _feedback(backend)
        assert "hết chỗ trên đĩa" in caught.value.message and caught.value.detail == "29113.xlsx"
        assert path.read_bytes() == before
        assert sorted(p.name for p in communes.iterdir()) == ["29113.xlsx"]
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


def test_disk_full_injected(small_project, monkeypatch):
    config = small_project
    path = config.communes_dir / "29113.xlsx"
    before = path.read_bytes()
    real = local.os.fdopen

    class Full:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            self.f.write(data[:100])
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(local.os, "fdopen", lambda fd, mode: Full(real(fd, mode)))
    with pytest.raises(SourceUnavailable) as caught:
        _feedback(LocalBackend(config.master, config.communes_dir))
    assert "hết chỗ trên đĩa" in caught.value.message
    assert path.read_bytes() == before
    assert not list(config.communes_dir.glob(".29113-*"))


# -- identity ------------------------------------------------------------------------------------
def test_a_stamped_file_copied_over_another_communes_is_refused(small_project):
    """After one feedback write each file carries its commune's code; 29110's file copied
    over 29113's is refused for 29113 (foreign identity), its last good rows kept, and
    nothing is written into it; 29110 goes on."""
    config = small_project
    run_sync(config)
    stamped = (config.communes_dir / "29110.xlsx").read_bytes()
    assert safe_read.read_identity(read_parts(stamped)["docProps/custom.xml"])[0] == "29110"
    (config.communes_dir / "29113.xlsx").write_bytes(stamped)
    set_attendance(config, "29110", ["Khu phố 1", "Ấp An Thạnh"], 17)

    result = run_sync(config)

    master = Master(config)
    assert master.attendance() == {"29110": {17}, "29113": {18}}
    assert any("29110" in m for m in master.messages("29113"))
    assert (config.communes_dir / "29113.xlsx").read_bytes() == stamped
    assert "29113" not in result.communes_written
