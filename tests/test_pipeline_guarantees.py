"""The pipeline's guarantees (SPEC "Guarantees", exit codes), as users would check them.

Each test looks at what a district office sees: the master's tabs, the commune files'
bytes, the state store, and the exit code of ``namcoso sync``. Bounded cases are measured
by the peak RSS of a child process (``RUSAGE_CHILDREN``), never by time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import commune_grids

from sync.backends.local import cell_values, read_workbook, write_workbook
from sync.cli import main
from sync.config import Config
from sync.layout import commune_layout, master_layout
from sync.pipeline import run_sync
from sync.state import StateStore

REPO = Path(__file__).resolve().parents[1]
M = master_layout()
C = commune_layout()
HAMLETS_29110 = ["Khu phố 1", "Ấp An Thạnh"]


def master_rows(config: Config, key: str) -> list[dict[str, Any]]:
    """One sync-owned tab of the master as {header: value} rows."""
    grid = cell_values(read_workbook(config.master)[M[key].title])
    return [dict(zip(grid[0], row, strict=False)) for row in grid[1:]]


def commune_rows(config: Config, key: str, commune: str) -> list[dict[str, Any]]:
    return [r for r in master_rows(config, key) if r["Mã xã"] == commune]


class Master:
    """The master's sync-owned tabs, read once."""

    def __init__(self, config: Config) -> None:
        grids = read_workbook(config.master)
        self.tabs = {}
        for tab in M.by_role("output"):
            grid = cell_values(grids.get(tab.title, []))
            self.tabs[tab.key] = [dict(zip(grid[0], r, strict=False)) for r in grid[1:]]

    def rows(self, key: str, commune: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.tabs[key] if commune is None or r["Mã xã"] == commune]


def sync_in_child(config: Config, *args: str) -> tuple[int, float, str]:
    """``namcoso sync`` in a child of a fresh interpreter: (exit code, the child's peak RSS
    in MiB, its output). The fresh interpreter has no other children, so
    ``RUSAGE_CHILDREN`` is the sync's own peak."""
    probe = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "print(p.stdout + p.stderr)\n"
    )
    command = [sys.executable, "-m", "sync", "sync", "--config", str(config.root / "namcoso.toml")]
    done = subprocess.run(
        [sys.executable, "-c", probe, *command, *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    first, _, output = done.stdout.partition("\n")
    code, rss_kib = first.split()
    return int(code), int(rss_kib) / 1024, output


# -- bounded findings -------------------------------------------------------------------


@pytest.mark.parametrize("n", [2_000, pytest.param(10_000, marks=pytest.mark.slow)])
def test_thousands_of_conflicting_rows_stay_within_bounds(small_project, n):
    """A fill-down accident: ``n`` rows of one hamlet and month, each different."""
    config = small_project
    run_sync(config)
    other = (config.communes_dir / "29113.xlsx").read_bytes()
    before = commune_rows(config, "meetings", "29113")
    grids = commune_grids(HAMLETS_29110)
    meetings = grids[C["meetings"].title]
    for i in range(n):
        meetings.append(["Khu phố 1", "03/2018", "05/03/2018", 20, i % 19, "x", "x", ""])
    write_workbook(config.communes_dir / "29110.xlsx", grids)

    code, peak_mib, output = sync_in_child(config)

    assert code == 0, output
    assert peak_mib < 1024, f"peak RSS {peak_mib:.0f} MiB"
    assert config.state_path.stat().st_size < n * 2_000  # about 1 KB a finding, twice over
    master = Master(config)
    conflicts = [r for r in master.rows("findings") if "nội dung khác nhau" in str(r["Nội dung"])]
    group = f"{n + 1:,}".replace(",", ".")
    assert len(conflicts) == n + 1  # every row of the group, with the template's own 03/2018
    assert max(len(r["Nội dung"]) for r in conflicts) < 250
    assert all(f"{group} dòng cho" in r["Nội dung"] for r in conflicts)
    # The conflicting rows are all rejected; the commune's other rows are kept.
    kept = master.rows("meetings", "29110")
    assert len(kept) == 23
    assert not [r for r in kept if r["Mã ấp"] == "29110-01" and "03" in str(r["Tháng"])]
    # The other commune: its rows unchanged, its file untouched.
    assert master.rows("meetings", "29113") == before
    assert (config.communes_dir / "29113.xlsx").read_bytes() == other
    feedback = read_workbook(config.communes_dir / "29110.xlsx")[C["feedback"].title]
    assert len(cell_values(feedback)) == n + 2  # the header, then one row per finding
    with StateStore(config.state_path) as store:
        stored = store.findings("29110")
    assert len(stored) == n + 1 and max(len(f.message) for f in stored) < 250


def test_a_conflict_finding_names_a_few_other_rows_and_counts_the_rest(small_project):
    config = small_project
    grids = commune_grids(HAMLETS_29110)
    meetings = grids[C["meetings"].title]
    for present in (1, 2, 3, 4, 5):
        meetings.append(["Khu phố 1", "03/2018", "06/03/2018", 20, present, "", "", ""])
    write_workbook(config.communes_dir / "29110.xlsx", grids)

    result = run_sync(config)

    conflicts = {f.cell: f.message for f in result.findings if f.code == "duplicate_conflict"}
    assert len(conflicts) == 6  # row 4 (the template's 03/2018) and rows 26..30
    assert (
        "6 dòng" in conflicts["A4"]
        and "dòng này và dòng 26, 27, 28 và 2 dòng khác" in (conflicts["A4"])
    )
    assert "dòng này và dòng 4, 26, 27 và 2 dòng khác" in conflicts["A28"]


# -- exit codes -------------------------------------------------------------------------


def test_a_run_where_every_commune_is_unreadable_exits_3_and_keeps_the_master(small_project):
    config = small_project
    assert main(["sync", "--config", str(config.root / "namcoso.toml")]) == 0
    before = master_rows(config, "meetings")
    for path in config.communes_dir.glob("*.xlsx"):
        path.write_bytes(b"not a workbook")

    code = main(["sync", "--config", str(config.root / "namcoso.toml")])

    assert code == 3
    assert master_rows(config, "meetings") == before
    assert {r["Trạng thái"] for r in master_rows(config, "progress")} == {"Lỗi truy cập"}
