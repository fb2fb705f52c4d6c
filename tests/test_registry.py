"""The registry checked (SPEC "Validation and findings"): duplicate codes, diacritic-only
twins and unknown units, each a finding at its district tab and cell."""

from __future__ import annotations

from datetime import date

from conftest import commune_grids, registry_grids

from sync.layout import commune_layout, master_layout
from sync.normalize import normalize_commune
from sync.registry import load_registry
from sync.validate import validate_commune

M = master_layout()
HAMLETS, COMMUNES, CADRES, ASSIGNMENTS = (
    M[k].title for k in ("hamlets", "communes", "cadres", "assignments")
)


def found(registry, code):
    return [(f.severity, f.tab, f.cell, f.value) for f in registry.findings if f.code == code]


def test_duplicate_hamlet_code_is_an_error_at_both_rows_and_no_hamlet_vanishes_silently():
    grids = registry_grids()
    grids[HAMLETS].append(["29110-02", "29110", "Ấp Mỹ Lợi", "Ấp", "", 120])
    registry = load_registry(grids)
    assert found(registry, "registry_duplicate_code") == [
        ("Lỗi", HAMLETS, "A3", "29110-02"),
        ("Lỗi", HAMLETS, "A5", "29110-02"),
    ]
    assert "Ấp Mỹ Lợi" in registry.findings[1].message
    # The commune typing the held hamlet is told why its row waits, not "unknown".
    c = commune_layout()
    grid = commune_grids(["Ấp Mỹ Lợi", "Ấp An Thạnh"], range(1, 2))
    raws = normalize_commune(grid, "29110")
    result = validate_commune(raws, "29110", registry, date(2018, 12, 20))
    meetings = [f for f in result.findings if f.tab == c["meetings"].title]
    assert [(f.code, f.cell) for f in meetings] == [("hamlet_code_held", "A2")]
    assert result.tables["meetings"]["hamlet_code"].tolist() == ["29110-02"]


def test_duplicate_commune_and_cadre_codes_are_errors_at_their_cells():
    grids = registry_grids()
    grids[COMMUNES].append(["29110", "Thị trấn Ba Tri (trùng)", "Thị trấn", "x.xlsx", ""])
    grids[CADRES].append(["H002", "Lê Thị Hoa", "Huyện", "", "", "", ""])
    registry = load_registry(grids)
    assert found(registry, "registry_duplicate_code") == [
        ("Lỗi", COMMUNES, "A2", "29110"),
        ("Lỗi", COMMUNES, "A4", "29110"),
        ("Lỗi", CADRES, "A4", "H002"),
        ("Lỗi", CADRES, "A6", "H002"),
    ]
    assert registry.communes["code"].tolist() == ["29110", "29113"]


def test_hamlets_of_one_commune_differing_only_by_diacritics_are_a_warning():
    grids = registry_grids()
    grids[HAMLETS].append(["29110-03", "29110", "Ấp An Thành", "Ấp", "", 90])
    grids[HAMLETS].append(["29113-02", "29113", "Ấp An Thạnh", "Ấp", "", 90])  # other commune
    registry = load_registry(grids)
    assert found(registry, "registry_diacritic_twins") == [
        ("Cảnh báo", HAMLETS, "C3", "Ấp An Thạnh"),
        ("Cảnh báo", HAMLETS, "C5", "Ấp An Thành"),
    ]


def test_cadre_assigned_to_an_unknown_unit_is_an_error_at_its_cell():
    grids = registry_grids()
    grids[ASSIGNMENTS].append(["H003", "29110-09", None, None, ""])
    grids[ASSIGNMENTS].append(["H009", "29110-01", None, None, ""])
    registry = load_registry(grids)
    assert found(registry, "registry_unknown_unit") == [("Lỗi", ASSIGNMENTS, "B7", "29110-09")]
    assert found(registry, "registry_unknown_cadre") == [("Lỗi", ASSIGNMENTS, "A8", "H009")]


def test_a_clean_registry_has_no_findings():
    assert load_registry(registry_grids()).findings == []
