"""scripts/bench.py: its pipeline measurement runs end to end, and it judges the #7
targets from the figures (the figures themselves are for the script, not for tests)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_pipeline_measurement_runs_the_district_end_to_end(bench):
    r = bench.pipeline_once("district")
    assert (r["communes"], r["hamlets"]) == (24, 168)
    assert r["meeting_rows"] == r["hamlets"] * 12  # every hamlet reports every month
    assert r["rows"] > r["meeting_rows"]  # ratings, households and support too
    assert r["rows_per_s"] > 0 and r["peak_mb"] > r["peak_delta_mb"] >= 0
    assert r["master_cells_th_sinh_hoat"] == r["meeting_rows"] * 14


def _result(rows_per_s: int, peak_mb: int) -> dict:
    scale = {
        "communes": 24,
        "full": {"reads": 27, "writes": 25},
        "no_change": {"reads": 2, "writes": 0},
        "one_changed": {"reads": 3, "writes": 1},
    }
    province = {"scale": "province", "rows": 16_222, "seconds": 0.29, "rows_per_s": 55_938}
    seconds = 1_065_933 / rows_per_s
    national = {"scale": "national", "rows": 1_065_933, "seconds": seconds}
    national |= {"rows_per_s": rows_per_s, "peak_mb": peak_mb}
    return {
        "api_requests": {**scale, "naive_full": {"reads": 229}, "by_scale": [scale]},
        "local": {"ratio": 0.52},
        "pipeline": [province, national],
    }


@pytest.mark.parametrize(
    ("rows_per_s", "peak_mb", "passes"),
    [(118_696, 1_484, True), (99_000, 1_484, False), (118_696, 2_100, False)],
)
def test_the_national_target_needs_both_the_speed_and_the_memory(
    bench, rows_per_s, peak_mb, passes
):
    judged = {name: ok for name, ok, _ in bench.targets(_result(rows_per_s, peak_mb))}
    assert judged["national pipeline ≥ 100k rows/s within 2 GB"] is passes
    assert judged["N=24: full-sync reads ≤ N + 3"] is True
    assert judged["N=24: full reads ≥ 5× fewer than naive"] is True
