"""kill -9 during a sync: the master stays readable (old or new, never a mix), the state
store stays consistent, and the next sync completes the work.

Each test starts ``python -m sync sync`` with ``NAMCOSO_CRASH_AT=<point>`` (see
:mod:`sync.faults`), so the process kills itself with SIGKILL at that stage.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import build_small_project, commune_grids

from sync.backends.local import cell_values, read_workbook, write_workbook
from sync.config import Config, load_config
from sync.faults import CRASH_ENV, CRASH_POINTS
from sync.layout import commune_layout, master_layout
from sync.lock import current_holder
from sync.pipeline import run_sync
from sync.state import StateStore

REPO = Path(__file__).resolve().parents[1]
M = master_layout()
C = commune_layout()
#: After a crash at each point: the master's content (old or new) and how many of the two
#: commune files already hold their new feedback.
EXPECTED = {
    "after_read": ("old", 0),
    "master_temp_written": ("old", 0),
    "after_master_write": ("new", 0),
    "after_commune_write": ("new", 1),
    "inside_state_commit": ("new", 2),
}
COMMUNES = {"29110.xlsx": ["Khu phố 1", "Ấp An Thạnh"], "29113.xlsx": ["Ấp Tân Hòa"]}


def change_both_communes(root: Path) -> None:
    """New data in both communes: changed attendance and one rejected row each."""
    for name, hamlets in COMMUNES.items():
        grids = commune_grids(hamlets)
        meetings = grids[C["meetings"].title]
        meetings[2][4] = 11  # attendance changes
        meetings[3][4] = 99  # present > total: rejected, a new finding for the commune
        write_workbook(root / "communes" / name, grids)


def content(path: Path) -> dict[str, Any]:
    """A workbook's values, without what depends on the wall clock of the run."""
    tabs = {title: cell_values(grid) for title, grid in read_workbook(path).items()}
    if M["runs"].title in tabs:
        tabs[M["runs"].title] = len(tabs[M["runs"].title])  # times and seconds differ
    progress = tabs.get(M["progress"].title)
    if progress:
        column = progress[0].index(M["progress"].column("last_read").header)
        for row in progress[1:]:
            if len(row) > column:
                row[column] = "…"
    return tabs


def sync_subprocess(config_file: Path, crash_at: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sync", "sync", "--config", str(config_file)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), CRASH_ENV: crash_at},
        capture_output=True,
        text=True,
        timeout=120,
    )


def integrity(config: Config) -> str:
    db = sqlite3.connect(config.state_path)
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()


@pytest.fixture(scope="module")
def projects(tmp_path_factory) -> dict[str, Any]:
    """A project after one sync, and what an uninterrupted second sync makes of new data."""
    base = tmp_path_factory.mktemp("crash")
    baseline = base / "baseline"
    build_small_project(baseline)
    run_sync(load_config(baseline / "namcoso.toml"))
    reference = base / "reference"
    shutil.copytree(baseline, reference)
    change_both_communes(reference)
    result = run_sync(load_config(reference / "namcoso.toml"))
    assert result.communes_read == 2 and result.rows_rejected == 2
    assert sorted(result.communes_written) == ["29110", "29113"]
    return {
        "baseline": baseline,
        "master": content(reference / "master.xlsx"),
        "communes": {n: content(reference / "communes" / n) for n in COMMUNES},
        "base": base,
    }


def test_every_crash_point_is_tested():
    assert set(EXPECTED) == set(CRASH_POINTS)


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_kill_9_leaves_old_or_new_master_and_the_next_sync_completes(projects, point):
    root = projects["base"] / point
    shutil.copytree(projects["baseline"], root)
    change_both_communes(root)
    config = load_config(root / "namcoso.toml")
    old_master = config.master.read_bytes()
    old_communes = {n: (config.communes_dir / n).read_bytes() for n in COMMUNES}

    crashed = sync_subprocess(root / "namcoso.toml", point)

    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert f"{CRASH_ENV}={point}" in crashed.stderr
    # The master opens and holds the old content or the new one, as the point implies.
    master_expected, communes_written = EXPECTED[point]
    if master_expected == "old":
        assert config.master.read_bytes() == old_master
    else:
        assert content(config.master) == projects["master"]
    # Each commune file is whole: old bytes or the new content.
    written = []
    for name in COMMUNES:
        path = config.communes_dir / name
        if path.read_bytes() != old_communes[name]:
            assert content(path) == projects["communes"][name]
            written.append(name)
    assert len(written) == communes_written
    # The state store is whole and still the old state: the run never committed.
    assert integrity(config) == "ok"
    with StateStore(config.state_path) as store:
        assert len(store.runs()) == 1
    assert current_holder(config.lock_path) is None

    result = run_sync(config)

    assert content(config.master) == projects["master"]
    for name in COMMUNES:
        assert content(config.communes_dir / name) == projects["communes"][name]
    assert result.communes_read == 2 and result.rows_rejected == 2
    assert integrity(config) == "ok"
    again = run_sync(config)
    assert not again.changed and again.communes_read == 0  # converged: nothing left to do


@pytest.mark.slow
def test_kill_9_at_random_moments_never_leaves_a_broken_project(projects):
    """SIGKILL after a random delay, 20 times over: every stage of a run gets hit."""
    rng = random.Random(20181220)
    outcomes = {"old": 0, "new": 0}
    for i in range(20):
        root = projects["base"] / f"random-{i}"
        shutil.copytree(projects["baseline"], root)
        change_both_communes(root)
        config = load_config(root / "namcoso.toml")
        old_master = config.master.read_bytes()
        proc = subprocess.Popen(
            [sys.executable, "-m", "sync", "sync", "--config", str(root / "namcoso.toml")],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.3, 2.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        if config.master.read_bytes() == old_master:
            outcomes["old"] += 1
        else:
            assert content(config.master) == projects["master"]
            outcomes["new"] += 1
        if config.state_path.exists():
            assert integrity(config) == "ok"
        run_sync(config)
        assert content(config.master) == projects["master"]
        assert not run_sync(config).changed
    print(f"kill -9 at random moments: {outcomes}")
