"""The demo dataset (sync.demo.generate): deterministic, the right counts, the 2018 ratings exact,
drifted headers that the mappings know, and every planted problem where PLANTED says."""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

from sync.backends.local import read_workbook
from sync.config import load_config
from sync.demo import generate as demo
from sync.demo import names as N
from sync.headers import column_for, is_ignored
from sync.layout import MAPPINGS_DIR, commune_layout, master_layout, vocab
from sync.text import fold

NOT_INPUT_FINDINGS = {"source_unavailable", "drop_held", "validation_removed"}
# About a whole sheet, not a cell of it (tests/test_pipeline_guarantees.py makes them).
NOT_INPUT_FINDINGS |= {"foreign_identity", "identical_sources", "feedback_postponed"}
# Findings about the district's registry, or needing a registry with tone-only twins or a
# duplicated code, which the demo's does not have (tests/test_registry.py and
# tests/test_identity.py plant them).
NOT_INPUT_FINDINGS |= {
    "registry_duplicate_code",
    "registry_diacritic_twins",
    "registry_unknown_unit",
    "registry_unknown_cadre",
    "ambiguous_name",
    "hamlet_code_held",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    demo.build_demo_project(root)
    return root


@pytest.fixture(scope="module")
def books(built: Path) -> dict[str, dict[str, list[list]]]:
    """Every commune workbook of the built demo, by file name."""
    return _workbooks(built)


def _registry(root: Path) -> dict[str, list[list]]:
    """The master's registry tabs, by key, without their header rows."""
    grids = read_workbook(root / "master.xlsx")
    layout = master_layout()
    assert set(grids) == {t.title for t in layout.by_role("registry")}
    out = {}
    for tab in layout.by_role("registry"):
        grid = grids[tab.title]
        assert grid[0] == [c.header for c in tab.columns]
        out[tab.key] = [r for r in grid[1:] if any(v is not None for v in r)]
    return out


def _workbooks(root: Path) -> dict[str, dict[str, list[list]]]:
    return {p.name: read_workbook(p) for p in sorted((root / "communes").glob("*.xlsx"))}


def _header(grid: list[list], tab_key: str) -> tuple[int, dict[str, int]]:
    """(0-based header row, column key → 0-based index), found through mappings/headers.toml."""
    for r, row in enumerate(grid[:10]):
        keys = {}
        for c, v in enumerate(row):
            if key := column_for(v, tab_key):
                keys.setdefault(key, c)
        if len(keys) >= 2:
            return r, keys
    raise AssertionError(f"no header found in {tab_key}")


def _rating_code(value) -> str | None:
    forms = vocab().rating_forms
    folded = fold(str(value))
    return forms.get(folded) or forms.get(folded.replace(" ", ""))


def test_two_builds_hold_the_same_values(tmp_path: Path, built: Path, books):
    demo._project.cache_clear()
    config = demo.build_demo_project(tmp_path / "again")
    assert config == tmp_path / "again" / "namcoso.toml"
    assert config.read_text(encoding="utf-8") == (built / "namcoso.toml").read_text("utf-8")
    assert read_workbook(built / "master.xlsx") == read_workbook(tmp_path / "again" / "master.xlsx")
    assert books == _workbooks(tmp_path / "again")


def test_config_is_the_local_ba_tri_project(built: Path):
    config = load_config(built / "namcoso.toml")
    assert config.name == "Huyện ủy Ba Tri"
    assert config.backend == "local"
    assert config.master == built / "master.xlsx"
    assert config.communes_dir == built / "communes"
    assert config.rules.period_start == "2017-01"  # the demo holds 2017 ratings


def test_registry_counts(built: Path, books):
    reg = _registry(built)
    communes, hamlets, cadres, assignments = (
        reg["communes"], reg["hamlets"], reg["cadres"], reg["assignments"]
    )  # fmt: skip
    assert len(communes) == 24
    assert {r[2] for r in communes} == {"Xã", "Thị trấn"}
    assert [r[3] for r in communes] == [f"{r[0]}.xlsx" for r in communes]
    assert sorted(books) == sorted(r[3] for r in communes)

    assert len(hamlets) == 129
    per_commune = Counter(r[1] for r in hamlets)
    assert set(per_commune) == {r[0] for r in communes}
    assert all(4 <= n <= 8 for n in per_commune.values())
    for code, commune, name, kind, cell, households in hamlets:
        assert re.fullmatch(rf"{commune}-\d\d", code)
        assert kind in ("Ấp", "Khu phố") and name.startswith(kind)
        assert cell.lower() == f"chi bộ {name.lower()}"
        assert 150 <= households <= 600
    town = next(r[0] for r in communes if r[2] == "Thị trấn")
    assert {r[3] for r in hamlets if r[1] == town} == {"Khu phố"}

    levels = Counter(r[2] for r in cadres)
    assert levels == {"Huyện": 129, "Tỉnh": 21}
    assert len({r[0] for r in cadres}) == len({r[1] for r in cadres}) == 150
    assert all(re.fullmatch(r"09\d{8}", r[5]) for r in cadres)
    codes = {r[0] for r in cadres}
    assert {f"H{i:03d}" for i in range(1, 130)} | {f"T{i:02d}" for i in range(1, 22)} == codes

    assert len(assignments) == 153
    assert all(r[2] is not None and r[2].strftime("%d/%m/%Y") == "01/01/2018" for r in assignments)
    assert all(r[3] is None for r in assignments)
    units = Counter(r[0] for r in assignments)
    district = [r for r in assignments if r[0].startswith("H")]
    assert sorted(r[1] for r in district) == sorted(r[0] for r in hamlets)
    assert all(units[r[0]] == 1 for r in district)
    provincial = [r for r in assignments if r[0].startswith("T")]
    assert sorted(r[1] for r in provincial) == sorted(r[0] for r in communes)
    assert Counter(units[c] for c in codes if c.startswith("T")) == {1: 18, 2: 3}


def test_hamlet_names_distinct_within_a_commune_and_shared_across(built: Path):
    hamlets = _registry(built)["hamlets"]
    keys: dict[str, set[str]] = {}
    for _, commune, name, *_ in hamlets:
        key = fold(name)
        assert key not in keys.setdefault(commune, set()), name
        keys[commune].add(key)
    spread = Counter(k for ks in keys.values() for k in ks)
    assert any(n > 1 for k, n in spread.items() if not k[-1].isdigit())  # "Ấp An Hòa" twice
    assert any(n == 1 for k, n in spread.items() if not k[-1].isdigit())


def test_2018_ratings_are_exactly_34_91_4_0(books):
    tab = commune_layout()["ratings"]
    counts: Counter = Counter()
    for name, grids in books.items():
        grid = grids[tab.title]
        top, cols = _header(grid, tab.key)
        assert {"hamlet", "year", "rating"} <= set(cols), name
        for row in grid[top + 1 :]:
            year = row[cols["year"]] if cols["year"] < len(row) else None
            if year is not None and str(year).strip() == "2018":
                code = _rating_code(row[cols["rating"]])
                assert code, f"{name}: rating {row[cols['rating']]!r} not in mappings/vocab.toml"
                counts[code] += 1
    expected = {k: v for k, v in demo.EXPECTED_2018.items() if k not in ("unrated", "cells")}
    assert {k: counts[k] for k in expected} == expected
    assert sum(counts.values()) == demo.EXPECTED_2018["cells"] == 129
    assert demo.expected_ratings() == demo.EXPECTED_2018


def test_written_forms_are_accepted_by_the_mappings():
    for alias_set in N.HEADER_ALIASES.values():
        for tab_key, columns in alias_set.items():
            for key, header in columns.items():
                assert column_for(header, tab_key) == key, header
    assert is_ignored(N.EXTRA_HEADERS[0])
    assert all(
        column_for(N.EXTRA_HEADERS[1], t.key) is None
        for t in commune_layout().tabs.values()
        if t.role == "input"
    )
    yesno = vocab().yesno_forms
    for style in N.STYLES:
        for form, answer in [(f, True) for f in style.get("yes", ())] + [
            (f, False) for f in style.get("no", ())
        ]:
            if isinstance(form, str):
                assert yesno.get(fold(form) or form) is answer, form
    for habits in N.rating_forms().values():
        for forms in habits.values():
            assert all(_rating_code(f) for f in forms), forms


def test_the_commune_files_drift_from_the_template(books):
    layout = commune_layout()
    meetings = layout["meetings"]
    template = [c.header for c in meetings.columns]
    header_rows, orders, totals = Counter(), 0, 0
    for grids in books.values():
        grid = grids[meetings.title]
        top, cols = _header(grid, "meetings")
        header_rows[top + 1] += 1
        orders += sorted(cols, key=cols.get) != meetings.keys
        totals += any(isinstance(r[cols["hamlet"]], str) and r[cols["hamlet"]].startswith("Tổng")
                      for r in grid[top + 1 :] if len(r) > cols["hamlet"])  # fmt: skip
    assert header_rows[1] >= 12 and header_rows[3] >= 1 and header_rows[4] >= 1
    assert orders >= 2 and totals >= 2
    assert sum(grids[meetings.title][0] == template for grids in books.values()) >= 6


def test_every_planted_cell_holds_its_value(books):
    assert demo.planted_problems("district") == demo.PLANTED
    for p in demo.planted_problems("district", history=False):  # as `books` were built
        grids = books[f"{p['commune']}.xlsx"]
        if p["code"] == "missing_tab":
            assert p["tab"] not in grids
            continue
        column, row = coordinate_from_string(p["cell"])
        line = grids[p["tab"]][row - 1]
        index = column_index_from_string(column) - 1
        value = line[index] if index < len(line) else None
        if p["code"] == "missing_value":
            assert value is None and any(v is not None for v in line), p
        else:
            assert value is not None and value == p["value"], p


def test_every_input_finding_is_planted():
    with (MAPPINGS_DIR / "findings.toml").open("rb") as f:
        codes = set(tomllib.load(f)) - NOT_INPUT_FINDINGS
    planted = Counter(p["code"] for p in demo.PLANTED)
    legacy = N.legacy_encoder() is not None
    assert codes - set(planted) == (set() if legacy else {"legacy_text"})
    assert planted["duplicate_conflict"] == 4  # two meeting rows, two 2017 rating rows
    tab_level = ("missing_tab", "missing_columns", "unmapped_columns")
    cells = [
        (p["commune"], p["tab"], p["cell"]) for p in demo.PLANTED if p["code"] not in tab_level
    ]
    assert len(set(cells)) == len(cells)


@pytest.mark.slow
def test_province_scale(tmp_path: Path):
    demo.build_demo_project(tmp_path, scale="province")
    reg = _registry(tmp_path)
    assert len(reg["communes"]) == 164
    assert all(5 <= n <= 7 for n in Counter(r[1] for r in reg["hamlets"]).values())
    expected = demo.expected_ratings("province")
    assert expected["cells"] == len(reg["hamlets"]) == Counter(r[2] for r in reg["cadres"])["Huyện"]
    assert 0 < len(demo.planted_problems("province")) < 60
