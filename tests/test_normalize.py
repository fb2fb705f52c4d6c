"""Normalize: header detection, drifting headers, blank and totals rows, NFD text."""

from __future__ import annotations

import unicodedata

from sync.layout import commune_layout
from sync.normalize import normalize_commune, normalize_tab

MEETINGS = commune_layout()["meetings"]
TEMPLATE_HEADER = [c.header for c in MEETINGS.columns]


def test_header_below_a_title_and_blank_rows_is_found():
    grid = [
        ["BÁO CÁO SINH HOẠT CHI BỘ NĂM 2018", None],
        [None],
        [],
        TEMPLATE_HEADER,
        ["Ấp An Thạnh", "03/2018", "05/03/2018", 20, 18, "x", "x", ""],
    ]
    raw = normalize_tab({MEETINGS.title: grid}, MEETINGS, "29110")
    assert raw.ok
    assert raw.frame["_row"].tolist() == [5]
    assert raw.frame["hamlet"].tolist() == ["Ấp An Thạnh"]
    assert raw.cell("present", 5) == "E5"


def test_renamed_reordered_and_extra_columns_are_mapped_by_alias():
    header = ["STT", "Số ĐV\ndự", "Tên ấp", "Tháng", "Ngày SH", "Tổng số ĐV", "CB phụ trách dự",
              "Người lập", "Chi ủy họp trước"]  # fmt: skip
    grid = [header, [1, 18, "An Thạnh", "3/2018", "5/3/2018", 20, "x", "Lan", ""]]
    raw = normalize_tab({MEETINGS.title: grid}, MEETINGS, "29110")
    assert raw.ok
    row = raw.frame.iloc[0]
    assert (row["hamlet"], row["present"], row["members"]) == ("An Thạnh", 18, 20)
    assert raw.letters["present"] == "B" and raw.letters["hamlet"] == "C"
    unmapped = [f for f in raw.findings if f.code == "unmapped_columns"]
    assert len(unmapped) == 1 and "Người lập" in unmapped[0].message
    assert "STT" not in unmapped[0].message


def test_header_split_over_two_rows_is_joined():
    grid = [
        ["Ấp/Khu phố", "Tháng", "Ngày sinh hoạt", "Số đảng viên", None, "Cán bộ phụ trách dự"],
        [None, None, None, "Tổng số", "Dự", None],
        ["Ấp An Thạnh", "03/2018", "05/03/2018", 20, 18, "x"],
    ]
    raw = normalize_tab({MEETINGS.title: grid}, MEETINGS, "29110")
    assert raw.ok, raw.findings
    assert raw.frame.iloc[0]["members"] == 20 and raw.frame.iloc[0]["present"] == 18
    assert raw.frame["_row"].tolist() == [3]


def test_blank_totals_and_repeated_header_rows_are_skipped():
    grid = [
        TEMPLATE_HEADER,
        ["Ấp An Thạnh", "03/2018", "05/03/2018", 20, 18, "x", "x", ""],
        [None, None, None, None, None, None, None, None],
        ["", "  ", None],
        TEMPLATE_HEADER,
        ["Khu phố 1", "03/2018", "06/03/2018", 30, 27, "", "x", ""],
        ["Tổng cộng", None, None, 50, 45],
    ]
    raw = normalize_tab({MEETINGS.title: grid}, MEETINGS, "29110")
    assert raw.frame["_row"].tolist() == [2, 6]


def test_tab_title_and_text_in_decomposed_unicode_are_read_as_nfc():
    nfd = unicodedata.normalize("NFD", "Ấp An Thạnh")
    title = unicodedata.normalize("NFD", MEETINGS.title).upper()
    header = [unicodedata.normalize("NFD", h) for h in TEMPLATE_HEADER]
    raws = normalize_commune({title: [header, [nfd, "03/2018", "05/03/2018", 20, 18, "x"]]})
    meetings = raws["meetings"]
    assert meetings.ok
    assert meetings.frame.iloc[0]["hamlet"] == "Ấp An Thạnh"
    assert unicodedata.is_normalized("NFC", meetings.frame.iloc[0]["hamlet"])


def test_missing_required_column_rejects_the_tab_listing_found_and_expected():
    grid = [["Tên ấp", "Tháng", "Ghi chú"], ["Ấp An Thạnh", "03/2018", ""]]
    raw = normalize_tab({MEETINGS.title: grid}, MEETINGS, "29110")
    assert not raw.ok and raw.frame.empty
    (f,) = [f for f in raw.findings if f.code == "missing_columns"]
    assert f.severity == "Lỗi"
    assert "Tổng số đảng viên" in f.message
    assert '"Tên ấp" (Ấp/Khu phố), "Tháng" (Tháng), "Ghi chú" (Ghi chú)' in f.message


def test_missing_tab_is_a_warning_not_a_failure():
    raws = normalize_commune({"Trang khác": [["a"]]}, "29110")
    assert all(not r.ok for r in raws.values())
    assert {f.code for r in raws.values() for f in r.findings} == {"missing_tab"}


def test_legacy_tab_converts_its_ambiguous_cells_too_and_names_the_ranges():
    from sync.legacy import encode_legacy

    def tcvn3(text):
        return encode_legacy(text, "TCVN3")

    rows = [
        [tcvn3("Ấp Thủy Lợi"), "03/2018", "05/03/2018", 20, 18, "x", "x", tcvn3("Có")],
        [tcvn3("Ấp Giồng Chùa"), "04/2018", "05/04/2018", 20, 18, "x", "x", tcvn3("Ghi chú")],
        [tcvn3("Ấp Long Thạnh"), "05/2018", "05/05/2018", 20, 18, "x", "x", tcvn3("Họp kỳ")],
    ]
    raw = normalize_tab({MEETINGS.title: [TEMPLATE_HEADER, *rows]}, MEETINGS, "29170")
    assert raw.frame["note"].tolist() == ["Có", "Ghi chú", "Họp kỳ"]
    assert raw.frame["hamlet"].tolist() == ["Ấp Thủy Lợi", "Ấp Giồng Chùa", "Ấp Long Thạnh"]
    legacy = {f.cell: f.severity for f in raw.findings if f.code == "legacy_text"}
    assert legacy == {"A2:A4": "Thông tin", "H2:H4": "Thông tin"}


def test_correct_text_with_ambiguous_words_is_left_alone():
    rows = [["Ấp An Phó", "03/2018", "05/03/2018", 20, 18, "x", "x", "Toát yếu"]]
    raw = normalize_tab({MEETINGS.title: [TEMPLATE_HEADER, *rows]}, MEETINGS, "29110")
    assert raw.frame.iloc[0]["hamlet"] == "Ấp An Phó" and raw.frame.iloc[0]["note"] == "Toát yếu"
    assert not [f for f in raw.findings if f.code == "legacy_text"]


def test_hamlets_named_like_totals_words_are_kept():
    rows = [
        [name, "03/2018", "05/03/2018", 20, 18, "x", "x", ""]
        for name in ("Cống Bần", "Cộng Hòa", "Công Lý", "Tổng Châu")
    ]
    grid = [TEMPLATE_HEADER, *rows, ["Cộng", None, None, 80, 72], ["Tổng cộng toàn xã", None]]
    raw = normalize_tab({MEETINGS.title: grid}, MEETINGS, "29110")
    assert raw.frame["hamlet"].tolist() == ["Cống Bần", "Cộng Hòa", "Công Lý", "Tổng Châu"]


def test_rows_led_by_codes_are_kept_and_a_numbered_header_repeated_is_not():
    from sync.normalize import _data_rows

    grid = [["1 Ấp", "Tên"], ["29110-01", 5], ["1", None], ["1 Ấp", "Tên"], ["2", 7]]
    # Codes and numbers are taken without folding them, unless a header name starts with
    # a digit: then the repeated header row is still recognized and dropped.
    rows, numbers = _data_rows(grid, 1, [0, 1], {"1 ap", "ten"})
    assert numbers == [2, 3, 5]
    assert rows[0] == ["29110-01", 5]
    _, numbers = _data_rows(grid, 1, [0, 1], {"ma", "ten"})
    assert numbers == [2, 3, 4, 5]


def test_a_header_worked_out_once_still_gives_each_sheet_its_own_findings_and_rows():
    header = [*TEMPLATE_HEADER, "Người lập"]
    first = [header, ["Ấp An Thạnh", "03/2018", "05/03/2018", 20, 18, "x", "x", "", "Lan"]]
    second = [header, ["Khu phố 1", "04/2018", "06/04/2018", 30, 27, "", "x", "", "Hoa"]]
    a = normalize_tab({MEETINGS.title: first}, MEETINGS, "29110")
    b = normalize_tab({MEETINGS.title: second}, MEETINGS, "29113")
    assert [r[0] for r in a.rows] == ["Ấp An Thạnh"] and [r[0] for r in b.rows] == ["Khu phố 1"]
    assert [(f.code, f.commune) for f in a.findings] == [("unmapped_columns", "29110")]
    assert [(f.code, f.commune) for f in b.findings] == [("unmapped_columns", "29113")]
    # A first row that is only part of the header is judged with the row below it, each
    # time: the same group titles over swapped sub-titles map the columns the other way.
    top = ["Ấp/Khu phố", "Tháng", "Ngày sinh hoạt", "Số đảng viên", None, "Cán bộ phụ trách dự"]
    row = ["Ấp An Thạnh", "03/2018", "05/03/2018", 20, 18, "x"]
    one = normalize_tab({MEETINGS.title: [top, [None, None, None, "Tổng số", "Dự"], row]}, MEETINGS)
    two = normalize_tab({MEETINGS.title: [top, [None, None, None, "Dự", "Tổng số"], row]}, MEETINGS)
    assert (one.letters["members"], one.letters["present"]) == ("D", "E")
    assert (two.letters["members"], two.letters["present"]) == ("E", "D")
