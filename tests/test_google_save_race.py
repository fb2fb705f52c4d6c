"""A commune saving while its feedback is written, and the commune code a sheet carries.

The feedback ``batchUpdate`` asks for the input tabs back (``includeSpreadsheetInResponse``
with them as ``responseRanges``); a difference from what was read is a save made during
the sync, which the next run must read. The commune code rides in the same batch as
spreadsheet-level developer metadata. Neither costs a request.
"""

from __future__ import annotations

import pytest
from google_fake import build_world, make_backend
from test_google_sync import load_demo, sync

from sync.backends.base import ColumnSpec, OutputTab
from sync.backends.google_cells import IDENTITY_KEY, identity_request
from sync.demo import build_demo_project
from sync.errors import SourceChanged
from sync.layout import commune_layout, master_layout

C = commune_layout()
M = master_layout()
MEETINGS = C["meetings"].title
FEEDBACK = C["feedback"].title


def feedback(text: str = "Không có lỗi") -> list[OutputTab]:
    return [OutputTab(FEEDBACK, [ColumnSpec("Nội dung")], [[text]])]


@pytest.fixture
def world(fake):
    return build_world(fake, 2)


def _identities(fake, sid: str) -> list[str]:
    return [
        m["metadataValue"]
        for m in fake.spreadsheets[sid].metadata
        if m["metadataKey"] == IDENTITY_KEY
    ]


# -- the save race ------------------------------------------------------------------------


def test_a_save_between_read_and_write_is_source_changed_at_no_extra_request(fake, world):
    sid = world.communes[0]
    backend = make_backend(fake, world.master, world.folder)
    sheet = backend.read_commune(sid)
    fake.before("batchUpdate", sid, lambda: fake.edit(sid, MEETINGS, 1, 7, "sửa lúc đồng bộ"))

    with pytest.raises(SourceChanged):
        backend.write_commune(sid, feedback(), expected=sheet.token, identity="29110")

    assert (backend.reads, backend.writes) == (1, 1)
    assert fake.values(sid, FEEDBACK) == [["Nội dung"], ["Không có lỗi"]]  # written anyway
    assert fake.values(sid, MEETINGS)[1][7] == "sửa lúc đồng bộ"  # and the save kept


def test_no_save_no_change_and_the_same_two_requests(fake, world):
    sid = world.communes[0]
    backend = make_backend(fake, world.master, world.folder)
    sheet = backend.read_commune(sid)
    backend.write_commune(sid, feedback(), expected=sheet.token, identity="29110")
    backend.write_commune(sid, feedback("Lần hai"), expected=sheet.token, identity="29110")
    assert (backend.reads, backend.writes) == (1, 2)
    body = fake.bodies[-1][1]
    assert body["includeSpreadsheetInResponse"] is True
    assert body["responseRanges"] == [f"'{t}'" for t in (MEETINGS, C["ratings"].title)]


def test_an_edit_to_namcosos_own_tab_is_not_a_commune_save(fake, world):
    sid = world.communes[0]
    backend = make_backend(fake, world.master, world.folder)
    backend.write_commune(sid, feedback(), identity="29110")
    backend = make_backend(fake, world.master, world.folder)
    sheet = backend.read_commune(sid)
    fake.before("batchUpdate", sid, lambda: fake.edit(sid, FEEDBACK, 1, 0, "xã gõ vào đây"))
    backend.write_commune(sid, feedback("Mới"), expected=sheet.token, identity="29110")
    assert fake.values(sid, FEEDBACK) == [["Nội dung"], ["Mới"]]


def test_a_sheet_not_read_this_run_is_read_once_then_checked_the_same_way(fake, world):
    sid = world.communes[1]
    backend = make_backend(fake, world.master, world.folder)
    fake.before("batchUpdate", sid, lambda: fake.edit(sid, MEETINGS, 1, 3, 21))
    with pytest.raises(SourceChanged):
        backend.write_commune(sid, feedback(), expected="v1", identity="29111")
    assert (backend.reads, backend.writes) == (1, 1)  # as before: tab list + write

    backend = make_backend(fake, world.master, world.folder)
    backend.write_commune(sid, feedback(), expected="v9", identity="29111")
    assert (backend.reads, backend.writes) == (1, 1)


def test_a_tab_renamed_during_the_sync_is_a_change(fake, world):
    sid = world.communes[0]
    backend = make_backend(fake, world.master, world.folder)
    sheet = backend.read_commune(sid)
    ratings = fake.spreadsheets[sid].tab(C["ratings"].title)
    fake.before("batchUpdate", sid, lambda: setattr(ratings, "title", "Xếp loại (cũ)"))
    with pytest.raises(SourceChanged):
        backend.write_commune(sid, feedback(), expected=sheet.token, identity="29110")
    assert fake.values(sid, FEEDBACK) == [["Nội dung"], ["Không có lỗi"]]


def test_a_save_during_the_feedback_write_is_read_on_the_next_run(fake, tmp_path_factory):
    demo = build_demo_project(tmp_path_factory.mktemp("race") / "ba-tri")
    project = load_demo(fake, demo, tmp_path_factory.mktemp("race-google"))
    sync(fake, project, full=True)
    code, sid = next(iter(project.sheets.items()))
    tab = fake.spreadsheets[sid].tab(MEETINGS)
    last = max(r for r, _ in tab.cells)
    month = C["meetings"].columns.index(C["meetings"].column("month"))
    note = C["meetings"].columns.index(C["meetings"].column("note"))
    fake.edit(sid, MEETINGS, last, month, "13/2018")  # a new error: feedback is rewritten
    saved = "Họp bổ sung, lưu đúng lúc namcoso ghi phản hồi"
    fake.before("batchUpdate", sid, lambda: fake.edit(sid, MEETINGS, 1, note, saved))

    result, backend, _ = sync(fake, project)
    assert code not in result.communes_written  # the write was not taken as the last word
    assert backend.reads <= 4 and backend.writes <= 2  # the budget of one changed commune
    th = M["meetings"].title
    assert not any(saved in map(str, row) for row in fake.values(project.master, th))

    result, backend, _ = sync(fake, project)
    assert result.communes_read == 1
    assert backend.reads <= 4  # registry, folder listing, this commune again (+ a refresh)
    assert any(saved in map(str, row) for row in fake.values(project.master, th))


# -- identity -----------------------------------------------------------------------------


def test_a_write_stamps_the_commune_code_once_in_the_same_batch(fake, world):
    sid = world.communes[0]
    backend = make_backend(fake, world.master, world.folder)
    assert backend.read_commune(sid).identity is None
    backend.write_commune(sid, feedback(), identity="29110")
    assert backend.writes == 1 and _identities(fake, sid) == ["29110"]
    meta = fake.spreadsheets[sid].metadata[0]
    assert meta["visibility"] == "DOCUMENT" and meta["location"]["spreadsheet"] is True

    backend = make_backend(fake, world.master, world.folder)
    assert backend.read_commune(sid).identity == "29110"
    backend.write_commune(sid, feedback("Lần hai"), identity="29110")
    assert _identities(fake, sid) == ["29110"]  # not stamped twice
    assert (backend.reads, backend.writes) == (1, 1)


def test_a_sheet_naming_another_commune_keeps_that_name(fake, world):
    sid = world.communes[0]
    backend = make_backend(fake, world.master, world.folder)
    backend.transport.batch_update(sid, {"requests": [identity_request("29113")]})
    assert backend.read_commune(sid).identity == "29113"
    backend.write_commune(sid, feedback(), identity="29110")
    assert _identities(fake, sid) == ["29113"]


def test_two_codes_on_one_sheet_are_both_reported_never_one_guessed(fake, world):
    sid = world.communes[0]
    backend = make_backend(fake, world.master, world.folder)
    body = {"requests": [identity_request("29113"), identity_request("29110")]}
    backend.transport.batch_update(sid, body)
    assert backend.read_commune(sid).identity == "29110,29113"


def test_the_fake_refuses_developer_metadata_google_would_refuse(fake, world):
    from sync.backends.google_transport import ApiError

    sid = world.communes[0]
    backend = make_backend(fake, world.master, world.folder)
    request = identity_request("29110")
    del request["createDeveloperMetadata"]["developerMetadata"]["visibility"]
    with pytest.raises(ApiError) as caught:
        backend.transport.batch_update(sid, {"requests": [request]})
    assert caught.value.status == 400 and fake.spreadsheets[sid].metadata == []


def test_a_save_just_after_the_feedback_write_is_read_on_the_next_run(fake, tmp_path_factory):
    """The pipeline lists the folder once after all feedback writes to record the new Drive
    versions; a save landing in between is not namcoso's (``lastModifyingUser.me``)."""
    demo = build_demo_project(tmp_path_factory.mktemp("after") / "ba-tri")
    project = load_demo(fake, demo, tmp_path_factory.mktemp("after-google"))
    sync(fake, project, full=True)
    code, sid = next(iter(project.sheets.items()))
    tab = fake.spreadsheets[sid].tab(MEETINGS)
    last = max(r for r, _ in tab.cells)
    month = C["meetings"].columns.index(C["meetings"].column("month"))
    note = C["meetings"].columns.index(C["meetings"].column("note"))
    fake.edit(sid, MEETINGS, last, month, "13/2018")  # a new error: feedback is rewritten
    saved = "Lưu ngay sau khi namcoso ghi phản hồi"

    def save_before_the_refresh_listing() -> None:
        fake.before("list", "drive", lambda: fake.edit(sid, MEETINGS, 1, note, saved))

    fake.before("batchUpdate", sid, save_before_the_refresh_listing)
    result, backend, _ = sync(fake, project)
    assert code in result.communes_written  # the write itself saw no change
    assert not any(
        saved in map(str, row) for row in fake.values(project.master, M["meetings"].title)
    )
    reads = backend.reads

    result, backend, _ = sync(fake, project)
    assert result.communes_read == 1
    assert any(saved in map(str, row) for row in fake.values(project.master, M["meetings"].title))
    assert reads <= 4  # the refresh listing was already there: nothing added for this
