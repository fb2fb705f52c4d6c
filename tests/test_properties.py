"""Property-based tests: hostile grids never raise, rejected rows always say why, and
normalized rows survive a second pass and a round trip through the master's own layout.

The default run uses a small profile; ``pytest -m fuzz`` runs ≥ 10,000 examples.
"""

from __future__ import annotations

import math
from datetime import date, datetime

import pytest
from conftest import registry_grids
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.layout import commune_layout, master_layout
from sync.merge import master_tables
from sync.normalize import normalize_commune
from sync.registry import load_registry
from sync.render import frame_tab
from sync.validate import validate_commune

TODAY = date(2018, 12, 20)
C = commune_layout()
REGISTRY = load_registry(registry_grids())
MEETING_HEADER = [c.header for c in C["meetings"].columns]
RATING_HEADER = [c.header for c in C["ratings"].columns]

SMALL = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
FUZZ = settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))

hostile_scalar = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(
        [
            "=1+1",
            "+SUM(A1)",
            "-",
            "@x",
            "x",
            "Có",
            "khong",
            "03/2018",
            "31/02/2018",
            "Ấp An Thạnh",
            "Tổng cộng",
            "",
            "   ",
            "NaN",
            "inf",
            "1e400",
            "Xuất sắc",
        ]
    ),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 12, 31)),
)
ragged_row = st.lists(hostile_scalar, max_size=12)
header_like = st.lists(
    st.sampled_from([*MEETING_HEADER, *RATING_HEADER, "", None, "STT", "Tên ấp", "Tên ấp"]),
    max_size=10,
)


@st.composite
def hostile_grids(draw):
    tabs = {}
    for title in draw(
        st.lists(
            st.sampled_from([t.title for t in C.by_role("input")] + ["X"]), max_size=4, unique=True
        )
    ):
        rows = draw(st.lists(ragged_row, max_size=8))
        if draw(st.booleans()):
            rows.insert(draw(st.integers(0, len(rows))), draw(header_like))
        tabs[title] = rows
    return tabs


def _never_raises(grids):
    raws = normalize_commune(grids, "29110")
    result = validate_commune(raws, "29110", REGISTRY, TODAY)
    for f in result.findings:
        assert f.severity in ("Lỗi", "Cảnh báo", "Thông tin") and f.message


@SMALL
@given(hostile_grids())
def test_hostile_grids_never_raise(grids):
    _never_raises(grids)


@pytest.mark.fuzz
@FUZZ
@given(hostile_grids())
def test_hostile_grids_never_raise_fuzz(grids):
    _never_raises(grids)


cell_value = st.one_of(
    st.sampled_from(
        ["Ấp An Thạnh", "an thanh", "Khu phố 1", "KP1", "Ấp Tân Hòa", "Ấp Không Có", ""]
    ),
)
meeting_row = st.tuples(
    st.sampled_from(["Ấp An Thạnh", "an thanh", "Khu phố 1", "KP1", "Ấp Tân Hòa", "Ấp Lạ", ""]),
    st.sampled_from(["01/2018", "T2/2018", "2018-03", "13/2018", "12/2030", "", 43160]),
    st.sampled_from(["05/01/2018", "05/02/2018", "05/03/2018", "31/02/2018", "", "hôm qua"]),
    st.one_of(st.integers(-2, 40), st.sampled_from(["20", "12.5", "", "abc"])),
    st.one_of(st.integers(-2, 40), st.sampled_from(["18", "", "x"])),
    st.sampled_from(["x", "", "không", "có lẽ", 1, 0]),
    st.sampled_from(["x", "", "Có"]),
    st.sampled_from(["", "ghi chú", "=1+1"]),
)


def _rejections_are_explained(rows):
    grids = {C["meetings"].title: [MEETING_HEADER, *[list(r) for r in rows]]}
    raws = normalize_commune(grids, "29110")
    result = validate_commune(raws, "29110", REGISTRY, TODAY)
    accepted = set(result.tables["meetings"]["_row"]) if "meetings" in result.tables else set()
    for row in raws["meetings"].frame["_row"]:
        if row in accepted:
            continue
        explained = any(f.row == row and f.severity == "Lỗi" for f in result.findings) or any(
            f.code == "duplicate_identical"
            and f.row < row
            and (f"{row}" in (named := f.message.split("(dòng ")[-1]) or "dòng khác" in named)
            for f in result.findings
        )
        assert explained, (row, [(f.code, f.row) for f in result.findings])


@SMALL
@given(st.lists(meeting_row, max_size=10))
def test_every_rejected_row_has_an_error(rows):
    _rejections_are_explained(rows)


@pytest.mark.fuzz
@FUZZ
@given(st.lists(meeting_row, max_size=10))
def test_every_rejected_row_has_an_error_fuzz(rows):
    _rejections_are_explained(rows)


def _accepted(grids):
    raws = normalize_commune(grids, "29110")
    return validate_commune(raws, "29110", REGISTRY, TODAY).tables.get("meetings")


def _values(frame):
    keys = [
        "hamlet_code",
        "month",
        "meeting_date",
        "members",
        "present",
        "cadre_attended",
        "committee_met",
        "note",
    ]
    out = []
    for row in frame[keys].itertuples(index=False):
        out.append(tuple(None if (isinstance(v, float) and math.isnan(v)) else v for v in row))
    return sorted(out, key=repr)


def _round_trip(rows):
    first = _accepted({C["meetings"].title: [MEETING_HEADER, *[list(r) for r in rows]]})
    if first is None or first.empty:
        return
    master = master_tables({"29110": {"meetings": first}}, REGISTRY)["meetings"]
    tab = frame_tab(master_layout()["meetings"], master)
    # A commune sheet written from the master's own rows, in the master's own column order:
    # headers are mapped by alias, values are the canonical forms the master shows.
    second = _accepted({C["meetings"].title: tab.grid()})
    assert _values(second) == _values(first)
    third = _accepted(
        {
            C["meetings"].title: frame_tab(
                master_layout()["meetings"],
                master_tables({"29110": {"meetings": second}}, REGISTRY)["meetings"],
            ).grid()
        }
    )
    assert _values(third) == _values(second)  # idempotent


@SMALL
@given(st.lists(meeting_row, max_size=8))
def test_master_rows_normalize_back_to_the_same_rows(rows):
    _round_trip(rows)


@pytest.mark.fuzz
@FUZZ
@given(st.lists(meeting_row, max_size=8))
def test_master_rows_normalize_back_to_the_same_rows_fuzz(rows):
    _round_trip(rows)


vietnamese_text = st.text(
    alphabet=st.one_of(
        st.sampled_from("ẤấĐđƠơƯưÀàẢảÃãẠạỆệỗÒóÙúÝýǄǅ \u0301\u0303\u0323-:/"),
        st.characters(codec="utf-8"),
    ),
    max_size=20,
)


def _unaccent_agrees(text: str) -> None:
    from sync.text import _slow_unaccent, unaccent

    assert unaccent(text) == _slow_unaccent(text)


@SMALL
@given(vietnamese_text)
def test_fast_unaccent_agrees_with_decomposition(text):
    _unaccent_agrees(text)


@pytest.mark.fuzz
@FUZZ
@given(vietnamese_text)
def test_fast_unaccent_agrees_with_decomposition_fuzz(text):
    _unaccent_agrees(text)
