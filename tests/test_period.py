"""A bounded reporting period (SPEC "Rules"): months and years before ``period_start`` or
in the future are refused, and nothing outside the period stretches the statistics."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from conftest import build_small_project, commune_grids, registry_grids

from sync.backends.local import read_workbook, write_workbook
from sync.config import Rules, load_config
from sync.layout import commune_layout, master_layout
from sync.normalize import normalize_commune
from sync.pipeline import run_sync
from sync.registry import load_registry
from sync.summarize import expected_months
from sync.validate import validate_commune

TODAY = date(2018, 12, 20)
C = commune_layout()
GOOD = ["Ấp An Thạnh", "03/2018", "05/03/2018", 20, 18, "x", "x", ""]


@pytest.fixture(scope="module")
def registry():
    return load_registry(registry_grids())


def check(registry, meetings=(), ratings=(), support=(), start="2018-01"):
    grids = {
        C["meetings"].title: [[c.header for c in C["meetings"].columns], *meetings],
        C["ratings"].title: [[c.header for c in C["ratings"].columns], *ratings],
        C["support"].title: [[c.header for c in C["support"].columns], *support],
    }
    return validate_commune(normalize_commune(grids, "29110"), "29110", registry, TODAY, start)


def errors(result):
    return [(f.code, f.cell) for f in result.findings if f.severity == "Lỗi"]


def test_month_before_period_start_is_refused(registry):
    old = ["Ấp An Thạnh", "03/2008", "05/03/2008", 20, 18, "x", "x", ""]
    result = check(registry, [GOOD, old])
    assert errors(result) == [("period_before_start", "B3")]
    (f,) = [f for f in result.findings if f.code == "period_before_start"]
    assert "03/2008" in f.message and "01/2018" in f.message
    assert result.tables["meetings"]["month"].tolist() == ["2018-03"]


def test_year_and_support_date_before_period_start_are_refused(registry):
    result = check(
        registry,
        ratings=[["Ấp An Thạnh", 2008, "Tốt", ""], ["Khu phố 1", 2018, "Tốt", ""]],
        support=[["Ấp An Thạnh", "10/03/2017", "ASXH", "Quà", "1 triệu", ""]],
    )
    assert sorted(errors(result)) == [("period_before_start", "B2"), ("period_before_start", "B2")]
    assert {f.tab for f in result.findings if f.code == "period_before_start"} == {
        C["ratings"].title,
        C["support"].title,
    }
    assert result.tables["ratings"]["year"].tolist() == [2018]


def test_future_month_is_refused(registry):
    result = check(registry, [["Ấp An Thạnh", "01/2019", "", 20, "", "", "", ""]])
    assert errors(result) == [("future_period", "B2")]


def test_without_period_start_nothing_is_refused_for_being_early(registry):
    old = ["Ấp An Thạnh", "03/2016", "05/03/2016", 20, 18, "x", "x", ""]
    result = check(registry, [old], start=None)
    assert errors(result) == []


def test_reporting_progress_runs_from_period_start_only():
    months = pd.Series(["2008-03", "2018-02"])
    assert expected_months(Rules(period_start="2018-01"), months, TODAY)[0] == "2018-01"
    assert len(expected_months(Rules(period_start="2018-01"), months, TODAY)) == 12


def test_a_mistyped_year_never_reaches_the_master(tmp_path):
    path = build_small_project(tmp_path / "p")
    config = load_config(path)
    grids = commune_grids(["Khu phố 1", "Ấp An Thạnh"])
    grids[C["meetings"].title].append(["Khu phố 1", "03/2008", "05/03/2008", 20, 18, "x", "x", ""])
    write_workbook(config.communes_dir / "29110.xlsx", grids)
    result = run_sync(config, now=datetime(2018, 12, 20, 9, 0))
    assert any(f.code == "period_before_start" for f in result.findings)
    master = read_workbook(config.master)
    meetings = master[master_layout()["meetings"].title]
    months = {row[4] for row in meetings[1:] if row and row[0]}
    assert all(getattr(m, "year", 2018) == 2018 for m in months), months
    progress = master[master_layout()["progress"].title]
    assert all(getattr(row[2], "year", 2018) == 2018 for row in progress[1:] if row and row[0])
