"""The whole sync on the Google backend: the Ba Tri demo loaded into the fake.

Request budgets for N communes: a full sync ≤ N + 3 reads and ≤ N + 2 writes (≤ 2 to the
master); nothing changed ≤ 2 reads and no write; one commune changed ≤ 4 reads, ≤ 2 writes.
Also: the local and Google backends produce the same master.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from pathlib import Path

import pytest
from google_fake import FakeGoogle, make_backend
from naive_gspread import run_naive_flow

from sync.backends.google_cells import serial
from sync.backends.local import cell_values, read_workbook
from sync.config import Config, GoogleSettings, load_config
from sync.demo import DEMO_NOW, build_demo_project
from sync.layout import commune_layout, master_layout
from sync.pipeline import run_sync

M = master_layout()
C = commune_layout()
LOG_TAB = M["runs"].title


@dataclasses.dataclass
class GoogleProject:
    config: Config
    local: Config
    master: str
    folder: str
    sheets: dict[str, str]  # commune code → spreadsheet ID


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory) -> Path:
    return build_demo_project(tmp_path_factory.mktemp("demo") / "ba-tri")


def load_demo(fake: FakeGoogle, demo_config: Path, root: Path) -> GoogleProject:
    """The demo's master and commune workbooks as Google spreadsheets in one folder; the
    registry points at them (every other one by its full URL)."""
    local = load_config(demo_config)
    folder = fake.add_folder("Báo cáo các xã – Ba Tri")
    sheets = {}
    for path in sorted(local.communes_dir.glob("*.xlsx")):
        sheets[path.stem] = fake.add_spreadsheet(
            f"Báo cáo {path.stem}", read_workbook(path), folder=folder
        )
    grids = read_workbook(local.master)
    communes = grids[M["communes"].title]
    column = communes[0].index(M["communes"].column("source").header)
    for i, row in enumerate(communes[1:]):
        sid = sheets[Path(str(row[column])).stem]
        row[column] = f"https://docs.google.com/spreadsheets/d/{sid}/edit#gid=0" if i % 2 else sid
    master = fake.add_spreadsheet("Tổng hợp nắm cơ sở – Huyện ủy Ba Tri", grids, frozen=1)
    root.mkdir(parents=True, exist_ok=True)
    config = dataclasses.replace(
        local,
        root=root,
        backend="google",
        google=GoogleSettings(master=master, folder=folder),
        state_path=root / ".namcoso" / "state.sqlite",
    )
    return GoogleProject(config, local, master, folder, sheets)


@pytest.fixture
def project(fake, demo_config, tmp_path) -> GoogleProject:
    return load_demo(fake, demo_config, tmp_path / "google")


def sync(fake: FakeGoogle, project: GoogleProject, **kwargs):
    backend = make_backend(fake, project.master, project.folder)
    reads, writes = sum(fake.reads.values()), sum(fake.writes.values())
    master_writes = fake.writes[project.master]
    result = run_sync(project.config, backend=backend, now=kwargs.pop("now", DEMO_NOW), **kwargs)
    assert (backend.reads, backend.writes) == (
        sum(fake.reads.values()) - reads,
        sum(fake.writes.values()) - writes,
    )
    return result, backend, fake.writes[project.master] - master_writes


def test_request_budgets_full_then_unchanged_then_one_commune_changed(fake, project):
    n = len(project.sheets)
    _, backend, master_writes = sync(fake, project, full=True)
    full = (backend.reads, backend.writes, master_writes)
    assert backend.reads <= n + 3 and backend.writes <= n + 2 and master_writes <= 2
    assert backend.retries == 0
    stats = {r[1]: r for r in fake.values(project.master, M["rating_stats"].title)[1:]}
    assert stats["Toàn huyện"][3:9] == [34, 91, 4, 0, 0, 129]

    versions = {sid: s.version for sid, s in fake.spreadsheets.items()}
    _, backend, _ = sync(fake, project)
    unchanged = (backend.reads, backend.writes)
    assert backend.reads <= 2 and backend.writes == 0
    assert {sid: s.version for sid, s in fake.spreadsheets.items()} == versions

    sid = next(iter(project.sheets.values()))
    meetings = fake.spreadsheets[sid].tab(C["meetings"].title)
    assert meetings is not None
    last = max(r for r, _ in meetings.cells)
    fake.edit(sid, C["meetings"].title, last, 7, "đã họp bổ sung")
    _, backend, master_writes = sync(fake, project)
    one = (backend.reads, backend.writes, master_writes)
    assert backend.reads <= 4 and backend.writes <= 2 and master_writes <= 1

    _, backend, _ = sync(fake, project)
    assert backend.reads <= 2 and backend.writes == 0  # our own feedback write is no change

    outputs = {t.title: fake.values(project.master, t.title) for t in M.by_role("output")}
    inputs = [t.title for t in C.by_role("input")]
    naive = run_naive_flow(fake, project.master, list(project.sheets.values()), outputs, inputs)
    assert naive["reads"] > 4 * full[0]
    print(
        f"\nN={n} communes: full sync {full[0]} reads / {full[1]} writes ({full[2]} to the master);"
        f" unchanged {unchanged[0]} / {unchanged[1]};"
        f" one changed {one[0]} / {one[1]} ({one[2]} to the master);"
        f" naive gspread {naive}"
    )


def test_an_unshared_commune_keeps_the_others_going(fake, project):
    code, sid = next(iter(project.sheets.items()))
    fake.spreadsheets[sid].shared = False
    sync(fake, project, full=True)
    progress = fake.values(project.master, M["progress"].title)
    statuses = {r[8] for r in progress[1:] if r[0] == code}
    assert statuses == {"Lỗi truy cập"}
    assert any("chưa chia sẻ" in str(r) for r in fake.values(project.master, M["findings"].title))


def _comparable(grid: list[list]) -> list[list]:
    out = []
    for row in cell_values(grid):
        out.append(
            [
                serial(v)
                if isinstance(v, date | datetime)
                else round(v, 9)
                if isinstance(v, float)
                else v
                for v in row
            ]
        )
    return out


def test_local_and_google_backends_write_the_same_master(fake, project, tmp_path):
    local_dir = tmp_path / "local"
    local_config = load_config(build_demo_project(local_dir))
    run_sync(local_config, now=DEMO_NOW, full=True)
    local_master = read_workbook(local_config.master)
    sync(fake, project, full=True)
    for tab in M.by_role("output"):
        if tab.title == LOG_TAB:
            continue
        assert _comparable(fake.values(project.master, tab.title)) == _comparable(
            local_master[tab.title]
        ), tab.title
