"""Names are identities (SPEC "Normalization"): exact first, diacritics ignored only when
one registered name alone reads so, never a row given by guesswork."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import registry_grids

from sync.layout import commune_layout, master_layout
from sync.normalize import normalize_commune
from sync.registry import load_registry, name_keys
from sync.validate import validate_commune

TODAY = date(2018, 12, 20)
C = commune_layout()
M = master_layout()
MEETING_HEADER = [c.header for c in C["meetings"].columns]


def registry_with(*hamlets: tuple[str, str, str]):
    """The test registry plus hamlets (code, commune, name)."""
    grids = registry_grids()
    grids[M["hamlets"].title] += [
        [code, commune, name, "Ấp", "", 100] for code, commune, name in hamlets
    ]
    return load_registry(grids)


def meetings(registry, names, commune="29110"):
    rows = [
        [n, f"{m:02d}/2018", f"05/{m:02d}/2018", 20, 18, "x", "x", ""]
        for m, n in enumerate(names, 1)
    ]
    raws = normalize_commune({C["meetings"].title: [MEETING_HEADER, *rows]}, commune)
    return validate_commune(raws, commune, registry, TODAY)


def codes_and_findings(result):
    table = result.tables.get("meetings")
    codes = table["hamlet_code"].tolist() if table is not None else []
    shown = [f for f in result.findings if f.code != "missing_tab"]
    return codes, [(f.code, f.cell, f.severity) for f in shown]


def test_tone_only_twins_each_get_their_own_rows():
    registry = registry_with(
        ("29110-03", "29110", "Ấp Bình Phú"), ("29110-04", "29110", "Ấp Bình Phủ")
    )
    result = meetings(registry, ["Ấp Bình Phủ", "Ấp Bình Phú", "bình phủ", "BÌNH PHÚ"])
    codes, findings = codes_and_findings(result)
    assert codes == ["29110-04", "29110-03", "29110-04", "29110-03"]
    assert findings == []


def test_name_matching_two_registered_names_without_diacritics_is_rejected_listing_both():
    registry = registry_with(
        ("29110-03", "29110", "Ấp Bình Phú"), ("29110-04", "29110", "Ấp Bình Phủ")
    )
    result = meetings(registry, ["Binh Phu", "Ấp Bình Phủ"])
    codes, findings = codes_and_findings(result)
    assert codes == ["29110-04"]
    assert findings == [("ambiguous_name", "A2", "Lỗi")]
    message = result.findings[0].message
    assert '"Ấp Bình Phú"' in message and '"Ấp Bình Phủ"' in message


def test_tan_thanh_never_lands_on_tan_thanh_silently():
    registry = registry_with(("29110-03", "29110", "Ấp Tân Thạnh"))
    result = meetings(registry, ["Tân Thành", "Tân Thạnh"])
    codes, findings = codes_and_findings(result)
    # Accepted, but with a warning saying how it was read: never silently.
    assert codes == ["29110-03", "29110-03"]
    assert findings == [("name_read_loosely", "A2", "Cảnh báo")]
    f = result.findings[0]
    assert 'ghi là "Tân Thành", đã hiểu là "Ấp Tân Thạnh"' in f.message


def test_tan_bac_is_not_quietly_read_as_tan_bac():
    registry = registry_with(("29110-03", "29110", "Ấp Tân Bắc"))
    result = meetings(registry, ["Tân Bác"])
    shown = [(f.code, f.value) for f in result.findings if f.code != "missing_tab"]
    assert shown == [("name_read_loosely", "Tân Bác")]
    assert "Tân Bắc" in result.findings[0].message


def test_name_exactly_another_communes_hamlet_is_foreign_not_read_loosely():
    registry = registry_with(
        ("29110-03", "29110", "Ấp Tân Thạnh"), ("29113-02", "29113", "Ấp Tân Thành")
    )
    result = meetings(registry, ["Ấp Tân Thành", "Ấp Tân Thạnh"])
    codes, findings = codes_and_findings(result)
    assert codes == ["29110-03"]
    assert findings == [("foreign_hamlet", "A2", "Lỗi")]


def test_old_and_new_tone_placement_and_nfd_are_the_same_name():
    import unicodedata

    registry = registry_with(
        ("29110-03", "29110", "Ấp Phú Hòa"), ("29110-04", "29110", "Ấp Thủy Lợi")
    )
    names = ["Ấp Phú Hoà", unicodedata.normalize("NFD", "ấp phú hòa"), "Thuỷ Lợi", "THỦY  LỢI"]
    codes, findings = codes_and_findings(meetings(registry, names))
    assert codes == ["29110-03", "29110-03", "29110-04", "29110-04"]
    assert findings == []


def test_name_without_diacritics_is_read_with_one_warning_per_name_as_typed():
    result = meetings(registry_with(), ["an thanh", "an thanh", "AP AN THANH", "Ấp An Thạnh"])
    codes, findings = codes_and_findings(result)
    assert codes == ["29110-02"] * 4
    assert findings == [
        ("name_read_loosely", "A2", "Cảnh báo"),
        ("name_read_loosely", "A4", "Cảnh báo"),
    ]
    assert "2 dòng" in result.findings[0].message


def test_prefix_words_are_dropped_only_as_written():
    # "Tô" is not the prefix "Tổ": "Ấp Tô Châu" typed as "Tô Châu" is exact.
    registry = registry_with(("29110-03", "29110", "Ấp Tô Châu"))
    codes, findings = codes_and_findings(
        meetings(registry, ["Tô Châu", "Ấp Tô Châu", "Chi bộ ấp Tô Châu"])
    )
    assert codes == ["29110-03"] * 3 and findings == []


def test_hamlet_one_and_neighbourhood_one_stay_apart():
    registry = registry_with(("29110-03", "29110", "Ấp 1"))
    codes, findings = codes_and_findings(meetings(registry, ["Ấp 1", "Khu phố 1", "KP1"]))
    assert codes == ["29110-03", "29110-01", "29110-01"] and findings == []


def test_commune_and_cadre_names_are_matched_the_same_way():
    registry = registry_with()
    assert registry.match_commune("Xã Tân Mỹ").code == "29113"
    loose = registry.match_commune("xa tan my")
    assert (loose.how, loose.code) == ("loose", "29113")
    assert registry.match_cadre("Nguyễn Văn An").code == "H001"
    assert registry.match_cadre("Nguyen Van An").how == "loose"
    # Another name once diacritics count: read only as the one loose match, and said so.
    assert registry.match_cadre("Nguyễn Văn Ân").how == "loose"


def test_cadres_differing_only_by_a_tone_are_never_guessed():
    grids = registry_grids()
    grids[M["cadres"].title].append(["H004", "Nguyễn Văn Ấn", "Huyện", "", "", "", ""])
    registry = load_registry(grids)
    assert registry.match_cadre("Nguyễn Văn Ấn").code == "H004"
    ambiguous = registry.match_cadre("Nguyen Van An")
    assert ambiguous.how == "ambiguous" and ambiguous.code is None
    assert set(ambiguous.names) == {"Nguyễn Văn An", "Nguyễn Văn Ấn"}


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Hòa", "hoà", True),
        ("Thủy", "thuỷ", True),
        ("Phú", "Phủ", False),
        ("Thành", "Thạnh", False),
        ("Bắc", "Bác", False),
        ("Ấp  An   Thạnh", "an thạnh", True),
    ],
)
def test_exact_keys_compare_every_diacritic_but_not_tone_placement(a, b, same):
    assert (name_keys(a).stripped == name_keys(b).stripped) is same
    assert name_keys(a).loose == name_keys(b).loose  # always the same without diacritics
