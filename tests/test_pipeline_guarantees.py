"""The pipeline's guarantees (SPEC "Guarantees", exit codes), as users would check them.

Each test looks at what a district office sees: the master's tabs, the commune files'
bytes, the state store, and the exit code of ``namcoso sync``. Bounded cases are measured
by the peak RSS of a child process (``RUSAGE_CHILDREN``), never by time.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import commune_grids

from sync.backends.base import CommuneSheet
from sync.backends.local import cell_values, read_workbook, write_workbook
from sync.cli import main
from sync.config import Config
from sync.errors import SourceUnavailable
from sync.layout import commune_layout, master_layout
from sync.pipeline import make_backend, run_sync
from sync.state import StateStore, tables_to_json

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


def integrity(config: Config) -> str:
    db = sqlite3.connect(config.state_path)
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()


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


def snapshot(config: Config) -> dict[str, bytes]:
    files = [config.master, *sorted(config.communes_dir.glob("*.xlsx"))]
    return {p.name: p.read_bytes() for p in files}


class Wrapped:
    """The local backend with one fault injected by a test (``read`` / ``write`` hooks)."""

    def __init__(self, config: Config, *, read=None, write=None) -> None:
        self.inner = make_backend(config)
        self.read_hook, self.write_hook = read, write

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def read_commune(self, source: str) -> CommuneSheet:
        sheet = self.inner.read_commune(source)
        return self.read_hook(source, sheet) if self.read_hook else sheet

    def write_commune(self, source: str, tabs, **kwargs) -> None:
        if self.write_hook:
            self.write_hook(source)
        self.inner.write_commune(source, tabs, **kwargs)


# -- the drop guard, per tab ------------------------------------------------------------


def test_an_emptied_meetings_tab_is_held_although_the_households_tab_grew(small_project):
    config = small_project
    run_sync(config)
    other = Master(config).rows("meetings", "29113")
    grids = commune_grids(HAMLETS_29110)
    grids[C["meetings"].title] = grids[C["meetings"].title][:1]  # header only: 24 rows gone
    households = grids[C["households"].title]
    for i in range(40):  # the commune's total grows: 29 rows before, 5 + 40 now
        households.append(["Khu phố 1", f"Cán bộ {i}", "Tổ viên", 10, f"Tổ {i}"])
    write_workbook(config.communes_dir / "29110.xlsx", grids)

    held = run_sync(config)

    assert held.held == ["29110"] and held.exit_code == 0
    master = Master(config)
    assert len(master.rows("meetings", "29110")) == 24  # the last good rows, all of them
    assert len(master.rows("households", "29110")) == 2  # the whole commune is held
    assert master.rows("meetings", "29113") == other
    drops = [f for f in held.findings if f.code == "drop_held"]
    assert [(f.commune, f.tab, f.severity) for f in drops] == [
        ("29110", "Sinh hoạt chi bộ", "Cảnh báo")
    ]
    assert "từ 24 xuống 0" in drops[0].message and "--accept 29110" in drops[0].fix
    statuses = {r["Trạng thái"] for r in master.rows("progress", "29110")}
    assert statuses == {"Dữ liệu cũ"}

    assert main(["sync", "--config", str(config.root / "namcoso.toml"), "--accept", "29110"]) == 0
    master = Master(config)
    assert master.rows("meetings", "29110") == []
    assert len(master.rows("households", "29110")) == 42


def test_a_tab_that_shrinks_by_half_or_less_is_taken(small_project):
    config = small_project
    run_sync(config)
    grids = commune_grids(HAMLETS_29110, months=range(1, 7))  # 24 meetings → 12: not more
    write_workbook(config.communes_dir / "29110.xlsx", grids)

    result = run_sync(config)

    assert result.held == [] and len(Master(config).rows("meetings", "29110")) == 12


# -- exit codes, and a lost state store -------------------------------------------------


def test_every_commune_unreadable_with_a_lost_state_store_keeps_the_master(small_project):
    config = small_project
    run_sync(config)
    before = Master(config)
    config.state_path.unlink()
    for path in config.communes_dir.glob("*.xlsx"):
        path.write_bytes(b"PK\x03\x04 truncated")

    code = main(["sync", "--config", str(config.root / "namcoso.toml")])

    assert code == 3
    after = Master(config)
    for key in ("meetings", "ratings", "support", "households"):
        assert after.rows(key) == before.rows(key), key
    assert {r["Trạng thái"] for r in after.rows("progress")} == {"Lỗi truy cập"}


def test_a_lost_state_store_is_rebuilt_from_the_master_as_it_was(small_project):
    config = small_project
    run_sync(config)
    with StateStore(config.state_path) as store:
        original = {code: tables_to_json(store.accepted(code)[0]) for code in ("29110", "29113")}
        seen = store.first_seen().drop(columns="seen").sort_values(["hamlet_code", "period"])
    before = Master(config)
    config.state_path.unlink()
    for path in config.communes_dir.glob("*.xlsx"):
        path.write_bytes(b"not a workbook")

    result = run_sync(config)

    assert result.rebuilt and sorted(result.unreadable) == ["29110", "29113"]
    with StateStore(config.state_path) as store:
        rebuilt = {code: tables_to_json(store.accepted(code)[0]) for code in ("29110", "29113")}
        again = store.first_seen()
    assert rebuilt == original
    # Each reported month counts as on time as before (seen by its due date).
    again = again.drop(columns="seen").sort_values(["hamlet_code", "period"])
    assert len(again) >= len(seen[seen["period"].str.len() == 7])
    on_time = [r["Đúng hạn"] for r in Master(config).rows("progress")]
    assert on_time == [r["Đúng hạn"] for r in before.rows("progress")]


def test_after_a_lost_state_store_a_sudden_drop_is_still_held(small_project):
    config = small_project
    run_sync(config)
    config.state_path.unlink()
    grids = commune_grids(["Ấp Tân Hòa"])
    grids[C["meetings"].title] = grids[C["meetings"].title][:2]  # 12 meetings → 1
    write_workbook(config.communes_dir / "29113.xlsx", grids)

    result = run_sync(config)

    assert result.held == ["29113"]
    assert len(Master(config).rows("meetings", "29113")) == 12


def test_disk_full_at_the_state_commit_is_one_line_exit_4_and_the_store_is_whole(
    small_project, monkeypatch, capsys
):
    config = small_project
    run_sync(config)
    with StateStore(config.state_path) as store:
        runs = len(store.runs())
    real = sqlite3.connect

    def full_disk(*args, **kwargs):  # no page may be added: SQLite's "disk is full"
        db = real(*args, **kwargs)
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")
        return db

    monkeypatch.setattr("sync.state.sqlite3.connect", full_disk)
    grids = commune_grids(["Ấp Tân Hòa"])
    grids[C["meetings"].title][3][4] = 11
    grids[C["meetings"].title].extend(
        [
            ["Ấp Tân Hòa", f"{m:02d}/2017", f"05/{m:02d}/2017", 20, 18, "x", "x", "a" * 200]
            for m in range(1, 13)
        ]
    )
    write_workbook(config.communes_dir / "29113.xlsx", grids)

    code = main(["sync", "--config", str(config.root / "namcoso.toml")])

    err = capsys.readouterr().err.strip().splitlines()
    assert code == 4
    assert len(err) == 1 and str(config.state_path) in err[0] and "full" in err[0]
    assert "rollback" not in err[0] and "Traceback" not in err[0]
    monkeypatch.undo()
    assert integrity(config) == "ok"
    with StateStore(config.state_path) as store:
        assert len(store.runs()) == runs  # the old state, whole


def test_disk_full_writing_the_master_is_one_line_exit_4_and_nothing_changes(
    small_project, monkeypatch, capsys
):
    config = small_project
    run_sync(config)
    set_attendance(config, "29113", 11)
    before = snapshot(config)
    with StateStore(config.state_path) as store:
        runs = len(store.runs())

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    code = main(["sync", "--config", str(config.root / "namcoso.toml")])
    monkeypatch.undo()

    err = capsys.readouterr().err.strip().splitlines()
    assert code == 4 and len(err) == 1 and "master.xlsx" in err[0]
    assert os.strerror(errno.ENOSPC) in err[0]
    assert snapshot(config) == before  # master and both communes untouched
    assert not [p for p in config.root.rglob("*.tmp")]
    with StateStore(config.state_path) as store:
        assert len(store.runs()) == runs
    assert run_sync(config).communes_read == 1  # the next run does the work


def test_a_read_only_project_folder_is_one_line_naming_the_file(small_project, monkeypatch, capsys):
    config = small_project
    real_open = os.open

    def read_only(path, flags, *args):
        if str(path).endswith("sync.lock"):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", read_only)
    code = main(["sync", "--config", str(config.root / "namcoso.toml")])

    err = capsys.readouterr().err.strip().splitlines()
    assert code == 4 and len(err) == 1 and "sync.lock" in err[0]
    assert not config.state_path.exists()


# -- faults while writing a commune's feedback -----------------------------------------


def set_attendance(config: Config, code: str, present: int) -> None:
    hamlets = HAMLETS_29110 if code == "29110" else ["Ấp Tân Hòa"]
    grids = commune_grids(hamlets)
    for row in grids[C["meetings"].title][1:]:
        row[4] = present
    write_workbook(config.communes_dir / f"{code}.xlsx", grids)


def test_an_unwritable_commune_file_postpones_its_feedback_and_the_run_saves_its_state(
    small_project,
):
    config = small_project
    run_sync(config)
    set_attendance(config, "29110", 17)
    set_attendance(config, "29113", 16)
    locked = (config.communes_dir / "29113.xlsx").read_bytes()

    def refuse(source: str) -> None:
        if source == "29113.xlsx":
            raise SourceUnavailable("tệp đang mở trong Excel", detail=source)

    result = run_sync(config, backend=Wrapped(config, write=refuse))

    assert result.exit_code == 3 and result.unwritten == ["29113"]
    assert result.communes_written == ["29110"]
    assert (config.communes_dir / "29113.xlsx").read_bytes() == locked
    master = Master(config)
    assert {r["Số đảng viên dự"] for r in master.rows("meetings", "29113")} == {16}
    warnings = [r for r in master.rows("findings", "29113") if r["Mức độ"] == "Cảnh báo"]
    assert ["sẽ ghi lại" in r["Nội dung"] for r in warnings] == [True]
    with StateStore(config.state_path) as store:
        assert len(store.runs()) == 2 and store.sources()["29113"].status == "ok"

    # Still open: nothing new to write to the master, the warning stays, still exit 3.
    still = run_sync(config, backend=Wrapped(config, write=refuse))
    assert still.exit_code == 3 and still.master_tabs_written == [] and still.communes_read == 0

    # Closed again: the feedback is written, the warning goes.
    done = run_sync(config)
    assert done.exit_code == 0 and done.communes_written == ["29113"]
    assert not [r for r in Master(config).rows("findings", "29113") if r["Mức độ"] == "Cảnh báo"]
    assert not run_sync(config).changed


def test_a_save_between_read_and_write_is_kept_and_read_next_run(small_project):
    config = small_project
    run_sync(config)
    set_attendance(config, "29113", 16)
    path = config.communes_dir / "29113.xlsx"

    def commune_saves(source: str) -> None:
        if source == "29113.xlsx":
            set_attendance(config, "29113", 12)  # the commune saves again meanwhile

    saved = run_sync(config, backend=Wrapped(config, write=commune_saves))

    assert "29113" not in saved.communes_written and saved.exit_code == 0
    their_save = path.read_bytes()
    assert {r["Số đảng viên dự"] for r in Master(config).rows("meetings", "29113")} == {16}
    after = run_sync(config)
    assert after.communes_read == 1
    assert {r["Số đảng viên dự"] for r in Master(config).rows("meetings", "29113")} == {12}
    assert path.read_bytes() != their_save  # their save read, then its feedback written
    assert read_workbook(path)[C["meetings"].title][1][4] == 12


# -- identity ---------------------------------------------------------------------------


def test_a_sheet_naming_another_commune_is_refused_and_left_alone(small_project):
    config = small_project
    run_sync(config)
    before = Master(config)
    set_attendance(config, "29110", 3)
    path = config.communes_dir / "29110.xlsx"
    swapped = path.read_bytes()

    def stamped_29113(source: str, sheet: CommuneSheet) -> CommuneSheet:
        identity = "29113" if source == "29110.xlsx" else sheet.identity
        return CommuneSheet(sheet.grids, sheet.token, identity)

    result = run_sync(config, backend=Wrapped(config, read=stamped_29113))

    assert result.exit_code == 3 and result.refused == ["29110"]
    errors = [f for f in result.findings if f.code == "foreign_identity"]
    assert [(f.commune, f.severity, f.value) for f in errors] == [("29110", "Lỗi", "29113")]
    assert "Xã Tân Mỹ" in errors[0].message
    master = Master(config)
    assert master.rows("meetings", "29110") == before.rows("meetings", "29110")
    assert master.rows("meetings", "29113") == before.rows("meetings", "29113")
    assert path.read_bytes() == swapped  # nothing written to it
    assert "29110" not in result.communes_written


def test_two_communes_registered_to_identical_files_are_both_refused(small_project):
    config = small_project
    run_sync(config)
    before = Master(config)
    # 29110's file as it was before a feedback write stamped its identity (with the stamp,
    # the copy names 29110 and only 29113 is refused: test_lossless covers the stamp)
    write_workbook(config.communes_dir / "29110.xlsx", commune_grids(["Khu phố 1", "Ấp An Thạnh"]))
    copy = (config.communes_dir / "29110.xlsx").read_bytes()
    (config.communes_dir / "29113.xlsx").write_bytes(copy)  # 29110's file copied over 29113's

    result = run_sync(config)

    assert result.exit_code == 3 and sorted(result.refused) == ["29110", "29113"]
    twins = {f.commune: f for f in result.findings if f.code == "identical_sources"}
    assert set(twins) == {"29110", "29113"} and {f.severity for f in twins.values()} == {"Lỗi"}
    master = Master(config)
    for code in ("29110", "29113"):
        assert master.rows("meetings", code) == before.rows("meetings", code)
    assert not result.communes_written
    assert {p.name: p.read_bytes() for p in config.communes_dir.glob("*.xlsx")} == {
        "29110.xlsx": copy,
        "29113.xlsx": copy,
    }


# -- a registry change re-checks the communes it concerns -------------------------------


def test_a_new_hamlet_in_the_registry_rechecks_its_commune_without_full(small_project):
    config = small_project
    grids = commune_grids(["Ấp Tân Hòa"])
    grids[C["meetings"].title].append(["Ấp Mới", "03/2018", "05/03/2018", 12, 10, "x", "", ""])
    write_workbook(config.communes_dir / "29113.xlsx", grids)
    first = run_sync(config)
    assert [f.code for f in first.findings if f.commune == "29113"] == ["unknown_hamlet"]

    wb = openpyxl.load_workbook(config.master)
    wb[M["hamlets"].title].append(["29113-02", "29113", "Ấp Mới", "Ấp", "Chi bộ ấp Mới", 80])
    wb.save(config.master)

    result = run_sync(config)

    assert result.communes_read == 1 and result.communes_skipped == 1
    assert [f for f in result.findings if f.commune == "29113"] == []
    master = Master(config)
    assert [r["Mã ấp"] for r in master.rows("meetings", "29113")].count("29113-02") == 1
    assert not any("Ấp Mới" in str(r["Giá trị"]) for r in master.rows("findings"))
    assert not run_sync(config).communes_read  # checked once, then skipped again
