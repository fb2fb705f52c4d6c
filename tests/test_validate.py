"""Validate: each SPEC finding, as data, with its cell; good rows beside bad ones survive."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from conftest import registry_grids

from sync.layout import commune_layout
from sync.normalize import normalize_commune
from sync.registry import load_registry
from sync.validate import validate_commune

TODAY = date(2018, 12, 20)
C = commune_layout()
MEETING_HEADER = [c.header for c in C["meetings"].columns]
RATING_HEADER = [c.header for c in C["ratings"].columns]
SUPPORT_HEADER = [c.header for c in C["support"].columns]
GOOD = ["Ấp An Thạnh", "03/2018", "05/03/2018", 20, 18, "x", "x", ""]


@pytest.fixture(scope="module")
def registry():
    return load_registry(registry_grids())


def check(registry, meetings=(), ratings=(), support=(), commune="29110"):
    grids = {
        C["meetings"].title: [MEETING_HEADER, *meetings],
        C["ratings"].title: [RATING_HEADER, *ratings],
        C["support"].title: [SUPPORT_HEADER, *support],
    }
    return validate_commune(normalize_commune(grids, commune), commune, registry, TODAY)


def only(result, code):
    found = [f for f in result.findings if f.code == code]
    assert len(found) == 1, [(f.code, f.cell) for f in result.findings]
    return found[0]


def test_good_row_is_accepted_with_its_source_cell(registry):
    result = check(registry, [GOOD])
    table = result.tables["meetings"]
    assert table.iloc[0]["hamlet_code"] == "29110-02"
    assert table.iloc[0]["source"] == "29110 · Sinh hoạt chi bộ!A2"
    assert not [f for f in result.findings if f.severity == "Lỗi"]


def test_unknown_hamlet_is_rejected_with_suggestion(registry):
    result = check(registry, [GOOD, ["Ấp An Thanh x", *GOOD[1:]]])
    f = only(result, "unknown_hamlet")
    assert (f.severity, f.cell, f.value) == ("Lỗi", "A3", "Ấp An Thanh x")
    assert 'Có phải "Ấp An Thạnh"?' in f.message
    assert len(result.tables["meetings"]) == 1  # the good row beside it survives


def test_hamlet_names_match_ignoring_case_diacritics_spacing_and_prefixes(registry):
    rows = [
        [name, f"{m:02d}/2018", f"05/{m:02d}/2018", 20, 18, "x", "x", ""]
        for m, name in enumerate(
            [
                "an thanh",
                "AP AN THANH",
                "Ấp  An   Thạnh",
                "KP1",
                "Khu phố 1",
                "kp 1",
                "Chi bộ ấp An Thạnh",
            ],
            start=1,
        )
    ]
    result = check(registry, rows)
    assert result.tables["meetings"]["hamlet_code"].tolist() == [
        "29110-02",
        "29110-02",
        "29110-02",
        "29110-01",
        "29110-01",
        "29110-01",
        "29110-02",
    ]


def test_hamlet_of_another_commune_is_rejected(registry):
    result = check(registry, [["Ấp Tân Hòa", *GOOD[1:]]])
    f = only(result, "foreign_hamlet")
    assert f.severity == "Lỗi" and "Xã Tân Mỹ" in f.message
    assert "meetings" not in result.tables or result.tables["meetings"].empty


@pytest.mark.parametrize(
    ("row", "code", "cell"),
    [
        (["Ấp An Thạnh", "tháng ba", "05/03/2018", 20, 18, "x"], "bad_value", "B2"),
        (["Ấp An Thạnh", "03/2018", "31/02/2018", 20, 18, "x"], "bad_value", "C2"),
        (["Ấp An Thạnh", "03/2018", "hôm qua", 20, 18, "x"], "bad_value", "C2"),
        (["Ấp An Thạnh", "03/2018", "05/04/2018", 20, 18, "x"], "date_outside_month", "C2"),
        (["Ấp An Thạnh", "12/2030", "", 20, 18, "x"], "future_period", "B2"),
        (["Ấp An Thạnh", "03/2018", "05/03/2018", 20, 25, "x"], "present_over_total", "E2"),
        (["Ấp An Thạnh", "03/2018", "05/03/2018", 20, -1, "x"], "negative_count", "E2"),
        (["Ấp An Thạnh", "03/2018", "05/03/2018", 12.5, 10, "x"], "not_integer", "D2"),
        (["Ấp An Thạnh", "03/2018", "05/03/2018", 0, 0, "x"], "zero_members", "D2"),
        (["Ấp An Thạnh", "03/2018", "05/03/2018", "", 18, "x"], "missing_value", "D2"),
        (["Ấp An Thạnh", "03/2018", "05/03/2018", 20, 18, "có lẽ"], "bad_value", "F2"),
    ],
)
def test_bad_meeting_values_reject_the_row_with_the_cell(registry, row, code, cell):
    result = check(registry, [row, ["Khu phố 1", *GOOD[1:]]])
    f = only(result, code)
    assert (f.severity, f.cell, f.tab) == ("Lỗi", cell, "Sinh hoạt chi bộ")
    assert f.message and f.fix
    assert result.tables["meetings"]["hamlet_code"].tolist() == ["29110-01"]


def test_month_without_meeting_is_accepted_with_zero_present(registry):
    result = check(registry, [["Ấp An Thạnh", "03/2018", "", 20, "", ""]])
    row = result.tables["meetings"].iloc[0]
    assert row["meeting_date"] is None and row["present"] == 0
    assert row["cadre_attended"] is False


def test_conflicting_duplicates_are_both_rejected(registry):
    other = ["Ấp An Thạnh", "3/2018", "06/03/2018", 20, 15, "", "x", ""]
    result = check(registry, [GOOD, other, ["Khu phố 1", *GOOD[1:]]])
    conflicts = [f for f in result.findings if f.code == "duplicate_conflict"]
    assert [(f.severity, f.cell) for f in conflicts] == [("Lỗi", "A2"), ("Lỗi", "A3")]
    assert result.tables["meetings"]["hamlet_code"].tolist() == ["29110-01"]


def test_identical_duplicates_are_kept_once_with_a_warning(registry):
    result = check(registry, [GOOD, list(GOOD)])
    f = only(result, "duplicate_identical")
    assert f.severity == "Cảnh báo" and "dòng 2, 3" in f.message
    assert len(result.tables["meetings"]) == 1


def test_formula_like_text_is_kept_as_text_with_a_warning(registry):
    result = check(registry, [[*GOOD[:7], '=IMPORTXML("http://x.example","//a")']])
    f = only(result, "formula_text")
    assert f.severity == "Cảnh báo" and f.cell == "H2"
    assert result.tables["meetings"].iloc[0]["note"].startswith("=IMPORTXML")


def test_unknown_rating_is_rejected_and_known_forms_accepted(registry):
    result = check(
        registry,
        ratings=[["Ấp An Thạnh", 2018, "Khá", ""], ["Khu phố 1", "2018", "xuat sac", ""]],
    )
    f = only(result, "bad_value")
    assert (f.cell, f.value) == ("C2", "Khá")
    assert result.tables["ratings"]["rating"].tolist() == ["HTXSNV"]


def test_rating_for_a_future_year_is_rejected(registry):
    result = check(registry, ratings=[["Ấp An Thạnh", 2031, "Tốt", ""]])
    assert only(result, "future_period").cell == "B2"


def test_support_amounts_and_fields(registry):
    result = check(
        registry,
        support=[
            ["Ấp An Thạnh", "10/03/2018", "ASXH", "Quà Tết", "1,5 triệu", "Ô. An"],
            ["Ấp An Thạnh", "10/03/2018", "An sinh xã hội", "Quà", "nhiều tiền", "Ô. An"],
        ],
    )
    assert result.tables["support"]["amount"].tolist() == [1_500_000]
    assert only(result, "bad_value").cell == "E3"


def test_communes_validated_together_share_frames_and_merge_whole_or_in_part(registry):
    from sync.merge import combine
    from sync.validate import Tables, row_count, validate_communes

    def sheet(rows, code):
        return normalize_commune({C["meetings"].title: [MEETING_HEADER, *rows]}, code)

    feb = ["Ấp An Thạnh", "02/2018", "05/02/2018", 20, 18, "x", "x", ""]
    raws = {
        "29110": sheet([GOOD, feb], "29110"),
        "29113": sheet([["Ấp Tân Hòa", *GOOD[1:]]], "29113"),
    }
    results = validate_communes(raws, registry, TODAY)
    a, b = results["29110"].tables, results["29113"].tables
    assert isinstance(a, Tables) and "meetings" in a and "ratings" not in a
    assert (a.rows("meetings"), b.rows("meetings"), row_count(a)) == (2, 1, 2)
    assert a.part("meetings")[0] is b.part("meetings")[0]  # one frame for both communes
    assert list(a["meetings"]["month"]) == ["2018-03", "2018-02"]
    assert a.column("meetings", "hamlet_code").tolist() == ["29110-02", "29110-02"]
    assert b.column("meetings", "month").tolist() == ["2018-03"]  # its own rows of the cache

    whole = combine({"29110": a, "29113": b})["meetings"]
    assert sorted(zip(whole["commune_code"], whole["month"], strict=True)) == [
        ("29110", "2018-02"),
        ("29110", "2018-03"),
        ("29113", "2018-03"),
    ]
    # A commune held by the drop guard brings its stored rows; the shared frame gives
    # only the other commune's rows.
    stored = {"meetings": b["meetings"].assign(note="cũ")}
    mixed = combine({"29110": a, "29113": stored})["meetings"]
    assert sorted(zip(mixed["commune_code"], mixed["note"].fillna(""), strict=True)) == [
        ("29110", ""),
        ("29110", ""),
        ("29113", "cũ"),
    ]
    partial = combine({"29113": b})["meetings"]
    assert list(partial["commune_code"]) == ["29113"]
    assert list(partial["hamlet_code"]) == ["29113-01"]


def test_tables_sharing_a_frame_convert_a_column_once_and_read_their_own_rows():
    from sync.validate import Tables

    frame = pd.DataFrame({"year": pd.array([2018, 2019, 2020], dtype="Int64")})
    shared: dict = {}
    a, b = Tables(), Tables()
    a.add("ratings", frame, 0, 2, shared)
    b.add("ratings", frame, 2, 3, shared)
    assert a.column("ratings", "year", text=True).tolist() == ["2018", "2019"]
    assert b.column("ratings", "year", text=True).tolist() == ["2020"]
    assert b.column("ratings", "year").tolist() == [2020]
    assert sorted(shared) == [("year", False), ("year", True)]  # one array each, shared
