"""A Google folder holding an .xlsx a commune uploaded without converting it to Sheets:
read through Drive as it is, fingerprinted by its content, feedback refused in one line."""

from __future__ import annotations

import dataclasses
import io
import logging
from datetime import datetime

import openpyxl
import pytest
from conftest import NOW
from google_fake import XLSX_MIME, build_world, make_backend

from sync.backends import google_uploads
from sync.backends.base import ColumnSpec, OutputTab
from sync.config import Config, GoogleSettings
from sync.errors import SourceUnavailable
from sync.layout import commune_layout, master_layout
from sync.pipeline import run_sync

C = commune_layout()
M = master_layout()
NOTE = "Họp tại nhà văn hóa ấp (tệp Excel tải lên)"


def excel_upload(note: str = NOTE) -> bytes:
    """A commune workbook as a person saves it from Excel: headers typed in the template's
    order, a real date cell, yes/no as text."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = C["meetings"].title
    ws.append([col.header for col in C["meetings"].columns])
    ws.append(["Ấp 0-1", "03/2018", datetime(2018, 3, 5), 20, 18, "x", "có", note])
    ratings = wb.create_sheet(C["ratings"].title)
    ratings.append([col.header for col in C["ratings"].columns])
    ratings.append(["Ấp 0-1", 2018, "Tốt", ""])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _upload_world(fake, tmp_path, data: bytes | None = None):
    world = build_world(fake, 2)
    data = excel_upload() if data is None else data
    fid = fake.add_upload("29110 - Báo cáo.xlsx", data, folder=world.folder)
    fake.edit(world.master, M["communes"].title, 1, 3, fid)  # the registry points at it
    config = Config(
        root=tmp_path,
        backend="google",
        google=GoogleSettings(master=world.master, folder=world.folder),
    )
    config = dataclasses.replace(config, state_path=tmp_path / "state.sqlite")
    return world, fid, config


def _sync(fake, world, config):
    backend = make_backend(fake, world.master, world.folder)
    return run_sync(config, backend=backend, now=NOW), backend


def _meetings(fake, world) -> list[list]:
    return fake.values(world.master, M["meetings"].title)


def test_an_uploaded_xlsx_is_read_through_drive_and_never_written(fake, tmp_path, caplog):
    world, fid, config = _upload_world(fake, tmp_path)
    before = fake.spreadsheets[fid].content, fake.spreadsheets[fid].version
    with caplog.at_level(logging.WARNING):
        result, backend = _sync(fake, world, config)
    assert result.communes_read == 2
    assert any(NOTE in map(str, row) for row in _meetings(fake, world))
    downloads = [c for c in fake.calls if c.method == "drive.files.get" and c.target == fid]
    assert len(downloads) == 1  # read once, as a sheet is: no spreadsheets.get tried
    assert backend.reads == 2 + 2 + 1  # registry, listing, two communes, refresh listing
    assert (fake.spreadsheets[fid].content, fake.spreadsheets[fid].version) == before
    assert "29110" not in result.communes_written
    assert any("chưa chuyển sang Google Sheets" in r.getMessage() for r in caplog.records)


def test_an_unchanged_upload_is_not_downloaded_again_and_a_new_revision_is(fake, tmp_path):
    world, fid, config = _upload_world(fake, tmp_path)
    _sync(fake, world, config)
    fake.spreadsheets[fid].title = "29110 - Báo cáo (đổi tên).xlsx"
    fake.spreadsheets[fid].version += 1  # metadata changed, content did not
    result, backend = _sync(fake, world, config)
    assert result.communes_read == 0 and backend.reads == 2

    fake.replace_upload(fid, excel_upload("Họp bổ sung tháng 3"))
    result, backend = _sync(fake, world, config)
    assert result.communes_read == 1
    notes = [str(v) for row in _meetings(fake, world) for v in row]
    assert "Họp bổ sung tháng 3" in notes and NOTE not in notes


def test_feedback_to_an_upload_is_refused_in_one_line_at_no_request(fake, tmp_path):
    world, fid, _ = _upload_world(fake, tmp_path)
    backend = make_backend(fake, world.master, world.folder)
    backend.fingerprints([fid])
    sheet = backend.read_commune(fid)
    assert sheet.token and C["meetings"].title in sheet
    requests = backend.requests
    tabs = [OutputTab(C["feedback"].title, [ColumnSpec("Nội dung")], [["x"]])]
    with pytest.raises(SourceUnavailable) as caught:
        backend.write_commune(fid, tabs, expected=sheet.token, identity="29110")
    assert "Lưu dưới dạng Google Trang tính" in caught.value.message
    assert "\n" not in caught.value.message and backend.requests == requests


def test_an_upload_outside_the_listing_is_found_by_its_type(fake, tmp_path):
    world, fid, _ = _upload_world(fake, tmp_path)
    backend = make_backend(fake, world.master, world.folder)
    sheet = backend.read_commune(fid)  # no listing this run: Sheets says it is no sheet
    assert sheet[C["meetings"].title][1][7] == NOTE
    assert backend.reads == 3  # the refused get, files.get for its type and size, download


def test_a_large_upload_is_refused_before_download(fake, tmp_path, monkeypatch):
    monkeypatch.setattr(google_uploads, "MAX_UPLOAD_BYTES", 1000)
    world, fid, _ = _upload_world(fake, tmp_path)
    backend = make_backend(fake, world.master, world.folder)
    backend.fingerprints([fid])
    with pytest.raises(SourceUnavailable) as caught:
        backend.read_commune(fid)
    assert "quá lớn" in caught.value.message
    assert not [c for c in fake.calls if c.method == "drive.files.get" and c.target == fid]


@pytest.mark.parametrize(
    "data",
    [b"", b"PK\x03\x04\x14\x00 truncated", b"<html>not a workbook</html>"],
    ids=["empty", "truncated-zip", "not-a-workbook"],
)
def test_a_damaged_upload_is_a_one_line_reason_and_the_others_go_on(fake, tmp_path, data):
    world, _, config = _upload_world(fake, tmp_path, data=data)
    result, _ = _sync(fake, world, config)
    assert result.unreadable == ["29110"] and result.communes_read == 1
    problems = [f for f in result.findings if f.commune == "29110"]
    reasons = ("tệp rỗng", "tệp hỏng", "không phải bảng tính")
    assert any(
        "tệp Excel trên Drive" in f.message and any(r in f.message for r in reasons)
        for f in problems
    ), [f.message for f in problems]


def test_the_listing_asks_for_sheets_and_uploads_only(fake, tmp_path):
    world, fid, _ = _upload_world(fake, tmp_path)
    fake.add_upload("ghi chú.docx", b"PK\x03\x04", folder=world.folder)
    fake.spreadsheets[next(reversed(fake.spreadsheets))].mime = "application/msword"
    backend = make_backend(fake, world.master, world.folder)
    files = backend.list_folder()
    mimes = {f["mimeType"] for f in files}
    assert mimes == {XLSX_MIME, "application/vnd.google-apps.spreadsheet"}
    assert backend.fingerprints([fid])[fid].startswith("md5:")


def test_doctor_says_an_upload_is_read_but_gets_no_feedback(fake, tmp_path):
    from sync.doctor import doctor

    world, _, config = _upload_world(fake, tmp_path)
    checks = {
        name: (ok, detail)
        for name, ok, detail in doctor(
            config, backend=make_backend(fake, world.master, world.folder)
        )
    }
    ok, detail = checks["Xã 29110 (29110)"]
    assert not ok and "Excel tải lên Drive" in detail and "Lưu dưới dạng Google" in detail
    assert checks["Xã 29111 (29111)"][0]


def test_a_hostile_upload_goes_through_the_same_gates_as_a_local_file(fake, tmp_path):
    """A 10 KB upload with cells at A1 and XFD1048576 would make calamine ask for 512 GiB
    and abort the whole run; the upload is refused by the dimension gate instead, and the
    other commune is still read."""
    from test_file_safety import sparse

    world, _, config = _upload_world(fake, tmp_path, data=sparse(False))
    result, _ = _sync(fake, world, config)
    assert result.unreadable == ["29110"] and result.communes_read == 1
    problems = [f.message for f in result.findings if f.commune == "29110"]
    assert any("tệp Excel trên Drive" in m and "quá lớn" in m for m in problems), problems
