"""The pipeline's guarantees under faults, with counted figures.

A commune that cannot be read (403, 404, a corrupt .xlsx, a flaky network) keeps its last
good rows and reads ``Lỗi truy cập``; the others go on. A commune whose rows suddenly
drop is held (``Dữ liệu cũ``) until ``--accept``. A run with nothing new writes nothing.
Local faults go through :class:`FaultyBackend` (the local backend with failures injected);
Google's 429/5xx/timeouts go through the real transport against ``tests/google_fake.py``.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import commune_grids
from google_fake import build_world, make_backend, running_fake

from sync.backends.base import CommuneSheet, Grid, OutputTab
from sync.backends.local import LocalBackend, cell_values, read_workbook, write_workbook
from sync.cli import main
from sync.config import Config, GoogleSettings, Rules, load_config
from sync.errors import SourceUnavailable
from sync.findings import finding
from sync.layout import commune_layout, master_layout
from sync.pipeline import make_backend as make_local_backend
from sync.pipeline import run_sync
from sync.state import StateStore

M = master_layout()
C = commune_layout()
HAMLETS = ["Ấp An Hòa", "Ấp Phú Lợi"]
COMMUNES_CSV = Path(__file__).resolve().parents[1] / "sync" / "data" / "ba_tri_2019_communes.csv"
UNREADABLE, STALE = "Lỗi truy cập", "Dữ liệu cũ"


class FaultyBackend:
    """The local backend, with commune sheets that fail on demand.

    ``unavailable``: source → reason; such a sheet is gone from the listing (no
    fingerprint) and every read or write of it raises :class:`SourceUnavailable`, as a
    403/404 does on Google. ``transient``: source → k; its next k reads fail, then work.
    """

    def __init__(
        self,
        inner: LocalBackend,
        *,
        unavailable: dict[str, str] | None = None,
        transient: dict[str, int] | None = None,
    ) -> None:
        self.inner = inner
        self.unavailable = dict(unavailable or {})
        self.transient = Counter(transient or {})
        self.failures: Counter[str] = Counter()

    @property
    def requests(self) -> int:
        return self.inner.requests

    def read_registry(self) -> dict[str, Grid]:
        return self.inner.read_registry()

    def fingerprints(self, sources: list[str]) -> dict[str, str]:
        found = self.inner.fingerprints(sources)
        return {s: f for s, f in found.items() if s not in self.unavailable}

    def read_commune(self, source: str) -> CommuneSheet:
        if source in self.unavailable:
            self.failures[source] += 1
            raise SourceUnavailable(self.unavailable[source])
        if self.transient[source] > 0:
            self.transient[source] -= 1
            self.failures[source] += 1
            raise SourceUnavailable("hết thời gian chờ (lỗi mạng tạm thời)")
        return self.inner.read_commune(source)

    def read_master_tabs(self, titles: list[str]) -> dict[str, Grid]:
        return self.inner.read_master_tabs(titles)

    def write_master(self, tabs: list[OutputTab]) -> None:
        self.inner.write_master(tabs)

    def write_commune(self, source: str, tabs: list[OutputTab], **kwargs) -> None:
        if source in self.unavailable:
            raise SourceUnavailable(self.unavailable[source])
        self.inner.write_commune(source, tabs, **kwargs)

    def missing_controls(self, source: str, hamlets: list[str]) -> list[str]:
        return self.inner.missing_controls(source, hamlets)

    def describe(self, source: str) -> str:
        return self.inner.describe(source)


# -- a project of N communes ------------------------------------------------------------


def ba_tri_communes(n: int) -> list[tuple[str, str, str]]:
    with COMMUNES_CSV.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))[:n]
    kinds = {"xã": "Xã", "thị trấn": "Thị trấn"}
    return [(r["commune_code"], r["commune_name"], kinds[r["commune_type"]]) for r in rows]


def build_project(root: Path, n: int) -> Config:
    """``n`` real Ba Tri communes of two hamlets each, a full clean 2018."""
    communes = ba_tri_communes(n)
    header = {key: [c.header for c in M[key].columns] for key in ("communes", "hamlets")}
    header |= {key: [c.header for c in M[key].columns] for key in ("cadres", "assignments")}
    registry: dict[str, list[list[Any]]] = {M[key].title: [h] for key, h in header.items()}
    registry[M["cadres"].title].append(["T01", "Lê Văn Tỉnh", "Tỉnh", "", "Tỉnh ủy", "", ""])
    for i, (code, name, kind) in enumerate(communes):
        registry[M["communes"].title].append([code, name, kind, f"{code}.xlsx", ""])
        registry[M["assignments"].title].append(["T01", code, None, None, ""])
        for j, hamlet in enumerate(HAMLETS, start=1):
            cadre = f"H{2 * i + j:03d}"
            registry[M["hamlets"].title].append(
                [f"{code}-{j:02d}", code, hamlet, "Ấp", f"Chi bộ {hamlet}", 100]
            )
            registry[M["cadres"].title].append([cadre, f"Cán bộ {cadre}", "Huyện", "", "", "", ""])
            registry[M["assignments"].title].append([cadre, f"{code}-{j:02d}", None, None, ""])
        write_workbook(root / "communes" / f"{code}.xlsx", own_grids(code, HAMLETS))
    write_workbook(root / "master.xlsx", registry)
    (root / "namcoso.toml").write_text(
        '[project]\nname = "Thử nghiệm"\n[rules]\nperiod_start = "2018-01"\n', encoding="utf-8"
    )
    return load_config(root / "namcoso.toml")


def own_grids(code: str, hamlets: list[str]) -> dict[str, list[list[Any]]]:
    """A commune's clean 2018, with its own support note: communes with the same hamlet
    names would otherwise send byte-identical files, which the pipeline refuses."""
    grids = commune_grids(hamlets)
    grids[C["support"].title][1][3] = f"Tặng quà (xã {code})"
    return grids


def set_attendance(config: Config, code: str, hamlets: list[str], present: int) -> None:
    grids = own_grids(code, hamlets)
    for row in grids[C["meetings"].title][1:]:
        row[4] = present
    write_workbook(config.communes_dir / f"{code}.xlsx", grids)


class Master:
    """The master's sync-owned tabs as read once: rows as {header: value}."""

    def __init__(self, config: Config) -> None:
        grids = read_workbook(config.master)
        self.tabs = {}
        for key in ("meetings", "progress", "findings"):
            grid = cell_values(grids[M[key].title])
            self.tabs[key] = [dict(zip(grid[0], row, strict=False)) for row in grid[1:]]

    def rows(self, key: str, commune: str) -> list[dict[str, Any]]:
        return [r for r in self.tabs[key] if r["Mã xã"] == commune]

    def attendance(self) -> dict[str, set[int]]:
        """Số đảng viên dự in ``TH Sinh hoạt``, by commune."""
        out: dict[str, set[int]] = {}
        for row in self.tabs["meetings"]:
            out.setdefault(row["Mã xã"], set()).add(row["Số đảng viên dự"])
        return out

    def statuses(self) -> dict[str, set[str]]:
        """Trạng thái in ``Tiến độ báo cáo``, by commune."""
        out: dict[str, set[str]] = {}
        for row in self.tabs["progress"]:
            out.setdefault(row["Mã xã"], set()).add(row["Trạng thái"])
        return out

    def messages(self, commune: str) -> list[str]:
        """Nội dung of the commune's rows in ``Lỗi dữ liệu``."""
        return [r["Nội dung"] for r in self.rows("findings", commune)]


def snapshot(config: Config) -> list[tuple[bytes, int]]:
    files = [config.master, *sorted(config.communes_dir.glob("*.xlsx"))]
    return [(p.read_bytes(), p.stat().st_mtime_ns) for p in files]


# -- unreadable sources -----------------------------------------------------------------


@pytest.mark.parametrize(
    "reason",
    [
        "403: bảng tính chưa chia sẻ cho tài khoản đồng bộ",
        pytest.param("404: không tìm thấy bảng tính", marks=pytest.mark.slow),
    ],
)
def test_one_unreadable_source_of_n_keeps_its_rows_and_the_others_are_updated(tmp_path, reason):
    n = 4
    config = build_project(tmp_path / "project", n)
    codes = [c for c, _, _ in ba_tri_communes(n)]
    victim = codes[2]
    run_sync(config)
    for code in codes:
        set_attendance(config, code, HAMLETS, 17)
    victim_file = (config.communes_dir / f"{victim}.xlsx").read_bytes()
    backend = FaultyBackend(make_local_backend(config), unavailable={f"{victim}.xlsx": reason})

    result = run_sync(config, backend=backend)

    assert (result.communes_read, result.communes_failed) == (n - 1, 1)
    assert result.unreadable == [victim] and backend.failures[f"{victim}.xlsx"] == 1
    master = Master(config)
    attendance = master.attendance()
    assert attendance[victim] == {18}  # the last good rows, all 24 of them
    assert len(master.rows("meetings", victim)) == 24
    assert all(attendance[c] == {17} for c in codes if c != victim)
    states = master.statuses()
    assert states[victim] == {UNREADABLE}
    assert all(UNREADABLE not in states[c] for c in codes if c != victim)
    assert any(reason in m for m in master.messages(victim))
    assert (config.communes_dir / f"{victim}.xlsx").read_bytes() == victim_file

    # Still unreadable: it is tried again, and nothing is written.
    before = snapshot(config)
    again = run_sync(config, backend=backend)
    assert again.communes_failed == 1 and not again.changed and snapshot(config) == before

    # Back again: only it is read, and it catches up.
    backend.unavailable.clear()
    back = run_sync(config, backend=backend)
    assert (back.communes_read, back.communes_skipped, back.communes_failed) == (1, n - 1, 0)
    master = Master(config)
    assert master.attendance()[victim] == {17} and UNREADABLE not in master.statuses()[victim]


def test_a_corrupt_xlsx_keeps_its_rows_and_is_not_overwritten(small_project):
    config = small_project
    run_sync(config)
    set_attendance(config, "29110", ["Khu phố 1", "Ấp An Thạnh"], 17)
    garbage = b"PK\x03\x04 this is not a workbook \x00\xff" * 50
    (config.communes_dir / "29113.xlsx").write_bytes(garbage)

    result = run_sync(config)

    assert (result.communes_read, result.communes_failed, result.unreadable) == (1, 1, ["29113"])
    master = Master(config)
    assert master.attendance() == {"29110": {17}, "29113": {18}}
    assert master.statuses()["29113"] == {UNREADABLE}
    assert any("tệp hỏng" in m for m in master.messages("29113"))
    assert (config.communes_dir / "29113.xlsx").read_bytes() == garbage
    assert result.communes_written == ["29110"]  # fresh file: its feedback tabs come back


def tab_rows(result: Any, key: str, commune: str) -> list[dict[str, Any]]:
    """Rows of one commune in a tab this run computed (what the master holds after it)."""
    tab = result.tabs[key]
    return [dict(zip(tab.headers, r, strict=False)) for r in tab.rows if r[0] == commune]


@pytest.mark.parametrize("k", [1, *(pytest.param(k, marks=pytest.mark.slow) for k in (2, 3, 4)), 5])
def test_a_source_failing_k_runs_keeps_its_rows_and_catches_up_on_run_k_plus_1(small_project, k):
    config = small_project
    run_sync(config)
    set_attendance(config, "29113", ["Ấp Tân Hòa"], 17)
    backend = FaultyBackend(make_local_backend(config), transient={"29113.xlsx": k})
    runs, writes = 0, 0
    while True:
        runs += 1
        result = run_sync(config, backend=backend)
        writes += bool(result.master_tabs_written)
        present = {r["Số đảng viên dự"] for r in tab_rows(result, "meetings", "29113")}
        if present == {17}:
            break
        assert result.unreadable == ["29113"] and present == {18}
        assert {r["Trạng thái"] for r in tab_rows(result, "progress", "29113")} == {UNREADABLE}
        assert runs <= k
    assert runs == k + 1 and backend.failures["29113.xlsx"] == k
    assert writes == 2  # the first failure (status Lỗi truy cập), then the catch-up
    master = Master(config)
    assert master.attendance()["29113"] == {17} and UNREADABLE not in master.statuses()["29113"]


# -- the drop guard ---------------------------------------------------------------------


def test_an_emptied_tab_is_held_until_the_operator_accepts_the_drop(small_project, capsys):
    config = small_project
    run_sync(config)
    grids = commune_grids(["Khu phố 1", "Ấp An Thạnh"])
    grids[C["meetings"].title] = grids[C["meetings"].title][:1]  # header only
    write_workbook(config.communes_dir / "29110.xlsx", grids)

    held = run_sync(config)

    assert held.held == ["29110"] and held.communes_read == 1
    master = Master(config)
    assert len(master.rows("meetings", "29110")) == 24
    assert master.statuses()["29110"] == {STALE}
    drop = [f for f in held.findings if f.code == "drop_held"]
    assert [(f.commune, f.severity) for f in drop] == [("29110", "Cảnh báo")]
    assert any(
        '"Sinh hoạt chi bộ": số dòng hợp lệ giảm đột ngột từ 24 xuống 0' in m
        for m in master.messages("29110")
    )
    feedback = cell_values(read_workbook(config.communes_dir / "29110.xlsx")[C["feedback"].title])
    assert any("giảm đột ngột" in str(cell) for row in feedback for cell in row)

    before = snapshot(config)
    still = run_sync(config)
    assert still.held == ["29110"] and not still.changed and snapshot(config) == before

    assert main(["sync", "--config", str(config.root / "namcoso.toml"), "--accept", "29110"]) == 0
    assert "đọc 1 xã" in capsys.readouterr().out
    master = Master(config)
    assert master.rows("meetings", "29110") == []
    assert STALE not in master.statuses()["29110"]
    assert not any("xuống" in m for m in master.messages("29110"))
    with StateStore(config.state_path) as store:
        assert store.sources()["29110"].status == "ok"
        history = store.findings_history("29110")
    assert [[f.code for f in found] for _, found in history] == [[], ["drop_held"], []]


def test_the_drop_finding_gives_the_exact_accept_command():
    drop = finding("drop_held", commune="29113", before=29, after=5)
    assert "namcoso sync --accept 29113" in drop.fix


def test_run_sync_accept_takes_the_drop_without_a_new_edit(small_project):
    config = small_project
    run_sync(config)
    grids = commune_grids(["Ấp Tân Hòa"])
    grids[C["meetings"].title] = grids[C["meetings"].title][:1]
    write_workbook(config.communes_dir / "29113.xlsx", grids)
    assert run_sync(config).held == ["29113"]
    accepted = run_sync(config, accept=["29113"])
    assert accepted.held == [] and accepted.communes_read == 1
    assert "29113" not in Master(config).attendance()
    assert run_sync(config).held == []  # the new count is the baseline from now on


# -- a run with nothing new -------------------------------------------------------------


def test_a_run_with_nothing_new_writes_nothing_and_is_still_recorded(small_project, capsys):
    config = small_project
    first = run_sync(config)
    before = snapshot(config)

    second = run_sync(config)

    assert not second.changed and second.communes_skipped == 2 and second.requests == 1
    assert snapshot(config) == before  # bytes and mtime of master.xlsx and both communes
    with StateStore(config.state_path) as store:
        runs = store.runs()
    assert [r["changed"] for r in runs] == [False, True]
    assert first.changed
    assert main(["status", "--config", str(config.root / "namcoso.toml")]) == 0
    assert "không" in capsys.readouterr().out


# -- Google: the real transport under 429, 5xx, timeouts, 403/404 -----------------------


def google_config(tmp_path: Path, master: str, folder: str) -> Config:
    return Config(
        root=tmp_path,
        backend="google",
        google=GoogleSettings(master=master, folder=folder),
        state_path=tmp_path / ".namcoso" / "state.sqlite",
        rules=Rules(period_start="2018-01"),
    )


@pytest.mark.parametrize("k", [1, *(pytest.param(k, marks=pytest.mark.slow) for k in (2, 3, 4)), 5])
def test_google_429_k_times_then_success_completes_the_run(tmp_path, k):
    with running_fake() as fake:
        world = build_world(fake, 4)
        fake.inject(429, times=k, target=world.communes[1], method="get")
        backend = make_backend(fake, world.master, world.folder)
        result = run_sync(google_config(tmp_path, world.master, world.folder), backend=backend)
    assert (result.communes_read, result.communes_failed) == (4, 0)
    assert backend.retries == k and len(backend.clock.sleeps) == k
    assert result.requests == backend.requests


@pytest.mark.parametrize(
    ("fault", "retries"),
    [
        ({"status": 503}, 5),
        pytest.param({"status": 500}, 5, marks=pytest.mark.slow),
        ({"exception": "timeout"}, 5),
        pytest.param({"status": 403}, 0, marks=pytest.mark.slow),
        ({"status": 404}, 0),
    ],
)
def test_google_source_failing_for_good_is_held_and_the_others_go_on(tmp_path, fault, retries):
    import requests

    if fault.get("exception"):
        fault = {"exception": requests.exceptions.ReadTimeout("Google không trả lời")}
    with running_fake() as fake:
        world = build_world(fake, 4)
        config = google_config(tmp_path, world.master, world.folder)
        run_sync(config, backend=make_backend(fake, world.master, world.folder), full=True)
        fake.inject(times=1000, target=world.communes[2], **fault)
        backend = make_backend(fake, world.master, world.folder)
        result = run_sync(config, backend=backend, full=True)
        progress = fake.values(world.master, M["progress"].title)
    victim = "29112"
    assert (result.communes_read, result.communes_failed, result.unreadable) == (3, 1, [victim])
    assert backend.retries == retries
    by_commune: dict[str, set[str]] = {}
    for row in progress[1:]:
        by_commune.setdefault(row[0], set()).add(row[8])
    assert by_commune[victim] == {UNREADABLE}
    assert all(UNREADABLE not in s for code, s in by_commune.items() if code != victim)
