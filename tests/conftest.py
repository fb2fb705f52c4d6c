"""Shared fixtures: a small local project (two communes) built on tmp_path."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from sync.backends.local import write_workbook
from sync.config import load_config
from sync.layout import commune_layout, master_layout

NOW = datetime(2018, 12, 20, 9, 0)


def registry_grids() -> dict[str, list[list]]:
    m = master_layout()
    return {
        m["communes"].title: [
            [c.header for c in m["communes"].columns],
            ["29110", "Thị trấn Ba Tri", "Thị trấn", "29110.xlsx", "bt@example.vn"],
            ["29113", "Xã Tân Mỹ", "Xã", "29113.xlsx", ""],
        ],
        m["hamlets"].title: [
            [c.header for c in m["hamlets"].columns],
            ["29110-01", "29110", "Khu phố 1", "Khu phố", "Chi bộ khu phố 1", 300],
            ["29110-02", "29110", "Ấp An Thạnh", "Ấp", "Chi bộ ấp An Thạnh", 200],
            ["29113-01", "29113", "Ấp Tân Hòa", "Ấp", "Chi bộ ấp Tân Hòa", 150],
        ],
        m["cadres"].title: [
            [c.header for c in m["cadres"].columns],
            ["T01", "Lê Văn Tỉnh", "Tỉnh", "Ủy viên", "Tỉnh ủy", "0901000001", ""],
            ["H001", "Nguyễn Văn An", "Huyện", "Chuyên viên", "Ban Tổ chức", "0902000001", ""],
            ["H002", "Trần Thị Bình", "Huyện", "Chuyên viên", "Ban Dân vận", "0902000002", ""],
            ["H003", "Phạm Văn Cường", "Huyện", "Chuyên viên", "Văn phòng", "0902000003", ""],
        ],
        m["assignments"].title: [
            [c.header for c in m["assignments"].columns],
            ["T01", "29110", None, None, ""],
            ["T01", "29113", None, None, ""],
            ["H001", "29110-01", None, None, ""],
            ["H002", "29110-02", None, None, ""],
            ["H003", "29113-01", None, None, ""],
        ],
    }


def commune_grids(hamlets: list[str], months: range = range(1, 13)) -> dict[str, list[list]]:
    c = commune_layout()
    meetings = [[col.header for col in c["meetings"].columns]]
    for name in hamlets:
        for m in months:
            meetings.append([name, f"{m:02d}/2018", f"05/{m:02d}/2018", 20, 18, "x", "x", ""])
    ratings = [[col.header for col in c["ratings"].columns]]
    ratings += [[name, 2018, "Hoàn thành tốt nhiệm vụ", ""] for name in hamlets]
    support = [[col.header for col in c["support"].columns]]
    support += [[hamlets[0], "10/03/2018", "An sinh xã hội", "Tặng quà", "5.000.000 đ", "Ô. An"]]
    households = [[col.header for col in c["households"].columns]]
    households += [[name, "Võ Văn Hộ", "Bí thư chi bộ", 100, "Tổ 1"] for name in hamlets]
    return {
        c["meetings"].title: meetings,
        c["ratings"].title: ratings,
        c["support"].title: support,
        c["households"].title: households,
    }


def build_small_project(root: Path) -> Path:
    """Two communes (three hamlets), a full 2018 of clean data; returns namcoso.toml."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "namcoso.toml").write_text(
        '[project]\nname = "Thử nghiệm"\nbackend = "local"\n[rules]\nperiod_start = "2018-01"\n',
        encoding="utf-8",
    )
    write_workbook(root / "master.xlsx", registry_grids())
    write_workbook(root / "communes" / "29110.xlsx", commune_grids(["Khu phố 1", "Ấp An Thạnh"]))
    write_workbook(root / "communes" / "29113.xlsx", commune_grids(["Ấp Tân Hòa"]))
    return root / "namcoso.toml"


@pytest.fixture
def fake():
    """The stateful Google fake (tests/google_fake.py), failing the test on any request
    Google would refuse."""
    from google_fake import running_fake

    with running_fake() as f:
        yield f


@pytest.fixture
def small_project(tmp_path: Path):
    return load_config(build_small_project(tmp_path / "project"))


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory) -> Path:
    """The Ba Tri demo, built and synced once per test session (it takes the better part of
    a minute). Tests read it; a test that changes it works on a copy."""
    from sync.cli import main

    root = tmp_path_factory.mktemp("demo-session") / "ba-tri-demo"
    assert main(["demo", "--dir", str(root)]) == 0
    return root
