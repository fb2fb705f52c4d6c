# ruff: noqa: E501  (a table of headers as offices write them, one per line)
"""Columns by meaning: header rows written the way Vietnamese offices write them.

Each case is a header as it appears at the top of a commune's tab (titles, two-row
headers with a merged group cell, a row numbering the columns, abbreviations, units in
parentheses, line breaks, capitals, extra columns, another order) and the column key
each cell must be read as (None: not a column of the template). None of these headers
is copied from mappings/headers.toml.
"""

from __future__ import annotations

import pytest

from sync.headers import cell_scores, column_for, is_numbering_row
from sync.layout import commune_layout
from sync.normalize import find_header, normalize_tab

C = commune_layout()
_ = None

# (tab, header rows, expected key per column of the last header row)
CASES = [
    # -- Sinh hoạt chi bộ --------------------------------------------------------------
    ("meetings", [["Tên ấp, khu phố", "Tháng", "Ngày sinh hoạt", "Tổng số đảng viên", "Số đảng viên dự", "Cán bộ phụ trách dự", "Chi ủy họp trước sinh hoạt", "Ghi chú"]],
     ["hamlet", "month", "meeting_date", "members", "present", "cadre_attended", "committee_met", "note"]),
    ("meetings", [["STT", "Ấp, khu phố", "Tháng báo cáo", "Ngày SH", "Tổng số ĐV", "ĐV dự", "CB phụ trách dự", "CU họp trước", "Ghi chú"]],
     [_, "hamlet", "month", "meeting_date", "members", "present", "cadre_attended", "committee_met", "note"]),
    ("meetings", [["TÊN ẤP", "THÁNG", "NGÀY SINH HOẠT", "TỔNG SỐ ĐẢNG VIÊN", "SỐ ĐẢNG VIÊN DỰ", "CÁN BỘ PHỤ TRÁCH DỰ", "CHI ỦY HỌP TRƯỚC", "GHI CHÚ"]],
     ["hamlet", "month", "meeting_date", "members", "present", "cadre_attended", "committee_met", "note"]),
    ("meetings", [["Chi bộ ấp", "Tháng", "Ngày\nsinh hoạt", "Tổng số\nđảng viên\n(đ/c)", "Số đảng viên\ndự sinh hoạt\n(đ/c)", "Cán bộ huyện\nphụ trách dự\n(đánh dấu x)", "Chi ủy\nhọp trước\n(x)", "Ghi chú"]],
     ["hamlet", "month", "meeting_date", "members", "present", "cadre_attended", "committee_met", "note"]),
    ("meetings", [["Ấp/KP", "Tháng", "Ngày SH", "Số đảng viên", _, "Đ/c phụ trách dự", "Chi ủy họp trước"],
                  [_, _, _, "Tổng số", "Dự", _, _]],
     ["hamlet", "month", "meeting_date", "members", "present", "cadre_attended", "committee_met"]),
    ("meetings", [["Đơn vị", "Kỳ báo cáo", "Ngày tổ chức", "Đảng viên", _, "CBPT dự", "Ghi chú"],
                  [_, _, _, "TS", "Có mặt", _, _],
                  ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)"]],
     ["hamlet", "month", "meeting_date", "members", "present", "cadre_attended", "note"]),
    ("meetings", [["Tháng", "Tên ấp", "Số ĐV dự", "Tổng số ĐV", "Ngày sinh hoạt", "Cán bộ phụ trách có dự", "Người lập"]],
     ["month", "hamlet", "present", "members", "meeting_date", "cadre_attended", _]),
    ("meetings", [["Ấp", "Tháng/năm", "Ngày, tháng, năm sinh hoạt", "Tổng số đảng viên của chi bộ", "Số đảng viên có mặt", "Cán bộ phụ trách có tham dự", "Họp chi ủy"]],
     ["hamlet", "month", "meeting_date", "members", "present", "cadre_attended", "committee_met"]),
    ("meetings", [["Khu phố", "Tháng", "Ngày họp", "ĐV", "Dự", "CB dự", "Ghi chú"], [1, 2, 3, 4, 5, 6, 7]],
     ["hamlet", "month", "meeting_date", "members", "present", "cadre_attended", "note"]),
    ("meetings", [["TT", "Chi bộ", "Kỳ (tháng)", "Ngày sinh hoạt chi bộ", "Tổng số ĐV (người)", "ĐV dự (người)", "CB huyện dự", "Chi ủy họp trước (có/không)", "Ghi chú"]],
     [_, "hamlet", "month", "meeting_date", "members", "present", "cadre_attended", "committee_met", "note"]),
    ("meetings", [["Tên chi bộ", "Tháng sinh hoạt", "Ngày", "Số lượng đảng viên", "Số ĐV tham dự", "Đồng chí phụ trách dự", "Chi ủy có họp trước", "Nội dung sinh hoạt"]],
     ["hamlet", "month", "meeting_date", "members", "present", "cadre_attended", "committee_met", _]),
    ("meetings", [["Ấp", "Tháng", "Ngày sinh hoạt", "Đảng viên", _, _, "Cán bộ phụ trách", "Chi ủy họp trước"],
                  [_, _, _, "Tổng số", "Dự", "Vắng", "có dự", _]],
     ["hamlet", "month", "meeting_date", "members", "present", _, "cadre_attended", "committee_met"]),
    ("meetings", [["ấp", "tháng", "ngày sinh hoạt", "tổng số", "số dự", "cán bộ phụ trách dự"]],
     ["hamlet", "month", "meeting_date", "members", "present", "cadre_attended"]),
    ("meetings", [["Số TT", "Tên Ấp/Khu phố", "Tháng", "Ngày sinh hoạt (ngày/tháng/năm)", "Tổng số đảng viên", "Số đảng viên dự", "Cán bộ phụ trách dự", "Chi ủy họp trước"],
                  ["A", "B", "1", "2", "3", "4", "5", "6"]],
     [_, "hamlet", "month", "meeting_date", "members", "present", "cadre_attended", "committee_met"]),
    ("meetings", [["Ấp", "Tháng", "Ngày sinh hoạt", "Số ĐV", "Số ĐV dự SH", "CB phụ trách dự SH", "Ghi chú"]],
     ["hamlet", "month", "meeting_date", "members", "present", "cadre_attended", "note"]),
    ("meetings", [["Tên ấp", "Tháng", "Ngày SH", "T.số ĐV", "ĐV dự", "CBPT dự", "CU họp trước"]],
     ["hamlet", "month", "meeting_date", "members", "present", "cadre_attended", "committee_met"]),
    ("meetings", [["Ghi chú", "Chi ủy họp trước", "Cán bộ phụ trách dự", "Số đảng viên dự", "Tổng số đảng viên", "Ngày sinh hoạt", "Tháng", "Ấp/Khu phố"]],
     ["note", "committee_met", "cadre_attended", "present", "members", "meeting_date", "month", "hamlet"]),
    ("meetings", [["Ấp", "Tháng", "Ngày sinh hoạt", "Tình hình đảng viên", _, "Cán bộ phụ trách dự"],
                  [_, _, _, "Tổng số đảng viên", "Số đảng viên dự", _]],
     ["hamlet", "month", "meeting_date", "members", "present", "cadre_attended"]),
    # -- Xếp loại chi bộ -----------------------------------------------------------------
    ("ratings", [["Tên ấp, khu phố", "Năm", "Xếp loại", "Ghi chú"]], ["hamlet", "year", "rating", "note"]),
    ("ratings", [["STT", "Chi bộ", "Năm", "Kết quả xếp loại", "Ghi chú"]], [_, "hamlet", "year", "rating", "note"]),
    ("ratings", [["TÊN CHI BỘ", "NĂM ĐÁNH GIÁ", "KẾT QUẢ ĐÁNH GIÁ, XẾP LOẠI"]], ["hamlet", "year", "rating"]),
    ("ratings", [["Ấp/KP", "Năm xếp loại", "Xếp loại chất lượng\n(HTXSNV, HTTNV, HTNV, KHTNV)"]], ["hamlet", "year", "rating"]),
    ("ratings", [["Năm", "Ấp", "Mức xếp loại", "Người lập"]], ["year", "hamlet", "rating", _]),
    ("ratings", [["Ấp", "Năm", "Kết quả", "Ghi chú"], ["(1)", "(2)", "(3)", "(4)"]], ["hamlet", "year", "rating", "note"]),
    ("ratings", [["Đơn vị", "Năm", "Xếp loại chi bộ", "Chú thích"]], ["hamlet", "year", "rating", "note"]),
    ("ratings", [["Chi bộ ấp", "Năm", "Đánh giá, xếp loại", _], [_, _, "Mức", "Ghi chú"]], ["hamlet", "year", "rating", "note"]),
    ("ratings", [["ấp", "năm", "xếp loại"]], ["hamlet", "year", "rating"]),
    ("ratings", [["Khu phố", "Năm (dương lịch)", "Xếp loại (ghi HTXS/HTT/HT/KHT)"]], ["hamlet", "year", "rating"]),
    ("ratings", [["TT", "Tên ấp", "Năm", "XL", "Ghi chú"]], [_, "hamlet", "year", "rating", "note"]),
    ("ratings", [["Tên chi bộ ấp, khu phố", "Năm", "Mức chất lượng", "Ghi chú"]], ["hamlet", "year", "rating", "note"]),
    ("ratings", [["Ấp", "Năm xếp loại", "Kết quả xếp loại", "Ghi chú"], [1, 2, 3, 4]], ["hamlet", "year", "rating", "note"]),
    ("ratings", [["Ghi chú", "Xếp loại", "Năm", "Ấp/Khu phố"]], ["note", "rating", "year", "hamlet"]),
    ("ratings", [["Tên Ấp", "Năm", "Đánh giá"]], ["hamlet", "year", "rating"]),
    ("ratings", [["Chi bộ", "Năm", "Xếp loại chất lượng tổ chức đảng"]], ["hamlet", "year", "rating"]),
    # -- Hỗ trợ, vận động ------------------------------------------------------------------
    ("support", [["Ấp/Khu phố", "Ngày", "Lĩnh vực", "Nội dung", "Giá trị (đồng)", "Người vận động"]],
     ["hamlet", "date", "field", "content", "amount", "mobilizer"]),
    ("support", [["STT", "Tên ấp", "Ngày hỗ trợ", "Lĩnh vực hỗ trợ", "Nội dung hỗ trợ", "Số tiền (đồng)", "Cán bộ vận động"]],
     [_, "hamlet", "date", "field", "content", "amount", "mobilizer"]),
    ("support", [["ẤP", "NGÀY", "LĨNH VỰC", "NỘI DUNG", "THÀNH TIỀN (Đ)", "NGƯỜI VẬN ĐỘNG"]],
     ["hamlet", "date", "field", "content", "amount", "mobilizer"]),
    ("support", [["Ấp/KP", "Thời gian", "Loại hỗ trợ\n(ASXH/NTM/Khác)", "Diễn giải", "Trị giá\n(VNĐ)", "Người hỗ trợ"]],
     ["hamlet", "date", "field", "content", "amount", "mobilizer"]),
    ("support", [["Ấp", "Ngày", "Nội dung vận động", _, "Giá trị", "Người vận động"],
                 [_, _, "Lĩnh vực", "Nội dung", "(đồng)", _]],
     ["hamlet", "date", "field", "content", "amount", "mobilizer"]),
    ("support", [["Tên ấp, khu phố", "Ngày tháng", "Lĩnh vực", "Công trình, phần việc", "Kinh phí (đồng)", "Người, đơn vị vận động", "Ghi chú"]],
     ["hamlet", "date", "field", "content", "amount", "mobilizer", _]),
    ("support", [["Ấp", "Ngày", "Lĩnh vực", "Nội dung", "Giá trị (đ)", "Người vận động"], ["1", "2", "3", "4", "5", "6"]],
     ["hamlet", "date", "field", "content", "amount", "mobilizer"]),
    ("support", [["Người vận động", "Giá trị quy ra tiền", "Nội dung", "Lĩnh vực", "Ngày", "Ấp"]],
     ["mobilizer", "amount", "content", "field", "date", "hamlet"]),
    ("support", [["ấp", "ngày", "lĩnh vực", "nội dung", "số tiền", "người vận động"]],
     ["hamlet", "date", "field", "content", "amount", "mobilizer"]),
    ("support", [["Khu phố", "Ngày vận động", "Hình thức hỗ trợ", "Nội dung", "Tổng giá trị (đồng)", "Cá nhân vận động"]],
     ["hamlet", "date", "field", "content", "amount", "mobilizer"]),
    ("support", [["TT", "Ấp được hỗ trợ", "Ngày trao", "Lĩnh vực", "Nội dung", "GT (đồng)", "Người vận động"]],
     [_, "hamlet", "date", "field", "content", "amount", "mobilizer"]),
    ("support", [["Ấp", "Ngày", "Lĩnh vực", "Nội dung", "Số tiền vận động (đồng)", "Đơn vị, cá nhân vận động"]],
     ["hamlet", "date", "field", "content", "amount", "mobilizer"]),
    ("support", [["Đơn vị được hỗ trợ", "Ngày", "Loại", "Diễn giải", "Thành tiền", "Người vận động"]],
     ["hamlet", "date", "field", "content", "amount", "mobilizer"]),
    ("support", [["Ấp", "Ngày", "Lĩnh vực", "Nội dung", "Giá trị\n(đồng)", "Người\nvận động"], ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)"]],
     ["hamlet", "date", "field", "content", "amount", "mobilizer"]),
    ("support", [["TÊN ẤP", "NGÀY HỖ TRỢ", "LĨNH VỰC", "NỘI DUNG", "GIÁ TRỊ", "NGƯỜI VẬN ĐỘNG", "KÝ NHẬN"]],
     ["hamlet", "date", "field", "content", "amount", "mobilizer", _]),
    # -- Phân công hộ ----------------------------------------------------------------------
    ("households", [["Ấp/Khu phố", "Cán bộ xã", "Chức vụ", "Số hộ phụ trách", "Tổ nhân dân tự quản"]],
     ["hamlet", "cadre", "position", "households", "group"]),
    ("households", [["STT", "Ấp", "Họ và tên", "Chức vụ", "Số hộ", "Tổ NDTQ"]], [_, "hamlet", "cadre", "position", "households", "group"]),
    ("households", [["TÊN ẤP", "HỌ TÊN CÁN BỘ", "CHỨC DANH", "SỐ HỘ THEO DÕI", "TỔ"]], ["hamlet", "cadre", "position", "households", "group"]),
    ("households", [["Ấp/KP", "Cán bộ phụ trách", _, "Số hộ\nphụ trách", "Tổ nhân dân\ntự quản"],
                    [_, "Họ tên", "Chức vụ", _, _]],
     ["hamlet", "cadre", "position", "households", "group"]),
    ("households", [["Khu phố", "Đồng chí phụ trách", "Chức vụ", "Số lượng hộ", "Tổ tự quản số"]], ["hamlet", "cadre", "position", "households", "group"]),
    ("households", [["Ấp", "Cán bộ", "Chức danh", "Hộ phụ trách (hộ)", "Tổ"], ["(1)", "(2)", "(3)", "(4)", "(5)"]],
     ["hamlet", "cadre", "position", "households", "group"]),
    ("households", [["Tổ NDTQ", "Số hộ", "Chức vụ", "Cán bộ xã", "Ấp"]], ["group", "households", "position", "cadre", "hamlet"]),
    ("households", [["ấp", "cán bộ", "chức vụ", "số hộ", "tổ"]], ["hamlet", "cadre", "position", "households", "group"]),
    ("households", [["TT", "Tên ấp, khu phố", "Tên cán bộ", "Chức vụ công tác", "Số hộ được phân công", "Tổ nhân dân", "Điện thoại"]],
     [_, "hamlet", "cadre", "position", "households", "group", _]),
    ("households", [["Ấp", "CB xã phụ trách", "Chức vụ", "SL hộ", "Tổ NDTQ"]], ["hamlet", "cadre", "position", "households", "group"]),
    ("households", [["Ấp", "Cán bộ xã", "Chức vụ", "Số hộ phụ trách", "Tổ nhân dân tự quản"], [1, 2, 3, 4, 5]],
     ["hamlet", "cadre", "position", "households", "group"]),
    ("households", [["Ấp", "Họ tên", "Chức vụ", "Số hộ (hộ)", "Tổ số"]], ["hamlet", "cadre", "position", "households", "group"]),
    ("households", [["Tên Ấp", "Cán bộ xã phụ trách", "Chức danh", "Số hộ phụ trách", "Tổ NDTQ", "Ghi chú"]],
     ["hamlet", "cadre", "position", "households", "group", _]),
    ("households", [["ẤP/KHU PHỐ", "CÁN BỘ XÃ", "CHỨC VỤ", "SỐ HỘ PHỤ TRÁCH", "TỔ NHÂN DÂN TỰ QUẢN"]],
     ["hamlet", "cadre", "position", "households", "group"]),
    ("households", [["Ấp", "Cán bộ xã", "Chức vụ", "Số hộ phụ trách"]], ["hamlet", "cadre", "position", "households"]),
]  # fmt: skip


def _ids() -> list[str]:
    return [f"{tab}-{i}" for i, (tab, _, _) in enumerate(CASES)]


def test_at_least_sixty_header_variants_across_the_four_input_tabs():
    assert len(CASES) >= 60
    assert {tab for tab, _, _ in CASES} == {t.key for t in C.by_role("input")}


@pytest.mark.parametrize(("tab_key", "rows", "expected"), CASES, ids=_ids())
def test_header_variant_is_read_by_meaning(tab_key, rows, expected):
    tab = C[tab_key]
    title = [f"BÁO CÁO {tab.title.upper()} NĂM 2018"]
    grid = [title, [], *rows, ["(dữ liệu)"] * len(expected)]
    row, height, mapped = find_header(grid, tab)
    assert row == 2
    assert row + height == len(grid) - 1  # the data start right under the header
    got = [mapped.get(i) for i in range(len(expected))]
    assert got == expected


@pytest.mark.parametrize(
    ("tab_key", "text", "key"),
    [
        ("meetings", "Cán bộ phụ trách dự", "cadre_attended"),
        ("meetings", "Số đảng viên dự", "present"),
        ("meetings", "Chi ủy họp trước sinh hoạt", "committee_met"),
        ("meetings", "Tên ấp, khu phố", "hamlet"),
        ("meetings", "Tổng số ĐV dự", "present"),
        ("meetings", "Người lập", None),
        ("meetings", "BÁO CÁO SINH HOẠT CHI BỘ", None),
        ("households", "Số hộ phụ trách", "households"),
        ("households", "Cán bộ phụ trách", "cadre"),
    ],
)
def test_what_must_not_be_confused(tab_key, text, key):
    if key is None:
        assert column_for(text, tab_key) is None or text.startswith("BÁO CÁO")
    else:
        assert column_for(text, tab_key) == key, cell_scores(text, tab_key)


def test_meetings_tab_headed_ten_ap_khu_pho_is_read_whole():
    header = ["Tên ấp, khu phố", "Tháng", "Ngày sinh hoạt", "Tổng số đảng viên", "Số đảng viên dự",
              "Cán bộ phụ trách dự", "Chi ủy họp trước sinh hoạt", "Ghi chú"]  # fmt: skip
    raw = normalize_tab(
        {
            C["meetings"].title: [
                header,
                ["Ấp An Thạnh", "03/2018", "05/03/2018", 20, 18, "x", "x", ""],
            ]
        },
        C["meetings"],
        "29110",
    )
    assert raw.ok and len(raw.rows) == 1
    assert not [
        f for f in raw.findings if f.code == "unmapped_columns"
    ]  # "Chi ủy họp trước…" is a column


def test_unreadable_tab_names_the_row_most_like_its_header_and_what_was_recognised():
    header = ["Tên ấp, khu phố", "Tháng", "Ngày sinh hoạt", "Tổng số đảng viên", "Số đảng viên dự",
              "Ý kiến", "Chi ủy họp trước sinh hoạt", "Ghi chú"]  # fmt: skip
    grid = [
        ["ĐẢNG ỦY XÃ TÂN MỸ"],
        [None, None],
        header,
        ["Ấp An Thạnh", "03/2018", "05/03/2018", 20, 18, "x", "x", ""],
    ]
    raw = normalize_tab({C["meetings"].title: grid}, C["meetings"], "29113")
    assert not raw.ok
    (f,) = [f for f in raw.findings if f.code == "missing_columns"]
    assert (f.cell, f.row) == ("A3", 3)  # the header row, never the blank row above it
    assert "Cán bộ phụ trách dự" in f.message.split("thiếu cột bắt buộc:")[1].split(".")[0]
    assert "Dòng 3" in f.message
    assert '"Tên ấp, khu phố" (Ấp/Khu phố)' in f.message
    assert '"Chi ủy họp trước sinh hoạt" (Chi ủy họp trước)' in f.message
    assert "(không có)" not in f.message


def test_unreadable_tab_with_nothing_recognised_names_its_first_filled_row():
    grid = [[None], ["", "Danh sách"], ["a", "b"]]
    raw = normalize_tab({C["ratings"].title: grid}, C["ratings"], "29113")
    (f,) = [f for f in raw.findings if f.code == "missing_columns"]
    assert f.cell == "B2" and "không nhận ra cột nào" in f.message


@pytest.mark.parametrize(
    ("row", "numbering"),
    [
        (["(1)", "(2)", "(3)", "(4)"], True),
        ([1, 2, 3, 4], True),
        (["A", "B", "1", "2"], True),
        (["x", "x", "x", "x"], False),
        (["Ấp 1", 2018, "Tốt", ""], False),
        ([1, 18, 20, 3], False),
        ([None, "(2)", None, None], False),
    ],
)
def test_a_row_numbering_the_columns_is_recognised(row, numbering):
    assert is_numbering_row(row, 4) is numbering


def test_cadre_attended_is_never_taken_for_members_present_even_when_that_column_is_missing():
    header = ["Ấp", "Tháng", "Ngày sinh hoạt", "Tổng số đảng viên", "Cán bộ phụ trách dự"]
    _, _, mapped = find_header([header], C["meetings"])
    assert mapped == {0: "hamlet", 1: "month", 2: "meeting_date", 3: "members", 4: "cadre_attended"}
