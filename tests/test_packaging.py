"""namcoso installs as a normal wheel: the package carries its templates and mappings.

The slow test builds the wheel from a copy of the clone, installs it (not editable) in a
fresh virtual environment and runs the commands a district would run, from a folder
outside the clone: help, the demo, its report, init, provision and sync. ``.ci/run`` runs
it (``pytest -m slow tests/test_packaging.py``).
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

import sync
from sync.layout import commune_layout
from sync.resources import MAPPINGS_DIR, TEMPLATES_DIR

REPO = Path(__file__).resolve().parents[1]


def _setuptools() -> dict:
    with (REPO / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)["tool"]["setuptools"]


def test_every_subpackage_of_sync_is_in_the_wheel():
    """A subpackage left out of ``packages`` would be missing from a normal install."""
    listed = set(_setuptools()["packages"])
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "sync").rglob("__init__.py")
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"


@pytest.mark.parametrize("folder", ["templates", "mappings"])
def test_every_data_file_is_package_data(folder):
    """Each file in templates/ and mappings/ matches a package-data glob of its package."""
    settings = _setuptools()
    package = f"sync.{folder}"
    assert settings["package-dir"][package] == folder
    globs = settings["package-data"][package]
    files = [p.name for p in (REPO / folder).iterdir() if p.is_file()]
    assert files
    missed = [n for n in files if not any(fnmatch.fnmatch(n, g) for g in globs)]
    assert not missed, f"{missed} would be left out of the wheel: add a glob for {package}"


def test_a_checkout_reads_its_own_templates_and_mappings():
    """Tests and editable installs read the clone's own folders, not an installed copy."""
    assert Path(str(TEMPLATES_DIR)) == REPO / "templates"
    assert Path(str(MAPPINGS_DIR)) == REPO / "mappings"
    assert Path(sync.__file__).resolve().parent == REPO / "sync"
    assert commune_layout()["meetings"].title == "Sinh hoạt chi bộ"


def _copy_clone(dest: Path) -> Path:
    """The clone without its virtual environments, builds and demo output."""
    skip = shutil.ignore_patterns(
        ".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", "ba-tri-demo"
    )
    shutil.copytree(REPO, dest, ignore=skip)
    return dest


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{cmd}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.slow
def test_wheel_installed_in_a_fresh_venv_runs_outside_the_clone(tmp_path):
    source = _copy_clone(tmp_path / "clone")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), "."],
        cwd=source,
        env=env,
    )
    wheel = next(tmp_path.glob("namcoso-*.whl"))
    shutil.rmtree(source)  # nothing may be read from the clone any more
    venv.create(tmp_path / "venv", with_pip=True)
    bin_dir = tmp_path / "venv" / ("Scripts" if os.name == "nt" else "bin")
    _run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)], tmp_path, env)
    namcoso = str(bin_dir / "namcoso")
    work = tmp_path / "elsewhere"
    work.mkdir()

    located = _run(
        [str(bin_dir / "python"), "-c", "import sync.resources as r; print(r.TEMPLATES_DIR)"],
        work,
        env,
    ).stdout.strip()
    assert "site-packages" in located and located.endswith("templates")

    assert "namcoso" in _run([namcoso, "--help"], work, env).stdout

    demo = _run([namcoso, "demo", "--dir", "demo"], work, env).stdout
    assert "đọc 24 xã" in demo and (work / "demo" / "master.xlsx").is_file()
    assert len(list((work / "demo" / "communes").glob("*.xlsx"))) == 24
    # The report's Word template (templates/report.docx) comes from the package too.
    _run([namcoso, "report", "--out", "bao-cao.docx"], work / "demo", env)
    assert (work / "demo" / "bao-cao.docx").stat().st_size > 10_000

    started = _run([namcoso, "init", "new", "--district", "836"], work, env).stdout
    assert "Huyện ủy Ba Tri" in started
    project = work / "new"
    assert "29179.xlsx" in _run([namcoso, "provision"], project, env).stdout
    assert len(list((project / "communes").glob("*.xlsx"))) == 24
    synced = _run([namcoso, "sync"], project, env).stdout
    assert "đọc 24 xã" in synced and "lỗi 0" in synced
